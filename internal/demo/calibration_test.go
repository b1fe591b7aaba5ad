package demo

import (
	"math"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

// lfwScores returns PolyProtect scores of LFW's mated pairs and of a fixed sample of non-mated
// pairs, under the same transform as protectedScores.
func lfwScores(t *testing.T) (mated, non []float64) {
	t.Helper()
	dir, err := lfw.FindDataDir()
	if err != nil {
		t.Fatalf("the calibration test compares with the LFW embeddings: %v", err)
	}
	set, err := lfw.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := protect.DeriveSeed([]byte("demo test agreement secret, 32 bytes."), "us-co", protect.PolyProtect, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := protect.New(protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}, seed)
	if err != nil {
		t.Fatal(err)
	}
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

// TestCalibration compares the protected scores of DlibLike's synthetic population with those
// of the LFW dlib-128 embeddings it was fitted to: quantiles of mated and non-mated scores, and
// the error rates at the operating threshold.
func TestCalibration(t *testing.T) {
	lm, ln := lfwScores(t)
	g, err := NewGenerator(DlibLike, 3)
	if err != nil {
		t.Fatal(err)
	}
	sm, sn := protectedScores(t, g, 4000, 40000)
	t.Logf("%-22s %8s %8s", "protected scores", "LFW", "DlibLike")
	check := func(name string, real, synth, tol float64) {
		t.Logf("%-22s %8.4f %8.4f", name, real, synth)
		if math.Abs(real-synth) > tol {
			t.Errorf("%s: synthetic %.4f, LFW %.4f: differ by more than %.3f", name, synth, real, tol)
		}
	}
	for _, q := range []float64{0.05, 0.5, 0.95} {
		check("mated q"+ftoa(q), quantile(lm, q), quantile(sm, q), 0.015)
	}
	for _, q := range []float64{0.05, 0.5, 0.95, 0.99} {
		check("non-mated q"+ftoa(q), quantile(ln, q), quantile(sn, q), 0.015)
	}
	lf, sf := rate(lm, false), rate(sm, false)
	t.Logf("%-22s %8.4f %8.4f", "FNMR at tau", lf, sf)
	t.Logf("%-22s %8.5f %8.5f", "FMR at tau", rate(ln, true), rate(sn, true))
	if sf < lf/2 || sf > 2*lf {
		t.Errorf("FNMR at tau: synthetic %.4f, LFW %.4f: not within a factor of 2", sf, lf)
	}
	if rate(sn, true) > rate(ln, true) {
		t.Errorf("FMR at tau: synthetic %.5f above LFW's %.5f", rate(sn, true), rate(ln, true))
	}
}

func ftoa(q float64) string {
	switch q {
	case 0.05:
		return "05"
	case 0.5:
		return "50"
	case 0.95:
		return "95"
	}
	return "99"
}
