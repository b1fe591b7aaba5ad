package demo

import (
	"math"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/internal/lfw/lfwtest"
	"github.com/puente-id/puente/protect"
)

// calibrationSeeds are the agreement secrets of the transforms the calibration averages over:
// protected scores move a little with the transform's seed, for real and synthetic data alike.
var calibrationSeeds = []string{"epoch one", "epoch two", "epoch three", "epoch four"}

// polyProtect returns the agreement's default transform under a seed derived from secret.
func polyProtect(t *testing.T, secret string) protect.Transform {
	t.Helper()
	seed, err := protect.DeriveSeed([]byte("demo test agreement secret: "+secret), "us-co", protect.PolyProtect, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := protect.New(protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// lfwScores returns the protected scores of LFW's mated pairs and of a fixed sample of
// non-mated pairs under tr.
func lfwScores(t *testing.T, set *lfw.Set, tr protect.Transform) (mated, non []float64) {
	t.Helper()
	pm, err := protect.ApplyAll(tr, set.Emb)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.MatedPairs() {
		mated = append(mated, protect.Dot(pm.Row(p.A), pm.Row(p.B)))
	}
	for _, p := range set.NonMatedPairs(40000, 1) {
		non = append(non, protect.Dot(pm.Row(p.A), pm.Row(p.B)))
	}
	return mated, non
}

// summary is what the calibration compares: quantiles of mated and non-mated scores and the
// error rates at tau.
type summary struct {
	name string
	get  func(mated, non []float64) float64
	tol  float64 // largest difference allowed between LFW and DlibLike
}

var summaries = []summary{
	{"mated q05", func(m, _ []float64) float64 { return quantile(m, 0.05) }, 0.01},
	{"mated q50", func(m, _ []float64) float64 { return quantile(m, 0.5) }, 0.01},
	{"mated q95", func(m, _ []float64) float64 { return quantile(m, 0.95) }, 0.01},
	{"non-mated q05", func(_, n []float64) float64 { return quantile(n, 0.05) }, 0.01},
	{"non-mated q50", func(_, n []float64) float64 { return quantile(n, 0.5) }, 0.01},
	{"non-mated q95", func(_, n []float64) float64 { return quantile(n, 0.95) }, 0.01},
	{"non-mated q99", func(_, n []float64) float64 { return quantile(n, 0.99) }, 0.01},
	{"non-mated q99.9", func(_, n []float64) float64 { return quantile(n, 0.999) }, 0.015},
	{"FNMR at tau", func(m, _ []float64) float64 { return rate(m, false) }, 0.02},
	{"FMR at tau", func(_, n []float64) float64 { return rate(n, true) }, 0.002},
}

// TestCalibration compares the protected scores of DlibLike's synthetic population with those
// of the LFW dlib-128 embeddings it was fitted to, each averaged over four transform seeds.
func TestCalibration(t *testing.T) {
	set := lfwtest.Set(t) // the calibration compares with the LFW embeddings
	real, synth := make([]float64, len(summaries)), make([]float64, len(summaries))
	for _, secret := range calibrationSeeds {
		tr := polyProtect(t, secret)
		lm, ln := lfwScores(t, set, tr)
		g, err := NewGenerator(DlibLike, 11)
		if err != nil {
			t.Fatal(err)
		}
		sm, sn := protectedScores(t, g, tr, 2000, 40000)
		for i, s := range summaries {
			real[i] += s.get(lm, ln) / float64(len(calibrationSeeds))
			synth[i] += s.get(sm, sn) / float64(len(calibrationSeeds))
		}
	}
	t.Logf("%-16s %8s %8s", "protected scores", "LFW", "DlibLike")
	for i, s := range summaries {
		t.Logf("%-16s %8.4f %8.4f", s.name, real[i], synth[i])
		if math.Abs(real[i]-synth[i]) > s.tol {
			t.Errorf("%s: DlibLike %.4f, LFW %.4f: more than %g apart", s.name, synth[i], real[i], s.tol)
		}
	}
}
