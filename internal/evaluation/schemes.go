package evaluation

import (
	"fmt"

	"github.com/puente-id/puente/protect"
)

// MaxProtectedDim is the largest protected dimension m the recommended
// parameters choose: the encrypted searches pack templates of up to 512
// values.
const MaxProtectedDim = 512

// Recommended returns the parameter set recommended for each scheme on
// face embeddings of dimension dim, with mean the public normalisation
// mean. The rule was measured on dlib-128 (the report's sweep and
// recommendation sections explain the choice) and is carried to other
// dimensions by keeping what made it work there; the sweep measures the
// trade-off on the set at hand.
//
//   - PolyProtect: order 5, overlap 4, scale 1, plain L2 normalisation:
//     m = dim - 4, so that the protected vector constrains every direction
//     of the input (on dlib-128, m = 124; the settings with fewer outputs
//     lost accuracy).
//   - BioHashing: min(4·dim, MaxProtectedDim) bits on input centred with
//     weight 0.7 (512 bits on dlib-128).
//   - Index-of-Max: min(dim, MaxProtectedDim/4) hashes of 4 projections
//     (m up to 512) on input centred with weight 0.8 (128 hashes on
//     dlib-128).
func Recommended(dim int, mean []float64) []protect.Params {
	centre := func(w float64) protect.Normalizer { return protect.Normalizer{Mean: mean, Weight: w} }
	return []protect.Params{
		{Scheme: protect.PolyProtect, InputDim: dim, Order: 5, Overlap: 4, Scale: 1},
		{Scheme: protect.BioHash, InputDim: dim, Norm: centre(0.7), M: min(4*dim, MaxProtectedDim)},
		{Scheme: protect.IndexOfMax, InputDim: dim, Norm: centre(0.8), M: min(dim, MaxProtectedDim/4), Q: 4},
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
