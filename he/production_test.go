package he_test

import (
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// TestProductionEndToEnd runs the ceremony, a query and both reducing
// modes on the production parameter set, through the wire encodings.
func TestProductionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ceremony and searches on the production parameter set are the heavy HE work")
	}
	ps, err := he.Lookup(he.N15V1)
	if err != nil {
		t.Fatal(err)
	}
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(31, 31))
	gal, probe := galleryWithScores(rng, 1000, 100, map[int]float64{7: 0.93, 500: 0.3})
	g, err := he.Pack(ps, 100, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	th := he.Threshold{Tau: 0.9}
	_, exact, inBand := plainCount(ps, th, probe, gal)
	if exact != 1 || inBand != 0 {
		t.Fatalf("test gallery: %d matches, %d in the band", exact, inBand)
	}
	dec, _ := f.search(t, probe, g, he.Options{Threshold: th}, 40)
	if !dec.Hit || dec.Count != 1 || dec.AboveBound || dec.Uncertain || dec.Mode != he.ModeAny {
		t.Errorf("ModeAny: got %+v, want a plain hit", dec)
	}
	miss := hetest.UnitVector(rng, 100)
	if _, exact, _ := plainCount(ps, th, miss, gal); exact != 0 {
		t.Fatalf("random probe matches")
	}
	dec, _ = f.search(t, miss, g, he.Options{Threshold: th, Mode: he.ModeCount}, 50)
	if dec.Hit || dec.Count != 0 || dec.Uncertain {
		t.Errorf("ModeCount: got %+v, want no hit", dec)
	}
	q, _ := f.qr.EncryptProbe(probe, hetest.Reader(60))
	qb, _ := q.MarshalBinary()
	if info := ps.Info(); len(qb) != info.QueryBytes {
		t.Errorf("query is %d bytes, Info says %d", len(qb), info.QueryBytes)
	}
}
