package he

import (
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// TestPackReadsCountAndNorm checks the algebra of Responder.pack and the
// linear forms the opening reads, on plaintexts with every coefficient
// random (the count's and the norm's other coefficients are arbitrary):
// A = Tr₂(C/2) + e_1·Tr₄(Y/4), with the rotations applied as exact
// automorphisms, has A[0] = C[0] and L_Y(A) = A[1] = Y[0]; and
// (w_Y·z)[0] = L_Y(z), which the tag relies on.
func TestPackReadsCountAndNorm(t *testing.T) {
	ps, _ := Lookup(N15V2)
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	q0 := ps.params.Q()[0]
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() ring.Poly {
		p := ringQ.NewPoly()
		for i := range p.Coeffs[0] {
			p.Coeffs[0][i] = rng.Uint64N(q0)
		}
		return p
	}
	// trace is Tr over the rotations by steps of z/2^len(steps), with
	// exact automorphisms (NTT domain in and out).
	trace := func(z ring.Poly, steps ...int) ring.Poly {
		h, rot := ringQ.NewPoly(), ringQ.NewPoly()
		ringQ.MulScalar(z, ring.ModExp(uint64(1)<<uint(len(steps)), q0-2, q0), h)
		for _, k := range steps {
			ringQ.AutomorphismNTT(h, ps.params.GaloisElement(k), rot)
			ringQ.Add(h, rot, h)
		}
		return h
	}
	S := ps.Slots()
	for trial := 0; trial < 3; trial++ {
		c, y := random(), random()
		c0, y0 := c.Coeffs[0][0], y.Coeffs[0][0]
		ringQ.NTT(c, c)
		ringQ.NTT(y, y)
		a := trace(c, S/2)
		ey := trace(y, S/2, S/4)
		ringQ.MulCoeffsBarrett(ey, ps.monomialE1(), ey)
		ringQ.Add(a, ey, a)
		// the tag's form on the NTT domain
		w := ringQ.NewPoly()
		ringQ.MulCoeffsBarrett(a, ps.normReader(), w)
		ringQ.INTT(w, w)
		ringQ.INTT(a, a)
		if a.Coeffs[0][0] != c0 {
			t.Errorf("trial %d: A[0] = %d, want the count's %d", trial, a.Coeffs[0][0], c0)
		}
		if got := readNorm(a.Coeffs[0], q0); got != y0 {
			t.Errorf("trial %d: L_Y(A) = %d, want the norm's %d", trial, got, y0)
		}
		if got := w.Coeffs[0][0]; got != y0 {
			t.Errorf("trial %d: (w_Y·A)[0] = %d, want %d", trial, got, y0)
		}
	}
}
