package he

import (
	"fmt"
	"io"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// A Response is the responder's answer to one query: for each result
// ciphertext (c0, c1), the pair (c0 + c1·s_R + e, c1) — the ciphertext with
// the responder's flooded decryption share already added. Only the
// querier, adding c1·s_Q, can decode it.
type Response struct {
	ps     *ParamSet
	id     KeySetID
	digest [32]byte
	mode   Mode
	d, c1  []ring.Poly
	raw    []byte
}

// Mode returns what the response reveals.
func (r *Response) Mode() Mode { return r.mode }

// MarshalBinary returns the response's wire encoding.
func (r *Response) MarshalBinary() ([]byte, error) { return append([]byte(nil), r.raw...), nil }

// maxResponseBlocks bounds the ciphertexts of a ModeSlots response
// (4096 blocks = 134 million entries at N = 2^15).
const maxResponseBlocks = 4096

// Response encoding (kind response):
//
//	header | key-set ID [32] | query digest [32] | mode u8 | ciphertexts u32 |
//	per ciphertext: d and c1 at the result level, at the default scale

const responseHeader = headerSize + 32 + 32 + 1 + 4

func (ps *ParamSet) responseWireSize(n int) int {
	return responseHeader + n*2*ps.polySizeQ(resultLevel)
}

// seal adds the decryption shares and encodes the response.
func (r *Responder) seal(q *Query, mode Mode, cts []*rlwe.Ciphertext, rand io.Reader) (*Response, error) {
	ps := r.ps
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, err
	}
	resp := &Response{ps: ps, id: r.keys.id, digest: q.Digest(), mode: mode}
	e := newEncoder(kindResponse, ps, ps.responseWireSize(len(cts)))
	e.raw(resp.id[:])
	e.raw(resp.digest[:])
	e.u8(uint8(mode))
	e.u32(uint32(len(cts)))
	for _, ct := range cts {
		if ct.Level() != resultLevel || !ct.Scale.Equal(ps.params.DefaultScale()) {
			return nil, fmt.Errorf("he: result at level %d scale 2^%.2f, want level %d at the default scale", ct.Level(), math.Log2(ct.Scale.Float64()), resultLevel)
		}
		d, err := r.decryptionShare(ct, prng)
		if err != nil {
			return nil, err
		}
		resp.d = append(resp.d, d)
		resp.c1 = append(resp.c1, ct.Value[1])
		e.poly(d, ps.qAt(ct.Level()))
		e.poly(ct.Value[1], ps.qAt(ct.Level()))
	}
	resp.raw = e.b
	return resp, nil
}

// ReadResponse decodes and validates a response for parameter set ps.
func ReadResponse(ps *ParamSet, b []byte) (*Response, error) {
	d := newDecoder(b, kindResponse, ps)
	r := &Response{ps: ps}
	r.id = d.bytes32("key-set ID")
	r.digest = d.bytes32("query digest")
	r.mode = Mode(d.u8("mode"))
	n := int(d.u32("ciphertexts"))
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case (r.mode == ModeCount || r.mode == ModeAny) && n != 1:
		return nil, malformed(d.obj, "ciphertexts", "%v mode carries 1, got %d", r.mode, n)
	case r.mode == ModeSlots && (n < 1 || n > maxResponseBlocks):
		return nil, malformed(d.obj, "ciphertexts", "%d outside [1, %d]", n, maxResponseBlocks)
	case r.mode != ModeCount && r.mode != ModeAny && r.mode != ModeSlots:
		return nil, malformed(d.obj, "mode", "unknown mode %d", uint8(r.mode))
	case len(b) != ps.responseWireSize(n):
		return nil, malformed(d.obj, "length", "got %d bytes, want %d for %d ciphertexts", len(b), ps.responseWireSize(n), n)
	}
	lvl := resultLevel
	ringQ := ps.params.RingQ().AtLevel(lvl)
	for i := 0; i < n; i++ {
		r.d = append(r.d, ringQ.NewPoly())
		r.c1 = append(r.c1, ringQ.NewPoly())
		d.poly(fmt.Sprintf("ciphertext %d d", i), ps.qAt(lvl), r.d[i])
		d.poly(fmt.Sprintf("ciphertext %d c1", i), ps.qAt(lvl), r.c1[i])
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	r.raw = append([]byte(nil), b...)
	return r, nil
}

// A Decision is what the querier learns from a response.
type Decision struct {
	// Mode is what the responder chose to reveal.
	Mode Mode
	// Hit reports that at least one gallery entry scored at or above the
	// threshold (Count >= 1).
	Hit bool
	// Count is the number of such entries: the decoded count in ModeCount,
	// the number of hit slots in ModeSlots, and in ModeAny 0 or 1 (the
	// count capped at 1).
	Count int
	// AboveBound reports, in ModeAny, that the decoded value was neither
	// 0 nor 1 but that of a count above [AnyBound] (Hit is then true).
	AboveBound bool
	// Uncertain reports that a decoded value was a half-integer: a score
	// within the threshold's band (see [Threshold.Band]) contributed a
	// fraction. Hit and Count round such halves up.
	Uncertain bool
	// Hits lists the positions of hit slots (ModeSlots only). A position
	// names no entry; the responder resolves it with its [Trace].
	Hits []HitRef
}

// HitRef is the position of a hit in a ModeSlots response.
type HitRef struct {
	Block int // index of the ciphertext in the response
	Slot  int
}

// maxCount is the largest count a response may decode to.
const maxCount = 1 << 22

// Decide combines the response with the querier's share, decodes it with
// DecodePublic at the precision of the parameter set (1/2), and returns
// the decision. It refuses (ErrResult) a response whose other slots are
// not zero or whose values are not small non-negative half-integers, and
// (ErrMismatch) one made for another query or key set.
func (qr *Querier) Decide(q *Query, resp *Response) (Decision, error) {
	ps := qr.ps
	switch {
	case resp.ps != ps || q.ps != ps:
		return Decision{}, mismatch("response", "parameter set", "decoded for another set")
	case resp.id != qr.share.id:
		return Decision{}, mismatch("response", "key-set ID", "made for another key set")
	case resp.digest != q.Digest():
		return Decision{}, mismatch("response", "query digest", "answers another query")
	}
	dec := Decision{Mode: resp.mode}
	values := make([]float64, ps.Slots())
	for i := range resp.d {
		if err := qr.decode(resp.d[i], resp.c1[i], values, decodeLogPrec); err != nil {
			return Decision{}, err
		}
		var err error
		switch resp.mode {
		case ModeCount:
			err = countDecision(values, &dec)
		case ModeAny:
			err = anyDecision(values, &dec)
		default:
			err = slotDecisions(values, i, &dec)
		}
		if err != nil {
			return Decision{}, err
		}
	}
	dec.Hit = dec.Count > 0
	return dec, nil
}

// decode computes d + c1·s_Q and decodes it publicly at logPrec bits of
// precision (decodeLogPrec: multiples of 1/2; 0: no rounding).
func (qr *Querier) decode(d, c1 ring.Poly, values []float64, logPrec float64) error {
	ps := qr.ps
	lvl := resultLevel
	ringQ := ps.params.RingQ().AtLevel(lvl)
	pt := ckks.NewPlaintext(ps.params, lvl)
	ringQ.MulCoeffsMontgomery(c1, qr.share.sk.Value.Q, pt.Value)
	ringQ.Add(pt.Value, d, pt.Value)
	pt.Scale = ps.params.DefaultScale()
	err := qr.enc.ShallowCopy().DecodePublic(pt, values, logPrec)
	zeroPoly(pt.Value)
	if err != nil {
		return fmt.Errorf("he: decode: %w", err)
	}
	return nil
}

// DecodeAnyValue reads a ModeAny result whose first slot holds v, rounded to a multiple of 1/2
// as Decide's public decoding rounds it, exactly as Decide reads it; it refuses (ErrResult) what
// Decide refuses. It serves to emulate encrypted decisions in plaintext (with AnyPlain).
func DecodeAnyValue(v float64) (Decision, error) {
	dec := Decision{Mode: ModeAny}
	if err := anyDecision([]float64{math.Round(v*(1<<decodeLogPrec)) / (1 << decodeLogPrec)}, &dec); err != nil {
		return Decision{}, err
	}
	dec.Hit = dec.Count > 0
	return dec, nil
}

func countDecision(v []float64, dec *Decision) error {
	for k := 1; k < len(v); k++ {
		if v[k] != 0 {
			return fmt.Errorf("%w: slot %d is not zero", ErrResult, k)
		}
	}
	c := v[0]
	if !(c >= 0 && c <= maxCount) {
		return fmt.Errorf("%w: count outside [0, %d]", ErrResult, maxCount)
	}
	if c != math.Trunc(c) {
		dec.Uncertain = true
	}
	dec.Count = int(math.Ceil(c))
	return nil
}

func anyDecision(v []float64, dec *Decision) error {
	if err := countDecision(v, dec); err != nil {
		return err
	}
	if dec.Count > 1 {
		// f(c) = 1 + C(c-1, 3) for c > 3: 2, 5, 11, 21, ...
		dec.AboveBound, dec.Count = true, 1
	}
	return nil
}

func slotDecisions(v []float64, block int, dec *Decision) error {
	for k, x := range v {
		switch x {
		case 0:
		case 0.5, 1:
			dec.Uncertain = dec.Uncertain || x == 0.5
			dec.Count++
			dec.Hits = append(dec.Hits, HitRef{Block: block, Slot: k})
		default:
			return fmt.Errorf("%w: block %d slot %d is not a decision", ErrResult, block, k)
		}
	}
	return nil
}

// Trace is the responder's private record of a ModeSlots response: the
// per-query block order and rotations. Keep it (encrypted) as long as a
// follow-up may refer to the query; it maps a hit position to an entry.
type Trace struct {
	ps    *ParamSet
	slots int
	size  int
	perm  []int // response position -> gallery block
	rot   []int // left rotation applied to that block
}

// Resolve returns the gallery entry at a hit position, or false when the
// position names no entry.
func (t *Trace) Resolve(h HitRef) (int, bool) {
	if t == nil || h.Block < 0 || h.Block >= len(t.perm) || h.Slot < 0 || h.Slot >= t.slots {
		return 0, false
	}
	i := t.perm[h.Block]*t.slots + (h.Slot+t.rot[h.Block])%t.slots
	return i, i < t.size
}
