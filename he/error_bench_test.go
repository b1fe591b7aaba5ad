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

// BenchmarkEvaluationError measures, on the production set, the error of
// the result before the responder's flooding noise: decrypted with both
// shares at full precision and compared with the exact decision. This is
// the quantity the flooding must hide (docs/he-parameters.md):
//
//	go test ./he -run '^$' -bench EvaluationError -benchtime 1x -timeout 1h
func BenchmarkEvaluationError(b *testing.B) {
	for _, c := range []struct {
		blocks int
		hit    bool
	}{{1, true}, {1, false}, {4, true}} {
		b.Run(fmt.Sprintf("blocks=%d/hit=%v", c.blocks, c.hit), func(b *testing.B) { benchError(b, c.blocks, c.hit) })
	}
}

func benchError(b *testing.B, blocks int, hit bool) {
	ps, keys, _ := benchFixture(b)
	n := blocks * ps.Slots()
	rng := rand.New(rand.NewPCG(uint64(blocks), 9))
	gal := hetest.UnitVectors(rng, n, 128)
	probe := perf.WithScore(rng, gal[0], 0.95) // entry 0 scores ~0.95 against it
	if !hit {
		probe = hetest.UnitVector(rng, 128)
	}
	th := he.Threshold{Tau: 0.5}
	sum, exact, inBand := plainCount(ps, th, probe, gal)
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
	for i := 0; i < b.N; i++ {
		for _, mode := range []he.Mode{he.ModeCount, he.ModeAny} {
			_, steps, err := r.Stages(q, g, th, mode)
			if err != nil {
				b.Fatal(err)
			}
			var worstStep, s2 float64
			cnt := 0
			for bi, st := range steps {
				v := he.JointDecode(keys.Querier, keys.Responder, st)
				for k, x := range v {
					want := 0.0
					if j := bi*ps.Slots() + k; j < n {
						want = th.PlainStep(ps, dot(probe, gal[j]))
					}
					e := math.Abs(x - want)
					worstStep = math.Max(worstStep, e)
					s2 += e * e
					cnt++
				}
			}
			ct, err := r.Aggregate(steps, mode)
			if err != nil {
				b.Fatal(err)
			}
			v := he.JointDecode(keys.Querier, keys.Responder, ct)
			want := float64(exact)
			if mode == he.ModeAny {
				want = he.AnyPlain(float64(exact))
			}
			var other, norm2 float64
			for _, x := range v[1:] {
				other = math.Max(other, math.Abs(x))
				norm2 += x * x
			}
			norm2 += (v[0] - want) * (v[0] - want)
			// Pinsker: the flooded result is within statistical distance
			// ||e||/(2σ) of one that depends on the decision alone.
			sigma := math.Exp2(-5)
			b.ReportMetric(math.Log2(math.Abs(v[0]-want)), "log2-err-"+mode.String())
			b.ReportMetric(math.Log2(other), "log2-other-"+mode.String())
			b.ReportMetric(math.Log2(math.Sqrt(norm2)/(2*sigma)), "log2-sd-"+mode.String())
			b.ReportMetric(math.Log2(worstStep), "log2-step-max-"+mode.String())
			b.ReportMetric(math.Log2(math.Sqrt(s2/float64(cnt))), "log2-step-rms-"+mode.String())
			b.Logf("%v: exact %d, polynomial sum %.9f, decrypted %.9f", mode, exact, sum, v[0])
		}
	}
}
