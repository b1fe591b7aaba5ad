package protect

import (
	"fmt"
	"math"
)

// Inversion attacks, for measuring irreversibility (ISO/IEC 30136,
// ISO/IEC 24745) in the worst case the standards name: the attacker holds
// a protected template and the transform that made it (parameters and
// seed: a stolen key) and tries to recover the raw template. The recovered
// vector is then compared with the true raw template by the unprotected
// comparator; how often it is accepted at the unprotected system's
// threshold is the attack's success rate.
//
// Both attacks work in the transform's normalised input space and map the
// estimate back with [Normalizer.Invert] (the mean and centre weight are
// public). The optimisation can also start from a public vector and be
// pulled towards it by a prior ([AttackOptions.Prior]): a maximum a
// posteriori estimate that uses what anyone knows about faces (they
// cluster around the population mean), which matters for many-to-one
// transforms whose protected vector leaves some directions of the input
// unconstrained. They are evaluation tools, not part of matching, and their
// failure is a lower bound on what an attacker achieves, not a proof of
// irreversibility.

// Attack names an inversion attack.
type Attack int

const (
	// AttackPseudoInverse is the least-squares attack: it inverts the
	// transform's linear part with the Moore-Penrose pseudo-inverse (the
	// projection matrix's transpose for BioHashing, the chosen-minus-mean
	// projections for Index-of-Max, the degree-1 coefficients for
	// PolyProtect).
	AttackPseudoInverse Attack = 1
	// AttackOptimise starts from the pseudo-inverse estimate (or from
	// AttackOptions.Start) and minimises a smooth surrogate of the
	// protected-domain distance to the target by projected gradient descent
	// on the unit sphere: the logistic loss of the signs for BioHashing,
	// the softmax cross-entropy of the indices for Index-of-Max, the squared
	// distance of the normalised polynomial outputs for PolyProtect. It finds
	// a preimage: a vector whose protected form is close to the target.
	AttackOptimise Attack = 2
)

func (a Attack) String() string {
	switch a {
	case AttackPseudoInverse:
		return "pseudo-inverse"
	case AttackOptimise:
		return "optimisation"
	}
	return fmt.Sprintf("attack(%d)", int(a))
}

// AttackOptions tunes [Invert]. The zero value is the default.
type AttackOptions struct {
	// Iterations of gradient descent for AttackOptimise (default 300).
	Iterations int
	// Start, if set, is a raw vector (e.g. the public mean) that the
	// optimisation starts from instead of the pseudo-inverse estimate.
	Start []float64
	// Prior, if positive, adds Prior*|v - s|^2 to the loss, where s is
	// Start in the transform's normalised space: a Gaussian prior centred
	// on Start, so the result is a maximum a posteriori estimate of an
	// attacker who knows that faces cluster around the public mean. It
	// pulls the directions the protected vector does not constrain towards
	// Start instead of leaving them wherever the descent drifts. Prior
	// requires Start.
	Prior float64
}

// invertible is what an attacker holding the seed knows of a transform.
type invertible interface {
	Transform
	normalizer() *Normalizer
	// linearEstimate returns the least-squares estimate of the normalised
	// input (not necessarily unit length) from a protected vector.
	linearEstimate(p []float64) []float64
	// surrogate returns a smooth loss of candidate v (unit, normalised
	// space) against protected vector p and writes its gradient to grad.
	surrogate(v, p, grad []float64) float64
}

var (
	_ invertible = (*bioHash)(nil)
	_ invertible = (*indexOfMax)(nil)
	_ invertible = (*polyProtect)(nil)
)

func (b *base) normalizer() *Normalizer { return &b.p.Norm }

// Invert runs attack a against the protected vector p made by t and returns
// the estimate of the raw template as a unit vector. It fails with an error
// wrapping [ErrInput] if p has the wrong dimension or is not finite, or if
// opt.Start is not a valid input vector, and with [ErrParams] for a
// transform not built by [New], an unknown attack, or a prior that is
// negative, not finite or without a start.
func Invert(t Transform, p []float64, a Attack, opt AttackOptions) ([]float64, error) {
	it, ok := t.(invertible)
	if !ok {
		return nil, fmt.Errorf("%w: transform %T was not built by protect.New", ErrParams, t)
	}
	if len(p) != t.OutputDim() {
		return nil, inputErr("protected vector", -1, -1, "dimension %d, want %d", len(p), t.OutputDim())
	}
	if _, err := checkedNorm(p); err != nil {
		return nil, err
	}
	v := it.linearEstimate(p)
	if Dot(v, v) == 0 {
		v[0] = 1
	}
	scaleUnit(v)
	switch a {
	case AttackPseudoInverse:
	case AttackOptimise:
		if !(opt.Prior >= 0) || math.IsInf(opt.Prior, 0) || (opt.Prior > 0 && opt.Start == nil) {
			return nil, fmt.Errorf("%w: attack prior weight %v needs a start vector and must be finite and >= 0", ErrParams, opt.Prior)
		}
		var prior []float64
		if opt.Start != nil {
			if err := it.normalizer().Apply(v, opt.Start); err != nil {
				return nil, fmt.Errorf("protect: attack start: %w", err)
			}
			if opt.Prior > 0 {
				prior = append([]float64(nil), v...)
			}
		}
		v = descend(it, v, p, prior, opt.Prior, orDefault(opt.Iterations, 300))
	default:
		return nil, fmt.Errorf("%w: unknown attack %d", ErrParams, a)
	}
	x := make([]float64, len(v))
	if err := it.normalizer().Invert(x, v); err != nil {
		return nil, fmt.Errorf("protect: attack estimate: %w", err)
	}
	return x, nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// descend minimises the surrogate loss, plus lambda*|v - prior|^2 when
// prior is set, over the unit sphere by normalised gradient steps whose
// length decays geometrically from 0.2 to 0.002 radians, keeping the best
// point seen.
func descend(it invertible, v, p, prior []float64, lambda float64, iters int) []float64 {
	grad := make([]float64, len(v))
	best := append([]float64(nil), v...)
	bestLoss := math.Inf(1)
	step, decay := 0.2, math.Pow(0.01, 1/float64(iters))
	loss := func() float64 {
		l := it.surrogate(v, p, grad)
		for i := range prior {
			d := v[i] - prior[i]
			l += lambda * d * d
			grad[i] += 2 * lambda * d
		}
		return l
	}
	for range iters {
		loss := loss()
		if loss < bestLoss {
			bestLoss = loss
			copy(best, v)
		}
		// Keep the tangential part of the gradient (the sphere constraint).
		r := Dot(grad, v)
		for i := range grad {
			grad[i] -= r * v[i]
		}
		g := math.Sqrt(Dot(grad, grad))
		if g == 0 || math.IsNaN(g) {
			break
		}
		for i := range v {
			v[i] -= step * grad[i] / g
		}
		scaleUnit(v)
		step *= decay
	}
	if loss := loss(); loss < bestLoss {
		copy(best, v)
	}
	return best
}
