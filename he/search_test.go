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

func TestSearchMatchesPlaintext(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	S := ps.Slots()
	th := he.Threshold{Tau: 0.5}
	band := th.Band(ps)
	cases := []struct {
		name    string
		n, m    int
		planted map[int]float64
	}{
		{"one block, one hit", 300, 128, map[int]float64{17: 0.9}},
		{"no hit", 300, 128, map[int]float64{17: th.Tau - 2*band}},
		{"gallery of 1, hit", 1, 128, map[int]float64{0: 1}},
		{"gallery of 1, just above the band", 1, 128, map[int]float64{0: th.Tau + 1.01*band}},
		{"gallery of 1, just below the band", 1, 128, map[int]float64{0: th.Tau - 1.01*band}},
		{"two blocks plus, hits in the last block", 2*S + 5, 128, map[int]float64{2*S + 4: 0.7, 3: 0.51 + band}},
		{"m not a power of two", 500, 100, map[int]float64{499: 0.95, 250: th.Tau - 1.5*band}},
		{"three hits", 1000, 64, map[int]float64{1: 0.8, 2: 0.9, 999: 0.6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.n), uint64(c.m)))
			gal, probe := galleryWithScores(rng, c.n, c.m, c.planted)
			sum, exact, inBand := plainCount(ps, th, probe, gal)
			if inBand != 0 {
				t.Fatalf("test gallery has %d scores in the band", inBand)
			}
			g, err := he.Pack(ps, c.m, gal, he.PackOptions{MemoryBudget: -1})
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := f.search(t, probe, g, he.Options{Threshold: th, Mode: he.ModeCount}, 100)
			if dec.Count != exact || dec.Uncertain || float64(exact)-sum > 0.01 {
				t.Errorf("count: got %+v, plaintext %d (polynomial sum %.6f)", dec, exact, sum)
			}
			any, _ := f.search(t, probe, g, he.Options{Threshold: th, Mode: he.ModeAny}, 200)
			if any.Hit != (exact > 0) || any.AboveBound != (exact > he.AnyBound) || any.Count != min(exact, 1) {
				t.Errorf("any: got %+v, plaintext count %d", any, exact)
			}
		})
	}
}

func TestSearchEdgeGalleries(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(5, 5))
	probe := hetest.UnitVector(rng, 128)
	zero := make([][]float64, 1000)
	for i := range zero {
		zero[i] = make([]float64, 128)
	}
	// Absent entries (nil) must never hit, even at a threshold below 0,
	// where a zero template's score of 0 does.
	absent := make([][]float64, 10)
	absent[3] = perf.WithScore(rng, probe, 0.9)
	for _, c := range []struct {
		name string
		gal  [][]float64
		tau  float64
		want int
	}{
		{"all-zero gallery", zero, 0.5, 0},
		{"all-zero gallery, negative threshold", zero[:5], -0.3, 5},
		{"absent entries never hit", absent, -0.5, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := he.Pack(ps, 128, c.gal, he.PackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := f.search(t, probe, g, he.Options{Threshold: he.Threshold{Tau: c.tau}, Mode: he.ModeCount}, 300)
			if dec.Count != c.want || dec.Uncertain {
				t.Errorf("got %+v, want count %d", dec, c.want)
			}
		})
	}
}

func TestSearchAboveBound(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(6, 6))
	planted := map[int]float64{}
	for i := 0; i < 5; i++ {
		planted[10*i] = 0.8
	}
	gal, probe := galleryWithScores(rng, 100, 128, planted)
	g, err := he.Pack(ps, 128, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := f.search(t, probe, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, 400)
	if !dec.Hit || !dec.AboveBound || dec.Mode != he.ModeAny {
		t.Errorf("5 matches in ModeAny: got %+v, want a hit above the bound", dec)
	}
}

func TestSearchSlots(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	S := ps.Slots()
	rng := rand.New(rand.NewPCG(7, 7))
	hits := map[int]float64{5: 0.9, S + 100: 0.7, 2*S + 3: 0.99}
	gal, probe := galleryWithScores(rng, 2*S+10, 128, hits)
	g, err := he.Pack(ps, 128, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dec, trace := f.search(t, probe, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Mode: he.ModeSlots}, 500)
	if dec.Count != len(hits) || len(dec.Hits) != len(hits) {
		t.Fatalf("got %+v, want %d hits", dec, len(hits))
	}
	tb, _ := trace.MarshalBinary()
	tr, err := he.ReadTrace(ps, tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range dec.Hits {
		i, ok := tr.Resolve(h)
		if _, want := hits[i]; !ok || !want {
			t.Errorf("hit %+v resolves to entry %d (%v), not a planted match", h, i, ok)
		}
	}
	// Positions differ from the entries' own: the layout is per query.
	same := 0
	for _, h := range dec.Hits {
		if _, ok := hits[h.Block*S+h.Slot]; ok {
			same++
		}
	}
	if same == len(hits) {
		t.Errorf("every hit position equals its entry index: the layout was not randomised")
	}
}

func TestRespondCancelled(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(8, 8))
	gal := hetest.UnitVectors(rng, 3*ps.Slots(), 32)
	g, err := he.Pack(ps, 32, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.qr.EncryptProbe(gal[0], hetest.Reader(9))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.r.Respond(ctx, q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(10)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

func TestRespondRefusesBadInput(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(9, 9))
	gal := hetest.UnitVectors(rng, 20, 32)
	g, err := he.Pack(ps, 32, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.qr.EncryptProbe(gal[0], hetest.Reader(11))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, opts := range map[string]he.Options{
		"threshold 1.5": {Threshold: he.Threshold{Tau: 1.5}},
		"threshold NaN": {Threshold: he.Threshold{Tau: math.NaN()}},
		"unknown mode":  {Threshold: he.Threshold{Tau: 0.5}, Mode: 9},
	} {
		if _, _, err := f.r.Respond(ctx, q, g, opts, hetest.Reader(12)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	other, _ := he.Pack(ps, 64, hetest.UnitVectors(rng, 5, 64), he.PackOptions{})
	if _, _, err := f.r.Respond(ctx, q, other, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(13)); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("gallery of another dimension: %v, want ErrMismatch", err)
	}
	k2 := hetest.Ceremony(t, ps, testMaxDims, hetest.Reader(14), hetest.Reader(15))
	qr2, _ := he.NewQuerier(k2.Querier)
	q2, _ := qr2.EncryptProbe(gal[0], hetest.Reader(16))
	if _, _, err := f.r.Respond(ctx, q2, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(17)); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("query for another key set: %v, want ErrMismatch", err)
	}
	if _, err := f.qr.EncryptProbe(make([]float64, testMaxDims+1), hetest.Reader(18)); !errors.Is(err, he.ErrBadTemplate) {
		t.Errorf("probe longer than the key set allows: %v", err)
	}
	long := append([]float64{2}, make([]float64, 31)...)
	if _, err := f.qr.EncryptProbe(long, hetest.Reader(19)); !errors.Is(err, he.ErrBadTemplate) {
		t.Errorf("probe of norm 2: %v", err)
	}
	if _, err := he.Pack(ps, 32, [][]float64{long}, he.PackOptions{}); !errors.Is(err, he.ErrBadTemplate) {
		t.Errorf("template of norm 2: %v", err)
	}
	if _, err := he.Pack(ps, 32, [][]float64{gal[0][:31]}, he.PackOptions{}); !errors.Is(err, he.ErrBadTemplate) {
		t.Errorf("template of the wrong dimension: %v", err)
	}
}

// TestConcurrentSearches runs searches on one Querier and one Responder
// from several goroutines (run with -race to check for shared state).
func TestConcurrentSearches(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(10, 10))
	gal, probe := galleryWithScores(rng, 100, 32, map[int]float64{3: 0.9})
	g, err := he.Pack(ps, 32, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func(i int) {
			q, err := f.qr.EncryptProbe(probe, hetest.Reader(uint64(20+i)))
			if err != nil {
				errs <- err
				return
			}
			resp, _, err := f.r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Workers: 1}, hetest.Reader(uint64(30+i)))
			if err != nil {
				errs <- err
				return
			}
			dec, err := f.qr.Decide(q, resp)
			if err == nil && !dec.Hit {
				err = errors.New("missed the match")
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent search: %v", err)
		}
	}
}
