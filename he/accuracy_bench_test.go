//go:build puente_testparams

package he_test

import (
	"math"
	"sort"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/protect"
)

// BenchmarkAccuracyLFW measures what the approximate threshold costs in
// accuracy on protected LFW templates (PolyProtect, the recommended
// scheme), using the plaintext reference of the polynomial the responder
// evaluates (the tests check that the encrypted result equals it):
//
//	go test ./he -run '^$' -bench AccuracyLFW -benchtime 1x
//
// Verification (τ at FMR 1e-3 on 200,000 non-mated pairs): the share of
// mated and non-mated scores within the band, and of those whose per-entry
// decision is neither 0 nor 1 (within 10^-6). Open-set search (τ at FPIR
// 1%): FNIR and FPIR of the exact decision and of the polynomial decision
// as the opening takes it (the sum of the per-entry decisions compared
// with 1/2).
func BenchmarkAccuracyLFW(b *testing.B) {
	ps, _ := he.Lookup(he.N15V2)
	set, vecs := protectedLFW(b)
	for i := 0; i < b.N; i++ {
		var mated, nonMated []float64
		for _, p := range set.MatedPairs() {
			mated = append(mated, dot(vecs[p.A], vecs[p.B]))
		}
		for _, p := range set.NonMatedPairs(200000, 1) {
			nonMated = append(nonMated, dot(vecs[p.A], vecs[p.B]))
		}
		tau, _, err := protect.ThresholdAtFMR(nonMated, 1e-3)
		if err != nil {
			b.Fatal(err)
		}
		th := he.Threshold{Tau: tau}
		band := th.Band(ps)
		uncertain := func(s float64) bool { v := th.PlainStep(ps, s); return v > 1e-6 && v < 1-1e-6 }
		frac := func(v []float64, f func(float64) bool) float64 {
			n := 0
			for _, s := range v {
				if f(s) {
					n++
				}
			}
			return 100 * float64(n) / float64(len(v))
		}
		inBand := func(s float64) bool { return math.Abs(s-tau) < band }
		b.ReportMetric(tau, "tau-fmr1e-3")
		b.ReportMetric(band, "band")
		b.ReportMetric(frac(mated, inBand), "mated-in-band-%")
		b.ReportMetric(frac(nonMated, inBand), "nonmated-in-band-%")
		b.ReportMetric(frac(mated, uncertain), "mated-uncertain-%")
		b.ReportMetric(frac(nonMated, uncertain), "nonmated-uncertain-%")
		openSetCost(b, ps, set.OpenSet().Gallery, set.OpenSet().Mated, set.OpenSet().NonMated, vecs)
	}
}

func openSetCost(b *testing.B, ps *he.ParamSet, gal, mated, nonMated []int, vecs [][]float64) {
	best := func(rows []int) []float64 {
		out := make([]float64, len(rows))
		for i, r := range rows {
			out[i] = -2
			for _, g := range gal {
				out[i] = math.Max(out[i], dot(vecs[r], vecs[g]))
			}
		}
		return out
	}
	bn := best(nonMated)
	sorted := append([]float64(nil), bn...)
	sort.Float64s(sorted)
	tau := sorted[int(math.Ceil(0.99*float64(len(sorted))))] // FPIR <= 1%
	th := he.Threshold{Tau: tau}
	decide := func(r int) (exact, poly bool) {
		var sum float64
		for _, g := range gal {
			s := dot(vecs[r], vecs[g])
			exact = exact || s >= tau
			sum += th.PlainStep(ps, s)
		}
		return exact, sum >= 0.5 // the opening's comparison
	}
	var fnE, fnP, fpE, fpP int
	for _, r := range mated {
		e, p := decide(r)
		fnE, fnP = fnE+btoi(!e), fnP+btoi(!p)
	}
	for _, r := range nonMated {
		e, p := decide(r)
		fpE, fpP = fpE+btoi(e), fpP+btoi(p)
	}
	b.ReportMetric(tau, "tau-fpir1%")
	b.ReportMetric(100*float64(fnE)/float64(len(mated)), "fnir-exact-%")
	b.ReportMetric(100*float64(fnP)/float64(len(mated)), "fnir-poly-%")
	b.ReportMetric(100*float64(fpE)/float64(len(nonMated)), "fpir-exact-%")
	b.ReportMetric(100*float64(fpP)/float64(len(nonMated)), "fpir-poly-%")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
