package opening

import (
	"fmt"
	"math/big"
)

// A circuit is a boolean circuit of XOR, AND and NOT gates in topological
// order. Wires are numbered; the garbler's input wires come first, then the
// evaluator's, then one wire per gate output. Both parties build the same
// circuit from public numbers ([newDecisionCircuit]), so it never travels.
type circuit struct {
	garblerIn   int // wires 0 .. garblerIn-1
	evaluatorIn int // wires garblerIn .. garblerIn+evaluatorIn-1
	wires       int
	gates       []gate
	ands        int // AND gates of two garbled inputs: two table entries each
	andsG       int // AND gates with a garbler input (gateANDG): one entry each
	outputs     []int
}

type gateKind uint8

const (
	gateXOR gateKind = iota
	gateAND
	gateNOT
	// gateANDG is an AND whose first input is a garbler input wire: the
	// garbler knows that bit in the clear and garbles the gate with the
	// generator half-gate alone (one table entry; [garble]).
	gateANDG
)

type gate struct {
	kind    gateKind
	a, b, o int32
}

// builder appends gates to a circuit. Bit vectors are little endian:
// element 0 is the least significant bit.
type builder struct {
	c    circuit
	zero int // a garbler input wire that always carries 0
	one  int // the wire NOT(zero), made once; -1 until asked for
}

// newBuilder starts a circuit with g garbler input wires (plus the
// constant-zero wire, the last garbler input) and e evaluator input wires.
func newBuilder(g, e int) *builder {
	b := &builder{c: circuit{garblerIn: g + 1, evaluatorIn: e}, one: -1}
	b.c.wires = g + 1 + e
	b.zero = g
	return b
}

func (b *builder) garblerWires(from, n int) []int {
	return seq(from, n)
}

func (b *builder) evaluatorWires(from, n int) []int {
	return seq(b.c.garblerIn+from, n)
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func (b *builder) gate(k gateKind, x, y int) int {
	o := b.c.wires
	b.c.wires++
	b.c.gates = append(b.c.gates, gate{kind: k, a: int32(x), b: int32(y), o: int32(o)})
	switch k {
	case gateAND:
		b.c.ands++
	case gateANDG:
		if x >= b.c.garblerIn {
			panic("opening: gateANDG on a wire that is not a garbler input")
		}
		b.c.andsG++
	}
	return o
}

// The gate helpers fold the constant wires: an AND with the constant 0 is
// the constant 0, an AND with the constant 1 and an XOR with the constant 0
// are the other input. Such gates cost nothing in the clear and would cost
// table entries garbled.

func (b *builder) xor(x, y int) int {
	switch {
	case x == b.zero:
		return y
	case y == b.zero:
		return x
	}
	return b.gate(gateXOR, x, y)
}

func (b *builder) and(x, y int) int {
	switch {
	case x == b.zero || y == b.zero:
		return b.zero
	case x == b.one:
		return y
	case y == b.one:
		return x
	}
	return b.gate(gateAND, x, y)
}

func (b *builder) not(x int) int {
	switch {
	case x == b.zero:
		return b.constOne()
	case x == b.one:
		return b.zero
	}
	return b.gate(gateNOT, x, 0)
}

// andG is g ∧ x for a garbler input wire g.
func (b *builder) andG(g, x int) int {
	if g == b.zero || x == b.zero {
		return b.zero
	}
	return b.gate(gateANDG, g, x)
}

// or is x ∨ y = ¬(¬x ∧ ¬y).
func (b *builder) or(x, y int) int { return b.not(b.and(b.not(x), b.not(y))) }

// constOne returns the wire that always carries 1.
func (b *builder) constOne() int {
	if b.one < 0 {
		b.one = b.gate(gateNOT, b.zero, 0)
	}
	return b.one
}

// zeros returns n constant-zero wires.
func (b *builder) zeros(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = b.zero
	}
	return out
}

// extend pads x with zero wires to n bits.
func (b *builder) extend(x []int, n int) []int {
	if len(x) >= n {
		return x[:n]
	}
	return append(append([]int(nil), x...), b.zeros(n-len(x))...)
}

// add returns x + y + cin over max(len(x), len(y)) bits and the carry out,
// with one AND gate per bit (the full adder of Kolesnikov, Sadeghi and
// Schneider, "Improved Garbled Circuit Building Blocks", CANS 2009).
func (b *builder) add(x, y []int, cin int) ([]int, int) {
	n := max(len(x), len(y))
	x, y = b.extend(x, n), b.extend(y, n)
	sum := make([]int, n)
	c := cin
	for i := 0; i < n; i++ {
		t1 := b.xor(x[i], c)
		t2 := b.xor(y[i], c)
		sum[i] = b.xor(t1, y[i])
		c = b.xor(c, b.and(t1, t2))
	}
	return sum, c
}

// sub returns x - y mod 2^n (n = max of the widths) and a wire that is 1
// when x >= y (no borrow).
func (b *builder) sub(x, y []int) ([]int, int) {
	n := max(len(x), len(y))
	y = b.extend(y, n)
	ny := make([]int, n)
	for i := range y {
		ny[i] = b.not(y[i])
	}
	return b.add(x, ny, b.constOne())
}

// lessThan returns a wire that is 1 when x < y (unsigned).
func (b *builder) lessThan(x, y []int) int {
	_, geq := b.sub(x, y)
	return b.not(geq)
}

// mux returns x where s is 1 and y where it is 0, bit by bit.
func (b *builder) mux(s int, x, y []int) []int {
	n := max(len(x), len(y))
	x, y = b.extend(x, n), b.extend(y, n)
	out := make([]int, n)
	for i := range out {
		out[i] = b.xor(y[i], b.and(s, b.xor(x[i], y[i])))
	}
	return out
}

// constant returns wires carrying the public constant v on n bits.
func (b *builder) constant(v uint64, n int) []int {
	out := make([]int, n)
	one := b.constOne()
	for i := range out {
		if i < 64 && v>>uint(i)&1 == 1 {
			out[i] = one
		} else {
			out[i] = b.zero
		}
	}
	return out
}

// modSub returns (x - y) mod q for x, y in [0, q), on n = bits(q) wires:
// x - y mod 2^n, plus q where the subtraction borrowed (q's bits ANDed with
// the borrow are the borrow wire or the constant 0, so the correction is
// one adder, without a multiplexer).
func (b *builder) modSub(x, y []int, q uint64, n int) []int {
	d, noBorrow := b.sub(x, y)
	borrow := b.not(noBorrow)
	qb := make([]int, n)
	for i := range qb {
		qb[i] = b.zero
		if i < 64 && q>>uint(i)&1 == 1 {
			qb[i] = borrow
		}
	}
	s, _ := b.add(d, qb, b.zero)
	return s
}

// Products with a garbler key: radix-4 Booth recoding (Booth 1951, in the
// modified form of MacSorley 1961) of the evaluator's factor z, so that a
// product has ⌈(len(z)+1)/2⌉ rows instead of one per key bit. Row r is
// d_r·K with the digit d_r = -2·z_{2r+1} + z_{2r} + z_{2r-1} in {0, ±1, ±2}:
// its bits are K's or 2K's (K shifted) selected by two evaluator signals,
// each selection an AND with a garbler bit (gateANDG, one table entry), and
// its sign is an XOR with z_{2r+1} (free) plus a carry-in. Since
// Σ d_r·4^r = z, the rows sum to z·K. Each row is written as an unsigned
// len(K)+2-bit number whose top bit is the inverted sign, which adds
// 2^(len(K)+1) to the row's two's complement value (the usual way around
// sign extension); the sum of those offsets, boothOffset, is public and
// the caller subtracts it once. Per pair of z's bits this costs 2·len(K)
// one-entry ANDs and len(K)+3 two-entry ANDs, against 2·len(K) of each for
// the schoolbook rows: the adders, the costly part, are halved.

// boothRows is the number of rows of a product with an n-bit evaluator factor.
func boothRows(n int) int { return (n + 2) / 2 }

// boothWidth is the number of wires of mulBooth's output for an n-bit
// evaluator factor and an a-bit key: row r's carry lands at bit 2r+a+2.
func boothWidth(n, a int) int { return 2*(boothRows(n)-1) + a + 3 }

// boothOffset is what mulBooth's output exceeds z·K by: 2^(a+1) per row at
// the row's place, Σ_r 2^(2r+a+1).
func boothOffset(n, a int) *big.Int {
	o := new(big.Int)
	for r := 0; r < boothRows(n); r++ {
		o.SetBit(o, 2*r+a+1, 1)
	}
	return o
}

// mulBooth returns z·K + boothOffset(len(z), len(k)) on
// boothWidth(len(z), len(k)) wires, for an evaluator factor z (unsigned)
// and a key k of garbler input wires. After row r the sum is below
// 2^(2r+a+3), so row r+1's carry lands in a bit that is still zero.
func (b *builder) mulBooth(z, k []int) []int {
	a := len(k)
	bit := func(j int) int {
		if j < 0 || j >= len(z) {
			return b.zero
		}
		return z[j]
	}
	acc := b.zeros(boothWidth(len(z), a))
	for r := 0; r < boothRows(len(z)); r++ {
		hi, mid, lo := bit(2*r+1), bit(2*r), bit(2*r-1)
		one := b.xor(mid, lo)                    // |d_r| = 1
		two := b.and(b.xor(hi, mid), b.not(one)) // |d_r| = 2
		neg := hi                                // d_r < 0, or d_r = 0 written as -0
		row := make([]int, a+2)
		for i := 0; i <= a; i++ {
			s := b.zero
			if i < a {
				s = b.andG(k[i], one)
			}
			if i > 0 {
				s = b.xor(s, b.andG(k[i-1], two))
			}
			row[i] = b.xor(s, neg)
		}
		row[a+1] = b.not(neg)
		at := 2 * r
		s, c := b.add(acc[at:at+a+2], row, neg)
		copy(acc[at:], s)
		acc[at+a+2] = c
	}
	return acc
}

// orAll returns the OR of all wires (0 for none).
func (b *builder) orAll(x []int) int {
	if len(x) == 0 {
		return b.zero
	}
	for len(x) > 1 {
		var next []int
		for i := 0; i+1 < len(x); i += 2 {
			next = append(next, b.or(x[i], x[i+1]))
		}
		if len(x)%2 == 1 {
			next = append(next, x[len(x)-1])
		}
		x = next
	}
	return x[0]
}

// isZero returns a wire that is 1 when every wire of x is 0.
func (b *builder) isZero(x []int) int { return b.not(b.orAll(x)) }

// check reports a circuit whose wires are out of order (a programming
// error): every gate reads wires defined before it.
func (c *circuit) check() error {
	defined := c.garblerIn + c.evaluatorIn
	for i, g := range c.gates {
		if int(g.a) >= int(g.o) || (g.kind != gateNOT && int(g.b) >= int(g.o)) || int(g.o) != defined {
			return fmt.Errorf("opening: gate %d reads an undefined wire", i)
		}
		if g.kind == gateANDG && int(g.a) >= c.garblerIn {
			return fmt.Errorf("opening: gate %d: garbler AND on a wire that is not a garbler input", i)
		}
		defined++
	}
	for _, o := range c.outputs {
		if o >= c.wires {
			return fmt.Errorf("opening: output wire %d undefined", o)
		}
	}
	return nil
}
