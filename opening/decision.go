package opening

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
)

// Params are the public numbers of an opening, fixed by the HE parameter
// set: both parties build the same circuit from them.
type Params struct {
	// Q is the modulus of the shares (the HE result modulus): a prime of the
	// form 2^A - 2^B + 1 with 2B < A <= 62, so that the circuit reduces modulo Q
	// with additions only.
	Q uint64
	// CBits and YBits are the widths, in bits, of the count's window and
	// of the two norms' (the template coordinates' and the padding
	// coordinates'): the largest window width is below 2^CBits (2^YBits).
	CBits, YBits int
	// Tol is log2 of the MAC's tolerance: the tag passes when the noise e of
	// its ciphertext is in [-2^Tol, 2^Tol).
	Tol int
}

// Secrets are the responder's inputs to one opening, every value modulo Q.
// For X in C (the count), Y (the squared norm of the template coordinates),
// P (the squared norm of the padding coordinates) and T (the tag) the
// evaluator's input is x_X = z_X + Off_X, where z_X is the plaintext
// coefficient the opening tests (shifted so that its window starts at 0
// for C, Y and P).
type Secrets struct {
	OffC, OffY, OffP, OffT uint64 // the responder's masks (plus the window's low end for C, Y and P)
	WidthC, WidthY, WidthP uint64 // z_X is in its window iff it is below Width_X
	K1, K2, K4, K3         uint64 // MAC: z_T = K1·z_C + K2·z_Y + K4·z_P + K3 + e (mod Q), e in [-2^Tol, 2^Tol)
}

// Inputs are the evaluator's four values x_C, x_Y, x_P, x_T, in that order.
type Inputs [4]uint64

// Destroy zeroes the secrets.
func (s *Secrets) Destroy() { *s = Secrets{} }

// qShape returns A and B with Q = 2^A - 2^B + 1, or an error.
func (p Params) qShape() (a, b int, err error) {
	if p.Q < 3 || !new(big.Int).SetUint64(p.Q).ProbablyPrime(20) {
		return 0, 0, fmt.Errorf("opening: modulus %#x is not a prime", p.Q)
	}
	a = bits.Len64(p.Q)
	d := uint64(1)<<uint(a) - p.Q + 1 // 2^B
	if d == 0 || d&(d-1) != 0 {
		return 0, 0, fmt.Errorf("opening: modulus %#x is not 2^A - 2^B + 1", p.Q)
	}
	b = bits.TrailingZeros64(d)
	if a > 62 || 2*b >= a {
		return 0, 0, fmt.Errorf("opening: modulus 2^%d - 2^%d + 1 outside the supported shapes", a, b)
	}
	return a, b, nil
}

// Validate checks that the parameters define a circuit this package builds.
func (p Params) Validate() error {
	a, b, err := p.qShape()
	if err != nil {
		return err
	}
	switch {
	case p.CBits < 1 || p.CBits > a-b-2, p.YBits < 1 || p.YBits >= p.CBits:
		// With YBits < CBits the MAC's sum stays below 2^(a+CBits+1)
		// (newDecisionCircuit), which one Solinas fold brings below 2Q only
		// if CBits <= a-b-2.
		return fmt.Errorf("opening: window widths %d and %d bits: want 1 <= YBits < CBits <= %d", p.CBits, p.YBits, a-b-2)
	case p.Tol < 0 || p.Tol+2 >= a:
		return fmt.Errorf("opening: tolerance 2^%d too large for a %d-bit modulus", p.Tol, a)
	}
	return nil
}

func (s *Secrets) validate(p Params) error {
	for _, v := range []uint64{s.OffC, s.OffY, s.OffP, s.OffT, s.K1, s.K2, s.K4, s.K3} {
		if v >= p.Q {
			return errors.New("opening: a secret is not reduced modulo Q")
		}
	}
	if s.WidthC == 0 || s.WidthC > 1<<uint(p.CBits) || s.WidthY == 0 || s.WidthY > 1<<uint(p.YBits) || s.WidthP == 0 || s.WidthP > 1<<uint(p.YBits) {
		return errors.New("opening: a window width is outside the circuit's")
	}
	return nil
}

// Wire layout of the decision circuit. Garbler inputs, each `n` = bits(Q)
// bits unless noted: OffC, OffY, OffP, WidthC (CBits+1), WidthY and WidthP
// (YBits+1 each), K1, K2, K4, and K3' (macBits wires: the MAC's constant
// term, [layout.macConstant]); then the constant-zero wire. Evaluator
// inputs: x_C, x_Y, x_P, x_T.
type layout struct {
	n, a, b                int
	offC, offY, offP       int
	widthC, widthY, widthP int
	k1, k2, k4, k3         int
	macBits                int       // a+CBits+1: the MAC's sum is below 2^macBits
	offset                 [2]uint64 // the three products' Booth offsets mod 2^macBits, low word first (public)
	garbler, evaluator     int
}

func newLayout(p Params) layout {
	a, b, _ := p.qShape()
	l := layout{n: a, a: a, b: b, macBits: a + p.CBits + 1}
	o := new(big.Int).Add(boothOffset(p.CBits, a), boothOffset(p.YBits, a))
	o.Add(o, boothOffset(p.YBits, a))
	o.Mod(o, new(big.Int).Lsh(big.NewInt(1), uint(l.macBits)))
	l.offset = [2]uint64{new(big.Int).And(o, new(big.Int).SetUint64(^uint64(0))).Uint64(), new(big.Int).Rsh(o, 64).Uint64()}
	pos := 0
	next := func(w int) int { p := pos; pos += w; return p }
	l.offC, l.offY, l.offP = next(l.n), next(l.n), next(l.n)
	l.widthC, l.widthY, l.widthP = next(p.CBits+1), next(p.YBits+1), next(p.YBits+1)
	l.k1, l.k2, l.k4, l.k3 = next(l.n), next(l.n), next(l.n), next(l.macBits)
	l.garbler = pos
	l.evaluator = len(Inputs{}) * l.n
	return l
}

// newDecisionCircuit builds the circuit whose single output is
//
//	hit = [z_C < WidthC] ∧ [z_Y < WidthY] ∧ [z_P < WidthP]
//	      ∧ [z_T - (K1·z_C + K2·z_Y + K4·z_P + K3) mod Q in [-2^Tol, 2^Tol)]
//
// with z_X = (x_X - Off_X) mod Q. The MAC multiplies only the window's
// bits of z_C, z_Y and z_P: outside a window the output is 0 whatever the
// tag. It is computed as
//
//	m = K1·z_C + K2·z_Y + K4·z_P + K3 + Off_T - 2^Tol  (mod Q)
//	macOK = (x_T - m) mod Q < 2^(Tol+1)
//
// so that z_T is never formed: Off_T and the tolerance's offset travel in
// the garbler's constant K3' with the products' Booth offsets (mulBooth).
func newDecisionCircuit(p Params) (*circuit, layout) {
	l := newLayout(p)
	b := newBuilder(l.garbler, l.evaluator)
	gw := func(at, n int) []int { return b.garblerWires(at, n) }
	x := func(i int) []int { return b.evaluatorWires(i*l.n, l.n) }

	zC := b.modSub(x(0), gw(l.offC, l.n), p.Q, l.n)
	zY := b.modSub(x(1), gw(l.offY, l.n), p.Q, l.n)
	zP := b.modSub(x(2), gw(l.offP, l.n), p.Q, l.n)
	inC := b.lessThan(zC, gw(l.widthC, p.CBits+1))
	inY := b.lessThan(zY, gw(l.widthY, p.YBits+1))
	inP := b.lessThan(zP, gw(l.widthP, p.YBits+1))

	// With every K and Off_T - 2^Tol mod Q below Q < 2^a: K1·z_C <=
	// 2^(a+CBits) - 2^a, and K2·z_Y, K4·z_P <= 2^(a+CBits-1) - 2^a each
	// since YBits < CBits (Params.Validate); with K3 and Off_T - 2^Tol the
	// integer m is below 2^(a+CBits+1) = 2^macBits. The sum is taken
	// modulo 2^macBits, where the Booth offsets, subtracted in K3', cancel.
	sum := func(x, y []int) []int {
		s, _ := b.add(b.extend(x, l.macBits), b.extend(y, l.macBits), b.zero)
		return s
	}
	m := sum(b.mulBooth(zY[:p.YBits], gw(l.k2, l.n)), b.mulBooth(zP[:p.YBits], gw(l.k4, l.n)))
	m = sum(m, b.mulBooth(zC[:p.CBits], gw(l.k1, l.n)))
	m = sum(m, gw(l.k3, l.macBits))
	mq := b.reduceSolinas(m, l.a, l.b, p.Q)

	// z_T - (K·z + K3) in [-2^Tol, 2^Tol) (mod Q)  <=>  (x_T - m) mod Q < 2^(Tol+1)
	d := b.modSub(x(3), mq, p.Q, l.n)
	macOK := b.lessThan(d, b.constant(uint64(1)<<uint(p.Tol+1), l.n))

	b.c.outputs = []int{b.and(b.and(b.and(inC, inY), inP), macOK)}
	return &b.c, l
}

// reduceSolinas returns x mod Q for Q = 2^a - 2^b + 1, with x below
// 2^(2a-b-1) so that one fold brings it below 2Q.
func (b *builder) reduceSolinas(x []int, a, sb int, q uint64) []int {
	if len(x) <= a {
		x = b.extend(x, a+1)
	} else {
		// x = hi·2^a + lo ≡ lo + hi·2^b - hi  (mod Q)
		lo, hi := x[:a], x[a:]
		shifted := append(b.zeros(sb), hi...)
		s, c := b.add(lo, shifted, b.zero)
		s = append(s, c)
		x, _ = b.sub(s, hi)
	}
	// now x < 2Q: subtract Q once if x >= Q
	d, geq := b.sub(x, b.constant(q, len(x)))
	return b.mux(geq, d, x)[:a]
}

// circuitDigest names a circuit: SHA-256 of the parameters that define it
// and of the circuit itself (its inputs, every gate, its output), so that
// two builds whose circuits differ in any gate have different digests.
func circuitDigest(p Params, c *circuit) [32]byte {
	h := sha256.New()
	// v2: the MAC's partial products as garbler half-gates; v3: the
	// evaluator's labels by OT extension (ext.go), the base transfers'
	// request in the garbler's first message; v4: the padding
	// coordinates' norm, a fourth value with its own window and MAC key;
	// v5: the same function, the MAC's products by radix-4 Booth rows and
	// Off_T in the MAC's constant, and the gates in the digest.
	h.Write([]byte("puente/opening/v5 decision circuit\x00"))
	var b [8 + 3*4]byte
	binary.BigEndian.PutUint64(b[:8], p.Q)
	binary.BigEndian.PutUint32(b[8:], uint32(p.CBits))
	binary.BigEndian.PutUint32(b[12:], uint32(p.YBits))
	binary.BigEndian.PutUint32(b[16:], uint32(p.Tol))
	h.Write(b[:])
	var w [13]byte
	put := func(kind byte, x, y, z int) {
		w[0] = kind
		binary.BigEndian.PutUint32(w[1:], uint32(x))
		binary.BigEndian.PutUint32(w[5:], uint32(y))
		binary.BigEndian.PutUint32(w[9:], uint32(z))
		h.Write(w[:])
	}
	put(0xff, c.garblerIn, c.evaluatorIn, c.wires)
	for _, g := range c.gates {
		put(byte(g.kind), int(g.a), int(g.b), int(g.o))
	}
	for _, o := range c.outputs {
		put(0xfe, o, 0, 0)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// Digest names the decision circuit of p (its parameters and every gate):
// the garbler sends it, the evaluator compares it, and package he puts it
// in the parameter set's digest, so that nodes whose circuits differ
// refuse each other before any query.
func (p Params) Digest() [32]byte {
	return circuitOf(p).digest
}

// garblerBits lays the secrets out as the circuit's garbler input bits.
func (l layout) garblerBits(s *Secrets, p Params) []uint64 {
	out := make([]uint64, l.garbler+1) // + the constant-zero wire
	put := func(at, n int, v uint64) {
		for i := 0; i < n; i++ {
			out[at+i] = v >> uint(i) & 1
		}
	}
	put(l.offC, l.n, s.OffC)
	put(l.offY, l.n, s.OffY)
	put(l.offP, l.n, s.OffP)
	put(l.widthC, p.CBits+1, s.WidthC)
	put(l.widthY, p.YBits+1, s.WidthY)
	put(l.widthP, p.YBits+1, s.WidthP)
	put(l.k1, l.n, s.K1)
	put(l.k2, l.n, s.K2)
	put(l.k4, l.n, s.K4)
	lo, hi := l.macConstant(s, p)
	for i := 0; i < l.macBits; i++ {
		w := lo
		if i >= 64 {
			w = hi
		}
		out[l.k3+i] = w >> uint(i%64) & 1
	}
	lo, hi = 0, 0
	return out
}

// macConstant is the garbler's K3' = K3 + (Off_T - 2^Tol mod Q) minus the
// three products' Booth offsets, modulo 2^macBits (at most 2^124: two
// words, low first), in constant time: it is a function of the secrets K3
// and Off_T.
func (l layout) macConstant(s *Secrets, p Params) (lo, hi uint64) {
	d, borrow := bits.Sub64(s.OffT, 1<<uint(p.Tol), 0)
	offT := d + p.Q&-borrow // (Off_T - 2^Tol) mod Q, both below Q
	lo, carry := bits.Add64(s.K3, offT, 0)
	lo, borrow = bits.Sub64(lo, l.offset[0], 0)
	hi, _ = bits.Sub64(carry, l.offset[1], borrow)
	if l.macBits < 64 {
		return lo & (1<<uint(l.macBits) - 1), 0
	}
	return lo, hi & (1<<uint(l.macBits-64) - 1)
}

// evaluatorBits lays the evaluator's four values out as input bits.
func (l layout) evaluatorBits(x Inputs) []uint64 {
	out := make([]uint64, l.evaluator)
	for k, v := range x {
		for i := 0; i < l.n; i++ {
			out[k*l.n+i] = v >> uint(i) & 1
		}
	}
	return out
}

// Reference is the plaintext definition of the decision circuit's output,
// computed in the clear from both parties' inputs. Nothing in a protocol
// run calls it (no party has both inputs); tests use it to check the
// garbled circuit and to decide many answers quickly.
func Reference(p Params, s *Secrets, x Inputs) bool {
	q := new(big.Int).SetUint64(p.Q)
	z := func(x, off uint64) *big.Int {
		return new(big.Int).Mod(new(big.Int).Sub(new(big.Int).SetUint64(x), new(big.Int).SetUint64(off)), q)
	}
	zC, zY, zP, zT := z(x[0], s.OffC), z(x[1], s.OffY), z(x[2], s.OffP), z(x[3], s.OffT)
	in := func(z *big.Int, width uint64) bool { return z.Cmp(new(big.Int).SetUint64(width)) < 0 }
	low := func(v *big.Int, b int) *big.Int { return new(big.Int).Mod(v, new(big.Int).Lsh(big.NewInt(1), uint(b))) }
	m := new(big.Int).Mul(low(zC, p.CBits), new(big.Int).SetUint64(s.K1))
	m.Add(m, new(big.Int).Mul(low(zY, p.YBits), new(big.Int).SetUint64(s.K2)))
	m.Add(m, new(big.Int).Mul(low(zP, p.YBits), new(big.Int).SetUint64(s.K4)))
	m.Add(m, new(big.Int).SetUint64(s.K3))
	d := new(big.Int).Sub(zT, m)
	d.Add(d, new(big.Int).Lsh(big.NewInt(1), uint(p.Tol)))
	d.Mod(d, q)
	mac := d.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(p.Tol+1))) < 0
	return in(zC, s.WidthC) && in(zY, s.WidthY) && in(zP, s.WidthP) && mac
}
