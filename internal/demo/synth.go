package demo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrModel reports generator parameters that cannot make a population.
var ErrModel = errors.New("demo: bad population model")

// Model is the population the generator draws face-embedding-like feature vectors from. A
// subject's centre is c = Common·u + B, with u a fixed unit vector and B a Gaussian whose
// covariance has eigenvalues proportional to j^-Decay (j = 1..Dim) along a random orthonormal
// basis, scaled so that E|B|² = Between². A capture is x = c + q·W, with W a Gaussian of
// covariance (Within²/Dim)·I and q = exp(Quality·z), z standard normal: the capture's quality.
type Model struct {
	Dim     int     // feature dimension
	Common  float64 // length of the component every subject shares
	Between float64 // root-mean-square length of a subject's own component
	Within  float64 // root-mean-square length of a capture's noise at median quality
	Quality float64 // standard deviation of the log of a capture's noise scale
	Decay   float64 // between-subject variances fall as j^-Decay along the basis
	// Layout seeds the common direction u and the basis, which are part of the population's
	// make-up: the generator's own seed draws subjects and captures only.
	Layout uint64
}

// DlibLike is fitted to the LFW dlib-128 face descriptors Puente is evaluated on (the
// lfw-dlib128 set of ../shared/data). It agrees with their summary statistics: vectors about
// 1.43 long, whose mean is 1.30 long (raw vectors share a large common component: two
// different people's descriptors have a cosine of about 0.83), between-identity variance 0.26
// and within-identity variance about 0.08 (sums over the dimensions). Between, Within, Quality,
// Decay and Layout were then chosen on a small grid to bring the quantiles of protected scores
// (PolyProtect, the agreement's default transform, averaged over four transform seeds) closest
// to LFW's: every quantile from the 5th to the 99th percentile of mated and non-mated scores
// within 0.007 of LFW's. At the operating threshold tau = 0.9234 (FMR 1e-3 on LFW) the false
// non-match rate is 5.7% (LFW: 4.2%) and the false match rate 5e-4 (LFW: 1.5e-3): the model's
// tail of look-alikes is lighter than real. The calibration test prints the comparison:
//
//	go test ./internal/demo -run TestCalibration -v
var DlibLike = Model{Dim: 128, Common: 1.32, Between: 0.50, Within: 0.28, Quality: 0.25, Decay: 0.9, Layout: 2}

// Validate checks that the model can generate vectors.
func (m Model) Validate() error {
	switch {
	case m.Dim < 2 || m.Dim > 4096:
		return fmt.Errorf("%w: dimension %d, want 2 to 4096", ErrModel, m.Dim)
	case !(m.Common >= 0) || !(m.Between > 0) || !(m.Within >= 0) || !(m.Quality >= 0) || !(m.Decay >= 0):
		return fmt.Errorf("%w: lengths and spreads must be finite and non-negative, Between positive", ErrModel)
	case math.IsInf(m.Common+m.Between+m.Within+m.Quality+m.Decay, 0):
		return fmt.Errorf("%w: lengths and spreads must be finite", ErrModel)
	}
	return nil
}

// Subject is one synthetic person: the centre their captures scatter around.
type Subject struct{ centre []float64 }

// Generator draws subjects and captures from a Model, deterministically from its seed. It is
// not safe for concurrent use. Its output is synthetic: it describes nobody.
type Generator struct {
	m      Model
	rng    *rand.Rand
	common []float64   // Common·u
	basis  [][]float64 // orthonormal rows
	sd     []float64   // standard deviation of B along each basis row
}

// NewGenerator returns a generator of m's population seeded with seed.
func NewGenerator(m Model, seed uint64) (*Generator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	// The layout comes from its own stream, so that every seed draws from the same population.
	g := &Generator{m: m, rng: rand.New(rand.NewPCG(m.Layout, 0x6c61796f7574))}
	g.common = g.gaussian(1)
	scale(g.common, m.Common/norm(g.common))
	g.basis = g.orthonormal()
	g.rng = rand.New(rand.NewPCG(seed, 0x70756e7465))
	g.sd = make([]float64, m.Dim)
	sum := 0.0
	for j := range g.sd {
		g.sd[j] = math.Pow(float64(j+1), -m.Decay)
		sum += g.sd[j]
	}
	for j := range g.sd {
		g.sd[j] = m.Between * math.Sqrt(g.sd[j]/sum)
	}
	return g, nil
}

// Model returns the generator's model.
func (g *Generator) Model() Model { return g.m }

// Subject draws a new subject.
func (g *Generator) Subject() Subject {
	c := append([]float64(nil), g.common...)
	for j, row := range g.basis {
		axpy(c, g.sd[j]*g.rng.NormFloat64(), row)
	}
	return Subject{centre: c}
}

// Capture draws one capture of s: a new feature vector of the same person.
func (g *Generator) Capture(s Subject) []float64 {
	if len(s.centre) != g.m.Dim {
		panic("demo: Capture of a Subject from another generator")
	}
	q := math.Exp(g.m.Quality * g.rng.NormFloat64())
	x := g.gaussian(q * g.m.Within / math.Sqrt(float64(g.m.Dim)))
	axpy(x, 1, s.centre)
	return x
}

// gaussian returns a vector of independent normal values of standard deviation sd.
func (g *Generator) gaussian(sd float64) []float64 {
	v := make([]float64, g.m.Dim)
	for i := range v {
		v[i] = sd * g.rng.NormFloat64()
	}
	return v
}

// orthonormal returns a random orthonormal basis (modified Gram–Schmidt on Gaussian vectors).
func (g *Generator) orthonormal() [][]float64 {
	rows := make([][]float64, g.m.Dim)
	for i := range rows {
		for {
			v := g.gaussian(1)
			for _, r := range rows[:i] {
				axpy(v, -dot(v, r), r)
			}
			if n := norm(v); n > 1e-6 {
				scale(v, 1/n)
				rows[i] = v
				break
			}
		}
	}
	return rows
}

// Cosine returns the cosine similarity of a and b (0 if either is zero).
func Cosine(a, b []float64) float64 {
	na, nb := norm(a), norm(b)
	if na == 0 || nb == 0 {
		return 0
	}
	return dot(a, b) / (na * nb)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func scale(a []float64, k float64) {
	for i := range a {
		a[i] *= k
	}
}

func axpy(y []float64, a float64, x []float64) {
	for i := range y {
		y[i] += a * x[i]
	}
}
