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
	"github.com/puente-id/puente/opening"
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
			o := f.search(t, probe, g, he.Options{Threshold: th}, 100)
			if o.hit != (exact > 0) || math.Abs(o.count-sum) > 0.01 || math.Abs(float64(exact)-sum) > 0.01 {
				t.Errorf("hit %v with the shares holding count %.4f; plaintext %d (polynomial sum %.6f)", o.hit, o.count, exact, sum)
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
			o := f.search(t, probe, g, he.Options{Threshold: he.Threshold{Tau: c.tau}}, 300)
			if o.hit != (c.want > 0) || math.Abs(o.count-float64(c.want)) > 0.01 {
				t.Errorf("hit %v, count %.4f; want count %d", o.hit, o.count, c.want)
			}
		})
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
			ans, sec, err := f.r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Workers: 1}, hetest.Reader(uint64(30+i)))
			if err != nil {
				errs <- err
				return
			}
			x, err := f.qr.Shares(q, ans)
			if err == nil && !opening.Reference(ps.OpeningParams(), sec, x) {
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
