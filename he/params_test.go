//go:build puente_testparams

package he_test

import (
	"errors"
	"math"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func TestProductionParamSet(t *testing.T) {
	for _, c := range []struct {
		id         he.ParamSetID
		maxEntries int // the decision's error bound (docs/he-parameters.md)
	}{{he.N15V2, 1 << 22}, {he.N15V3, 1 << 21}, {he.N15V4, 1 << 21}} {
		ps, err := he.Lookup(c.id)
		if err != nil {
			t.Fatal(err)
		}
		info := ps.Info()
		if info.Insecure || info.SecurityBits != 128 || info.LogN != 15 || info.Slots != 1<<15 {
			t.Errorf("unexpected info %+v", info)
		}
		if info.LogQP > info.BoundLogQP || info.BoundLogQP != 868 {
			t.Errorf("%s: log QP %.2f above the 128-bit bound %.0f", ps.Name(), info.LogQP, info.BoundLogQP)
		}
		if info.Levels != info.StepDepth+1 {
			t.Errorf("%s: levels %d, want threshold depth %d + 1", ps.Name(), info.Levels, info.StepDepth)
		}
		// What a query costs on the wire each way, as the speed issue counts it (docs/performance.md,
		// "The targets"): the probe and the transfer request; the answer, the garbled circuit (with
		// the base transfers' request) and the transfer answer.
		query := info.QueryBytes + info.TransferRequestBytes
		response := info.AnswerBytes + info.GarbledBytes + info.TransferAnswerBytes
		if query > 4<<20 || response > 1<<20 {
			t.Errorf("%s: query %d bytes (budget 4 MiB), response %d bytes (budget 1 MiB)", ps.Name(), query, response)
		}
		if info.MaxEntries != c.maxEntries {
			t.Errorf("%s: an answer counts %d entries, want %d (the decision's error bound)", ps.Name(), info.MaxEntries, c.maxEntries)
		}
		byName, err := he.LookupName(ps.Name())
		if err != nil || byName != ps {
			t.Errorf("LookupName(%q) = %v, %v", ps.Name(), byName, err)
		}
	}
	seen := map[[64]byte]string{}
	for _, id := range []he.ParamSetID{he.N15V2, he.N15V3, he.N15V4} {
		ps, _ := he.Lookup(id)
		if other, ok := seen[ps.Digest()]; ok {
			t.Errorf("%s and %s have the same digest", other, ps.Name())
		}
		seen[ps.Digest()] = ps.Name()
	}
	if _, err := he.LookupName("puente-ckks-n15-v1"); !errors.Is(err, he.ErrUnknownParamSet) {
		t.Errorf("the retired set: %v, want ErrUnknownParamSet", err)
	}
	if _, err := he.Lookup(hetest.InsecureN12ID); !errors.Is(err, he.ErrUnknownParamSet) {
		t.Errorf("Lookup of a test set: %v, want ErrUnknownParamSet", err)
	}
	if _, err := he.LookupName("puente-ckks-n16-v9"); !errors.Is(err, he.ErrUnknownParamSet) {
		t.Errorf("LookupName of an unknown set: %v", err)
	}
	if other, ok := seen[hetest.InsecureN12().Digest()]; ok {
		t.Errorf("%s and the test set %s have the same digest", other, hetest.InsecureN12().Name())
	}
}

func TestNewParamSetRefuses(t *testing.T) {
	prod, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	good := prod.Spec()
	good.ID, good.Name, good.Insecure, good.LogN = he.FirstTestID+1, "t", true, 11
	if _, err := he.NewParamSet(good); err != nil {
		t.Fatalf("valid test spec refused: %v", err)
	}
	for name, mod := range map[string]func(*he.ParamSpec){
		"insecure set claimed secure":   func(s *he.ParamSpec) { s.Insecure = false },
		"secure set with a test ID":     func(s *he.ParamSpec) { s.ID = 7 },
		"too few levels":                func(s *he.ParamSpec) { s.Q = s.Q[:10] },
		"levels of another polynomial":  func(s *he.ParamSpec) { s.Step = he.StepHighTau },
		"unknown threshold polynomial":  func(s *he.ParamSpec) { s.Step = 9 },
		"scores above the scale":        func(s *he.ParamSpec) { s.LogProbeScale = 50 },
		"gallery scale beyond int32":    func(s *he.ParamSpec) { s.LogGalleryScale = 30 },
		"no P primes":                   func(s *he.ParamSpec) { s.P = nil },
		"digits not below P":            func(s *he.ParamSpec) { s.P = s.P[:1] },
		"q0 not of the Solinas form":    func(s *he.ParamSpec) { s.Q[0] = 0x1fffffffffe00001 + 0x40000000 },
		"count scale beyond q0/16":      func(s *he.ParamSpec) { s.LogCountScale = 57 },
		"count scale below 2^(logN+10)": func(s *he.ParamSpec) { s.LogCountScale = 20 },
	} {
		spec := good
		spec.Q = append([]uint64(nil), good.Q...)
		mod(&spec)
		if _, err := he.NewParamSet(spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSignPolynomialError checks each threshold polynomial on its domain, [-1, -α] ∪ [α, β]
// with β = 1 for the odd composite: within 2^-31 of sign there, monotone through the band, and
// 0 at x = 0 (a score exactly at τ), which a general first component must keep.
func TestSignPolynomialError(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) {
			alpha := math.Exp2(-float64(ps.LogAlphaForTest()))
			beta := ps.SignDomainEndForTest()
			var worst float64
			const n = 1 << 20
			for i := 0; i <= n; i++ {
				worst = math.Max(worst, math.Abs(ps.SignForTest(alpha+(beta-alpha)*float64(i)/n)-1))
				worst = math.Max(worst, math.Abs(ps.SignForTest(-alpha-(1-alpha)*float64(i)/n)+1))
			}
			if worst > math.Exp2(-31) {
				t.Errorf("composite sign error outside the band: 2^%.1f, want <= 2^-31", math.Log2(worst))
			}
			// Monotone through the band, so a score on the right side of tau is
			// never decided on the wrong side of 1/2 by the polynomial itself.
			prev := -2.0
			for i := -1000; i <= 1000; i++ {
				v := ps.SignForTest(alpha * float64(i) / 1000)
				if v < prev {
					t.Fatalf("sign approximation decreases at x = %g", alpha*float64(i)/1000)
				}
				prev = v
			}
			if v := ps.SignForTest(0); math.Abs(v) > 1e-12 {
				t.Errorf("sign approximation at 0 is %g, want 0", v)
			}
		})
	}
}

func TestThreshold(t *testing.T) {
	ps := hetest.InsecureN12()
	for _, tau := range []float64{-0.9, 0, 0.5, 0.9234} {
		th := he.Threshold{Tau: tau}
		b := th.Band(ps)
		if !(b > 0 && b <= math.Exp2(-10)) {
			t.Errorf("tau %g: band %g", tau, b)
		}
		if v := th.PlainStep(ps, tau+b); v < 1-1e-6 {
			t.Errorf("tau %g: step just above the band = %g", tau, v)
		}
		if v := th.PlainStep(ps, tau-b); v > 1e-6 {
			t.Errorf("tau %g: step just below the band = %g", tau, v)
		}
		for _, s := range []float64{-1.001, 1.001} {
			if v := th.PlainStep(ps, s); v < -1e-6 || v > 1+1e-6 {
				t.Errorf("tau %g: step(%g) = %g outside [0, 1]", tau, s, v)
			}
		}
	}
}
