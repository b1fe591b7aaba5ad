//go:build puente_testparams

package he_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// Fuzz tests of every decoder: hostile bytes must give an error, never a
// panic or an allocation driven by a length field. Seeds are valid objects
// of the small INSECURE N=2^11 set, whole and truncated.

type fuzzObjects struct {
	ps        *he.ParamSet
	querier   *he.Querier
	query     []byte
	answer    []byte
	share     []byte
	keys      []byte
	gallery   []byte
	probe     []byte // a prepared probe, as a node sends it to its shards
	partial   []byte // a shard's count, as it answers
	ceremony  *he.Ceremony
	cerShares map[he.Step][]byte
}

var (
	fuzzOnce sync.Once
	fuzzObjs fuzzObjects
)

func objects(t testing.TB) *fuzzObjects {
	fuzzOnce.Do(func() {
		ps := hetest.InsecureN11()
		o := &fuzzObjs
		o.ps = ps
		k := hetest.Ceremony(t, ps, 64, hetest.Reader(1), hetest.Reader(2))
		qr, _ := he.NewQuerier(k.Querier)
		o.querier = qr
		r, _ := he.NewResponder(k.Eval, k.Responder)
		rng := rand.New(rand.NewPCG(3, 3))
		gal := hetest.UnitVectors(rng, ps.Slots()+3, 16)
		gal[5] = nil
		g, _ := he.Pack(ps, 16, gal, he.PackOptions{})
		q, _ := qr.EncryptProbe(gal[0], hetest.Reader(4))
		ans, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(5))
		if err != nil {
			panic(err)
		}
		o.query, _ = q.MarshalBinary()
		o.answer, _ = ans.MarshalBinary()
		o.share, _ = k.Querier.MarshalBinary()
		o.keys, _ = k.Eval.MarshalBinary()
		o.gallery, _ = g.MarshalBinary()
		p, err := r.Prepare(q, hetest.Reader(9))
		if err != nil {
			panic(err)
		}
		sh, _ := he.NewShardEvaluator(k.Eval)
		pt, err := sh.Count(context.Background(), p, g, he.Options{Threshold: he.Threshold{Tau: 0.5}})
		if err != nil {
			panic(err)
		}
		o.probe, _ = p.MarshalBinary()
		o.partial, _ = pt.MarshalBinary()
		var crs he.KeySetID
		io.ReadFull(hetest.Reader(6), crs[:])
		peer, _ := he.NewCeremony(ps, he.RoleResponder, 64, crs, hetest.Reader(7))
		o.ceremony, _ = he.NewCeremony(ps, he.RoleQuerier, 64, crs, hetest.Reader(8))
		o.cerShares = map[he.Step][]byte{}
		cms, _ := peer.Commit(he.Round1, nil)
		peer.PeerCommitments(he.Round1, cms) // its own, to let it reveal: only the bytes matter here
		for _, s := range peer.Steps()[:2] {
			o.cerShares[s], _ = peer.Reveal(s)
		}
	})
	return &fuzzObjs
}

func seeds(f *testing.F, b []byte) {
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(b[:9])
	f.Add([]byte{})
}

// The decoders' fuzzers check that no input panics and that whatever a
// decoder accepts encodes back to the same bytes (the encodings are
// canonical: a message has one form).

type marshaler interface{ MarshalBinary() ([]byte, error) }

func roundTrip(t *testing.T, b []byte, m marshaler, err error) {
	if err != nil {
		return
	}
	out, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(out, b) {
		t.Fatalf("accepted %d bytes that encode back to %d other bytes (%v)", len(b), len(out), err)
	}
}

// vectorFrom makes a vector of at most 16 values, each a signed byte of b.
func vectorFrom(b []byte) []float64 {
	v := make([]float64, 0, 16)
	for _, x := range b[:min(len(b), 16)] {
		v = append(v, float64(int8(x))/128)
	}
	return v
}

func FuzzReadQuery(f *testing.F) {
	o := objects(f)
	seeds(f, o.query)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := he.ReadQuery(o.ps, b)
		roundTrip(t, b, q, err)
		// A probe made from the input encrypts to a query that decodes and encodes back.
		q, err = o.querier.EncryptProbe(vectorFrom(b), hetest.Reader(uint64(len(b))))
		if err != nil {
			return // an all-zero or empty probe: refused, not encoded
		}
		enc, err := q.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q2, err := he.ReadQuery(o.ps, enc)
		roundTrip(t, enc, q2, err)
		if err != nil {
			t.Fatalf("an encoded query does not decode: %v", err)
		}
	})
}

func FuzzReadAnswer(f *testing.F) {
	o := objects(f)
	seeds(f, o.answer)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := he.ReadAnswer(o.ps, b)
		roundTrip(t, b, a, err)
	})
}

// FuzzReadProbe: a shard decodes the prepared probe its node sends.
func FuzzReadProbe(f *testing.F) {
	o := objects(f)
	seeds(f, o.probe)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := he.ReadProbe(o.ps, b)
		roundTrip(t, b, p, err)
	})
}

// FuzzReadPartial: a node decodes each shard's count.
func FuzzReadPartial(f *testing.F) {
	o := objects(f)
	seeds(f, o.partial)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := he.ReadPartial(o.ps, b)
		roundTrip(t, b, p, err)
	})
}

func FuzzReadSecretShare(f *testing.F) {
	o := objects(f)
	seeds(f, o.share)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := he.ReadSecretShare(o.ps, b)
		roundTrip(t, b, s, err)
	})
}

func FuzzReadEvaluationKeys(f *testing.F) {
	o := objects(f)
	seeds(f, o.keys)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := he.ReadEvaluationKeys(o.ps, b)
		roundTrip(t, b, k, err)
	})
}

func FuzzReadGallery(f *testing.F) {
	o := objects(f)
	seeds(f, o.gallery)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := he.ReadGallery(o.ps, b, he.PackOptions{})
		roundTrip(t, b, g, err)
		// A gallery packed from the input decodes and encodes back.
		v := vectorFrom(b)
		g, err = he.Pack(o.ps, max(len(v), 1), [][]float64{v, nil}, he.PackOptions{})
		if err != nil {
			return // a template the packer refuses
		}
		enc, err := g.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		g2, err := he.ReadGallery(o.ps, enc, he.PackOptions{})
		roundTrip(t, enc, g2, err)
		if err != nil {
			t.Fatalf("a packed gallery does not decode: %v", err)
		}
	})
}

// FuzzCeremonyShare: the first byte picks one of the ceremony's steps, the rest is the peer's
// share for it. A share that decodes encodes back, as the peer, to the same bytes; validation
// (checkShare) of any share returns, never panics.
func FuzzCeremonyShare(f *testing.F) {
	o := objects(f)
	steps := o.ceremony.Steps()
	for i, s := range steps {
		if b, ok := o.cerShares[s]; ok {
			seeds(f, append([]byte{byte(i)}, b...))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		s := steps[int(b[0])%len(steps)]
		share := b[1:]
		out, err := o.ceremony.ReencodeShareForTest(s, share)
		if err == nil && !bytes.Equal(out, share) {
			t.Fatalf("%s: accepted %d bytes that encode back to %d other bytes", s, len(share), len(out))
		}
		o.ceremony.DecodeShareForTest(s, share)
	})
}

// FuzzParamSetOf: ParamSetOf accepts exactly the inputs with a whole header and the magic; the
// ID it reads is the one an encoder writes (an object of o.ps reads back o.ps's ID, and an
// object of the set it names, if that is o.ps, decodes to the same bytes).
func FuzzParamSetOf(f *testing.F) {
	o := objects(f)
	for _, b := range [][]byte{o.query, o.answer, o.share, o.keys, o.gallery} {
		seeds(f, b)
	}
	f.Add([]byte("PHE1\x02\x01\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := he.ParamSetOf(b)
		header := len(b) >= 8 && string(b[:4]) == "PHE1"
		if (err == nil) != header {
			t.Fatalf("ParamSetOf(%x) = %v, %v", b, id, err)
		}
		if err != nil {
			return
		}
		if id != he.ParamSetID(binary.BigEndian.Uint16(b[6:8])) {
			t.Fatalf("ParamSetOf(%x) = %#04x, not the header's", b[:8], id)
		}
		if id != o.ps.ID() {
			return
		}
		q, err := he.ReadQuery(o.ps, b)
		roundTrip(t, b, q, err)
		if err == nil {
			out, _ := q.MarshalBinary()
			if got, err := he.ParamSetOf(out); err != nil || got != id {
				t.Fatalf("a re-encoded query names %v, %v; want %v", got, err, id)
			}
		}
	})
}

// TestDecodersRefuseDamage checks, for every decoder, that a truncated, an
// extended and a foreign object are refused with the right sentinel.
func TestDecodersRefuseDamage(t *testing.T) {
	o := objects(t)
	other := hetest.InsecureN12()
	type dec func(*he.ParamSet, []byte) error
	for name, c := range map[string]struct {
		b []byte
		d dec
	}{
		"query":   {o.query, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadQuery(ps, b); return err }},
		"answer":  {o.answer, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadAnswer(ps, b); return err }},
		"share":   {o.share, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadSecretShare(ps, b); return err }},
		"keys":    {o.keys, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadEvaluationKeys(ps, b); return err }},
		"gallery": {o.gallery, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadGallery(ps, b, he.PackOptions{}); return err }},
	} {
		if err := c.d(o.ps, c.b); err != nil {
			t.Errorf("%s: valid object refused: %v", name, err)
		}
		if err := c.d(o.ps, c.b[:len(c.b)-1]); !isMalformed(err) {
			t.Errorf("%s: truncated: %v", name, err)
		}
		if err := c.d(o.ps, append(append([]byte(nil), c.b...), 0)); !isMalformed(err) {
			t.Errorf("%s: trailing byte: %v", name, err)
		}
		if err := c.d(other, c.b); !isMismatch(err) {
			t.Errorf("%s: read for another parameter set: %v", name, err)
		}
	}
	if id, err := he.ParamSetOf(o.query); err != nil || id != o.ps.ID() {
		t.Errorf("ParamSetOf(query) = %v, %v", id, err)
	}
}
