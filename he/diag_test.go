package he_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func TestDiagnostics(t *testing.T) {
	ps := hetest.InsecureN12()
	k := hetest.Ceremony(t, ps, 128, hetest.Reader(1), hetest.Reader(2))
	rng := rand.New(rand.NewPCG(1, 2))
	const m = 100
	gal := hetest.UnitVectors(rng, 6000, m)
	probe := hetest.UnitVector(rng, m)
	// plant scores around tau
	tau := 0.5
	for i := 0; i < 300; i++ {
		target := tau + (rng.Float64()*2-1)*0.05
		if i < 50 {
			target = 0.9999
		}
		orth := hetest.UnitVector(rng, m)
		var d float64
		for j := range orth {
			d += orth[j] * probe[j]
		}
		var n float64
		for j := range orth {
			orth[j] -= d * probe[j]
			n += orth[j] * orth[j]
		}
		n = math.Sqrt(n)
		for j := range orth {
			gal[i*17][j] = target*probe[j] + math.Sqrt(1-target*target)*orth[j]/n
		}
	}
	g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	qr, _ := he.NewQuerier(k.Querier)
	q, _ := qr.EncryptProbe(probe, hetest.Reader(3))
	r, _ := he.NewResponder(k.Eval, k.Responder)
	th := he.Threshold{Tau: tau}
	scores, steps, err := r.Stages(q, g, th, he.ModeCount)
	if err != nil {
		t.Fatal(err)
	}
	S := ps.Slots()
	var maxScoreErr, maxStepErr, sum2 float64
	var n int
	plainCount := 0.0
	for b := range scores {
		sv := he.JointDecode(k.Querier, k.Responder, scores[b])
		dv := he.JointDecode(k.Querier, k.Responder, steps[b])
		for s := 0; s < S; s++ {
			i := b*S + s
			want, wantStep := 0.0, 0.0
			if i < len(gal) {
				for j := range probe {
					want += probe[j] * gal[i][j]
				}
				wantStep = th.PlainStep(ps, want)
				plainCount += wantStep
			}
			c, _ := thAffine(tau)
			got := sv[s] // scores are raw s (before c scaling)
			if i < len(gal) {
				maxScoreErr = math.Max(maxScoreErr, math.Abs(got-want))
			}
			_ = c
			e := math.Abs(dv[s] - wantStep)
			if e > 0.1 {
				t.Logf("block %d slot %d entry %d: score plain %.6f enc %.6f step plain %.4f enc %.4f", b, s, i, want, sv[s], wantStep, dv[s])
			}
			maxStepErr = math.Max(maxStepErr, e)
			sum2 += e * e
			n++
		}
	}
	t.Logf("max score err 2^%.2f, max step err 2^%.2f rms 2^%.2f, plain count %.6f", math.Log2(maxScoreErr), math.Log2(maxStepErr), math.Log2(math.Sqrt(sum2/float64(n))), plainCount)
	ct, err := r.Aggregate(steps, he.ModeCount)
	if err != nil {
		t.Fatal(err)
	}
	cv := he.JointDecode(k.Querier, k.Responder, ct)
	var maxOther float64
	for s := 1; s < S; s++ {
		maxOther = math.Max(maxOther, math.Abs(cv[s]))
	}
	t.Logf("count slot %.8f (err %.3g), max other 2^%.2f", cv[0], cv[0]-plainCount, math.Log2(maxOther))
}

func thAffine(tau float64) (float64, float64) { return 0, 0 }
