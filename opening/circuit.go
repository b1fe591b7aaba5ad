package opening

import "fmt"

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
}

// newBuilder starts a circuit with g garbler input wires (plus the
// constant-zero wire, the last garbler input) and e evaluator input wires.
func newBuilder(g, e int) *builder {
	b := &builder{c: circuit{garblerIn: g + 1, evaluatorIn: e}}
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

func (b *builder) xor(x, y int) int { return b.gate(gateXOR, x, y) }
func (b *builder) and(x, y int) int { return b.gate(gateAND, x, y) }
func (b *builder) not(x int) int    { return b.gate(gateNOT, x, 0) }

// andG is g ∧ x for a garbler input wire g.
func (b *builder) andG(g, x int) int { return b.gate(gateANDG, g, x) }

// or is x ∨ y = ¬(¬x ∧ ¬y).
func (b *builder) or(x, y int) int { return b.not(b.and(b.not(x), b.not(y))) }

// one returns a wire that always carries 1.
func (b *builder) one() int { return b.not(b.zero) }

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
	return b.add(x, ny, b.one())
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
	one := b.one()
	for i := range out {
		if i < 64 && v>>uint(i)&1 == 1 {
			out[i] = one
		} else {
			out[i] = b.zero
		}
	}
	return out
}

// modSub returns (x - y) mod q for x, y in [0, q), on n = bits(q) wires.
func (b *builder) modSub(x, y []int, q uint64, n int) []int {
	d, noBorrow := b.sub(x, y)
	d2, _ := b.add(d, b.constant(q, n), b.zero)
	return b.mux(noBorrow, d, d2)
}

// mulGarbler returns x·k on len(x)+len(k) bits (schoolbook), k a vector of
// garbler input wires: each partial product bit is an AND with a bit the
// garbler knows (gateANDG, one table entry instead of two). After row j
// the accumulator is below 2^(len(x)+j+1), so row j's carry lands in a bit
// that is still zero and needs no further propagation.
func (b *builder) mulGarbler(x, k []int) []int {
	acc := b.zeros(len(x) + len(k))
	for j := range k {
		pp := make([]int, len(x))
		for i := range x {
			pp[i] = b.andG(k[j], x[i])
		}
		s, carry := b.add(acc[j:j+len(x)], pp, b.zero)
		copy(acc[j:], s)
		acc[j+len(x)] = carry
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
