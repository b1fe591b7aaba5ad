package he_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// fixture is a key set made once per parameter set and test binary.
type fixture struct {
	ps   *he.ParamSet
	keys hetest.Keys
	qr   *he.Querier
	r    *he.Responder
}

var (
	fixMu    sync.Mutex
	fixtures = map[*he.ParamSet]*fixture{}
)

const testMaxDims = 128

func getFixture(t testing.TB, ps *he.ParamSet) *fixture {
	t.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if f, ok := fixtures[ps]; ok {
		return f
	}
	f := &fixture{ps: ps, keys: hetest.Ceremony(t, ps, testMaxDims, hetest.Reader(11), hetest.Reader(12))}
	var err error
	if f.qr, err = he.NewQuerier(f.keys.Querier); err != nil {
		t.Fatal(err)
	}
	if f.r, err = he.NewResponder(f.keys.Eval, f.keys.Responder); err != nil {
		t.Fatal(err)
	}
	fixtures[ps] = f
	return f
}

// search runs one query end to end through the wire encodings and returns
// the decision.
func (f *fixture) search(t testing.TB, probe []float64, g *he.Gallery, opts he.Options, seed uint64) (he.Decision, *he.Trace) {
	t.Helper()
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(seed))
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	qb, _ := q.MarshalBinary()
	q2, err := he.ReadQuery(f.ps, qb)
	if err != nil {
		t.Fatalf("read query: %v", err)
	}
	resp, trace, err := f.r.Respond(context.Background(), q2, g, opts, hetest.Reader(seed+1))
	if err != nil {
		t.Fatalf("respond: %v", err)
	}
	rb, _ := resp.MarshalBinary()
	resp2, err := he.ReadResponse(f.ps, rb)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	dec, err := f.qr.Decide(q, resp2)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return dec, trace
}

func dot(a, b []float64) (s float64) {
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// plainCount is the plaintext reference of ModeCount: the sum of the same
// polynomial decisions the responder evaluates.
func plainCount(ps *he.ParamSet, th he.Threshold, probe []float64, gal [][]float64) (sum float64, exact int, inBand int) {
	band := th.Band(ps)
	for _, g := range gal {
		if g == nil {
			continue
		}
		s := dot(probe, g)
		sum += th.PlainStep(ps, s)
		if s >= th.Tau {
			exact++
		}
		if math.Abs(s-th.Tau) < band {
			inBand++
		}
	}
	return sum, exact, inBand
}

var _ = context.Background

func isMalformed(err error) bool { return errors.Is(err, he.ErrMalformed) }
func isMismatch(err error) bool  { return errors.Is(err, he.ErrMismatch) }

// galleryWithScores returns n random unit vectors of dimension m and a
// probe, with the listed entries set to the listed scores against it.
func galleryWithScores(rng *rand.Rand, n, m int, planted map[int]float64) ([][]float64, []float64) {
	probe := hetest.UnitVector(rng, m)
	gal := hetest.UnitVectors(rng, n, m)
	for i, s := range planted {
		gal[i] = perf.WithScore(rng, probe, s)
	}
	return gal, probe
}
