//go:build puente_testparams

package he_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// TestQueryWithHiddenQ0Component (from a hostile review; it holds) mounts a
// probe that is not a fresh encryption: the querier adds to the q0 row of its c0 (and to no other
// row) a polynomial, so that the query's plaintext gains a component
// (Q_L/q0)·h that is 0 modulo every prime but q0. Such a component is an
// ideal of the plaintext ring: every rescale divides it exactly, no
// rounding of the main value depends on it, and at level 0 it lands in the
// values the opening reads as h' (mod q0), untouched by the CKKS scale. If
// it reached the count while leaving the two norms alone, a querier could
// add to the count, or make a scaled probe's norm read 1. What stops it is
// the first ciphertext product: the norm's square multiplies h by the
// probe's own raw value, noise included (2·A·h), which is uniform modulo q0
// in every NTT slot the querier does not know. The test measures, for
// several h, how often each of the three values lands in its window and
// whether any answer opens to hit: only answers the projection left honest
// may. It keeps the invariant SECURITY.md states (every value the opening
// reads passes through such a product after the projection).
func TestQueryWithHiddenQ0Component(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	S, m := ps.Slots(), 124
	q0 := ps.Q0ForTest()
	rng := rand.New(rand.NewPCG(777, 1))
	probe := hetest.UnitVector(rng, m)
	gal := hetest.UnitVectors(rng, 40, m)
	gal[7] = perf.WithScore(rng, probe, 0.95) // a match
	g := pack(t, ps, m, gal)
	n := float64(g.Blocks() * S)
	honest := f.search(t, probe, g, onebitOpts(), 9100)
	t.Logf("honest: count %.4f norm %.6f padding %.3g hit %v", honest.count, honest.norm, honest.padding, honest.hit)
	if !honest.hit {
		t.Fatalf("honest mated probe does not hit")
	}
	type variant struct {
		name string
		h    func(r *rand.Rand) []uint64
	}
	one := func(at int, v uint64) func(*rand.Rand) []uint64 {
		return func(*rand.Rand) []uint64 { h := make([]uint64, S); h[at] = v % q0; return h }
	}
	variants := []variant{
		{"h = 1 (constant)", one(0, 1)},
		{"h = 2^20·X^5", one(5, 1<<20)},
		{"h = -1 (constant)", one(0, q0-1)},
		{"h uniform mod q0", func(r *rand.Rand) []uint64 {
			h := make([]uint64, S)
			for i := range h {
				h[i] = r.Uint64N(q0)
			}
			return h
		}},
	}
	const reps = 6
	hits, inY, inP, inC := 0, 0, 0, 0
	total, silent := 0, 0
	for vi, v := range variants {
		for k := 0; k < reps; k++ {
			seed := uint64(9200 + 20*vi + k)
			q, err := f.qr.EncryptProbe(probe, hetest.Reader(seed))
			if err != nil {
				t.Fatal(err)
			}
			q2 := q.WithQ0ComponentForTest(v.h(rand.New(rand.NewPCG(seed, 2))))
			o := f.answer(t, q2, g, onebitOpts(), seed)
			w := math.Exp2(-11)
			y, p, c := math.Abs(o.norm-1) < w, math.Abs(o.padding) < w, o.count >= 0.5 && o.count < n+0.5
			total++
			if o.hit {
				hits++
				if math.Abs(o.count-honest.count) < 0.01 && math.Abs(o.norm-honest.norm) < 1e-4 {
					silent++ // the projection's trace annihilated h: the honest query
				}
			}
			if y {
				inY++
			}
			if p {
				inP++
			}
			if c {
				inC++
			}
			if k < 2 {
				t.Logf("%s #%d: count %.4g (window %v), norm %.4g (%v), padding %.4g (%v): hit %v", v.name, k, o.count, c, o.norm, y, o.padding, p, o.hit)
			}
		}
	}
	t.Logf("over %d tampered queries: count in window %d, norm in window %d, padding in window %d, hits %d (a hit is sound only where the count equals the honest one: h killed by the projection)", total, inC, inY, inP, hits)
	if hits != silent {
		t.Errorf("%d of %d tampered queries opened to hit, %d of them with h the projection kills", hits, total, silent)
	}
}
