package he

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// A Query is one encrypted probe. The querier encrypts under its own share
// s_Q with a fresh uniform a expanded from a 32-byte seed:
//
//	c0 = -a·s_Q + Δ·encode(p) + e
//
// and sends (seed, c0) — half the size of a full ciphertext. The responder
// turns it into an encryption under the collective key s_Q + s_R by
// computing c0 - a·s_R. This is an ordinary fresh RLWE sample under s_Q,
// so it hides p from the responder (who lacks s_Q) and from anyone else;
// after conversion it is an ordinary ciphertext that only both shares
// together decrypt. An honest probe is replicated across all slots with
// period the padded dimension M (a power of two); the responder enforces
// that layout itself by projecting the query onto period M.
type Query struct {
	ps   *ParamSet
	id   KeySetID
	dims int
	seed [32]byte
	c0   ring.Poly // NTT domain, top level
	raw  []byte
}

// Dims returns the probe dimension.
func (q *Query) Dims() int { return q.dims }

// KeySetID returns the key set the query is encrypted for.
func (q *Query) KeySetID() KeySetID { return q.id }

// Digest returns SHA-256 of the query's encoding; an answer carries it.
func (q *Query) Digest() [32]byte { return sha256.Sum256(q.raw) }

// MarshalBinary returns the query's wire encoding.
func (q *Query) MarshalBinary() ([]byte, error) { return append([]byte(nil), q.raw...), nil }

// Query encoding (kind query):
//
//	header | key-set ID [32] | dims u16 | seed [32] | c0 at the top level

func (ps *ParamSet) queryWireSize() int {
	return headerSize + 32 + 2 + 32 + ps.polySizeQ(ps.topLevel())
}

// ReadQuery decodes and validates a query for parameter set ps.
func ReadQuery(ps *ParamSet, b []byte) (*Query, error) {
	d := newDecoder(b, kindQuery, ps)
	q := &Query{ps: ps}
	q.id = d.bytes32("key-set ID")
	q.dims = int(d.u16("dims"))
	q.seed = d.bytes32("seed")
	switch {
	case d.err != nil:
		return nil, d.err
	case len(b) != ps.queryWireSize():
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), ps.queryWireSize())
	case q.dims < 1 || q.dims > ps.Slots()/2:
		return nil, malformed(d.obj, "dims", "%d outside [1, %d]", q.dims, ps.Slots()/2)
	}
	q.c0 = ps.params.RingQ().NewPoly()
	d.poly("c0", ps.qAt(ps.topLevel()), q.c0)
	if err := d.finish(); err != nil {
		return nil, err
	}
	q.raw = append([]byte(nil), b...)
	return q, nil
}

// Querier encrypts probes and turns responses into decisions for one key
// set, on the querier's side. It is safe for concurrent use.
type Querier struct {
	ps    *ParamSet
	share *SecretShare
	enc   *ckks.Encoder
}

// NewQuerier returns a querier for a querier-role share.
func NewQuerier(share *SecretShare) (*Querier, error) {
	if share == nil || share.sk == nil {
		return nil, fmt.Errorf("he: querier: no secret share")
	}
	if share.role != RoleQuerier {
		return nil, mismatch("secret share", "role", "got %v, want %v", share.role, RoleQuerier)
	}
	return &Querier{ps: share.ps, share: share, enc: ckks.NewEncoder(share.ps.params)}, nil
}

// EncryptProbe encrypts probe p (a unit vector of at most the key set's max
// dims) into a query: p repeated with period M (the padded dimension)
// across the slots, each copy at the probe scale. The responder does not
// rely on the layout: it projects whatever it receives onto period M (see
// [Responder.Respond]). All randomness — the seed of a and the encryption
// noise — comes from rand.
func (qr *Querier) EncryptProbe(p []float64, rand io.Reader) (*Query, error) {
	ps := qr.ps
	if err := checkVector("probe", p, qr.share.maxDims); err != nil {
		return nil, err
	}
	pad := padDims(len(p))
	slots := make([]float64, ps.Slots())
	for k := range slots {
		if j := k % pad; j < len(p) {
			slots[k] = p[j]
		}
	}
	defer clear(slots)
	return qr.encryptSlots(slots, len(p), rand)
}

// encryptSlots encrypts a slot vector as a query of dimension dims.
func (qr *Querier) encryptSlots(slots []float64, dims int, rand io.Reader) (*Query, error) {
	ps := qr.ps
	if len(slots) != ps.Slots() || dims < 1 || dims > qr.share.maxDims {
		return nil, fmt.Errorf("he: encrypt probe: %d slots of dimension %d", len(slots), dims)
	}
	top := ps.topLevel()
	pt := ckks.NewPlaintext(ps.params, top)
	pt.Scale = rlwe.NewScale(math.Exp2(float64(ps.spec.LogProbeScale)))
	if err := qr.enc.ShallowCopy().Encode(slots, pt); err != nil {
		return nil, fmt.Errorf("he: encrypt probe: %w", err)
	}
	q := &Query{ps: ps, id: qr.share.id, dims: dims}
	if _, err := io.ReadFull(rand, q.seed[:]); err != nil {
		return nil, fmt.Errorf("he: encrypt probe: reading randomness: %w", err)
	}
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, err
	}
	ringQ := ps.params.RingQ().AtLevel(top)
	a := ps.queryA(q.seed)
	// c0 = -a·s_Q + e + Δ·m, all in the NTT domain.
	q.c0 = ringQ.NewPoly()
	ringQ.MulCoeffsMontgomery(a, qr.share.sk.Value.Q, q.c0)
	ringQ.Neg(q.c0, q.c0)
	xe, err := ring.NewSampler(prng, ringQ, ps.params.Xe(), false)
	if err != nil {
		return nil, fmt.Errorf("he: encrypt probe: %w", err)
	}
	e := ringQ.NewPoly()
	xe.Read(e)
	ringQ.NTT(e, e)
	ringQ.Add(q.c0, e, q.c0)
	ringQ.Add(q.c0, pt.Value, q.c0)
	zeroPoly(e)
	zeroPoly(pt.Value)
	q.encode()
	return q, nil
}

// encode sets q.raw, the query's wire form, from its fields.
func (q *Query) encode() {
	ps := q.ps
	enc := newEncoder(kindQuery, ps, ps.queryWireSize())
	enc.raw(q.id[:])
	enc.u16(uint16(q.dims))
	enc.raw(q.seed[:])
	enc.poly(q.c0, ps.qAt(ps.topLevel()))
	q.raw = enc.b
}

// queryA expands a query seed into the uniform polynomial a (NTT domain,
// top level).
func (ps *ParamSet) queryA(seed [32]byte) ring.Poly {
	key := append([]byte("puente/he/query-a/v1\x00"), seed[:]...)
	prng, err := sampling.NewKeyedPRNG(key)
	if err != nil {
		panic(err) // BLAKE2b rejects only keys over 64 bytes
	}
	ringQ := ps.params.RingQ().AtLevel(ps.topLevel())
	a := ringQ.NewPoly()
	ring.NewUniformSampler(prng, ringQ).Read(a)
	return a
}

// padDims returns the smallest power of two >= m: templates are padded
// with zeros to it so that the probe's period divides the slot count.
func padDims(m int) int {
	p := 1
	for p < m {
		p <<= 1
	}
	return max(p, 2)
}

// checkVector checks that v is a finite vector of 1..maxDims coordinates
// with Euclidean norm at most 1 (+ normTolerance). Its error names the
// object but never a value.
func checkVector(object string, v []float64, maxDims int) error {
	if len(v) == 0 || len(v) > maxDims {
		return &FieldError{Object: object, Field: "dims", Reason: fmt.Sprintf("%d outside [1, %d]", len(v), maxDims), Kind: ErrBadTemplate}
	}
	var s float64
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &FieldError{Object: object, Field: fmt.Sprintf("coordinate %d", i), Reason: "not finite", Kind: ErrBadTemplate}
		}
		s += x * x
	}
	if math.Sqrt(s) > 1+normTolerance {
		return &FieldError{Object: object, Field: "norm", Reason: fmt.Sprintf("exceeds 1 + %g", normTolerance), Kind: ErrBadTemplate}
	}
	return nil
}
