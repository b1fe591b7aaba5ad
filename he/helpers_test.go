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
	"github.com/puente-id/puente/opening"
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

// outcome is what one search gave: the querier's decision from the full
// opening, and (the test's view, never a party's) what the querier's
// shares held: the count and the squared norms of the template and of the
// padding coordinates.
type outcome struct {
	hit                  bool
	count, norm, padding float64
	x                    opening.Inputs
}

// search runs one query end to end through the wire encodings and the
// opening.
func (f *fixture) search(t testing.TB, probe []float64, g *he.Gallery, opts he.Options, seed uint64) outcome {
	t.Helper()
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(seed))
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	return f.answer(t, q, g, opts, seed)
}

// answer answers query q (honest or crafted) and opens the answer.
func (f *fixture) answer(t testing.TB, q *he.Query, g *he.Gallery, opts he.Options, seed uint64) outcome {
	t.Helper()
	qb, _ := q.MarshalBinary()
	q2, err := he.ReadQuery(f.ps, qb)
	if err != nil {
		t.Fatalf("read query: %v", err)
	}
	ans, sec, err := f.r.Respond(context.Background(), q2, g, opts, hetest.Reader(seed+1))
	if err != nil {
		t.Fatalf("respond: %v", err)
	}
	ab, _ := ans.MarshalBinary()
	ans2, err := he.ReadAnswer(f.ps, ab)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	x, err := f.qr.Shares(q, ans2)
	if err != nil {
		t.Fatalf("shares: %v", err)
	}
	var o outcome
	o.x = x
	o.count, o.norm, o.padding = he.PlainCounts(f.ps, sec, x, g.Blocks(), padOf(q.Dims()))
	op := f.ps.OpeningParams()
	session := q.Digest()
	gb, msg, err := opening.Garble(op, sec, session[:], hetest.Reader(seed+2))
	if err != nil {
		t.Fatalf("garble: %v", err)
	}
	ev, req, err := opening.NewEvaluator(op, session[:], msg, x, hetest.Reader(seed+3))
	if err != nil {
		t.Fatalf("evaluator: %v", err)
	}
	tr, err := gb.Transfer(req, hetest.Reader(seed+4))
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if o.hit, err = ev.Finish(tr); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return o
}

// padOf is the padded dimension of m-dimensional templates.
func padOf(m int) int {
	p := 2
	for p < m {
		p <<= 1
	}
	return p
}

func dot(a, b []float64) (s float64) {
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// plainCount is the plaintext reference of the count: the sum of the same
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
