package he_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// TestOneBitProduction runs the ceremony, honest queries and the attack
// probes of the one-bit suite on the production parameter set, through the
// wire encodings and the opening: a match hits, a random probe does not,
// the coordinate attack's basis probe does not (though its score clears
// τ), and a probe confined to one entry's window answers as the whole probe.
func TestOneBitProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ceremony and searches on the production parameter set are the heavy HE work")
	}
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 100, 128
	rng := rand.New(rand.NewPCG(31, 31))
	gal, probe := galleryWithScores(rng, 1000, m, map[int]float64{7: 0.93, 500: 0.3})
	g, err := he.Pack(ps, m, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	th := he.Threshold{Tau: 0.9}
	if _, exact, inBand := plainCount(ps, th, probe, gal); exact != 1 || inBand != 0 {
		t.Fatalf("test gallery: %d matches, %d in the band", exact, inBand)
	}
	if o := f.search(t, probe, g, he.Options{Threshold: th}, 40); !o.hit || math.Abs(o.count-1) > 0.01 || math.Abs(o.norm-1) > 1e-5 {
		t.Errorf("match: hit %v, count %.4f, norm² %.6f", o.hit, o.count, o.norm)
	}
	miss := hetest.UnitVector(rng, m)
	if o := f.search(t, miss, g, he.Options{Threshold: th}, 50); o.hit || math.Abs(o.count) > 0.01 {
		t.Errorf("random probe: hit %v, count %.4f", o.hit, o.count)
	}
	// The window of entry 300 (not the match), scaled by S/pad: the
	// projection makes it the whole probe, which matches entry 7.
	win := make([]float64, S)
	for k := 300; k < 300+pad; k++ {
		if j := k % pad; j < m {
			win[k] = float64(S/pad) * probe[j]
		}
	}
	q, err := f.qr.EncryptSlotsForTest(win, m, hetest.Reader(60))
	if err != nil {
		t.Fatal(err)
	}
	if o := f.answer(t, q, g, he.Options{Threshold: th}, 61); !o.hit {
		t.Errorf("window of a non-matching entry: no hit, but the probe it projects to matches")
	}
	// The coordinate attack: a verification whose reference has
	// coordinate 9 = 0.325 and τ = 0.8; 2.486·e_9 scores 0.808.
	ref := perf.WithScore(rng, basis(m, 9), 0.325)
	vg, err := he.Pack(ps, m, [][]float64{ref}, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := make([]float64, S)
	for k := range e {
		if k%pad == 9 {
			e[k] = 2.486
		}
	}
	q, _ = f.qr.EncryptSlotsForTest(e, m, hetest.Reader(70))
	o := f.answer(t, q, vg, he.Options{Threshold: he.Threshold{Tau: 0.8}}, 71)
	if o.hit || o.count < 0.9 || math.Abs(o.norm-2.486*2.486) > 1e-3 {
		t.Errorf("2.486·e_9: hit %v (count %.3f, norm² %.4f): want no hit, with the count at 1 and the norm at 6.18", o.hit, o.count, o.norm)
	}
	qb, _ := q.MarshalBinary()
	if info := ps.Info(); len(qb) != info.QueryBytes {
		t.Errorf("query is %d bytes, Info says %d", len(qb), info.QueryBytes)
	}
}

// basis is the unit vector e_j of m coordinates.
func basis(m, j int) []float64 {
	v := make([]float64, m)
	v[j] = 1
	return v
}
