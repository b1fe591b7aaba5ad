//go:build puente_testparams

package evaluation

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/protect"
)

var (
	encOnce sync.Once
	encRes  []*SchemeResult
	encProd *Encrypted
	encErr  error
)

// encryptedFixture returns the accuracy of every recommended scheme
// (epoch 1) and its emulation on the production sets (v2, and v3 in High),
// computed once.
func encryptedFixture(t *testing.T) (*Env, []*SchemeResult, *Encrypted) {
	t.Helper()
	env := loadEnv(t)
	encOnce.Do(func() {
		for _, p := range Recommended(env.Set.Dim(), env.Mean) {
			tm, err := protectAll(env, p, 1)
			if err != nil {
				encErr = err
				return
			}
			r := &SchemeResult{Params: p}
			if r.Acc, encErr = MeasureAccuracy(tm, env.Proto); encErr != nil {
				return
			}
			encRes = append(encRes, r)
		}
		if encProd, encErr = MeasureEncrypted(env, encRes, builtinSet(he.N15V2)); encErr != nil {
			return
		}
		encProd.High, encErr = MeasureEncrypted(env, encRes, builtinSet(he.N15V4))
	})
	if encErr != nil {
		t.Fatal(encErr)
	}
	return env, encRes, encProd
}

// TestEmulatorExactOutsideBand: a score further than the band from tau is
// decided exactly, alone or among a gallery of such scores (up to 20
// hits); a single score inside the band too (the polynomial is odd and
// monotone), except within the score's and the count's noise of tau.
func TestEmulatorExactOutsideBand(t *testing.T) {
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tau := range []float64{-0.5, 0, 0.5, 0.9234, 0.99} {
		em := NewEmulator(ps, tau, 1)
		band := he.Threshold{Tau: tau}.Band(ps)
		for s := -1.0; s <= 1; s += 0.0005 {
			if math.Abs(s-tau) < band {
				continue
			}
			if got, want := em.Decide(s), exactOutcome(s, tau); got != want {
				t.Fatalf("tau %v: score %v (band %v) decided %v, exactly %v", tau, s, band, got, want)
			}
		}
		for s := tau - band; s < tau+band && s <= 1; s += band / 64 {
			// within the count's noise of the comparison the emulation may go either way
			if math.Abs(em.Value(s)-0.5) < 8*CountNoiseRMS {
				continue
			}
			if got, want := em.Decide(s), exactOutcome(s, tau); got != want {
				t.Fatalf("tau %v: score %v in the band decided %v, exactly %v", tau, s, got, want)
			}
		}
		for k := range 200 {
			scores := make([]float64, 50)
			hits := 0
			for i := range scores {
				for {
					scores[i] = 2*rng.Float64() - 1
					if math.Abs(scores[i]-tau) >= band {
						break
					}
				}
				if i < k%21 { // 0 to 20 entries forced above tau
					scores[i] = tau + band + rng.Float64()*(1-tau-band)
				}
				if scores[i] >= tau {
					hits++
				}
			}
			if got := em.Decide(scores...); got.IsHit() != (hits > 0) {
				t.Fatalf("tau %v: search %d with %d exact hits decided %v", tau, k, hits, got)
			}
		}
		zone := [2]float64{em.Crossing(1e-6), em.Crossing(1 - 1e-6)}
		if !(-band < zone[0] && zone[0] < 0 && 0 < zone[1] && zone[1] < band) {
			t.Errorf("tau %v: zone %v not inside the band ± %v around tau", tau, zone, band)
		}
		if c := em.Crossing(0.5); math.Abs(c) > 1e-9 {
			t.Errorf("tau %v: the count crosses 1/2 at tau %+v, want at tau", tau, c)
		}
	}
}

func TestEmulatorDeterministic(t *testing.T) {
	ps := hetest.InsecureN12()
	a, b := NewEmulator(ps, 0.9, 7), NewEmulator(ps, 0.9, 7)
	var noise bool
	for i := range 2000 {
		s := 0.9 - 0.00001 + 0.00002*float64(i)/2000
		oa, ob := a.Decide(s), b.Decide(s)
		if oa != ob {
			t.Fatalf("two emulators with one seed decided %v and %v at %v", oa, ob, s)
		}
		noise = noise || oa != exactOutcome(a.Value(s), 0.5)
	}
	if !noise {
		t.Error("no decision near the comparison with 1/2 moved with the noise")
	}
}

// TestMeasureEncrypted checks the emulation of the real protocols: every
// decision outside the band exact, and the exact rates those of the
// accuracy section.
func TestMeasureEncrypted(t *testing.T) {
	_, res, v2 := encryptedFixture(t)
	for _, enc := range []*Encrypted{v2, v2.High} {
		t.Run(enc.ParamSet, func(t *testing.T) { checkEncrypted(t, res, enc) })
	}
}

// TestMeasureEncryptedServes: a set for high thresholds emulates the
// schemes whose two thresholds it serves, and only those (on LFW:
// PolyProtect, not the binary schemes at 0.50 to 0.66), with its own
// measured noise; v2 emulates every scheme with v2's.
func TestMeasureEncryptedServes(t *testing.T) {
	_, res, v2 := encryptedFixture(t)
	v3 := v2.High
	if len(v2.Schemes) != len(res) || v2.CountNoise != CountNoiseRMS || v2.ScoreNoise != ScoreNoiseRMS {
		t.Fatalf("v2: %d of %d schemes, noise %v, %v", len(v2.Schemes), len(res), v2.CountNoise, v2.ScoreNoise)
	}
	if v3.CountNoise != CountNoiseRMSHighTau || v3.ScoreNoise != ScoreNoiseRMSHighTau || v3.MinTau < 0.92 {
		t.Fatalf("v3: noise %v, %v, lowest threshold %v", v3.CountNoise, v3.ScoreNoise, v3.MinTau)
	}
	served := map[int]bool{}
	for _, r := range v3.Schemes {
		a := res[r.Result].Acc
		if Describe(r.Params) != Describe(res[r.Result].Params) || min(a.Tau3, a.TauOpen) < v3.MinTau {
			t.Errorf("v3 emulates %s (result %d) at %v and %v, below %v", Describe(r.Params), r.Result, a.Tau3, a.TauOpen, v3.MinTau)
		}
		served[r.Result] = true
	}
	for i, r := range res {
		want := min(r.Acc.Tau3, r.Acc.TauOpen) >= v3.MinTau
		if served[i] != want {
			t.Errorf("%s (thresholds %v, %v): emulated on v3 %v, want %v", Describe(r.Params), r.Acc.Tau3, r.Acc.TauOpen, served[i], want)
		}
	}
	if !served[recommended(res)] || len(served) == len(res) {
		t.Errorf("v3 serves %d of %d schemes, the recommended one %v: LFW's PolyProtect thresholds are above 0.9233, the binary schemes' below", len(served), len(res), served[recommended(res)])
	}
}

// checkEncrypted checks one set's emulation: the exact rates are the
// accuracy's, every score outside the band is decided exactly, and
// PolyProtect's continuous scores exercise the band.
func checkEncrypted(t *testing.T, res []*SchemeResult, enc *Encrypted) {
	exercised := 0
	for _, r := range enc.Schemes {
		a := res[r.Result].Acc
		if math.Abs(r.Exact3.Miss-a.FNMR3) > 1e-12 || math.Abs(r.ExactOpen.Miss-a.FNIR) > 1e-12 {
			t.Errorf("%s: exact FNMR %v, FNIR %v; accuracy says %v, %v", Describe(r.Params), r.Exact3.Miss, r.ExactOpen.Miss, a.FNMR3, a.FNIR)
		}
		for _, c := range []struct {
			name string
			rt   Rates
			e    []Emulated
			band float64
		}{
			{"verification", r.Enc3, []Emulated{r.Mated, r.NonMated}, r.Band3},
			{"search", r.EncOpen, []Emulated{r.OpenMated, r.OpenNonMated}, r.BandOpen},
		} {
			var inBand int
			for _, e := range c.e {
				for k, s := range e.Score {
					if math.Abs(s-c.rt.Tau) < c.band {
						inBand++
						continue
					}
					if e.Out[k] != exactOutcome(s, c.rt.Tau) {
						t.Fatalf("%s %s: score %v outside the band decided %v", Describe(r.Params), c.name, s, e.Out[k])
					}
				}
			}
			// The binary schemes' scores are quantised and their thresholds sit midway
			// between two levels (protect.ThresholdAtFMR), so none falls in the band;
			// PolyProtect's are continuous and some do.
			quantised := r.Params.Scheme != protect.PolyProtect
			switch {
			case quantised && inBand > 0:
				t.Errorf("%s %s: %d quantised scores in the band: the threshold is not between score levels", Describe(r.Params), c.name, inBand)
			case !quantised && inBand == 0:
				t.Errorf("%s %s: no score in the band: the emulation is not exercised", Describe(r.Params), c.name)
			}
			exercised += inBand
		}
	}
	if exercised == 0 {
		t.Error("no score in any band: the emulation is not exercised")
	}
}

// TestRunSample runs real encrypted searches on the INSECURE test set
// and checks them against the emulation on that set: every outcome
// agrees, decisions outside the band are exact, and the searches chosen
// by count (3/8 and 1/8) open to no hit.
func TestRunSample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a key ceremony and real encrypted searches")
	}
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) { checkSample(t, ps) })
	}
}

// checkSample runs six searches of the recommended scheme on ps.
func checkSample(t *testing.T, ps *he.ParamSet) {
	env, res, _ := encryptedFixture(t)
	res = res[recommended(res):][:1]
	enc, err := MeasureEncrypted(env, res, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.Schemes) != 1 {
		t.Fatalf("%s does not serve %s", ps.Name(), Describe(res[0].Params))
	}
	sm, err := RunSample(context.Background(), env, enc.Schemes[0], res[0].Acc, ps, 6, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(sm.Items) != 6 || !sm.Insecure || sm.MaxDims != 128 {
		t.Fatalf("%d items, insecure %v, max dims %d", len(sm.Items), sm.Insecure, sm.MaxDims)
	}
	agree, disagree := sm.Agreements()
	if outside, wrong := sm.OutsideBand(); disagree != 0 || wrong != 0 || outside == 0 {
		t.Errorf("%d agree, %d disagree; %d outside the band, %d of them wrong", agree, disagree, outside, wrong)
	}
	seen := map[Outcome]bool{}
	searches := 0
	for _, it := range sm.Items {
		band := sm.Band3
		if it.Search {
			band = sm.BandOpen
			searches++
		}
		if it.Band {
			if !it.InBand(band) {
				t.Errorf("item chosen by value %v is outside the band (offset %v)", it.Value, it.Offset)
			}
			seen[it.Encrypted] = true
		}
	}
	if searches != 3 || !seen[NoHit] {
		t.Errorf("%d open-set searches; outcomes of the items chosen by value: %v", searches, seen)
	}
}

// TestPickItems: the first half is chosen by value in the order of
// sampleTargets, the rest alternates mated and non-mated, none twice.
func TestPickItems(t *testing.T) {
	e := func(vals ...float64) Emulated {
		return Emulated{Score: vals, Value: vals, Out: make([]Outcome, len(vals))}
	}
	mated := e(1, 0.62, 0.9, 1, 1, 0.13)
	nonMated := e(0, 0.37, 0.1, 0, 0, 0)
	items := pickItems(false, mated, nonMated, 0.5, 8, 1)
	want := []float64{0.37, 0.13, 0.9, 0.62}
	seen := map[[2]int]bool{}
	for i, it := range items {
		key := [2]int{map[bool]int{true: 1}[it.Mated], it.Index}
		if seen[key] {
			t.Errorf("item %d chosen twice", i)
		}
		seen[key] = true
		if i < 4 && (!it.Band || it.Value != want[i]) {
			t.Errorf("item %d: value %v (by value %v), want %v", i, it.Value, it.Band, want[i])
		}
		if i >= 4 && (it.Band || it.Mated != (i%2 == 0)) {
			t.Errorf("item %d: by value %v, mated %v", i, it.Band, it.Mated)
		}
	}
	if len(items) != 8 {
		t.Errorf("%d items, want 8", len(items))
	}
}
