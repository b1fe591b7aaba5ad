package he

import (
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

// TestVectorOpsMatchLattigo compares addPolysQP with ringqp.Ring.Add (values
// below q) and subThenMulScalar with SubThenMulScalarMontgomeryTwoModulus
// (x below 4q, y below 2q, ModDown's constant) on every prime of v4's top
// level, extremes included, in place and not, in Go and with AVX-512: the
// same values, coefficient for coefficient.
func TestVectorOpsMatchLattigo(t *testing.T) {
	eachArithmetic(t, func(t *testing.T) {
		ps, err := Lookup(N15V4)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 8))
		ringQP := ps.params.RingQP().AtLevel(ps.topLevel(), ps.params.MaxLevelP())
		fill := func(p ringqp.Poly, bound func(q uint64) uint64, extreme uint64) {
			fillRows := func(r *ring.Ring, rows [][]uint64) {
				for i, s := range r.SubRings[:r.Level()+1] {
					b := bound(s.Modulus)
					for k := range rows[i] {
						rows[i][k] = rng.Uint64N(b)
						if k < 8 {
							rows[i][k] = b - 1 - uint64(k)*extreme
						}
					}
				}
			}
			fillRows(ringQP.RingQ, p.Q.Coeffs)
			fillRows(ringQP.RingP, p.P.Coeffs)
		}
		same := func(what string, got, want ringqp.Poly) {
			t.Helper()
			if !got.Equal(&want) {
				t.Fatalf("%s differs from Lattigo's", what)
			}
		}
		below := func(m uint64) func(uint64) uint64 { return func(q uint64) uint64 { return m * q } }

		a, b := ringQP.NewPoly(), ringQP.NewPoly()
		fill(a, below(1), 0)
		fill(b, below(1), 1)
		want, got := ringQP.NewPoly(), ringQP.NewPoly()
		ringQP.Add(a, b, want)
		addPolysQP(ringQP, a, b, got)
		same("a + b", got, want)
		addPolysQP(ringQP, a, b, a)
		same("a + b in place", a, want)

		x, y := ringQP.NewPoly(), ringQP.NewPoly()
		fill(x, below(4), 0)
		fill(y, below(2), 0)
		c := modDownConstantsOf(ps.params.RingQ(), ps.params.RingP(), ps.params.MaxLevelP())
		for i, s := range ringQP.RingQ.SubRings[:ps.topLevel()+1] {
			w := make([]uint64, len(x.Q.Coeffs[i]))
			s.SubThenMulScalarMontgomeryTwoModulus(x.Q.Coeffs[i], y.Q.Coeffs[i], c[i], w)
			g := make([]uint64, len(w))
			subThenMulScalar(s, x.Q.Coeffs[i], y.Q.Coeffs[i], c[i], g)
			subThenMulScalar(s, x.Q.Coeffs[i], y.Q.Coeffs[i], c[i], y.Q.Coeffs[i])
			for k := range w {
				if g[k] != w[k] || y.Q.Coeffs[i][k] != w[k] {
					t.Fatalf("(x + 2q - y)·c, prime %d, coefficient %d: %d (in place %d), Lattigo's %d", i, k, g[k], y.Q.Coeffs[i][k], w[k])
				}
			}
		}
	})
}

// TestExtendCountMatchesGo compares the basis extension's count with
// AVX-512 (extendCountAVX512) with the same float64 sum in Go, bit for
// bit: on v4's digits (q0's 60-bit y_i included), y_i at their extremes
// (0 and s_i - 1, where the sum comes closest to an integer) and random,
// with the rows in an order other than their sources'.
func TestExtendCountMatchesGo(t *testing.T) {
	if !useIFMA || !hasAVX512DQ {
		t.Skip("this processor has no AVX-512 IFMA and DQ: the Go count is the one it runs")
	}
	ps, err := Lookup(N15V4)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 1 << 12
	qs := ps.qAt(ps.topLevel())
	for _, src := range [][]uint64{qs[:6], qs[6:12], qs[12:], ps.pAll()} {
		k := len(src)
		ys := make([]uint64, (k+1)*n)
		rows := make([]int, k)
		srcF := make([]float64, k)
		for i, p := range src {
			rows[i] = (i + 1) % (k + 1) // row 0 unused
			srcF[i] = float64(p)
			for c := range n {
				y := rng.Uint64N(p)
				switch c % 4 {
				case 0:
					y = p - 1
				case 1:
					y = 0
				}
				ys[rows[i]*n+c] = y
			}
		}
		got, want := make([]uint64, n), make([]uint64, n)
		extendCount(got, ys, rows, srcF)
		func() {
			defer func(was bool) { useIFMA = was }(useIFMA)
			useIFMA = false
			extendCount(want, ys, rows, srcF)
		}()
		for c := range want {
			if got[c] != want[c] {
				t.Fatalf("%d sources, coefficient %d: count %d, Go's %d", k, c, got[c], want[c])
			}
		}
	}
}
