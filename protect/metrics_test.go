package protect

import (
	"errors"
	"math"
	"testing"
)

func seq(lo, hi float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return s
}

func TestThresholdAtFMR(t *testing.T) {
	nm := seq(0, 0.999, 1000) // 0, 0.001, ..., 0.999
	tau, got, err := ThresholdAtFMR(nm, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	// 10 false matches allowed: 0.990..0.999 accepted, 0.989 rejected.
	if math.Abs(tau-0.9895) > 1e-9 || got != 0.01 {
		t.Errorf("tau %v at FMR %v, want 0.9895 at 0.01", tau, got)
	}
	tau, got, _ = ThresholdAtFMR(nm, 0.001)
	if tau <= 0.998 || tau > 0.999 || got != 0.001 {
		t.Errorf("tau %v at FMR %v, want in (0.998, 0.999] at 0.001", tau, got)
	}
	if _, _, err := ThresholdAtFMR(nm[:999], 0.001); !errors.Is(err, ErrScores) {
		t.Errorf("999 scores at 1e-3: err %v, want ErrScores", err)
	}
	// Ties: never exceed the target.
	ties := append(seq(0, 0.5, 990), 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9)
	if _, got, _ := ThresholdAtFMR(ties, 0.01); got > 0.01 {
		t.Errorf("with ties FMR %v exceeds 0.01", got)
	}
	for _, bad := range []float64{0, 1, -1, math.NaN()} {
		if _, _, err := ThresholdAtFMR(nm, bad); !errors.Is(err, ErrScores) {
			t.Errorf("target %v: err %v", bad, err)
		}
	}
	if _, _, err := ThresholdAtFMR([]float64{1, math.NaN()}, 0.5); !errors.Is(err, ErrScores) {
		t.Errorf("NaN score accepted")
	}
}

func TestFNMRAndEER(t *testing.T) {
	mated := seq(0.5, 1.5, 1001)
	nonMated := seq(0, 1, 1001)
	eer, tau, err := EER(mated, nonMated)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(eer-0.25) > 0.002 || math.Abs(tau-0.75) > 0.002 {
		t.Errorf("EER %v at %v, want 0.25 at 0.75", eer, tau)
	}
	fnmr, tau, _ := FNMRAtFMR(mated, nonMated, 0.1)
	if math.Abs(tau-0.9) > 0.002 || math.Abs(fnmr-0.4) > 0.002 {
		t.Errorf("FNMR %v at %v, want 0.4 at 0.9", fnmr, tau)
	}
	// Separated sets: zero error.
	if eer, _, _ := EER(seq(2, 3, 10), seq(0, 1, 10)); eer != 0 {
		t.Errorf("separated EER %v", eer)
	}
	if _, _, err := EER(nil, nonMated); !errors.Is(err, ErrScores) {
		t.Errorf("empty mated: err %v", err)
	}
	pts, _ := DET(mated, nonMated, LogGrid(1e-3, 2))
	if len(pts) != 6 {
		t.Fatalf("%d DET points, want 6", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].FMR < pts[i-1].FMR || pts[i].FNMR > pts[i-1].FNMR {
			t.Errorf("DET not monotone at %d: %+v", i, pts)
		}
	}
}

func TestUnlinkability(t *testing.T) {
	same := seq(0, 1, 2000)
	u, err := UnlinkabilityScores(same, same, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u.Sys != 0 {
		t.Errorf("identical distributions: D_sys %v, want 0", u.Sys)
	}
	u, _ = UnlinkabilityScores(seq(2, 3, 2000), same, 0, 1)
	if math.Abs(u.Sys-1) > 1e-9 {
		t.Errorf("disjoint distributions: D_sys %v, want 1", u.Sys)
	}
	// Half-overlapping uniforms of equal density: LR = 1 (D = 0) on the
	// overlap, D = 1 on the other half of the mated mass: D_sys = 0.5.
	u, _ = UnlinkabilityScores(seq(0.5, 1.5, 4000), seq(0, 1, 4000), 100, 1)
	if math.Abs(u.Sys-0.5) > 0.02 {
		t.Errorf("half overlap: D_sys %v, want about 0.5", u.Sys)
	}
	// Mated U(0.5, 1) against non-mated U(0, 1): LR = 2 wherever there is
	// mated mass, D = 2*2/3 - 1 = 1/3 there: D_sys = 1/3.
	u, _ = UnlinkabilityScores(seq(0.5, 1, 4000), seq(0, 1, 8000), 100, 1)
	if math.Abs(u.Sys-1.0/3) > 0.02 {
		t.Errorf("LR 2: D_sys %v, want about 0.333", u.Sys)
	}
	if _, err := UnlinkabilityScores(same, same, 0, 0); !errors.Is(err, ErrScores) {
		t.Errorf("omega 0: err %v", err)
	}
}

func TestFractionWithin(t *testing.T) {
	if f := FractionWithin(seq(0, 1, 101), 0.5, 0.1); math.Abs(f-21.0/101) > 1e-12 {
		t.Errorf("FractionWithin = %v, want 21/101", f)
	}
}

// TestMetricsRejectNonFinite: an infinite score once gave D_sys = 0 ("fully
// unlinkable") with NaN bin edges, and EER 0.5 at tau = +Inf.
func TestMetricsRejectNonFinite(t *testing.T) {
	inf, ninf := math.Inf(1), math.Inf(-1)
	good := []float64{0.1, 0.2, 0.3}
	for _, tc := range []struct {
		name            string
		mated, nonMated []float64
	}{
		{"+Inf mated", []float64{0.1, 0.2, inf}, good},
		{"-Inf non-mated", []float64{0.9, 0.95, 0.99}, []float64{ninf, 0.2, 0.3}},
		{"+Inf both", []float64{inf}, []float64{inf}},
		{"NaN mated", []float64{math.NaN(), 0.5}, good},
	} {
		if u, err := UnlinkabilityScores(tc.mated, tc.nonMated, 3, 1); !errors.Is(err, ErrScores) {
			t.Errorf("%s: UnlinkabilityScores = %+v, %v; want ErrScores", tc.name, u, err)
		}
		if e, tau, err := EER(tc.mated, tc.nonMated); !errors.Is(err, ErrScores) {
			t.Errorf("%s: EER = %v at %v, %v; want ErrScores", tc.name, e, tau, err)
		}
		if _, _, err := FNMRAtFMR(tc.mated, tc.nonMated, 0.5); !errors.Is(err, ErrScores) {
			t.Errorf("%s: FNMRAtFMR: %v; want ErrScores", tc.name, err)
		}
		if _, err := DET(tc.mated, tc.nonMated, []float64{0.5}); !errors.Is(err, ErrScores) {
			t.Errorf("%s: DET: %v; want ErrScores", tc.name, err)
		}
	}
	if _, _, err := ThresholdAtFMR([]float64{0.1, ninf}, 0.5); !errors.Is(err, ErrScores) {
		t.Errorf("ThresholdAtFMR with -Inf: %v; want ErrScores", err)
	}
}

// TestThresholdIsGapMidpoint pins the documented convention: tau is the
// midpoint of the gap between the highest rejected and the lowest accepted
// non-mated score, not either end.
func TestThresholdIsGapMidpoint(t *testing.T) {
	nm := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	tau, fmr, err := ThresholdAtFMR(nm, 0.2) // k = 2: 0.9 and 1.0 accepted
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(tau-0.85) > 1e-12 || fmr != 0.2 {
		t.Errorf("tau %v at FMR %v, want 0.85 at 0.2", tau, fmr)
	}
	// A mated score inside the gap counts as a non-match at the midpoint.
	fnmr, _, _ := FNMRAtFMR([]float64{0.82, 0.95}, nm, 0.2)
	if fnmr != 0.5 {
		t.Errorf("FNMR %v, want 0.5 (0.82 lies below the midpoint)", fnmr)
	}
}

// TestThresholdAtFMRQuantized: scores on levels of 1/256 (as BioHash's), each computed with a
// few ulps of floating-point error, put no score within 10^-3 of the threshold, and the rate
// is still at most the target.
func TestThresholdAtFMRQuantized(t *testing.T) {
	nm := make([]float64, 4100)
	for i := range nm {
		level := float64(i%97) / 256 // 41 or 42 scores a level
		if i >= 4000 {
			level = float64(97+(i-4000)/2) / 256 // above them, two a level
		}
		nm[i] = level + float64(i%5-2)*1e-16
	}
	for _, fmr := range []float64{0.001, 0.01, 0.1} {
		tau, got, err := ThresholdAtFMR(nm, fmr)
		if err != nil {
			t.Fatal(err)
		}
		if got > fmr {
			t.Errorf("FMR %g: achieved %g", fmr, got)
		}
		for _, s := range nm {
			if math.Abs(s-tau) < 1e-3 {
				t.Fatalf("FMR %g: tau %.17g within 10^-3 of the score %.17g", fmr, tau, s)
			}
		}
	}
}
