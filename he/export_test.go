package he

import (
	"context"
	"fmt"
	"math"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// Test-only access to the stages of the evaluation.

// Stages runs the evaluation of q on g up to the per-block decisions and
// returns the per-block scores and decisions (under the collective key).
func (r *Responder) Stages(q *Query, g *Gallery, t Threshold, m Mode) (scores, steps []*rlwe.Ciphertext, err error) {
	evals := r.evaluators(1)
	ct := r.toCollective(q)
	r.eval.DropLevel(ct, ct.Level()-r.ps.startLevel(m))
	rots, err := r.babySteps(context.Background(), ct, g.n1, evals)
	if err != nil {
		return nil, nil, err
	}
	sc := r.newScorer(evals[0], rots[0].Level())
	for _, bl := range g.blocks {
		s, err := sc.score(g, bl, rots)
		if err != nil {
			return nil, nil, err
		}
		scores = append(scores, s.CopyNew())
		st, err := r.step(evals[0], s, bl, t, m)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, st)
	}
	return scores, steps, nil
}

// Aggregate exposes the aggregation.
func (r *Responder) Aggregate(steps []*rlwe.Ciphertext, m Mode) (*rlwe.Ciphertext, error) {
	return r.aggregate(steps, m)
}

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

// DecodeRaw is Decide's decoding without DecodePublic's rounding.
func (qr *Querier) DecodeRaw(resp *Response, i int) []float64 {
	ps := qr.ps
	lvl := resultLevel
	ringQ := ps.params.RingQ().AtLevel(lvl)
	pt := ckks.NewPlaintext(ps.params, lvl)
	ringQ.MulCoeffsMontgomery(resp.c1[i], qr.share.sk.Value.Q, pt.Value)
	ringQ.Add(pt.Value, resp.d[i], pt.Value)
	pt.Scale = ps.params.DefaultScale()
	out := make([]float64, ps.Slots())
	if err := qr.enc.Decode(pt, out); err != nil {
		panic(err)
	}
	return out
}

// SignForTest exposes the plaintext reference of the sign composite.
func (ps *ParamSet) SignForTest(x float64) float64 { return ps.sign.Sign(x) }

// LogAlphaForTest is the band of the sign composite.
func (ps *ParamSet) LogAlphaForTest() int { return ps.sign.logAlpha }

// ToCollective exposes the query conversion.
func (r *Responder) ToCollective(q *Query) *rlwe.Ciphertext { return r.toCollective(q) }

// Square exposes a relinearized square (for diagnostics).
func (r *Responder) Square(ct *rlwe.Ciphertext) *rlwe.Ciphertext {
	out, err := r.eval.MulRelinNew(ct, ct)
	if err != nil {
		panic(err)
	}
	if err := r.eval.Rescale(out, out); err != nil {
		panic(err)
	}
	return out
}

// RescaleForTest rescales a copy.
func (r *Responder) RescaleForTest(ct *rlwe.Ciphertext) *rlwe.Ciphertext {
	out := ct.CopyNew()
	if err := r.eval.Rescale(out, out); err != nil {
		panic(err)
	}
	return out
}

// StepComponents evaluates the threshold polynomial on a block's scores
// (as Responder.step does) and returns the intermediate ciphertexts.
func (r *Responder) StepComponents(ct *rlwe.Ciphertext, t Threshold, shallow bool, g *Gallery) []*rlwe.Ciphertext {
	ps := r.ps
	eval := r.eval
	if shallow {
		eval = r.eval.ShallowCopy()
	}
	c, _ := t.affine()
	q := ps.params.Q()[ct.Level()]
	ct = ct.CopyNew()
	delta := ps.params.DefaultScale()
	k := uint64(math.Max(1, math.Floor(c*delta.Float64()*float64(q)/ct.Scale.Float64())))
	cEff := float64(k) * ct.Scale.Float64() / (float64(q) * delta.Float64())
	ringQ := ps.params.RingQ().AtLevel(ct.Level())
	ringQ.MulScalar(ct.Value[0], k, ct.Value[0])
	ringQ.MulScalar(ct.Value[1], k, ct.Value[1])
	if err := eval.Rescale(ct, ct); err != nil {
		panic(err)
	}
	ct.Scale = delta
	d := -cEff * t.Tau
	if g == nil || g.blocks[0].absent == nil {
		if err := eval.Add(ct, d, ct); err != nil {
			panic(err)
		}
	} else {
		bias := make([]float64, ps.Slots())
		for k := range bias {
			bias[k] = d
			if g.blocks[0].absent[k] {
				bias[k] = -63.0 / 64
			}
		}
		pt := ckks.NewPlaintext(ps.params, ct.Level())
		pt.Scale = ct.Scale
		if err := r.enc.ShallowCopy().Encode(bias, pt); err != nil {
			panic(err)
		}
		if err := eval.Add(ct, pt, ct); err != nil {
			panic(err)
		}
	}
	out := []*rlwe.Ciphertext{ct}
	peval := polynomial.NewEvaluator(ps.params, eval)
	for _, p := range ps.sign.step {
		var err error
		if ct, err = peval.Evaluate(ct, p, ps.params.DefaultScale()); err != nil {
			panic(err)
		}
		out = append(out, ct)
	}
	return out
}

// EncodeDecode round-trips a vector through the responder's encoder at a
// level and scale (diagnostics).
func (r *Responder) EncodeDecode(v []float64, level int) []float64 {
	pt := ckks.NewPlaintext(r.ps.params, level)
	pt.Scale = r.ps.params.DefaultScale()
	if err := r.enc.ShallowCopy().Encode(v, pt); err != nil {
		panic(err)
	}
	out := make([]float64, len(v))
	if err := r.enc.Decode(pt, out); err != nil {
		panic(err)
	}
	return out
}

// RootsForTest reports subrings whose NTT root does not have the order
// the NTT needs.
func (ps *ParamSet) RootsForTest() (bad []string) {
	for _, r := range []*ring.Ring{ps.params.RingQ(), ps.params.RingP()} {
		for _, s := range r.SubRings {
			q := s.Modulus
			psi := ring.ModExp(s.PrimitiveRoot, (q-1)/s.NthRoot, q)
			if ring.ModExp(psi, s.NthRoot/2, q) != q-1 {
				bad = append(bad, fmt.Sprintf("%#x root %d factors %v", q, s.PrimitiveRoot, s.Factors))
			}
		}
	}
	return bad
}

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
// without changing the ceremony's state.
func (c *Ceremony) DecodeShareForTest(s Step, b []byte) error {
	_, err := c.decodeShare(s, b)
	return err
}
