package he_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func TestQuickEndToEnd(t *testing.T) {
	ps := hetest.InsecureN12()
	st := time.Now()
	k := hetest.Ceremony(t, ps, 128, hetest.Reader(1), hetest.Reader(2))
	t.Logf("ceremony %v, keys %d bytes", time.Since(st), k.Eval.Size())
	rng := rand.New(rand.NewPCG(1, 2))
	gal := hetest.UnitVectors(rng, 5000, 128)
	probe := append([]float64(nil), gal[4321]...)
	st = time.Now()
	g, err := he.Pack(ps, 128, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pack %v, blocks %d n1 %d", time.Since(st), g.Blocks(), g.BabySteps())
	qr, err := he.NewQuerier(k.Querier)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qr.EncryptProbe(probe, hetest.Reader(3))
	if err != nil {
		t.Fatal(err)
	}
	r, err := he.NewResponder(k.Eval, k.Responder)
	if err != nil {
		t.Fatal(err)
	}
	st = time.Now()
	resp, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("respond %v", time.Since(st))
	dec, err := qr.Decide(q, resp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decision %+v", dec)
}
