//go:build puente_testparams

package he_test

import (
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

func TestSmokeOneBit(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(1, 2))
	probe := hetest.UnitVector(rng, 100)
	gal := hetest.UnitVectors(rng, 300, 100)
	for i, planted := range []float64{0.95, 0.3} {
		gal[17] = perf.WithScore(rng, probe, planted)
		g, err := he.Pack(ps, 100, gal, he.PackOptions{MemoryBudget: -1})
		if err != nil {
			t.Fatal(err)
		}
		o := f.search(t, probe, g, he.Options{Threshold: he.Threshold{Tau: 0.9}}, uint64(10*i+1))
		t.Logf("planted %v: hit %v count %.6f norm %.8f", planted, o.hit, o.count, o.norm)
	}
}
