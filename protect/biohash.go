package protect

import (
	"math"
)

// bioHash is BioHashing after Teoh, Ngo and Goh, "BioHashing: two factor
// authentication featuring fingerprint data and tokenised random numbers",
// Pattern Recognition 37(11), 2004, in its sign form: the normalised vector
// is projected on M pseudo-random orthonormal directions (rows of blocks of
// a random orthogonal matrix, Gram-Schmidt on Gaussian rows) and each
// projection is quantised to its sign. The protected vector is the ±1 code
// divided by sqrt(M), so the inner product of two codes is 1 - 2h/M for
// Hamming distance h, and estimates 1 - 2θ/π for the angle θ between the
// normalised inputs (Charikar's SimHash, STOC 2002).
//
// It guarantees that codes under unrelated seeds are unrelated sign
// patterns. It does not guarantee irreversibility when the seed is stolen:
// the code then confines the input to a polyhedral cone that narrows as M
// grows.
type bioHash struct {
	base
	w []float64 // M rows of InputDim
}

func newBioHash(p Params, seed *Seed) *bioHash {
	ks := newKeystream(seed, "biohash projection")
	d := p.InputDim
	w := make([]float64, 0, p.M*d)
	for len(w) < p.M*d {
		w = append(w, orthonormalRows(ks, d, min(d, p.M-len(w)/d))...)
	}
	return &bioHash{base: base{p: p}, w: w}
}

// orthonormalRows returns n orthonormal rows of dimension d (n <= d) by
// modified Gram-Schmidt, applied twice, on Gaussian rows.
func orthonormalRows(ks *keystream, d, n int) []float64 {
	rows := make([]float64, n*d)
	for i := 0; i < n; i++ {
		r := rows[i*d : (i+1)*d]
		for {
			for j := range r {
				r[j] = ks.normal()
			}
			for pass := 0; pass < 2; pass++ {
				for k := 0; k < i; k++ {
					q := rows[k*d : (k+1)*d]
					c := Dot(r, q)
					for j := range r {
						r[j] -= c * q[j]
					}
				}
			}
			if nr := math.Sqrt(Dot(r, r)); nr > 1e-6 {
				for j := range r {
					r[j] /= nr
				}
				break
			}
		}
	}
	return rows
}

func (t *bioHash) Apply(dst, x []float64) error {
	v, err := t.normalise(dst, x)
	if err != nil {
		return err
	}
	d := t.p.InputDim
	s := 1 / math.Sqrt(float64(t.p.M))
	for i := range dst {
		if Dot(t.w[i*d:(i+1)*d], v) >= 0 {
			dst[i] = s
		} else {
			dst[i] = -s
		}
	}
	return nil
}

// linearEstimate is the least-squares (pseudo-inverse) estimate W^T b of
// the normalised input from a code b: exact up to scale when the signs are
// replaced by the projections themselves.
func (t *bioHash) linearEstimate(p []float64) []float64 {
	d := t.p.InputDim
	v := make([]float64, d)
	for i, b := range p {
		row := t.w[i*d : (i+1)*d]
		for j := range v {
			v[j] += b * row[j]
		}
	}
	return v
}

// surrogate is the logistic loss (1/M) Σ log(1 + exp(-β b_i <w_i, v>)) of a
// candidate v against the code, a smooth stand-in for the Hamming distance,
// and its gradient.
func (t *bioHash) surrogate(v, p, grad []float64) float64 {
	d := t.p.InputDim
	beta := 8 * math.Sqrt(float64(d))
	clear(grad)
	var loss float64
	for i, b := range p {
		row := t.w[i*d : (i+1)*d]
		sgn := math.Copysign(1, b)
		z := -beta * sgn * Dot(row, v)
		loss += softplus(z)
		g := -beta * sgn * sigmoid(z) / float64(len(p))
		for j := range grad {
			grad[j] += g * row[j]
		}
	}
	return loss / float64(len(p))
}

func softplus(z float64) float64 {
	if z > 30 {
		return z
	}
	return math.Log1p(math.Exp(z))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
