package he

import (
	"context"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
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
