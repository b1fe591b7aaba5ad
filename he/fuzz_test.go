//go:build puente_testparams

package he_test

import (
	"context"
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
	query     []byte
	response  []byte
	share     []byte
	keys      []byte
	gallery   []byte
	trace     []byte
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
		r, _ := he.NewResponder(k.Eval, k.Responder)
		rng := rand.New(rand.NewPCG(3, 3))
		gal := hetest.UnitVectors(rng, ps.Slots()+3, 16)
		gal[5] = nil
		g, _ := he.Pack(ps, 16, gal, he.PackOptions{})
		q, _ := qr.EncryptProbe(gal[0], hetest.Reader(4))
		resp, tr, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Mode: he.ModeSlots}, hetest.Reader(5))
		if err != nil {
			panic(err)
		}
		o.query, _ = q.MarshalBinary()
		o.response, _ = resp.MarshalBinary()
		o.share, _ = k.Querier.MarshalBinary()
		o.keys, _ = k.Eval.MarshalBinary()
		o.gallery, _ = g.MarshalBinary()
		o.trace, _ = tr.MarshalBinary()
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

func FuzzReadQuery(f *testing.F) {
	o := objects(f)
	seeds(f, o.query)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadQuery(o.ps, b) })
}

func FuzzReadResponse(f *testing.F) {
	o := objects(f)
	seeds(f, o.response)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadResponse(o.ps, b) })
}

func FuzzReadSecretShare(f *testing.F) {
	o := objects(f)
	seeds(f, o.share)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadSecretShare(o.ps, b) })
}

func FuzzReadEvaluationKeys(f *testing.F) {
	o := objects(f)
	seeds(f, o.keys)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadEvaluationKeys(o.ps, b) })
}

func FuzzReadGallery(f *testing.F) {
	o := objects(f)
	seeds(f, o.gallery)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadGallery(o.ps, b, he.PackOptions{}) })
}

func FuzzReadTrace(f *testing.F) {
	o := objects(f)
	seeds(f, o.trace)
	f.Fuzz(func(t *testing.T, b []byte) { he.ReadTrace(o.ps, b) })
}

func FuzzCeremonyShare(f *testing.F) {
	o := objects(f)
	for s, b := range o.cerShares {
		seeds(f, append([]byte{byte(s.Kind)}, b...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		s := he.Step{Kind: he.StepKind(b[0]%4 + 1)}
		o.ceremony.DecodeShareForTest(s, b[1:])
	})
}

func FuzzParamSetOf(f *testing.F) {
	o := objects(f)
	seeds(f, o.query)
	f.Fuzz(func(t *testing.T, b []byte) { he.ParamSetOf(b) })
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
		"query":    {o.query, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadQuery(ps, b); return err }},
		"response": {o.response, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadResponse(ps, b); return err }},
		"share":    {o.share, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadSecretShare(ps, b); return err }},
		"keys":     {o.keys, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadEvaluationKeys(ps, b); return err }},
		"gallery":  {o.gallery, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadGallery(ps, b, he.PackOptions{}); return err }},
		"trace":    {o.trace, func(ps *he.ParamSet, b []byte) error { _, err := he.ReadTrace(ps, b); return err }},
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
