package main

import (
	"fmt"
	"math"
	"math/big"

	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

// report prints, for a composite of the given degrees, the band each stage leaves to the next
// (as log2 of alpha) and the worst |sign(x) - p(x)| on 2^20 points of [-1, -alpha] ∪
// [alpha, beta].
func report(logAlpha float64, logMargin int, beta float64, deg []int) {
	stages, bands, err := fit(logAlpha, logMargin, beta, deg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fl := floats(stages)
	fmt.Printf("degrees %v (depth %d) on [-1, -2^-%g] ∪ [2^-%g, %g]: stage bands 2^%.2f; worst |sign - p| on 2^20 points 2^%.1f\n",
		degreesOf(fl), depth(degreesOf(fl)), logAlpha, logAlpha, beta, bands, math.Log2(worstError(fl, math.Exp2(-logAlpha), beta)))
}

// fit returns the Chebyshev coefficients of each stage of the composite, each normalised for
// the next, and the band each stage leaves to the next (as log2). With beta = 1 it is the
// composite Lattigo's minimax package makes (main). With beta < 1 the first stage is fitted on
// the asymmetric domain [-1, -alpha] ∪ [alpha, beta] as a general polynomial (odd and even
// terms), by Lawson's iteratively reweighted least squares in float64 (adequate for small
// degrees): a score x = c'·(s - τ) never exceeds c'·(s_max - τ), so the positive side of the
// domain is short when τ is near 1, and a first stage that spends no effort on (beta, 1]
// separates the band better. The later stages are Lattigo's multi-interval Remez, as in main.
func fit(logAlpha float64, logMargin int, beta float64, deg []int) ([][]*big.Float, []float64, error) {
	const prec = 256
	alpha := math.Exp2(-logAlpha)
	e := math.Exp2(-float64(logMargin))
	var stages [][]*big.Float
	var bands []float64
	var lo, hi float64 // the next stage's domain: [-hi, -lo] ∪ [lo, hi]
	if beta < 1 {
		c, worst := lawson(deg[0], alpha, beta, e)
		if worst >= 1 {
			return nil, nil, fmt.Errorf("first stage of degree %d on [-1, -2^-%g] ∪ [2^-%g, %g]: no separation (worst error %.4f)", deg[0], logAlpha, logAlpha, beta, worst)
		}
		bc := make([]*big.Float, len(c))
		for j := range c {
			bc[j] = new(big.Float).SetPrec(prec).SetFloat64(c[j] / (1 + worst + e))
		}
		stages = append(stages, bc)
		lo, hi = (1-worst-e)/(1+worst+e), 1
		deg = deg[1:]
	}
	for i, d := range deg {
		a, b := alpha, 1.0
		if stages != nil {
			a, b = lo, hi
		}
		iv := []bignum.Interval{
			{A: *bignum.NewFloat(-b-e, prec), B: *bignum.NewFloat(-a, prec), Nodes: 1 + (d+1)/2},
			{A: *bignum.NewFloat(a, prec), B: *bignum.NewFloat(b+e, prec), Nodes: 1 + (d+1)/2},
		}
		if stages != nil {
			bands = append(bands, math.Log2(a))
		}
		var r *bignum.Remez
		quietly(func() {
			r = bignum.NewRemez(bignum.RemezParameters{Function: bignum.Sign, Basis: bignum.Chebyshev, Intervals: iv,
				ScanStep: bignum.NewFloat(1e-3, prec), Prec: prec, OptimalScanStep: true})
			r.Approximate(50, alpha)
		})
		maxErr, _ := r.MaxErr.Float64()
		minErr, _ := r.MinErr.Float64()
		norm := 1.0
		if i < len(deg)-1 {
			norm = 1 + maxErr + e
		}
		c := make([]*big.Float, d+1)
		for j := range c {
			c[j] = new(big.Float).SetPrec(prec).Quo(r.Coeffs[j], new(big.Float).SetPrec(prec).SetFloat64(norm))
		}
		stages = append(stages, c)
		lo, hi = (1-minErr-e)/norm, 1
	}
	return stages, bands, nil
}

// floats returns the stages' coefficients in float64.
func floats(stages [][]*big.Float) [][]float64 {
	out := make([][]float64, len(stages))
	for i, c := range stages {
		out[i] = make([]float64, len(c))
		for j, v := range c {
			out[i][j], _ = v.Float64()
		}
	}
	return out
}

// worstError is the composite's worst |sign(x) - p(x)| on 2^20 points of [-1, -alpha] ∪
// [alpha, beta]. With beta < 1 the first stage is a series in u = (2x + 1 - beta)/(1 + beta)
// (lawson).
func worstError(stages [][]float64, alpha, beta float64) float64 {
	mul, add := 1.0, 0.0
	if beta < 1 {
		mul, add = 2/(1+beta), (1-beta)/(1+beta)
	}
	worst := 0.0
	const n = 1 << 19
	for k := 0; k <= n; k++ {
		for _, side := range []float64{-1, 1} {
			end := 1.0
			if side > 0 {
				end = beta
			}
			x := side * (alpha + (end-alpha)*float64(k)/n)
			y := mul*x + add
			for _, c := range stages {
				y = chebyshev(c, y)
			}
			worst = max(worst, math.Abs(y-side))
		}
	}
	return worst
}

func degreesOf(stages [][]float64) []int {
	out := make([]int, len(stages))
	for i, c := range stages {
		out[i] = len(c) - 1
	}
	return out
}

// chebyshev evaluates Σ c_j T_j(x) by Clenshaw's recurrence.
func chebyshev(c []float64, x float64) float64 {
	var b1, b2 float64
	for j := len(c) - 1; j >= 1; j-- {
		b1, b2 = 2*x*b1-b2+c[j], b1
	}
	return x*b1 - b2 + c[0]
}

// lawson fits a degree-d polynomial to sign on [-1 - e, -alpha] ∪ [alpha, beta + e] in the
// minimax sense, by Lawson's iteration on points dense near ±alpha, and returns it with its
// worst error on those points. The polynomial is a Chebyshev series in u = (2x + 1 - beta)/(1 +
// beta), which maps [-1, beta] onto [-1, 1]: in x's own Chebyshev basis its coefficients would
// be in the thousands, cancelling each other, and the evaluation's noise would be multiplied
// by them. It vanishes at x = 0 (its basis is T_j(u) - T_j(u(0)), j ≥ 1), so that the
// composite, whose later stages are odd, maps x = 0 (a score exactly at τ) to 0, as the odd
// composite does.
func lawson(d int, alpha, beta, e float64) ([]float64, float64) {
	u := func(x float64) float64 { return (2*x + 1 - beta) / (1 + beta) }
	var xs, ys []float64
	const n = 3000
	for k := 0; k <= n; k++ {
		v := float64(k) / n
		g := alpha * math.Pow(1/alpha, v) // geometric from alpha to 1
		xs, ys = append(xs, -g, -(alpha+(1+e-alpha)*v)), append(ys, -1, -1)
		if g <= beta {
			xs, ys = append(xs, g), append(ys, 1)
		}
		xs, ys = append(xs, alpha+(beta+e-alpha)*v), append(ys, 1)
	}
	t0 := chebyshevBasis(d, u(0))
	B := make([][]float64, len(xs)) // B[i][j-1] = T_j(u(x_i)) - T_j(u(0))
	for i, x := range xs {
		t := chebyshevBasis(d, u(x))
		B[i] = make([]float64, d)
		for j := 1; j <= d; j++ {
			B[i][j-1] = t[j] - t0[j]
		}
	}
	w := make([]float64, len(xs))
	for i := range w {
		w[i] = 1 / float64(len(w))
	}
	var c []float64
	worst := 0.0
	for range 3000 {
		A := make([][]float64, d)
		b := make([]float64, d)
		for j := range A {
			A[j] = make([]float64, d)
		}
		for i := range xs {
			for j := 0; j < d; j++ {
				b[j] += w[i] * B[i][j] * ys[i]
				for k := 0; k < d; k++ {
					A[j][k] += w[i] * B[i][j] * B[i][k]
				}
			}
		}
		c = solve(A, b)
		sum := 0.0
		worst = 0
		for i := range xs {
			p := 0.0
			for j := 0; j < d; j++ {
				p += c[j] * B[i][j]
			}
			err := math.Abs(p - ys[i])
			worst = max(worst, err)
			w[i] *= err + 1e-300
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
	}
	out := make([]float64, d+1) // c_0 = -Σ c_j T_j(u(0))
	for j := 1; j <= d; j++ {
		out[j] = c[j-1]
		out[0] -= c[j-1] * t0[j]
	}
	return out, worst
}

// chebyshevBasis returns T_0(x) … T_d(x).
func chebyshevBasis(d int, x float64) []float64 {
	t := make([]float64, d+1)
	t[0] = 1
	if d > 0 {
		t[1] = x
	}
	for j := 2; j <= d; j++ {
		t[j] = 2*x*t[j-1] - t[j-2]
	}
	return t
}

// solve solves A x = b by Gaussian elimination with partial pivoting (A is small and
// symmetric positive definite here).
func solve(A [][]float64, b []float64) []float64 {
	n := len(b)
	for i := 0; i < n; i++ {
		p := i
		for r := i + 1; r < n; r++ {
			if math.Abs(A[r][i]) > math.Abs(A[p][i]) {
				p = r
			}
		}
		A[i], A[p] = A[p], A[i]
		b[i], b[p] = b[p], b[i]
		for r := i + 1; r < n; r++ {
			f := A[r][i] / A[i][i]
			for k := i; k < n; k++ {
				A[r][k] -= f * A[i][k]
			}
			b[r] -= f * b[i]
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= A[i][k] * x[k]
		}
		x[i] = s / A[i][i]
	}
	return x
}
