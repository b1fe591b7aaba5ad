package demo

import (
	"errors"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/puente-id/puente/protect"
)

// tau is PolyProtect's operating threshold at FMR 1e-3 on LFW (docs/evaluation.md).
const tau = 0.9234

func TestGeneratorDeterministic(t *testing.T) {
	a, _ := NewPopulation(DlibLike, 7, 50, 5)
	b, _ := NewPopulation(DlibLike, 7, 50, 5)
	c, _ := NewPopulation(DlibLike, 8, 50, 5)
	if !slices.Equal(a.Gallery[3], b.Gallery[3]) || !slices.Equal(a.NonMated[4].Features, b.NonMated[4].Features) {
		t.Error("the same seed gave different populations")
	}
	if slices.Equal(a.Gallery[3], c.Gallery[3]) {
		t.Error("different seeds gave the same population")
	}
}

func TestModelValidate(t *testing.T) {
	for _, m := range []Model{
		{},
		{Dim: 1, Common: 1, Between: 1},
		{Dim: 128, Common: 1, Between: 0},
		{Dim: 128, Common: math.NaN(), Between: 1},
		{Dim: 128, Common: 1, Between: 1, Within: math.Inf(1)},
		{Dim: 128, Common: -1, Between: 1},
		{Dim: 1 << 20, Common: 1, Between: 1},
	} {
		if _, err := NewGenerator(m, 1); !errors.Is(err, ErrModel) {
			t.Errorf("NewGenerator(%+v): %v, want ErrModel", m, err)
		}
	}
	if _, err := NewPopulation(DlibLike, 1, 10, 11); err == nil {
		t.Error("a population with more candidates than subjects was accepted")
	}
	if _, err := NewPopulation(DlibLike, 1, 0, 0); err == nil {
		t.Error("an empty population was accepted")
	}
}

func TestPopulationShape(t *testing.T) {
	p, err := NewPopulation(DlibLike, 1, 200, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Gallery) != 200 || len(p.Refs) != 200 || len(p.Mated) != 8 || len(p.NonMated) != 8 {
		t.Fatalf("sizes %d %d %d %d", len(p.Gallery), len(p.Refs), len(p.Mated), len(p.NonMated))
	}
	if p.Refs[7] != "case-0007" {
		t.Errorf("reference %q", p.Refs[7])
	}
	seen := map[int]bool{}
	for _, m := range p.Mated {
		if m.Subject < 0 || m.Subject >= 200 || seen[m.Subject] {
			t.Errorf("mated subject %d out of range or repeated", m.Subject)
		}
		seen[m.Subject] = true
		if slices.Equal(m.Features, p.Gallery[m.Subject]) {
			t.Error("a mated probe is the enrolled capture itself")
		}
	}
	// The common component: raw vectors of different people are far from orthogonal.
	if c := Cosine(p.Gallery[0], p.Gallery[1]); c < 0.6 || c > 0.95 {
		t.Errorf("cosine of two subjects %.3f, want the common component's 0.6 to 0.95", c)
	}
	for _, v := range p.Gallery {
		if len(v) != 128 {
			t.Fatalf("dimension %d", len(v))
		}
	}
}

// protectedScores draws subjects from g, protects two captures of each with tr and returns the
// mated scores (the two captures) and non-mated scores of distinct pairs of subjects.
func protectedScores(t *testing.T, g *Generator, tr protect.Transform, subjects, nonMated int) (mated, non []float64) {
	t.Helper()
	apply := func(x []float64) []float64 {
		out := make([]float64, tr.OutputDim())
		if err := tr.Apply(out, x); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var first [][]float64
	for range subjects {
		s := g.Subject()
		a, b := apply(g.Capture(s)), apply(g.Capture(s))
		mated = append(mated, protect.Dot(a, b))
		first = append(first, a)
	}
	// Distinct pairs of different subjects: (i, i+1), (i, i+2), ... for every i.
	for k := range nonMated {
		i := k % subjects
		j := (i + 1 + (k/subjects)%(subjects-1)) % subjects
		non = append(non, protect.Dot(first[i], first[j]))
	}
	return mated, non
}

func rate(scores []float64, above bool) float64 {
	n := 0
	for _, s := range scores {
		if (s >= tau) == above {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

func quantile(s []float64, q float64) float64 {
	s = slices.Clone(s)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}

// TestSeparation: under the agreement's transform, synthetic mated scores fall mostly above tau
// and non-mated ones below it, with error rates of the order of real ones.
func TestSeparation(t *testing.T) {
	g, err := NewGenerator(DlibLike, 3)
	if err != nil {
		t.Fatal(err)
	}
	mated, non := protectedScores(t, g, polyProtect(t, "epoch one"), 2000, 40000)
	fnmr, fmr := rate(mated, false), rate(non, true)
	t.Logf("FNMR %.4f, FMR %.6f at tau %.4f; mated median %.4f, non-mated median %.4f", fnmr, fmr, tau, quantile(mated, 0.5), quantile(non, 0.5))
	if fnmr < 0.005 || fnmr > 0.08 {
		t.Errorf("FNMR %.4f at tau, want 0.5%% to 8%% (real embeddings: 3.7%%)", fnmr)
	}
	if fmr > 2e-3 {
		t.Errorf("FMR %.5f at tau, want at most 2e-3 (real embeddings: 8.5e-4)", fmr)
	}
}
