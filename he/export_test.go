package he

import (
	"context"
	"fmt"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// Test-only access to the stages of the evaluation.

// Stages runs the evaluation of q on g up to the per-block decisions and
// returns the per-block scores and decisions (under the collective key).
func (r *Responder) Stages(q *Query, g *Gallery, t Threshold, m Mode) (scores, steps []*rlwe.Ciphertext, err error) {
	evals := r.evaluators(1)
	ct := r.toCollective(q)
	evals[0].DropLevel(ct, ct.Level()-r.ps.startLevel(m))
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
	return r.aggregate(r.eval.ShallowCopy(), steps, m)
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
	out := make([]float64, qr.ps.Slots())
	if err := qr.decode(resp.d[i], resp.c1[i], out, 0); err != nil {
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
