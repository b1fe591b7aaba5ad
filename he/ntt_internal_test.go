package he

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// TestNTTMatchesLattigo compares forwardNTT with Lattigo's
// conjugate-invariant NTT of the same coefficients, value for value mod q,
// at every degree from 2^4 to 2^15 (both parities of log2 n: with and
// without a lone layer) and on primes up to 61 bits, int32's extremes
// included (every output below 4q), and inverse with Lattigo's inverse NTT,
// of inputs below q and below 2q (every output below q, or 2q if not full).
//
// It runs once in Go and once with IFMA where the processor has it
// (ntt_ifma_amd64.s: primes below 2^50), so that both paths are checked on
// a machine that takes the IFMA one.
func TestNTTMatchesLattigo(t *testing.T) { eachArithmetic(t, testNTTMatchesLattigo) }

// eachArithmetic runs f in a subtest per path: "go", and "ifma" where the
// processor has AVX-512 IFMA (skipped, saying so, where it has not).
func eachArithmetic(t *testing.T, f func(t *testing.T)) {
	for _, ifma := range []bool{false, true} {
		t.Run(map[bool]string{false: "go", true: "ifma"}[ifma], func(t *testing.T) {
			if ifma && !useIFMA {
				t.Skip("this processor has no AVX-512 IFMA: the Go path is the one it runs")
			}
			defer func(was bool) { useIFMA = was }(useIFMA)
			useIFMA = ifma
			f(t)
		})
	}
}

func testNTTMatchesLattigo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for logN := 4; logN <= 15; logN++ {
		n := 1 << logN
		ps33, err := nextPrimes(33, n, true)
		if err != nil {
			t.Fatal(err)
		}
		ps61, err := nextPrimes(61, n, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []uint64{ps33[0], 0x7ffffd20001, ps61[0]} {
			rq, err := ring.NewRingConjugateInvariant(n, []uint64{q})
			if err != nil {
				t.Fatalf("n %d q %#x: %v", n, q, err)
			}
			tab := newNTTTable(rq.SubRings[0])
			if tab == nil {
				t.Fatalf("n %d q %#x: no table", n, q)
			}
			c := make([]int32, n)
			for i := range c {
				c[i] = int32(r.Uint32())
			}
			c[0], c[1], c[n/2], c[n-1] = math.MinInt32, math.MaxInt32, -1, math.MinInt32
			want := rq.NewPoly()
			for k, v := range c {
				want.Coeffs[0][k] = uint64((int64(v)%int64(q) + int64(q)) % int64(q))
			}
			rq.NTT(want, want)
			got := make([]uint64, n)
			tab.forwardNTT(c, got)
			for k, v := range got {
				if v >= 4*q || v%q != want.Coeffs[0][k] {
					t.Fatalf("n %d q %#x: value %d is %d (mod q %d), want %d below 4q", n, q, k, v, v%q, want.Coeffs[0][k])
				}
			}
			// The inverse, of values below q and of the same plus q.
			for _, lift := range []uint64{0, q} {
				in := make([]uint64, n)
				for k := range in {
					in[k] = r.Uint64N(q)
				}
				in[0], in[n-1] = q-1, 0
				want := rq.NewPoly()
				copy(want.Coeffs[0], in)
				rq.INTT(want, want)
				for _, full := range []bool{true, false} {
					got := make([]uint64, n)
					for k, v := range in {
						got[k] = v + lift
					}
					tab.inverse(got, full)
					bound := 2 * q
					if full {
						bound = q
					}
					for k, v := range got {
						if v >= bound || v%q != want.Coeffs[0][k] {
							t.Fatalf("n %d q %#x, inputs +%d, full %v: inverse value %d is %d, want %d below %d", n, q, lift, full, k, v, want.Coeffs[0][k], bound)
						}
					}
				}
			}
		}
	}
}

// TestNTTTableRefuses: forwardNTT serves conjugate-invariant rings with
// primes below 2^62 only; diagNTTLazy falls back to Lattigo's NTT on the
// others.
func TestNTTTableRefuses(t *testing.T) {
	n := 1 << 10
	big, err := nextPrimes(62, n, true)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := ring.NewRingConjugateInvariant(n, big)
	if err != nil {
		t.Fatal(err)
	}
	if newNTTTable(ci.SubRings[0]) != nil {
		t.Errorf("a table for the prime %#x (2^62 or more), where values below 4q overflow", big[0])
	}
	std, err := ring.NewRing(n, []uint64{0x7ffffd20001})
	if err != nil {
		t.Fatal(err)
	}
	if newNTTTable(std.SubRings[0]) != nil {
		t.Error("a table for a standard ring, whose transform forwardNTT does not compute")
	}
}

// nextPrimes returns the first prime ≡ 1 mod 4n from 2^logQ up (or down).
func nextPrimes(logQ, n int, up bool) ([]uint64, error) {
	g := ring.NewNTTFriendlyPrimesGenerator(uint64(logQ), uint64(4*n))
	if up {
		return g.NextUpstreamPrimes(1)
	}
	return g.NextDownstreamPrimes(1)
}

// BenchmarkNTT measures one row's transform at N = 2^15 on a prime of
// puente-ckks-n15-v4's Q and one of its P, Lattigo's beside nttTable's
// (in Go, and with IFMA where the processor has it).
func BenchmarkNTT(b *testing.B) {
	ps, err := Lookup(N15V4)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []*ring.SubRing{ps.params.RingQ().SubRings[1], ps.params.RingP().SubRings[0]} {
		tab := nttTableOf(s)
		src, row := make([]uint64, s.N), make([]uint64, s.N)
		r := rand.New(rand.NewPCG(7, 8))
		for k := range src {
			src[k] = r.Uint64N(s.Modulus)
		}
		// Each operation transforms a fresh copy of the same row.
		for _, op := range []struct {
			name string
			f    func([]uint64)
		}{
			{"forward/lattigo", func(p []uint64) { s.NTTLazy(p, p) }},
			{"forward/puente", tab.forward},
			{"inverse/lattigo", func(p []uint64) { s.INTTLazy(p, p) }},
			{"inverse/puente", func(p []uint64) { tab.inverse(p, false) }},
		} {
			// Puente's transforms in Go, and with IFMA where the processor has it.
			paths := []bool{false}
			if !strings.HasSuffix(op.name, "lattigo") && useIFMA {
				paths = append(paths, true)
			}
			for _, ifma := range paths {
				name := op.name
				if !strings.HasSuffix(op.name, "lattigo") {
					name += map[bool]string{false: "-go", true: "-ifma"}[ifma]
				}
				b.Run(fmt.Sprintf("q=%d-bit/%s", bits.Len64(s.Modulus), name), func(b *testing.B) {
					defer func(was bool) { useIFMA = was }(useIFMA)
					useIFMA = ifma
					for b.Loop() {
						copy(row, src)
						op.f(row)
					}
				})
			}
		}
	}
}

// TestArithmeticNamesPath: Arithmetic names the path the transforms take,
// as puente-lab bench reports it beside its figures.
func TestArithmeticNamesPath(t *testing.T) {
	defer func(was bool) { useIFMA = was }(useIFMA)
	for on, want := range map[bool]string{false: "go", true: "avx512-ifma"} {
		useIFMA = on
		if got := Arithmetic(); got != want {
			t.Errorf("with IFMA %v: Arithmetic() = %q, want %q", on, got, want)
		}
	}
}
