package protect

import (
	"math"
)

// indexOfMax is Gaussian-random-projection Index-of-Max hashing after Jin,
// Hwang, Lai, Kim and Teoh, "Ranking-based locality sensitive hashing-enabled
// cancelable biometrics: Index-of-Max hashing", IEEE Transactions on
// Information Forensics and Security 13(2), 2018 (GRP-IoM). For each of M
// hash functions the normalised vector is projected on Q Gaussian directions
// and the index of the largest projection is kept. The protected vector is
// the concatenation of the M one-hot vectors of length Q, divided by
// sqrt(M): the inner product of two protected vectors is the fraction of
// hash functions whose indices agree.
//
// Only ranks are kept, so the code is invariant to the scale of the input
// and loses the projections' magnitudes. It does not guarantee
// irreversibility when the seed is stolen: each index is a set of Q-1 linear
// inequalities on the input, and all of them together confine it to a cone.
type indexOfMax struct {
	base
	w []float64 // M*Q rows of InputDim, hash k uses rows k*Q .. k*Q+Q-1
}

func newIndexOfMax(p Params, seed *Seed) *indexOfMax {
	ks := newKeystream(seed, "iom projection")
	w := make([]float64, p.M*p.Q*p.InputDim)
	for i := range w {
		w[i] = ks.normal()
	}
	return &indexOfMax{base: base{p: p}, w: w}
}

func (t *indexOfMax) Apply(dst, x []float64) error {
	v, err := t.normalise(dst, x)
	if err != nil {
		return err
	}
	d, q := t.p.InputDim, t.p.Q
	s := 1 / math.Sqrt(float64(t.p.M))
	clear(dst)
	for k := 0; k < t.p.M; k++ {
		best, arg := math.Inf(-1), 0
		for j := 0; j < q; j++ {
			r := (k*q + j) * d
			if z := Dot(t.w[r:r+d], v); z > best {
				best, arg = z, j
			}
		}
		dst[k*q+arg] = s
	}
	return nil
}

// linearEstimate is the least-squares estimate Σ_k (w_k,i_k - mean_j w_k,j)
// of the normalised input: the direction that most raises every chosen
// projection above the others.
func (t *indexOfMax) linearEstimate(p []float64) []float64 {
	d, q := t.p.InputDim, t.p.Q
	v := make([]float64, d)
	for k := 0; k < t.p.M; k++ {
		for j := 0; j < q; j++ {
			c := p[k*q+j] - 1/(float64(q)*math.Sqrt(float64(t.p.M)))
			row := t.w[(k*q+j)*d : (k*q+j+1)*d]
			for i := range v {
				v[i] += c * row[i]
			}
		}
	}
	return v
}

// surrogate is the mean softmax cross-entropy of the chosen indices given
// the candidate's projections (temperature 1/β), and its gradient.
func (t *indexOfMax) surrogate(v, p, grad []float64) float64 {
	d, q := t.p.InputDim, t.p.Q
	beta := 4 * math.Sqrt(float64(d))
	clear(grad)
	z := make([]float64, q)
	var loss float64
	for k := 0; k < t.p.M; k++ {
		arg, zmax := 0, math.Inf(-1)
		for j := 0; j < q; j++ {
			z[j] = beta * Dot(t.w[(k*q+j)*d:(k*q+j+1)*d], v)
			zmax = max(zmax, z[j])
			if p[k*q+j] > p[k*q+arg] {
				arg = j
			}
		}
		var sum float64
		for j := range z {
			z[j] = math.Exp(z[j] - zmax)
			sum += z[j]
		}
		loss -= math.Log(z[arg] / sum)
		for j := 0; j < q; j++ {
			g := z[j] / sum
			if j == arg {
				g--
			}
			g *= beta / float64(t.p.M)
			row := t.w[(k*q+j)*d : (k*q+j+1)*d]
			for i := range grad {
				grad[i] += g * row[i]
			}
		}
	}
	return loss / float64(t.p.M)
}
