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
