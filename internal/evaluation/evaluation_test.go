package evaluation

import (
	"bytes"
	"sync"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

var (
	envOnce sync.Once
	testEnv *Env
	envErr  error
)

// loadEnv loads the real evaluation set once; missing data fails the test.
func loadEnv(t *testing.T) *Env {
	t.Helper()
	envOnce.Do(func() {
		dir, err := lfw.FindDataDir()
		if err != nil {
			envErr = err
			return
		}
		testEnv, envErr = Load(Config{DataDir: dir})
	})
	if envErr != nil {
		t.Fatalf("evaluation data needed: %v", envErr)
	}
	return testEnv
}

func transforms(t *testing.T, p protect.Params, epochs int) []protect.Transform {
	t.Helper()
	var ts []protect.Transform
	for e := 1; e <= epochs; e++ {
		tr, err := protect.New(p, EvalSeed(p.Scheme, uint64(e)))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tr)
	}
	return ts
}

func TestRawAnchors(t *testing.T) {
	raw := loadEnv(t).Raw
	// The data README's anchors, with room for its threshold convention
	// and sampling.
	if raw.EER < 0.017 || raw.EER > 0.022 || raw.FNMR3 < 0.03 || raw.FNMR3 > 0.045 || raw.FNIR < 0.15 || raw.FNIR > 0.19 {
		t.Errorf("raw cosine EER %.4f, FNMR@1e-3 %.4f, FNIR %.4f: far from the README's 1.93%%, 3.8%%, 16.6%%", raw.EER, raw.FNMR3, raw.FNIR)
	}
}

// TestAccuracyPreserved asserts the accuracy targets for the recommended
// PolyProtect, and bounds on the binary schemes' loss, on all mated pairs
// against 200k non-mated pairs.
func TestAccuracyPreserved(t *testing.T) {
	env := loadEnv(t)
	for _, p := range Recommended(env.Mean) {
		tm, err := protect.ApplyAll(transforms(t, p, 1)[0], env.Set.Emb)
		if err != nil {
			t.Fatal(err)
		}
		a, err := MeasureAccuracy(tm, env.Proto)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: EER %.4f FNMR@1e-3 %.4f FNIR %.4f pairs %.4f", Describe(p), a.EER, a.FNMR3, a.FNIR, a.PairsAcc)
		maxEER, maxFNMR, maxFNIR := Targets.EER, Targets.FNMR3, Targets.FNIR
		if p.Scheme != protect.PolyProtect {
			// Measured loss of the binary schemes at m = 512, with margin.
			maxEER, maxFNMR, maxFNIR = 0.03, 0.16, 0.70
		}
		if a.EER > maxEER || a.FNMR3 > maxFNMR || a.FNIR > maxFNIR {
			t.Errorf("%s: EER %.4f, FNMR@1e-3 %.4f, FNIR %.4f exceed %.4f, %.4f, %.4f", Describe(p), a.EER, a.FNMR3, a.FNIR, maxEER, maxFNMR, maxFNIR)
		}
		if a.PairsAcc < env.Raw.PairsAcc-0.03 {
			t.Errorf("%s: LFW pairs accuracy %.4f, raw %.4f", Describe(p), a.PairsAcc, env.Raw.PairsAcc)
		}
	}
}

// TestUnlinkableAndRenewable asserts D<->sys <= 0.10 across two epoch
// pairs for every recommended scheme, and that an image re-protected under
// the next epoch is accepted against its old template no more often than a
// non-mated pair (FMR 1e-3, with margin).
func TestUnlinkableAndRenewable(t *testing.T) {
	env := loadEnv(t)
	for _, p := range Recommended(env.Mean) {
		ts := transforms(t, p, 3)
		tm, _ := protect.ApplyAll(ts[0], env.Set.Emb)
		tau, _, err := protect.ThresholdAtFMR(Scores(tm, tm, env.Proto.NonMated), 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		for e := 0; e < 2; e++ {
			l, err := MeasureLinkage(env.Set.Emb, ts[e], ts[e+1], env.Proto)
			if err != nil {
				t.Fatal(err)
			}
			if l.Cross.Sys > Targets.Dsys || l.SameImage.Sys > Targets.Dsys {
				t.Errorf("%s, epochs %d-%d: D<->sys %.3f, same image %.3f, want <= %.2f", Describe(p), e+1, e+2, l.Cross.Sys, l.SameImage.Sys, Targets.Dsys)
			}
			var accepted float64
			for _, s := range l.Renewed {
				if s >= tau {
					accepted += 1 / float64(len(l.Renewed))
				}
			}
			if accepted > 0.003 {
				t.Errorf("%s: %.4f of renewed templates accepted against their old ones at tau %.4f", Describe(p), accepted, tau)
			}
		}
	}
}

// TestInversion runs the attacks on a few templates: with another epoch's
// key they must fail (no better than chance at identifying the image), and
// with the stolen key they succeed, the limitation the report states (this
// test fails if the report's claim stops being true).
func TestInversion(t *testing.T) {
	env := loadEnv(t)
	targets := AttackTargets(env.Unit.Rows, 40, 11)
	for _, p := range Recommended(env.Mean) {
		ts := transforms(t, p, 2)
		res, err := MeasureAttacks(env.Unit, ts[0], ts[1], targets, env.Raw.Tau3, env.Mean, 60)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			t.Logf("%s / %s: success %.3f rank-1 %.3f", Describe(p), r.Name, r.Success, r.Rank1)
		}
		if pinv := res[0]; pinv.Success < 0.9 {
			t.Errorf("%s: the stolen-key pseudo-inverse now fails (success %.3f): update the report's irreversibility claims", Describe(p), pinv.Success)
		}
		for _, r := range res[3:5] {
			if r.Success > Targets.Attack || r.Rank1 > 0.025 {
				t.Errorf("%s / %s: success %.3f, rank-1 %.3f with the wrong key", Describe(p), r.Name, r.Success, r.Rank1)
			}
		}
	}
}

// TestReportStable renders a reduced report twice and compares the bytes.
func TestReportStable(t *testing.T) {
	loadEnv(t) // fails with a clear message if the data is missing
	dir, err := lfw.FindDataDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: dir, AttackTargets: 4, AttackIters: 5, EpochPairs: 1}
	var out [2]bytes.Buffer
	for i := range out {
		rep, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteMarkdown(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Error("two runs rendered different reports")
	}
	for _, want := range []string{"## 1. Data", "| raw cosine (unprotected) | 128 |", "D<->sys", "## 6. Recommendation"} {
		if !bytes.Contains(out[0].Bytes(), []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}
