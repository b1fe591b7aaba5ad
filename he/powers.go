package he

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/tuneinsight/lattigo/v6/circuits/common/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

// chebyshevPowers returns the Chebyshev powers T_n(x) that Lattigo's
// Paterson–Stockmeyer evaluation of a degree-d polynomial reads from its
// power basis (polynomial.Evaluator.Evaluate): the powers of two up to
// 2^(bits(d)-1) and the baby steps 3 … 2^logSplit - 1, odd ones only for
// an odd polynomial. Each power maps to the two factors and the
// difference of the recurrence T_{a+b} = 2·T_a·T_b - T_{|a-b|}, chosen as
// polynomial.PowerBasis.GenPower chooses them, with every power they need
// included.
func chebyshevPowers(d int, odd bool) map[int][3]int {
	logDegree := bits.Len(uint(d))
	logSplit := bignum.OptimalSplit(logDegree)
	out := map[int][3]int{}
	var add func(n int)
	add = func(n int) {
		if _, ok := out[n]; ok || n <= 1 {
			return
		}
		a, b := polynomial.SplitDegree(n)
		c := max(a-b, b-a)
		out[n] = [3]int{a, b, c}
		add(a)
		add(b)
		add(c)
	}
	if logDegree > 1 {
		add(1 << (logDegree - 1))
	}
	for i := (1 << logSplit) - 1; i > 2; i-- {
		if !odd || i&1 == 1 {
			add(i)
		}
	}
	return out
}

// powerBasis computes the power basis of x for a degree-d Chebyshev
// polynomial with the same operations, in the same order per power, as
// polynomial.PowerBasis.GenPower (each power relinearised and rescaled
// once), so the ciphertexts are the same; powers whose factors are ready
// are computed at the same time, one per evaluator. x itself is not
// modified.
func powerBasis(x *rlwe.Ciphertext, d int, odd bool, evals []*ckks.Evaluator) (polynomial.PowerBasis, error) {
	pb := polynomial.NewPowerBasis(x, bignum.Chebyshev)
	todo := chebyshevPowers(d, odd)
	for len(todo) > 0 {
		var wave []int
		for n, f := range todo {
			if pb.Value[f[0]] != nil && pb.Value[f[1]] != nil && (f[2] == 0 || pb.Value[f[2]] != nil) {
				wave = append(wave, n)
			}
		}
		if len(wave) == 0 {
			return pb, fmt.Errorf("he: power basis: no power of %v can be computed", todo)
		}
		slices.Sort(wave)
		res := make([]*rlwe.Ciphertext, len(wave))
		errs := make([]error, len(wave))
		// One power per evaluator; a wave of fewer powers than evaluators
		// splits them, each power's key switch on a group of its own.
		groups := groupEvaluators(evals, len(wave))
		parallelWorkers(len(wave), len(groups), func(w, i int) {
			res[i], errs[i] = chebyshevPower(groups[w], pb, todo[wave[i]])
		})
		for i, n := range wave {
			if errs[i] != nil {
				return pb, fmt.Errorf("he: power basis: T_%d: %w", n, errs[i])
			}
			pb.Value[n] = res[i]
			delete(todo, n)
		}
	}
	return pb, nil
}

// chebyshevPower returns 2·T_a·T_b - T_c (or 2·T_a·T_b - 1 for c = 0),
// relinearised (the key switch on all of evals) and rescaled.
func chebyshevPower(evals []*ckks.Evaluator, pb polynomial.PowerBasis, f [3]int) (*rlwe.Ciphertext, error) {
	eval := evals[0]
	t, err := mulRelinNew(evals, pb.Value[f[0]], pb.Value[f[1]])
	if err != nil {
		return nil, err
	}
	if err := eval.Add(t, t, t); err != nil {
		return nil, err
	}
	if f[2] == 0 {
		err = eval.Add(t, -1, t)
	} else {
		err = eval.Sub(t, pb.Value[f[2]], t)
	}
	if err != nil {
		return nil, err
	}
	if err := rescale(eval, t, t); err != nil {
		return nil, err
	}
	return t, nil
}
