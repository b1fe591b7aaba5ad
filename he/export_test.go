package he

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"

	"github.com/puente-id/puente/opening"
)

// Test-only access to the stages of the evaluation.

// JointDecode decrypts ct with the sum of both shares and decodes it at
// full precision (what neither party can do alone).
func JointDecode(sq, sr *SecretShare, ct *rlwe.Ciphertext) []float64 {
	ps := sq.ps
	sk := rlwe.NewSecretKey(ps.params)
	ps.params.RingQP().Add(sq.sk.Value, sr.sk.Value, sk.Value)
	out := make([]float64, ps.Slots())
	if err := ckks.NewEncoder(ps.params).Decode(rlwe.NewDecryptor(ps.params, sk).DecryptNew(ct), out); err != nil {
		panic(err)
	}
	return out
}

// SignForTest exposes the plaintext reference of the sign composite.
func (ps *ParamSet) SignForTest(x float64) float64 { return ps.sign.Sign(x) }

// LogAlphaForTest is the band of the sign composite.
func (ps *ParamSet) LogAlphaForTest() int { return ps.sign.logAlpha }

// CheckKeysForTest encrypts a known vector under the joint key, rotates it
// by every power of two and squares it, and reports what decrypts wrong.
func CheckKeysForTest(sq, sr *SecretShare, keys *EvaluationKeys) (bad []string) {
	ps := sq.ps
	sk := rlwe.NewSecretKey(ps.params)
	ps.params.RingQP().Add(sq.sk.Value, sr.sk.Value, sk.Value)
	enc := ckks.NewEncoder(ps.params)
	v := make([]float64, ps.Slots())
	for i := range v {
		v[i] = float64(i%97) / 97
	}
	pt := ckks.NewPlaintext(ps.params, ps.topLevel())
	if err := enc.Encode(v, pt); err != nil {
		panic(err)
	}
	ct, err := rlwe.NewEncryptor(ps.params, sk).EncryptNew(pt)
	if err != nil {
		panic(err)
	}
	eval := ckks.NewEvaluator(ps.params, keys.keySet())
	dec := rlwe.NewDecryptor(ps.params, sk)
	out := make([]float64, ps.Slots())
	check := func(name string, c *rlwe.Ciphertext, want func(i int) float64) {
		if err := enc.Decode(dec.DecryptNew(c), out); err != nil {
			panic(err)
		}
		for i := range out {
			if math.Abs(out[i]-want(i)) > 1e-3 {
				bad = append(bad, fmt.Sprintf("%s: slot %d got %g want %g", name, i, out[i], want(i)))
				return
			}
		}
	}
	for r := 1; r < ps.Slots(); r <<= 1 {
		c := eval.DropLevelNew(ct, ct.Level()-ps.galoisLevel(keys.maxDims, ps.params.GaloisElement(r)))
		rc, err := eval.RotateNew(c, r)
		if err != nil {
			panic(err)
		}
		check(fmt.Sprintf("rotation %d", r), rc, func(i int) float64 { return v[(i+r)%len(v)] })
	}
	c := eval.DropLevelNew(ct, ct.Level()-ps.relinLevel())
	sqr, err := eval.MulRelinNew(c, c)
	if err != nil {
		panic(err)
	}
	if err := eval.Rescale(sqr, sqr); err != nil {
		panic(err)
	}
	check("square", sqr, func(i int) float64 { return v[i] * v[i] })
	return bad
}

// DecodeWithOneShare decrypts the collective form of a query with a single
// share (what the responder alone could try) and decodes it.
func (r *Responder) DecodeWithOneShare(q *Query) []float64 {
	ps := r.ps
	ct := r.toCollective(q)
	out := make([]float64, ps.Slots())
	if err := ckks.NewEncoder(ps.params).Decode(rlwe.NewDecryptor(ps.params, r.share.sk).DecryptNew(ct), out); err != nil {
		panic(err)
	}
	return out
}

// DecodeShareForTest runs the validation of a peer's share for step s
// (decoding and the checks of checkShare) without changing the ceremony's
// state.
func (c *Ceremony) DecodeShareForTest(s Step, b []byte) error {
	sh, err := c.decodeShare(s, b)
	if err != nil {
		return err
	}
	return c.checkShare(s, sh)
}

// ReencodeShareForTest decodes a peer's share for step s and encodes what it decoded again, as
// the peer would have sent it: the fuzzers' round trip.
func (c *Ceremony) ReencodeShareForTest(s Step, b []byte) ([]byte, error) {
	sh, err := c.decodeShare(s, b)
	if err != nil {
		return nil, err
	}
	return c.encodeShareFrom(s, sh, c.role.peer()), nil
}

// PlainCounts reads, with the opening's secrets, what the querier's shares
// hold for a gallery of the given blocks and padded dimension: the count,
// the squared norm and the padding coordinates' squared norm (a test's
// view, never a party's).
func PlainCounts(ps *ParamSet, s *opening.Secrets, x opening.Inputs, blocks, pad int) (count, norm, padding float64) {
	q := ps.params.Q()[0]
	rel := func(x, off uint64) float64 {
		z := (x + q - off) % q
		if z > q/2 {
			return -float64(q - z)
		}
		return float64(z)
	}
	cw := ps.countWindow(ps.answerCountScale(), blocks*ps.Slots())
	yw := ps.normWindow(ps.normScale(pad), pad)
	pw := ps.paddingWindow(ps.paddingScale(pad), pad)
	return (rel(x[0], s.OffC) + float64(cw.lo)) / cw.per, (rel(x[1], s.OffY) + float64(yw.lo)) / yw.per,
		(rel(x[2], s.OffP) - float64(q-pw.lo)) / pw.per
}

// RespondMany evaluates q on g once and answers it n times, each answer
// with fresh rerandomisation and masks from rand: what the querier sees of
// n repetitions of the same query, without paying n evaluations.
func (r *Responder) RespondMany(q *Query, g *Gallery, opts Options, n int, rand io.Reader) ([]*Answer, []*opening.Secrets, error) {
	if err := r.check(q, g, &opts); err != nil {
		return nil, nil, err
	}
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, nil, err
	}
	counts, norms, err := r.evaluateQueries(context.Background(), []*Query{q}, g, opts, []sampling.PRNG{prng})
	if err != nil {
		return nil, nil, err
	}
	count, norm := counts[0], norms[0]
	var as []*Answer
	var ss []*opening.Secrets
	for i := 0; i < n; i++ {
		a, s, err := r.answer(q, count.CopyNew(), probeNorms{norm.y.CopyNew(), norm.p.CopyNew()}, len(g.blocks)*r.ps.Slots(), g.pad, prng)
		if err != nil {
			return nil, nil, err
		}
		as, ss = append(as, a), append(ss, s)
	}
	return as, ss, nil
}

// EncryptSlotsForTest encrypts an arbitrary slot vector as a query of the
// given dimension: what a querier that deviates from the protocol sends
// (any plaintext, any layout, any norm).
func (qr *Querier) EncryptSlotsForTest(slots []float64, dims int, rand io.Reader) (*Query, error) {
	return qr.encryptSlots(slots, dims, rand)
}

// NormPeriodForTest is the period, in units of the squared norm, with which
// the norm the opening reads wraps around modulo q0: a probe of squared norm
// 1 + NormPeriodForTest reads as 1 (the wrap attack of TestOneBitNormWrap).
func NormPeriodForTest(ps *ParamSet, pad int) float64 {
	return float64(ps.params.Q()[0]) * float64(pad) / ps.normScale(pad).Float64()
}

// PaddingPeriodForTest is the period, in units of squared norm, with which
// the padding coordinates' squared norm the opening reads wraps around
// modulo q0 (TestPaddingNormWrap).
func PaddingPeriodForTest(ps *ParamSet, pad int) float64 {
	return float64(ps.params.Q()[0]) * float64(pad) / ps.paddingScale(pad).Float64()
}

// ParamSetOf returns the parameter-set ID in the header of any object this
// package encodes (query, response, ceremony message, secret share,
// evaluation keys), so a store can pick the set before decoding.
func ParamSetOf(b []byte) (ParamSetID, error) {
	if len(b) < headerSize || string(b[:4]) != wireMagic {
		return 0, malformed("object", "header", "not a Puente HE object (%d bytes, bad magic or too short)", len(b))
	}
	return ParamSetID(binary.BigEndian.Uint16(b[6:8])), nil
}

// SignDomainEndForTest is the right end of the sign composite's domain: 1
// for an odd composite.
func (ps *ParamSet) SignDomainEndForTest() float64 { return ps.sign.beta }

// DomainMarginForTest is how much of the domain MinTau leaves above the
// highest score.
const DomainMarginForTest = domainMargin

// MaxScoreForTest bounds the score of a probe that passes the norm check.
var MaxScoreForTest = maxScore

// WithQ0ComponentForTest returns q with h (coefficients modulo q0, in the
// coefficient domain) added to its plaintext as the component
// (Q_L/q0)·h: a value that is 0 modulo every prime but q0. A querier
// makes it by adding NTT_q0((Q_L/q0 mod q0)·h) to the q0 row of its c0
// and nothing to the other rows: a query that is not a fresh encryption
// of any CKKS-sized plaintext.
func (q *Query) WithQ0ComponentForTest(h []uint64) *Query {
	ps := q.ps
	top := ps.topLevel()
	qs := ps.params.Q()
	q0 := qs[0]
	c := uint64(1)
	for i := 1; i <= top; i++ {
		c = ring.BRed(c, qs[i]%q0, q0, ring.GenBRedConstant(q0))
	}
	ringQ := ps.params.RingQ().AtLevel(top)
	p := ringQ.NewPoly()
	for j := range p.Coeffs[0] {
		p.Coeffs[0][j] = ring.BRed(h[j]%q0, c, q0, ring.GenBRedConstant(q0))
	}
	ps.params.RingQ().AtLevel(0).NTT(p, p)
	out := &Query{ps: ps, id: q.id, dims: q.dims, seed: q.seed, c0: ringQ.NewPoly()}
	ringQ.Add(q.c0, p, out.c0)
	out.encode()
	return out
}

// Q0ForTest is the answer modulus q0.
func (ps *ParamSet) Q0ForTest() uint64 { return ps.params.Q()[0] }
