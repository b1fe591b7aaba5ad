package protect

import (
	"math"
)

// Normalizer is the normalisation step both parties agree on before the
// transform: the raw vector x is scaled to unit length, the public mean
// vector times Weight is subtracted (centring), and the result is scaled to
// unit length again:
//
//	v = (x/|x| - Weight*Mean) / |x/|x| - Weight*Mean|
//
// With Weight 0 (and no Mean) it is plain L2 normalisation. Mean is a public
// statistic (the mean of L2-normalised vectors of some population, see
// [MeanOf]); it is not secret and is part of [Params]. Partial centring
// (0 < Weight < 1) keeps the comparison close to raw cosine similarity while
// giving sign- and rank-based schemes more balanced input.
type Normalizer struct {
	Mean   []float64
	Weight float64
}

func (n *Normalizer) validate(dim int) error {
	if !(n.Weight >= 0 && n.Weight <= 1) {
		return paramsErr("normalisation: centre weight %v outside [0, 1]", n.Weight)
	}
	if n.Weight == 0 {
		if len(n.Mean) != 0 {
			return paramsErr("normalisation: a mean without a centre weight")
		}
		return nil
	}
	if len(n.Mean) != dim {
		return paramsErr("normalisation: mean has %d values, input dimension is %d", len(n.Mean), dim)
	}
	var ss float64
	for i, v := range n.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return paramsErr("normalisation: mean value %d is not finite", i)
		}
		ss += v * v
	}
	// |x/|x| - w*Mean| >= 1 - w*|Mean| > 0 keeps the second scaling defined.
	if n.Weight*math.Sqrt(ss) >= 0.999 {
		return paramsErr("normalisation: centre weight times |mean| = %.4f must be below 0.999", n.Weight*math.Sqrt(ss))
	}
	return nil
}

// Apply writes the normalised form of x to dst (both of the input
// dimension). It fails with an [*InputError] on a wrong length, a NaN or
// Inf value or a zero vector; it never panics on bad values.
func (n *Normalizer) Apply(dst, x []float64) error {
	if n.Weight != 0 && len(x) != len(n.Mean) {
		return inputErr("vector", -1, -1, "dimension %d, the normalisation mean has %d", len(x), len(n.Mean))
	}
	if len(dst) != len(x) {
		return inputErr("vector", -1, -1, "output dimension %d, want %d", len(dst), len(x))
	}
	nx, err := checkedNorm(x)
	if err != nil {
		return err
	}
	for i, v := range x {
		dst[i] = v / nx
	}
	if n.Weight == 0 {
		return nil
	}
	for i := range dst {
		dst[i] -= n.Weight * n.Mean[i]
	}
	scaleUnit(dst)
	return nil
}

// Invert maps a normalised vector v back to the unit vector u = x/|x| it
// came from, solving |t*v + Weight*Mean| = 1 for t > 0, and writes u to
// dst. It is public knowledge (Mean and Weight are in Params) and is what
// an attacker who has estimated v does; Puente uses it only to evaluate such
// attacks. It fails with an [*InputError] if the lengths of dst, v and Mean
// disagree or v is not a finite non-zero vector.
func (n *Normalizer) Invert(dst, v []float64) error {
	if len(dst) != len(v) || (n.Weight != 0 && len(v) != len(n.Mean)) {
		return inputErr("vector", -1, -1, "dimension %d (output %d, mean %d) disagree", len(v), len(dst), len(n.Mean))
	}
	if _, err := checkedNorm(v); err != nil {
		return err
	}
	if n.Weight == 0 {
		copy(dst, v)
		scaleUnit(dst)
		return nil
	}
	var vm, mm, vv float64
	for i := range v {
		vm += v[i] * n.Mean[i]
		mm += n.Mean[i] * n.Mean[i]
		vv += v[i] * v[i]
	}
	a := n.Weight
	// vv t^2 + 2 a vm t + a^2 mm - 1 = 0, positive root (a^2 mm < 1).
	t := (-a*vm + math.Sqrt(a*a*vm*vm-vv*(a*a*mm-1))) / vv
	for i := range v {
		dst[i] = t*v[i] + a*n.Mean[i]
	}
	scaleUnit(dst)
	return nil
}

// MeanOf returns the mean of the L2-normalised rows of m, the public mean a
// [Normalizer] centres with. Rows must be valid (see [Matrix.Validate]).
func MeanOf(m *Matrix) []float64 {
	mean := make([]float64, m.Cols)
	u := make([]float64, m.Cols)
	for r := 0; r < m.Rows; r++ {
		copy(u, m.Row(r))
		scaleUnit(u)
		for i, v := range u {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(max(m.Rows, 1))
	}
	return mean
}

// checkedNorm returns |x|, or an InputError for NaN, Inf or a zero vector.
func checkedNorm(x []float64) (float64, error) {
	var ss float64
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, inputErr("vector", -1, i, "value is not finite")
		}
		ss += v * v
	}
	if ss == 0 || math.IsInf(ss, 0) {
		return 0, inputErr("vector", -1, -1, "zero or overflowing vector cannot be normalised")
	}
	return math.Sqrt(ss), nil
}

// scaleUnit scales v to unit length in place; a zero vector stays zero.
func scaleUnit(v []float64) {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i := range v {
		v[i] *= inv
	}
}

// Dot returns the inner product of two vectors of equal length: the match
// score of two protected templates. It panics on unequal lengths
// (a programmer error).
func Dot(a, b []float64) float64 {
	if len(a) != len(b) {
		panic("protect: Dot of vectors of unequal length")
	}
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
