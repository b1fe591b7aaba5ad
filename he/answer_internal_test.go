package he

import (
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// TestPackReadsCountAndNorms checks the algebra of Responder.pack and the
// coefficients the opening reads, on plaintexts with every coefficient
// random (the count's and the norms' other coefficients are arbitrary):
// A = Tr₄(C/4) + e_1·Tr₄(Y/4) + e_2·Tr₈(P/8), with the rotations applied as
// exact automorphisms, has A[0] = C[0], A[1] = Y[0] and A[2] = P[0]; and
// (w_i·z)[0] = z[i], which the tag relies on.
func TestPackReadsCountAndNorms(t *testing.T) {
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
		c, y, p := random(), random(), random()
		want := [3]uint64{c.Coeffs[0][0], y.Coeffs[0][0], p.Coeffs[0][0]}
		ringQ.NTT(c, c)
		ringQ.NTT(y, y)
		ringQ.NTT(p, p)
		a := trace(c, S/2, S/4)
		ey := trace(y, S/2, S/4)
		ringQ.MulCoeffsBarrett(ey, ps.basisElement(1), ey)
		ringQ.Add(a, ey, a)
		ep := trace(p, S/2, S/4, S/8)
		ringQ.MulCoeffsBarrett(ep, ps.basisElement(2), ep)
		ringQ.Add(a, ep, a)
		// the tag's forms on the NTT domain
		var w [3]ring.Poly
		for i := 1; i < 3; i++ {
			w[i] = ringQ.NewPoly()
			ringQ.MulCoeffsBarrett(a, ps.coefficientReader(i), w[i])
			ringQ.INTT(w[i], w[i])
		}
		ringQ.INTT(a, a)
		for i, name := range answerNames[:3] {
			if got := a.Coeffs[0][i]; got != want[i] {
				t.Errorf("trial %d: A[%d] = %d, want the %s's %d", trial, i, got, name, want[i])
			}
			if i > 0 {
				if got := w[i].Coeffs[0][0]; got != want[i] {
					t.Errorf("trial %d: (w_%d·A)[0] = %d, want %d", trial, i, got, want[i])
				}
			}
		}
	}
}
