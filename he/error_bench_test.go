package he_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// BenchmarkAnswerError measures, on the production set, how far the count
// and the squared norms that the querier's shares hold are from their exact
// values (read with both parties' secrets: a test's view). The opening
// compares the count with 1/2 and the norm with 1 ± 2^-11, so these are the
// margins the decision depends on (docs/he-parameters.md):
//
//	go test ./he -run '^$' -bench AnswerError -benchtime 8x -timeout 2h
//
// Each iteration is one evaluation with its own noise; the rms over them
// is the count's noise the evaluation emulates (internal/evaluation's
// CountNoiseRMS).
func BenchmarkAnswerError(b *testing.B) {
	for _, c := range []struct {
		blocks, matches int
	}{{1, 1}, {1, 0}, {4, 1}, {1, 32768}} {
		b.Run(fmt.Sprintf("blocks=%d/matches=%d", c.blocks, c.matches), func(b *testing.B) { benchError(b, c.blocks, c.matches) })
	}
}

func benchError(b *testing.B, blocks, matches int) {
	ps, keys, _ := benchFixture(b)
	n := blocks * ps.Slots()
	rng := rand.New(rand.NewPCG(uint64(blocks), uint64(matches)))
	probe := hetest.UnitVector(rng, 128)
	gal := hetest.UnitVectors(rng, n, 128)
	for i := 0; i < matches; i++ {
		gal[i*(n/max(1, matches))] = perf.WithScore(rng, probe, 0.95)
	}
	th := benchThreshold(ps, 0.5)
	sum, _, inBand := plainCount(ps, th, probe, gal)
	if inBand != 0 {
		b.Fatalf("%d scores in the band", inBand)
	}
	g, err := he.Pack(ps, 128, gal, he.PackOptions{})
	if err != nil {
		b.Fatal(err)
	}
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	q, _ := qr.EncryptProbe(probe, hetest.Reader(8))
	b.ResetTimer()
	var ec, ey, ep, sc float64
	var answers int
	for i := 0; i < b.N; i++ {
		// One evaluation per iteration (its own rerandomisation of the
		// query, so its own noise), one answer each.
		as, secs, err := r.RespondMany(q, g, he.Options{Threshold: th}, 1, hetest.Reader(uint64(9+i)))
		if err != nil {
			b.Fatal(err)
		}
		for k, a := range as {
			x, err := qr.Shares(q, a)
			if err != nil {
				b.Fatal(err)
			}
			c, y, p := he.PlainCounts(ps, secs[k], x, g.Blocks(), 128)
			ec, ey, ep = math.Max(ec, math.Abs(c-sum)), math.Max(ey, math.Abs(y-1)), math.Max(ep, math.Abs(p))
			sc += (c - sum) * (c - sum)
			answers++
		}
	}
	rms := math.Sqrt(sc / float64(answers))
	b.ReportMetric(ec, "count-error")
	b.ReportMetric(rms, "count-rms")
	b.ReportMetric(ey, "norm-error")
	b.ReportMetric(ep, "padding-norm-error")
	b.Logf("%d entries, %d matches, %d answers: count error rms 2^%.2f, worst 2^%.1f (decision margin 1/2); worst norm error 2^%.1f, padding norm 2^%.1f (windows 2^-11)",
		n, matches, answers, math.Log2(rms), math.Log2(ec), math.Log2(ey), math.Log2(ep))
}

// BenchmarkScoreNoise measures, on the production set, the evaluation's
// noise in score units: a block of k entries all scoring exactly τ, where
// the threshold polynomial is steepest (slope Step' in count per score
// unit), evaluated once per iteration. Each entry's output carries its own
// noise Step'·ε with ε the noise of its score (and of the polynomial's
// first levels), so the count varies between evaluations with variance
// k·(Step'·σ_ε)² plus the block's own noise; the benchmark reports σ_ε.
// Within about σ_ε of τ, the noise decides an entry; the evaluation
// emulates it (internal/evaluation's ScoreNoiseRMS):
//
//	go test ./he -run '^$' -bench ScoreNoise -benchtime 8x -timeout 2h
func BenchmarkScoreNoise(b *testing.B) {
	ps, keys, _ := benchFixture(b)
	const k = 1024
	th := he.Threshold{Tau: 0.9234}
	rng := rand.New(rand.NewPCG(5, 5))
	probe := hetest.UnitVector(rng, 128)
	gal := make([][]float64, k)
	for i := range gal {
		gal[i] = perf.WithScore(rng, probe, th.Tau)
	}
	sum, _, _ := plainCount(ps, th, probe, gal)
	const h = 1e-7
	slope := (th.PlainStep(ps, th.Tau+h) - th.PlainStep(ps, th.Tau-h)) / (2 * h)
	g, err := he.Pack(ps, 128, gal, he.PackOptions{})
	if err != nil {
		b.Fatal(err)
	}
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	q, _ := qr.EncryptProbe(probe, hetest.Reader(18))
	b.ResetTimer()
	var counts []float64
	for i := 0; i < b.N; i++ {
		as, secs, err := r.RespondMany(q, g, he.Options{Threshold: th}, 1, hetest.Reader(uint64(19+i)))
		if err != nil {
			b.Fatal(err)
		}
		x, err := qr.Shares(q, as[0])
		if err != nil {
			b.Fatal(err)
		}
		c, _, _ := he.PlainCounts(ps, secs[0], x, g.Blocks(), 128)
		counts = append(counts, c)
	}
	if len(counts) < 2 {
		return
	}
	var mean, v float64
	for _, c := range counts {
		mean += c / float64(len(counts))
	}
	for _, c := range counts {
		v += (c - mean) * (c - mean) / float64(len(counts)-1)
	}
	sigma := math.Sqrt(v/k) / slope
	b.ReportMetric(sigma, "score-noise")
	b.Logf("%d entries at τ = %v (slope %.0f per score unit), %d evaluations: count %.2f ± %.2f (plaintext %.2f), score noise σ_ε = 2^%.1f",
		k, th.Tau, slope, len(counts), mean, math.Sqrt(v), sum, math.Log2(sigma))
}
