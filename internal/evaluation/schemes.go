package evaluation

import (
	"fmt"

	"github.com/puente-id/puente/protect"
)

// InputDim is the dimension of the evaluation set's embeddings (dlib).
const InputDim = 128

// Recommended returns the parameter set recommended for each scheme on
// dlib-128 face embeddings, with mean the public normalisation mean. The
// choice is explained, with the measurements behind it, in the report's
// sweep and recommendation sections.
//
//   - PolyProtect: order 5, overlap 4, scale 1, plain L2 normalisation:
//     m = 124 (within the m = 128 encrypted-matching budget).
//   - BioHashing: 512 bits on input centred with weight 0.7.
//   - Index-of-Max: 128 hashes of 4 projections (m = 512) on input centred
//     with weight 0.8.
func Recommended(mean []float64) []protect.Params {
	centre := func(w float64) protect.Normalizer { return protect.Normalizer{Mean: mean, Weight: w} }
	return []protect.Params{
		{Scheme: protect.PolyProtect, InputDim: InputDim, Order: 5, Overlap: 4, Scale: 1},
		{Scheme: protect.BioHash, InputDim: InputDim, Norm: centre(0.7), M: 512},
		{Scheme: protect.IndexOfMax, InputDim: InputDim, Norm: centre(0.8), M: 128, Q: 4},
	}
}

// Describe names a parameter set in one short line for tables.
func Describe(p protect.Params) string {
	var s string
	switch p.Scheme {
	case protect.PolyProtect:
		s = fmt.Sprintf("PolyProtect order %d, overlap %d, scale %g", p.Order, p.Overlap, p.Scale)
	case protect.BioHash:
		s = fmt.Sprintf("BioHashing, %d bits", p.M)
	case protect.IndexOfMax:
		s = fmt.Sprintf("Index-of-Max, %d hashes x %d", p.M, p.Q)
	}
	if p.Norm.Weight > 0 {
		s += fmt.Sprintf(", centred %g", p.Norm.Weight)
	}
	return s
}

// SchemeResult is everything measured for one parameter set.
type SchemeResult struct {
	Params   protect.Params
	Acc      *Accuracy
	Linkages []*Linkage // one per epoch pair (e, e+1), e = 1, 2, ...
	Attacks  []AttackResult
	Best     BestAttack // the best stolen-key attack on each measure
}

// MeasureScheme measures one parameter set: accuracy under epoch 1, linkage
// over c.EpochPairs epoch pairs, and the stolen-key attacks on epoch 1.
func MeasureScheme(env *Env, p protect.Params, c Config) (*SchemeResult, error) {
	c.defaults()
	r := &SchemeResult{Params: p}
	ts := make([]protect.Transform, c.EpochPairs+1)
	for e := range ts {
		seed := EvalSeed(p.Scheme, uint64(e+1))
		t, err := protect.New(p, seed)
		seed.Zero()
		if err != nil {
			return nil, err
		}
		ts[e] = t
	}
	tm, err := protect.ApplyAll(ts[0], env.Set.Emb)
	if err != nil {
		return nil, err
	}
	if r.Acc, err = MeasureAccuracy(tm, env.Proto); err != nil {
		return nil, err
	}
	for e := 0; e < c.EpochPairs; e++ {
		l, err := MeasureLinkage(env.Set.Emb, ts[e], ts[e+1], env.Proto)
		if err != nil {
			return nil, err
		}
		r.Linkages = append(r.Linkages, l)
	}
	targets := AttackTargets(env.Unit.Rows, c.AttackTargets, c.SampleSeed+3)
	if r.Attacks, err = MeasureAttacks(env.Judge(), ts[0], ts[1], targets, c.AttackIters); err != nil {
		return nil, err
	}
	r.Best = best(r.Attacks)
	return r, nil
}
