// Package hetest provides small, INSECURE parameter sets and helpers for
// testing code built on package he.
//
// The parameter sets here have the same level structure and threshold
// polynomial as the production set [he.N15V1] but a ring degree far too
// small for their modulus: they offer no security at all and exist only to
// make tests fast. Package he refuses to build such a set unless it is
// marked Insecure with an ID at or above [he.FirstTestID], and [he.Lookup]
// never returns one.
package hetest

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/puente-id/puente/he"
)

// IDs of the insecure test sets.
const (
	InsecureN12ID he.ParamSetID = he.FirstTestID + 12
	InsecureN11ID he.ParamSetID = he.FirstTestID + 11
)

func spec(logN int, id he.ParamSetID) he.ParamSpec {
	logQ := []int{60}
	for i := 0; i < 17; i++ {
		logQ = append(logQ, 35)
	}
	return he.ParamSpec{
		ID:              id,
		Name:            fmt.Sprintf("INSECURE-test-n%d", logN),
		Insecure:        true,
		LogN:            logN,
		LogQ:            logQ,
		LogP:            []int{45, 45, 45, 45, 45},
		LogScale:        35,
		LogProbeScale:   40,
		LogGalleryScale: 24,
	}
}

var (
	once     sync.Once
	n12, n11 *he.ParamSet
	initErr  error
)

func load() {
	once.Do(func() {
		if n12, initErr = he.NewParamSet(spec(12, InsecureN12ID)); initErr != nil {
			return
		}
		n11, initErr = he.NewParamSet(spec(11, InsecureN11ID))
	})
	if initErr != nil {
		panic(initErr)
	}
}

// InsecureN12 returns an INSECURE set with ring degree 2^12 (4096 slots).
func InsecureN12() *he.ParamSet { load(); return n12 }

// InsecureN11 returns an INSECURE set with ring degree 2^11 (2048 slots).
func InsecureN11() *he.ParamSet { load(); return n11 }

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Keys is the outcome of an in-process ceremony for one direction.
type Keys struct {
	Querier   *he.SecretShare
	Responder *he.SecretShare
	Eval      *he.EvaluationKeys
}

// Ceremony runs both sides of a key ceremony in process, with randomness
// from rnd for the querier and rnd2 for the responder.
func Ceremony(t TB, ps *he.ParamSet, maxDims int, rnd, rnd2 io.Reader) Keys {
	t.Helper()
	var crs he.KeySetID
	if _, err := io.ReadFull(rnd, crs[:]); err != nil {
		t.Fatalf("crs: %v", err)
	}
	q, err := he.NewCeremony(ps, he.RoleQuerier, maxDims, crs, rnd)
	if err != nil {
		t.Fatalf("querier ceremony: %v", err)
	}
	r, err := he.NewCeremony(ps, he.RoleResponder, maxDims, crs, rnd2)
	if err != nil {
		t.Fatalf("responder ceremony: %v", err)
	}
	if err := Exchange(q, r); err != nil {
		t.Fatalf("ceremony: %v", err)
	}
	var k Keys
	if k.Querier, err = q.SecretShare(); err != nil {
		t.Fatalf("querier share: %v", err)
	}
	if k.Responder, err = r.SecretShare(); err != nil {
		t.Fatalf("responder share: %v", err)
	}
	if k.Eval, err = r.EvaluationKeys(); err != nil {
		t.Fatalf("evaluation keys: %v", err)
	}
	return k
}

// Exchange runs every step of two ceremonies of the same key set, in the
// canonical order, the way the protocol swaps shares.
func Exchange(a, b *he.Ceremony) error {
	for _, s := range a.Steps() {
		sa, err := a.Share(s)
		if err != nil {
			return err
		}
		if err := b.Absorb(s, sa); err != nil {
			return err
		}
		sb, err := b.Share(s)
		if err != nil {
			return err
		}
		if err := a.Absorb(s, sb); err != nil {
			return err
		}
	}
	if !a.Done() || !b.Done() {
		return fmt.Errorf("ceremony not done after every step")
	}
	return nil
}

// UnitVectors returns n uniformly random unit vectors of dims coordinates.
func UnitVectors(rng *rand.Rand, n, dims int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = UnitVector(rng, dims)
	}
	return out
}

// GaussianVectors returns n vectors of dims independent standard normal coordinates: raw
// feature vectors, not normalised, as a node receives them.
func GaussianVectors(rng *rand.Rand, n, dims int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, dims)
		for j := range out[i] {
			out[i][j] = rng.NormFloat64()
		}
	}
	return out
}

// UnitVector returns a uniformly random unit vector.
func UnitVector(rng *rand.Rand, dims int) []float64 {
	v := GaussianVectors(rng, 1, dims)[0]
	var s float64
	for _, x := range v {
		s += x * x
	}
	s = math.Sqrt(s)
	for j := range v {
		v[j] /= s
	}
	return v
}

// Reader returns a deterministic randomness source for tests.
func Reader(seed uint64) io.Reader {
	return &chachaReader{rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})}
}

type chachaReader struct{ c *rand.ChaCha8 }

func (r *chachaReader) Read(p []byte) (int, error) { return r.c.Read(p) }
