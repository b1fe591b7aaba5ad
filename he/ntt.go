package he

import (
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/ring"
)

// The forward NTT of a gallery diagonal converted during a search
// (diagNTTLazy) and of the key switch's digits and ModDown (keyswitch_ntt.go).
// It computes the transform of Lattigo's
// conjugate-invariant ring (ring.NTTConjugateInvariantLazy: the same
// roots, in the same order, so the same values mod q), with two changes
// that make it about a quarter cheaper on the production sets
// (BenchmarkDiagConversion):
//
//   - twiddle products by Shoup's method (Harvey, "Faster arithmetic for
//     number-theoretic transforms", 2014): with w' = ⌊w·2^64/q⌋ kept beside
//     each root w, v·w mod q is v·w - ⌊v·w'/2^64⌋·q, in [0, 2q) for any
//     64-bit v; one full and two low multiplications, where a Montgomery
//     product takes two full and one low;
//   - two layers per pass over the row (radix 4), and the last three on
//     groups of eight held in registers: half the loads and stores.
//
// Every value stays below 4q (each butterfly's input is brought below 2q
// first), so q < 2^62 is required; the output is left below 4q, which the
// Montgomery products that read it accept (scorer.score, the gadget
// product), and the key switch's other steps too (keyswitch_ntt.go).

// On a processor with AVX-512 IFMA (useIFMA) and a prime below
// maxIFMAModulus (every threshold and P prime of the production sets),
// every layer runs on eight coefficients at a time (ntt_ifma_amd64.s):
// Shoup's products in base 2^52, the IFMA multiplier's width, with the same
// bounds on every value as the Go path, so values below 4q (2q, or q, for
// the inverse) and the same mod q come out of either.

// Arithmetic names how this process runs the NTTs and the key switch's
// products on primes below 2^50: "avx512-ifma", or "go" on a processor
// without AVX-512 IFMA (or with PUENTE_HE_NO_IFMA=1). The figures in
// docs/performance.md say which they were measured with.
func Arithmetic() string {
	if useIFMA {
		return "avx512-ifma"
	}
	return "go"
}

// nttTable holds one prime's roots: w[k] is Lattigo's RootsForward[k]
// out of Montgomery form, wq[k] its Shoup companion, wi and wiq the same
// of RootsBackward, nInv and nInvQ of n^-1 mod q; wq52 and wiq52 are the
// companions in base 2^52 ⌊w·2^52/q⌋ and nInv52 n^-1's, for a prime
// below maxIFMAModulus.
type nttTable struct {
	q           uint64
	n           int
	w, wq       []uint64
	wi, wiq     []uint64
	nInv, nInvQ uint64
	wq52, wiq52 []uint64
	nInv52      uint64
	// The constants of products in base 2^52 (gadget_ifma.go, score.go,
	// keyswitch.go): -q^-1 mod 2^52, 2^-12 and 2^52 mod q with their
	// companions in base 2^52, and 2^104 mod q.
	qInvNeg52, r12, r12q52, r52, r52q52, r104 uint64
}

// maxIFMAModulus bounds the primes whose layers run with IFMA: values
// below 4q must fit in its 52 bits.
const maxIFMAModulus = 1 << 50

// maxShoupModulus bounds the primes forwardNTT serves: values below 4q
// must fit in 64 bits.
const maxShoupModulus = 1 << 62

// newNTTTable returns s's table, or nil for a ring forwardNTT does not
// serve (a standard ring, a prime of 62 bits or more, a degree below 16).
func newNTTTable(s *ring.SubRing) *nttTable {
	if s.Type() != ring.ConjugateInvariant || s.Modulus >= maxShoupModulus || s.N < 16 {
		return nil
	}
	// Roots read: 1, and m + i for m = 2, 4, …, N and i < m/2.
	used := s.N + s.N/2
	t := &nttTable{q: s.Modulus, n: s.N}
	t.w, t.wq = shoupRoots(s, s.RootsForward[:used])
	t.wi, t.wiq = shoupRoots(s, s.RootsBackward[:used])
	t.nInv = ring.MRed(s.NInv, 1, s.Modulus, s.MRedConstant)
	t.nInvQ, _ = bits.Div64(t.nInv, 0, s.Modulus)
	if s.Modulus < maxIFMAModulus {
		t.wq52, t.wiq52 = shoup52(t.w, s.Modulus), shoup52(t.wi, s.Modulus)
		t.nInv52 = shoup52([]uint64{t.nInv}, s.Modulus)[0]
		t.qInvNeg52 = invNeg52(s.Modulus)
		t.r12 = ring.ModExp(2, s.Modulus-1-12, s.Modulus)
		t.r12q52 = shoup52([]uint64{t.r12}, s.Modulus)[0]
		t.r52 = shift52(1, s.Modulus)
		t.r52q52 = shoup52([]uint64{t.r52}, s.Modulus)[0]
		t.r104 = shift52(t.r52, s.Modulus)
	}
	return t
}

// shoup52 returns the companions ⌊w·2^52/q⌋ of roots w (below q).
func shoup52(w []uint64, q uint64) []uint64 {
	wq := make([]uint64, len(w))
	for k, v := range w {
		wq[k], _ = bits.Div64(v>>12, v<<52, q)
	}
	return wq
}

// vector reports whether t's layers run with IFMA.
func (t *nttTable) vector() bool { return useIFMA && t.wq52 != nil }

// shoupRoots returns roots (Montgomery form) in standard form and their
// Shoup companions ⌊w·2^64/q⌋.
func shoupRoots(s *ring.SubRing, roots []uint64) (w, wq []uint64) {
	w, wq = make([]uint64, len(roots)), make([]uint64, len(roots))
	for k, r := range roots {
		w[k] = ring.MRed(r, 1, s.Modulus, s.MRedConstant)
		wq[k], _ = bits.Div64(w[k], 0, s.Modulus)
	}
	return w, wq
}

// shoupMul returns v·w mod q up to one q (in [0, 2q)), wq = ⌊w·2^64/q⌋.
func shoupMul(v, w, wq, q uint64) uint64 {
	hi, _ := bits.Mul64(v, wq)
	return v*w - hi*q
}

// below2q returns x reduced below 2q, for x < 4q.
func below2q(x, twoQ uint64) uint64 {
	if x >= twoQ {
		x -= twoQ
	}
	return x
}

// forwardNTT writes to out the NTT of the integer coefficients c mod t.q,
// each value below 4q.
func (t *nttTable) forwardNTT(c []int32, out []uint64) {
	out = out[:t.n]
	loadInt32(c[:t.n], out, t.q)
	t.forward(out)
}

// loadInt32 sets out[k] to c[k] mod q, in [0, q), without a branch on the
// sign.
func loadInt32(c []int32, out []uint64, q uint64) {
	out = out[:len(c)]
	for k, v := range c {
		x := int64(v)
		out[k] = uint64(x) + q&uint64(x>>63) // q + v for v < 0
	}
}

// forward replaces p (values below 2q) by its NTT mod t.q, each value
// below 4q.
func (t *nttTable) forward(p []uint64) {
	n := t.n
	p = p[:n]
	if t.vector() {
		t.conjugateLayerIFMA(p, t.w[1], t.wq[1], t.wq52[1])
		for m, d := 2, n>>1; d >= 8; m, d = m<<1, d>>1 {
			fwdLayerIFMA(&p[0], m, d, &t.w[0], &t.wq52[0], t.q)
		}
		fwdTailIFMA(&p[0], n, &t.w[0], &t.wq52[0], t.q)
		return
	}
	t.conjugateLayer(p, t.w[1], t.wq[1])
	// The standard layers m = 2, 4, …, n (log2 n of them), butterflies at
	// distance d = n/m. One alone first if their number less three is odd,
	// so that passes of two end at d = 4.
	m, d := 2, n>>1
	if bits.Len(uint(n))&1 == 1 { // log2 n even: log2 n - 3 odd
		t.radix2(p, m, d)
		m, d = m<<1, d>>1
	}
	for ; d >= 8; m, d = m<<2, d>>2 {
		t.radix4(p, m, d)
	}
	t.radix8(p, m)
}

// conjugateLayer runs the conjugate-invariant ring's own layer on p (values
// below 2q), the first of the forward transform and the last of the
// inverse: p[j] and p[n-j] from both, by the root w (its Shoup companion
// wq); each value below 4q after it.
func (t *nttTable) conjugateLayer(p []uint64, w, wq uint64) {
	t.conjugatePairs(p, 1, w, wq)
}

// conjugateLayerIFMA is conjugateLayer with the pairs j, n-j for j up to
// a multiple of eight by IFMA (wq52 is w's companion in base 2^52), the
// rest in Go.
func (t *nttTable) conjugateLayerIFMA(p []uint64, w, wq, wq52 uint64) {
	k := (t.n/2 - 1) &^ 7
	if k > 0 {
		conjLayerIFMA(&p[0], t.n, k, w, wq52, t.q)
	}
	t.conjugatePairs(p, 1+k, w, wq)
}

// conjugatePairs runs conjugateLayer's butterflies of p[j] and p[n-j] for
// from <= j < n/2, and of p[n/2].
func (t *nttTable) conjugatePairs(p []uint64, from int, w, wq uint64) {
	q, twoQ, h := t.q, 2*t.q, t.n>>1
	p[h] = p[h] + twoQ - shoupMul(p[h], w, wq, q)
	lo, hi := p[from:h], p[h+1:t.n+1-from]
	hi = hi[:len(lo)]
	for j := range lo {
		x, y := lo[j], hi[len(hi)-1-j]
		lo[j], hi[len(hi)-1-j] = x+twoQ-shoupMul(y, w, wq, q), y+twoQ-shoupMul(x, w, wq, q)
	}
}

// radix2 runs layer m (distance d) of the transform on p.
func (t *nttTable) radix2(p []uint64, m, d int) {
	q, twoQ := t.q, 2*t.q
	for i := range m / 2 {
		w, wq := t.w[m+i], t.wq[m+i]
		x := p[2*i*d : 2*i*d+d]
		y := p[2*i*d+d : 2*i*d+2*d]
		y = y[:len(x)]
		for k := range x {
			u := below2q(x[k], twoQ)
			v := shoupMul(y[k], w, wq, q)
			x[k], y[k] = u+v, u+twoQ-v
		}
	}
}

// radix4 runs layers m (distance d) and 2m (distance d/2) of the
// transform on p in one pass.
func (t *nttTable) radix4(p []uint64, m, d int) {
	q, twoQ := t.q, 2*t.q
	e := d >> 1
	for i := range m / 2 {
		w1, wq1 := t.w[m+i], t.wq[m+i]
		w2, wq2 := t.w[2*m+2*i], t.wq[2*m+2*i]
		w3, wq3 := t.w[2*m+2*i+1], t.wq[2*m+2*i+1]
		blk := p[2*i*d : 2*i*d+2*d]
		A, B, C, D := blk[:e], blk[e:2*e], blk[2*e:3*e], blk[3*e:4*e]
		B, C, D = B[:len(A)], C[:len(A)], D[:len(A)]
		for k := range A {
			a, b := below2q(A[k], twoQ), below2q(B[k], twoQ)
			vc, vd := shoupMul(C[k], w1, wq1, q), shoupMul(D[k], w1, wq1, q)
			a1, c1 := below2q(a+vc, twoQ), below2q(a+twoQ-vc, twoQ)
			b1, d1 := b+vd, b+twoQ-vd
			vb, vd := shoupMul(b1, w2, wq2, q), shoupMul(d1, w3, wq3, q)
			A[k], B[k] = a1+vb, a1+twoQ-vb
			C[k], D[k] = c1+vd, c1+twoQ-vd
		}
	}
}

// radix8 runs the last three layers (m, 2m, 4m = n, distances 4, 2, 1) of
// the transform on p, on groups of eight.
func (t *nttTable) radix8(p []uint64, m int) {
	q, twoQ := t.q, 2*t.q
	W1, WQ1 := t.w[m:m+m/2], t.wq[m:m+m/2]
	W2, WQ2 := t.w[2*m:3*m], t.wq[2*m:3*m]
	W4, WQ4 := t.w[4*m:6*m], t.wq[4*m:6*m]
	for i := range W1 {
		b := (*[8]uint64)(p[8*i : 8*i+8])
		w, wq := W1[i], WQ1[i]
		x0, x1, x2, x3 := below2q(b[0], twoQ), below2q(b[1], twoQ), below2q(b[2], twoQ), below2q(b[3], twoQ)
		v4, v5, v6, v7 := shoupMul(b[4], w, wq, q), shoupMul(b[5], w, wq, q), shoupMul(b[6], w, wq, q), shoupMul(b[7], w, wq, q)
		y0, y4 := below2q(x0+v4, twoQ), below2q(x0+twoQ-v4, twoQ)
		y1, y5 := below2q(x1+v5, twoQ), below2q(x1+twoQ-v5, twoQ)
		y2, y6 := x2+v6, x2+twoQ-v6
		y3, y7 := x3+v7, x3+twoQ-v7
		w, wq = W2[2*i], WQ2[2*i]
		v2, v3 := shoupMul(y2, w, wq, q), shoupMul(y3, w, wq, q)
		z0, z2 := below2q(y0+v2, twoQ), below2q(y0+twoQ-v2, twoQ)
		z1, z3 := y1+v3, y1+twoQ-v3
		w, wq = W2[2*i+1], WQ2[2*i+1]
		v6, v7 = shoupMul(y6, w, wq, q), shoupMul(y7, w, wq, q)
		z4, z6 := below2q(y4+v6, twoQ), below2q(y4+twoQ-v6, twoQ)
		z5, z7 := y5+v7, y5+twoQ-v7
		v1 := shoupMul(z1, W4[4*i], WQ4[4*i], q)
		v3 = shoupMul(z3, W4[4*i+1], WQ4[4*i+1], q)
		v5 = shoupMul(z5, W4[4*i+2], WQ4[4*i+2], q)
		v7 = shoupMul(z7, W4[4*i+3], WQ4[4*i+3], q)
		b[0], b[1] = z0+v1, z0+twoQ-v1
		b[2], b[3] = z2+v3, z2+twoQ-v3
		b[4], b[5] = z4+v5, z4+twoQ-v5
		b[6], b[7] = z6+v7, z6+twoQ-v7
	}
}

// inverse replaces p (values below 2q) by its inverse NTT mod t.q, as
// Lattigo's ring.INTTConjugateInvariant computes it (the same backward
// roots, in the same order): each value below q if full, below 2q if not.
func (t *nttTable) inverse(p []uint64, full bool) {
	n, q := t.n, t.q
	p = p[:n]
	if t.vector() {
		t.inverseIFMA(p, full)
		return
	}
	// The standard layers at distances d = 1, 2, 4, …, n/2 (layer m = n/d
	// reads roots n/d + i): the first three on groups of eight, then two
	// per pass, and one alone last if their number less three is odd.
	t.invRadix8(p)
	d := 8
	for ; 2*d < n; d <<= 2 {
		t.invRadix4(p, d)
	}
	if d < n {
		t.invRadix2(p, d)
	}
	// The conjugate-invariant last layer, then the factor n^-1.
	t.conjugateLayer(p, t.wi[1], t.wiq[1])
	p[0] <<= 1
	for k, v := range p {
		v = shoupMul(v, t.nInv, t.nInvQ, q)
		if full && v >= q {
			v -= q
		}
		p[k] = v
	}
}

// inverseIFMA is inverse with IFMA: the same layers one at a time, the
// first three on pairs of groups of eight.
func (t *nttTable) inverseIFMA(p []uint64, full bool) {
	n, q := t.n, t.q
	invTailIFMA(&p[0], n, &t.wi[0], &t.wiq52[0], q)
	for d := 8; d < n; d <<= 1 {
		invLayerIFMA(&p[0], n/d, d, &t.wi[0], &t.wiq52[0], q)
	}
	t.conjugateLayerIFMA(p, t.wi[1], t.wiq[1], t.wiq52[1])
	// p[0] doubled may exceed IFMA's 52 bits: it is scaled in Go.
	p0 := p[0] << 1
	scaleIFMA(&p[0], n, t.nInv, t.nInv52, q, full)
	p[0] = shoupMul(p0, t.nInv, t.nInvQ, q)
	if full && p[0] >= q {
		p[0] -= q
	}
}

// invRadix2 runs the inverse layer at distance d on p.
func (t *nttTable) invRadix2(p []uint64, d int) {
	q, twoQ := t.q, 2*t.q
	m := t.n / d
	for i := range m / 2 {
		w, wq := t.wi[m+i], t.wiq[m+i]
		x := p[2*i*d : 2*i*d+d]
		y := p[2*i*d+d : 2*i*d+2*d]
		y = y[:len(x)]
		for k := range x {
			u, v := x[k], y[k]
			x[k], y[k] = below2q(u+v, twoQ), shoupMul(u+twoQ-v, w, wq, q)
		}
	}
}

// invRadix4 runs the inverse layers at distances d and 2d on p in one
// pass.
func (t *nttTable) invRadix4(p []uint64, d int) {
	q, twoQ := t.q, 2*t.q
	m := t.n / d
	for b := range m / 4 {
		w1, wq1 := t.wi[m+2*b], t.wiq[m+2*b]
		w2, wq2 := t.wi[m+2*b+1], t.wiq[m+2*b+1]
		w3, wq3 := t.wi[m/2+b], t.wiq[m/2+b]
		blk := p[4*b*d : 4*b*d+4*d]
		A, B, C, D := blk[:d], blk[d:2*d], blk[2*d:3*d], blk[3*d:4*d]
		B, C, D = B[:len(A)], C[:len(A)], D[:len(A)]
		for k := range A {
			a, bb, c, dd := A[k], B[k], C[k], D[k]
			a1, b1 := below2q(a+bb, twoQ), shoupMul(a+twoQ-bb, w1, wq1, q)
			c1, d1 := below2q(c+dd, twoQ), shoupMul(c+twoQ-dd, w2, wq2, q)
			A[k], C[k] = below2q(a1+c1, twoQ), shoupMul(a1+twoQ-c1, w3, wq3, q)
			B[k], D[k] = below2q(b1+d1, twoQ), shoupMul(b1+twoQ-d1, w3, wq3, q)
		}
	}
}

// invRadix8 runs the inverse layers at distances 1, 2 and 4 on p, on
// groups of eight.
func (t *nttTable) invRadix8(p []uint64) {
	q, twoQ, n := t.q, 2*t.q, t.n
	W1, WQ1 := t.wi[n:n+n/2], t.wiq[n:n+n/2]
	W2, WQ2 := t.wi[n/2:n/2+n/4], t.wiq[n/2:n/2+n/4]
	W4, WQ4 := t.wi[n/4:n/4+n/8], t.wiq[n/4:n/4+n/8]
	bf := func(u, v, w, wq uint64) (uint64, uint64) {
		return below2q(u+v, twoQ), shoupMul(u+twoQ-v, w, wq, q)
	}
	for g := range W4 {
		b := (*[8]uint64)(p[8*g : 8*g+8])
		x0, x1 := bf(b[0], b[1], W1[4*g], WQ1[4*g])
		x2, x3 := bf(b[2], b[3], W1[4*g+1], WQ1[4*g+1])
		x4, x5 := bf(b[4], b[5], W1[4*g+2], WQ1[4*g+2])
		x6, x7 := bf(b[6], b[7], W1[4*g+3], WQ1[4*g+3])
		w, wq := W2[2*g], WQ2[2*g]
		x0, x2 = bf(x0, x2, w, wq)
		x1, x3 = bf(x1, x3, w, wq)
		w, wq = W2[2*g+1], WQ2[2*g+1]
		x4, x6 = bf(x4, x6, w, wq)
		x5, x7 = bf(x5, x7, w, wq)
		w, wq = W4[g], WQ4[g]
		b[0], b[4] = bf(x0, x4, w, wq)
		b[1], b[5] = bf(x1, x5, w, wq)
		b[2], b[6] = bf(x2, x6, w, wq)
		b[3], b[7] = bf(x3, x7, w, wq)
	}
}
