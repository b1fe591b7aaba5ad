package protect

import (
	"math"
)

// polyProtect is the polynomial mapping of Hahn and Marcel, "Towards
// protecting face embeddings in mobile face verification scenarios", IEEE
// Transactions on Biometrics, Behavior, and Identity Science 4(1), 2022.
// The normalised vector v, multiplied by Scale, is cut into windows of Order
// consecutive elements, consecutive windows sharing Overlap elements; each
// window (u_1 .. u_Order) gives one output element Σ_j c_j u_j^e_j, with
// secret non-zero integer coefficients c_j in [-100, 100] and secret
// exponents e_j, a permutation of 1..Order (the paper's C and E). Windows
// that would run past the end are dropped. The output is scaled to unit
// length, so the inner product is the cosine similarity the paper matches
// with.
//
// Puente adds one step to the paper's mapping: before windowing, the
// elements of v are put in a secret order (a permutation drawn from the
// seed). Without it, at the scales that preserve accuracy the degree-1 term
// dominates and two epochs whose exponent 1 falls on the same window
// position (probability 1/Order) produce nearly proportional templates,
// which makes them linkable; with independent permutations the positions of
// two epochs do not line up.
//
// It guarantees a many-to-one, non-linear mapping whose coefficients and
// exponents change with the seed. It does not guarantee irreversibility when
// the seed is stolen: the mapping is then a known polynomial system with
// about as many equations as unknowns. Scale sets how non-linear the map is
// on unit vectors: at small scales the degree-1 term dominates and the map is
// close to linear.
type polyProtect struct {
	base
	c    []float64 // coefficients, Order
	e    []int     // exponents, Order
	perm []int     // secret order of the input elements
}

func newPolyProtect(p Params, seed *Seed) *polyProtect {
	ks := newKeystream(seed, "polyprotect coefficients")
	c := make([]float64, p.Order)
	for i := range c {
		v := ks.intn(200) - 100 // [-100, 99]
		if v >= 0 {
			v++ // [-100, -1] ∪ [1, 100]
		}
		c[i] = float64(v)
	}
	e := ks.perm(p.Order)
	for i := range e {
		e[i]++
	}
	return &polyProtect{base: base{p: p}, c: c, e: e, perm: ks.perm(p.InputDim)}
}

func (t *polyProtect) step() int { return t.p.Order - t.p.Overlap }

func (t *polyProtect) Apply(dst, x []float64) error {
	v, err := t.normalise(dst, x)
	if err != nil {
		return err
	}
	t.raw(dst, v)
	if Dot(dst, dst) == 0 {
		return inputErr("vector", -1, -1, "protected vector is zero")
	}
	scaleUnit(dst)
	return nil
}

// raw writes the unnormalised polynomial outputs of v to dst.
func (t *polyProtect) raw(dst, v []float64) {
	st := t.step()
	for i := range dst {
		var s float64
		for j, c := range t.c {
			s += c * ipow(t.p.Scale*v[t.perm[i*st+j]], t.e[j])
		}
		dst[i] = s
	}
}

func ipow(x float64, e int) float64 {
	r := 1.0
	for ; e > 0; e-- {
		r *= x
	}
	return r
}

// linearEstimate solves the degree-1 part of the system in the least-squares
// sense: each output element is, to first order, c_j* Scale v at the window
// position j* whose exponent is 1.
func (t *polyProtect) linearEstimate(p []float64) []float64 {
	v := make([]float64, t.p.InputDim)
	n := make([]float64, t.p.InputDim)
	var jl int
	for j, e := range t.e {
		if e == 1 {
			jl = j
		}
	}
	st := t.step()
	for i, y := range p {
		k := t.perm[i*st+jl]
		v[k] += y / t.c[jl]
		n[k]++
	}
	for k := range v {
		if n[k] > 0 {
			v[k] /= n[k]
		}
	}
	return v
}

// surrogate is |P(v)/|P(v)| - p|^2 and its gradient.
func (t *polyProtect) surrogate(v, p, grad []float64) float64 {
	out := make([]float64, len(p))
	t.raw(out, v)
	norm := math.Sqrt(Dot(out, out))
	clear(grad)
	if norm == 0 {
		return 2
	}
	var loss, qr float64
	for i := range out {
		out[i] /= norm // q
		r := out[i] - p[i]
		loss += r * r
		qr += out[i] * r
	}
	st, s := t.step(), t.p.Scale
	for i := range out {
		// dL/dP_i = 2/|P| ((q_i - p_i) - q_i <q, q-p>)
		g := 2 / norm * ((out[i] - p[i]) - out[i]*qr)
		for j, c := range t.c {
			k := t.perm[i*st+j]
			grad[k] += g * c * float64(t.e[j]) * ipow(s*v[k], t.e[j]-1) * s
		}
	}
	return loss
}
