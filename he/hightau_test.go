//go:build puente_testparams

package he_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// TestMinTau: a set whose threshold polynomial is fitted to scores up to β serves exactly the
// thresholds at which the highest score a probe passing the norm check can reach maps to
// x ≤ β less the domain's margin, and refuses the others before any work; the odd composite
// serves every threshold.
func TestMinTau(t *testing.T) {
	if lo := hetest.InsecureN12().MinTau(); lo != -1 {
		t.Errorf("the odd composite's set serves thresholds from %v, want every one (-1)", lo)
	}
	ps := hetest.InsecureN12HighTau()
	beta, lo := ps.SignDomainEndForTest()-he.DomainMarginForTest, ps.MinTau()
	x := func(tau float64) float64 { // the highest x at tau (the nominal multiplier c, above c')
		c := 1 / (math.Max(1+tau, 1-tau) + 2e-3)
		return c * (he.MaxScoreForTest - tau)
	}
	if !(x(lo) <= beta*(1+1e-12) && x(lo-1e-6) > beta) {
		t.Errorf("MinTau %v: the highest score maps to %v there and %v just below, want the domain end less its margin, %v, between", lo, x(lo), x(lo-1e-6), beta)
	}
	if !(lo > 0.92 && lo <= 0.9234) {
		t.Errorf("MinTau %v: want the evaluation's τ = 0.9234 served", lo)
	}
	f := getFixture(t, ps)
	m := 64
	rng := rand.New(rand.NewPCG(90, 1))
	g := pack(t, ps, m, hetest.UnitVectors(rng, 10, m))
	q, err := f.qr.EncryptProbe(hetest.UnitVector(rng, m), hetest.Reader(91))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.r.Prepare(q, hetest.Reader(93))
	if err != nil {
		t.Fatal(err)
	}
	shard, err := he.NewShardEvaluator(f.keys.Eval)
	if err != nil {
		t.Fatal(err)
	}
	for _, tau := range []float64{lo - 1e-4, 0.5, -0.9} {
		opts := he.Options{Threshold: he.Threshold{Tau: tau}}
		if _, _, err := f.r.Respond(context.Background(), q, g, opts, hetest.Reader(92)); !errors.Is(err, he.ErrThresholdRange) {
			t.Errorf("τ = %v on %s: %v, want ErrThresholdRange", tau, ps.Name(), err)
		}
		if _, err := shard.Count(context.Background(), p, g, opts); !errors.Is(err, he.ErrThresholdRange) {
			t.Errorf("a shard's count at τ = %v on %s: %v, want ErrThresholdRange", tau, ps.Name(), err)
		}
	}
}

// TestHighTauSearchMatchesPlaintext runs encrypted searches on the set whose first threshold
// stage has even terms, at its lowest threshold (where scores reach furthest into the
// polynomial's domain) and at the evaluation's, and compares each count with the plaintext's:
// a probe at the top of the norm window against its own direction (the highest score, x at the
// domain's end), the lowest score (-1), scores just outside the band on both sides, 500 entries
// just below it (their errors would add up), and a partial last block (absent slots).
func TestHighTauSearchMatchesPlaintext(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		f := getFixture(t, ps)
		S := ps.Slots()
		for _, tau := range []float64{hetest.InsecureN12HighTau().MinTau(), 0.9234} {
			th := he.Threshold{Tau: tau}
			band := th.Band(ps)
			m := 100
			rng := rand.New(rand.NewPCG(uint64(1e4*tau), 2))
			probe := hetest.UnitVector(rng, m)
			top := make([]float64, m) // ‖top‖² = 1 + 0.9·2^-11: passes the norm check
			for i := range top {
				top[i] = probe[i] * math.Sqrt(1+0.9*math.Exp2(-11))
			}
			neg := make([]float64, m)
			for i := range neg {
				neg[i] = -probe[i]
			}
			below := make([][]float64, 500)
			for i := range below {
				below[i] = perf.WithScore(rng, probe, tau-1.01*band)
			}
			cases := []struct {
				name  string
				probe []float64
				gal   [][]float64
				count float64
			}{
				{"top of the norm window, own direction", top, [][]float64{probe, neg}, 1},
				{"score -1 only", probe, [][]float64{neg}, 0},
				{"just above the band", probe, [][]float64{perf.WithScore(rng, probe, tau+1.01*band), neg}, 1},
				{"just below the band", probe, [][]float64{perf.WithScore(rng, probe, tau-1.01*band)}, 0},
				{"500 just below the band", probe, below, 0},
				{"partial last block", probe, append(hetest.UnitVectors(rng, S+3, m), probe, perf.WithScore(rng, probe, tau+0.05)), 2},
			}
			for i, c := range cases {
				o := f.search(t, c.probe, pack(t, ps, m, c.gal), he.Options{Threshold: th}, uint64(7000+10*i))
				if o.hit != (c.count > 0) || math.Abs(o.count-c.count) > 0.01 {
					t.Errorf("%s τ = %.4f, %s: hit %v, count %.4f; plaintext count %v", ps.Name(), tau, c.name, o.hit, o.count, c.count)
				}
			}
		}
	}
}

// TestHighTauScoreAtTheDomainEnd searches the corner MinTau is derived for: a gallery template of
// norm 1 + 10^-3 (the most Pack accepts), a probe at the top of the norm window in its direction
// (the highest score an honest probe reaches), at τ = MinTau, where that score maps nearest the
// end of the polynomial's domain. It must hit with a count of 1; a MinTau derived without the
// template's tolerance, or without the domain's margin, fails it.
func TestHighTauScoreAtTheDomainEnd(t *testing.T) {
	ps := hetest.InsecureN12HighTau()
	f := getFixture(t, ps)
	m := 128
	rng := rand.New(rand.NewPCG(4242, 1))
	u := hetest.UnitVector(rng, m)
	tmpl, probe := make([]float64, m), make([]float64, m)
	for i := range u {
		tmpl[i] = u[i] * (1 + 1e-3) * (1 - 1e-12)
		probe[i] = u[i] * math.Sqrt(1+0.9*math.Exp2(-11))
	}
	th := he.Threshold{Tau: ps.MinTau()}
	o := f.search(t, probe, pack(t, ps, m, [][]float64{tmpl}), he.Options{Threshold: th}, 4300)
	if !o.hit || math.Abs(o.count-1) > 0.01 {
		t.Errorf("the highest honest score at τ = MinTau = %.6f: hit %v, count %.4f; want a hit with count 1", th.Tau, o.hit, o.count)
	}
}
