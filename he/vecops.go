package he

import (
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

// addPolys sets out to a + b mod each prime of r up to r's level, as
// r.Add does, for values below each prime: eight coefficients per
// instruction with AVX-512 where the IFMA path runs (useIFMA). out may be
// a or b.
func addPolys(r *ring.Ring, a, b, out ring.Poly) {
	if !useIFMA || r.N()%8 != 0 {
		r.Add(a, b, out)
		return
	}
	for i, s := range r.SubRings[:r.Level()+1] {
		x, y, z := a.Coeffs[i], b.Coeffs[i], out.Coeffs[i]
		addModAVX512(&z[0], &x[0], &y[0], r.N(), s.Modulus)
	}
}

// addPolysQP is addPolys over both of r's rings.
func addPolysQP(r ringqp.Ring, a, b, out ringqp.Poly) {
	if r.RingQ != nil {
		addPolys(r.RingQ, a.Q, b.Q, out.Q)
	}
	if r.RingP != nil {
		addPolys(r.RingP, a.P, b.P, out.P)
	}
}
