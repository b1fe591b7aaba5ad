package opening

// Exhaustive and wide checks of the decision circuit (the Booth rows of the
// MAC, K3', the modular subtraction, the constant folding) against its
// plaintext definition. Everything here runs against the real builder: the
// circuit is evaluated in the clear, 64 cases at a time (plain64, one case
// per bit of a word), and compared with Reference, or through the whole
// garbled protocol.

import (
	"math/big"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// lanes writes up to 64 cases of the evaluator's inputs into ev, case i at
// bit i of each wire's word.
func lanes(ev []uint64, n int, batch []Inputs) {
	clear(ev)
	for lane, x := range batch {
		for k, v := range x {
			for i := 0; i < n; i++ {
				ev[k*n+i] |= (v >> uint(i) & 1) << uint(lane)
			}
		}
	}
}

// countLanes writes the values from, from+1, ..., from+63 into the input
// wires w, value i at bit i of each wire's word.
func countLanes(w []uint64, from uint64) {
	for i := range w {
		w[i] = 0
		for lane := uint64(0); lane < 64; lane++ {
			w[i] |= ((from + lane) >> uint(i) & 1) << lane
		}
	}
}

// laneValue reads case lane's value off the output wires (little endian).
func laneValue(ws []uint64, outputs []int, lane uint64) uint64 {
	var v uint64
	for i, o := range outputs {
		v |= (ws[o] >> lane & 1) << uint(i)
	}
	return v
}

// plain64 evaluates c on 64 cases at once (evalWords) and returns its
// output's word.
func plain64(c *circuit, in []uint64, buf []uint64) uint64 {
	return evalWords(c, in, buf)[c.outputs[0]]
}

// tinyShape is a modulus of the accepted form 2^A - 2^B + 1.
type tinyShape struct {
	q    uint64
	a, b int
}

// tinyModuli lists every prime 2^A - 2^B + 1 with 2B < A <= maxA that
// Params.Validate accepts with some widths (CBits >= 2).
func tinyModuli(maxA int) []tinyShape {
	var out []tinyShape
	for a := 3; a <= maxA; a++ {
		for b := 1; 2*b < a; b++ {
			q := uint64(1)<<a - uint64(1)<<b + 1
			if !new(big.Int).SetUint64(q).ProbablyPrime(20) || a-b-2 < 2 {
				continue
			}
			if (Params{Q: q, CBits: 2, YBits: 1, Tol: 0}).Validate() != nil {
				continue
			}
			out = append(out, tinyShape{q, a, b})
		}
	}
	return out
}

// fastRef is Reference for Q < 2^16 in uint64 arithmetic (checked against
// Reference in TestFastReference). Inputs may be >= Q (taken mod Q, as
// Reference does).
func fastRef(p Params, s *Secrets, x Inputs) bool {
	q := p.Q
	z := func(x, off uint64) uint64 { return (x%q + q - off) % q }
	zC, zY, zP, zT := z(x[0], s.OffC), z(x[1], s.OffY), z(x[2], s.OffP), z(x[3], s.OffT)
	if zC >= s.WidthC || zY >= s.WidthY || zP >= s.WidthP {
		return false
	}
	cm, ym := uint64(1)<<p.CBits-1, uint64(1)<<p.YBits-1
	m := (s.K1*(zC&cm) + s.K2*(zY&ym) + s.K4*(zP&ym) + s.K3) % q
	d := (zT + q - m + uint64(1)<<p.Tol%q) % q
	return d < uint64(1)<<(p.Tol+1)
}

func TestFastReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	for _, sh := range tinyModuli(12) {
		for _, p := range tinyParams(sh) {
			for range 300 {
				s := extremeSecrets(rng, p)
				var x Inputs
				for i := range x {
					x[i] = rng.Uint64N(uint64(1) << sh.a)
				}
				if fastRef(p, s, x) != Reference(p, s, x) {
					t.Fatalf("%+v %+v %v: fastRef disagrees with Reference", p, *s, x)
				}
			}
		}
	}
}

// tinyParams returns every (CBits, YBits, Tol) Validate accepts for q
// (Tol limited to 0..3 and the largest).
func tinyParams(sh tinyShape) []Params {
	var out []Params
	for cb := 2; cb <= sh.a-sh.b-2; cb++ {
		for yb := 1; yb < cb; yb++ {
			for tol := 0; tol+2 < sh.a; tol++ {
				if tol > 3 && tol+3 < sh.a {
					continue
				}
				p := Params{Q: sh.q, CBits: cb, YBits: yb, Tol: tol}
				if p.Validate() == nil {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// extremeSecrets draws each secret from its extremes or at random.
func extremeSecrets(rng *rand.Rand, p Params) *Secrets {
	q := p.Q
	pick := func(vs ...uint64) uint64 {
		if rng.IntN(3) == 0 {
			return rng.Uint64N(q)
		}
		return vs[rng.IntN(len(vs))] % q
	}
	key := func() uint64 { return pick(0, 1, 2, q-1, q-2, q/2, (q-1)/2+1, uint64(1)<<(bits.Len64(q)-1)) }
	off := func() uint64 { return pick(0, 1, q-1, q-2, uint64(1)<<p.Tol, uint64(1)<<p.Tol-1, uint64(1)<<p.Tol+1) }
	width := func(b int) uint64 {
		switch rng.IntN(4) {
		case 0:
			return 1
		case 1:
			return uint64(1) << b
		case 2:
			return uint64(1)<<b - 1 + uint64(rng.IntN(2))
		}
		return 1 + rng.Uint64N(uint64(1)<<b)
	}
	s := &Secrets{
		OffC: off(), OffY: off(), OffP: off(), OffT: off(),
		WidthC: width(p.CBits), WidthY: width(p.YBits), WidthP: width(p.YBits),
		K1: key(), K2: key(), K4: key(), K3: key(),
	}
	if s.validate(p) != nil {
		panic("extremeSecrets drew invalid secrets")
	}
	return s
}

// sweeper evaluates one circuit on many evaluator inputs for fixed secrets.
type sweeper struct {
	t     *testing.T
	p     Params
	c     *circuit
	l     layout
	s     *Secrets
	in    []uint64
	buf   []uint64
	batch []Inputs
	// counts
	cases, hits, nonReduced, narrowed int
}

func newSweeper(t *testing.T, p Params, s *Secrets) *sweeper {
	c, l := decisionCircuit(p)
	sw := &sweeper{t: t, p: p, c: c, l: l, s: s, in: make([]uint64, c.garblerIn+c.evaluatorIn), buf: make([]uint64, c.wires)}
	for i, v := range l.garblerBits(s, p) {
		sw.in[i] = -v // 0 or all ones
	}
	return sw
}

func (sw *sweeper) add(x Inputs) {
	sw.batch = append(sw.batch, x)
	if len(sw.batch) == 64 {
		sw.flush()
	}
}

func (sw *sweeper) flush() {
	if len(sw.batch) == 0 {
		return
	}
	lanes(sw.in[sw.c.garblerIn:], sw.l.n, sw.batch)
	out := plain64(sw.c, sw.in, sw.buf)
	for lane, x := range sw.batch {
		got := out>>uint(lane)&1 == 1
		want := fastRef(sw.p, sw.s, x)
		reduced := x[0] < sw.p.Q && x[1] < sw.p.Q && x[2] < sw.p.Q && x[3] < sw.p.Q
		sw.cases++
		if got {
			sw.hits++
		}
		switch {
		case reduced && got != want:
			sw.t.Fatalf("%+v secrets %+v inputs %v: circuit %v, Reference %v (fastRef)", sw.p, *sw.s, x, got, Reference(sw.p, sw.s, x))
		case !reduced && got && !want:
			// a cheating evaluator's unreduced shares must never make a hit
			// that the reduced shares would not make
			sw.t.Fatalf("%+v secrets %+v unreduced inputs %v: circuit hit, Reference of the reduced shares no", sw.p, *sw.s, x)
		case !reduced:
			sw.nonReduced++
			if got != want {
				sw.narrowed++
			}
		}
	}
	sw.batch = sw.batch[:0]
}

// sweepAll feeds the Cartesian product of the lists.
func (sw *sweeper) sweepAll(xs [4][]uint64) {
	for _, c := range xs[0] {
		for _, y := range xs[1] {
			for _, pp := range xs[2] {
				for _, tt := range xs[3] {
					sw.add(Inputs{c, y, pp, tt})
				}
			}
		}
	}
	sw.flush()
}

func upTo(n uint64) []uint64 { return seqU(0, n) }
func seqU(from, n uint64) []uint64 {
	out := make([]uint64, 0, n)
	for v := from; v < from+n; v++ {
		out = append(out, v)
	}
	return out
}

// TestDecisionCircuitExhaustiveTinyModuli: for every accepted shape with A <= 6 (Q = 31,
// 61), every evaluator input in [0, 2^A)^4 (reduced and not) against
// Reference, for many extreme and random secrets. Unreduced inputs, which
// NewEvaluator refuses but a cheating evaluator can choose by its OT
// choice bits, must never hit where the reduced ones would not.
func TestDecisionCircuitExhaustiveTinyModuli(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s: every input at the smallest moduli")
	}
	rng := rand.New(rand.NewPCG(1, 68))
	total := 0
	for _, sh := range tinyModuli(6) {
		for _, p := range tinyParams(sh) {
			all := upTo(uint64(1) << sh.a)
			// 12 and 3 here (about 20 s); 40 and 6 (528,482,304 cases)
			// found no mismatch either.
			nSecrets := 12
			if sh.a == 6 {
				nSecrets = 3
			}
			for i := 0; i < nSecrets; i++ {
				s := extremeSecrets(rng, p)
				sw := newSweeper(t, p, s)
				sw.sweepAll([4][]uint64{all, all, all, all})
				if sw.hits == 0 && s.K1 != 0 {
					// not an error by itself; keeps an eye on the cases' coverage
					t.Logf("%+v %+v: no hit", p, *s)
				}
				total += sw.cases
			}
		}
	}
	t.Logf("%d cases", total)
}

// TestDecisionCircuitSmallModuli: every larger modulus with A <= 12 (127, 509,
// 1009, 1021, 2017, 4093), up to 8 accepted parameter sets each (always the
// widest CBits with YBits = CBits-1 and the largest Tol), 3 secrets each.
// x_C, x_Y, x_P run over every z below 2^(bits+1)+2 (capped), the top of
// Z_Q and unreduced x; x_T runs over all of [0, 2^A) when A <= 7, else
// over both edges of the MAC's band for that triple, random tags and
// unreduced ones.
func TestDecisionCircuitSmallModuli(t *testing.T) {
	if testing.Short() {
		t.Skip("about 15 s")
	}
	rng := rand.New(rand.NewPCG(2, 68))
	total := 0
	for _, sh := range tinyModuli(12) {
		if sh.a <= 6 {
			continue
		}
		all := tinyParams(sh)
		var ps []Params
		for _, p := range all {
			if p.CBits == sh.a-sh.b-2 && p.YBits == p.CBits-1 && (p.Tol == 0 || p.Tol+3 == sh.a) {
				ps = append(ps, p)
			}
		}
		for len(ps) < 8 {
			ps = append(ps, all[rng.IntN(len(all))])
		}
		for _, p := range ps {
			for i := 0; i < 3; i++ {
				s := extremeSecrets(rng, p)
				vals := func(off uint64, bitsW int, budget uint64) []uint64 {
					lim := min(uint64(1)<<(bitsW+1)+2, p.Q, budget)
					zs := upTo(lim)
					top := uint64(1) << bitsW
					zs = append(zs, top-1, top, top+1, p.Q-1, p.Q-2, p.Q-top, rng.Uint64N(p.Q), rng.Uint64N(p.Q))
					var xs []uint64
					for _, z := range zs {
						if z < p.Q {
							xs = append(xs, (z+off)%p.Q)
						}
					}
					for v := p.Q; v < uint64(1)<<sh.a && v < p.Q+2; v++ {
						xs = append(xs, v) // unreduced
					}
					return xs
				}
				xC := vals(s.OffC, p.CBits, 48)
				xY := vals(s.OffY, p.YBits, 24)
				xP := vals(s.OffP, p.YBits, 24)
				sw := newSweeper(t, p, s)
				if sh.a <= 7 {
					sw.sweepAll([4][]uint64{xC, xY, xP, upTo(uint64(1) << sh.a)})
					total += sw.cases
					continue
				}
				q := p.Q
				cm, ym := uint64(1)<<p.CBits-1, uint64(1)<<p.YBits-1
				for _, c := range xC {
					for _, y := range xY {
						for _, pp := range xP {
							z := func(x, off uint64) uint64 { return (x%q + q - off) % q }
							m := (s.K1*(z(c, s.OffC)&cm) + s.K2*(z(y, s.OffY)&ym) + s.K4*(z(pp, s.OffP)&ym) + s.K3) % q
							lo := (m + s.OffT + q - uint64(1)<<p.Tol%q) % q // first passing x_T
							hi := lo + uint64(1)<<(p.Tol+1)                 // first failing
							for d := uint64(0); d < 5; d++ {
								sw.add(Inputs{c, y, pp, (lo + q + d - 2) % q})
								sw.add(Inputs{c, y, pp, (hi + q + d - 2) % q})
							}
							for range 6 {
								sw.add(Inputs{c, y, pp, rng.Uint64N(q)})
							}
							sw.add(Inputs{c, y, pp, q + rng.Uint64N(uint64(1)<<sh.a-q)})
						}
					}
				}
				sw.flush()
				total += sw.cases
			}
		}
	}
	t.Logf("%d cases", total)
}

// TestBoothExhaustive: mulBooth and the K3' offsets on every z of
// n bits and every key of a bits, n in 1..8, a in 1..7, against z·K +
// boothOffset; and the final sum of three products plus K3' modulo
// 2^macBits.
func TestBoothExhaustive(t *testing.T) {
	for a := 1; a <= 7; a++ {
		for n := 1; n <= 8; n++ {
			b := newBuilder(a, n)
			k, z := b.garblerWires(0, a), b.evaluatorWires(0, n)
			b.c.outputs = b.mulBooth(z, k)
			if err := b.c.check(); err != nil {
				t.Fatal(err)
			}
			w := boothWidth(n, a)
			off := boothOffset(n, a).Uint64()
			buf := make([]uint64, b.c.wires)
			in := make([]uint64, b.c.garblerIn+b.c.evaluatorIn)
			for K := uint64(0); K < 1<<a; K++ {
				for i := 0; i < a; i++ {
					in[i] = -(K >> uint(i) & 1)
				}
				for z0 := uint64(0); z0 < 1<<n; z0 += 64 {
					countLanes(in[b.c.garblerIn:b.c.garblerIn+n], z0)
					ws := evalWords(&b.c, in, buf)
					for lane := uint64(0); lane < 64 && z0+lane < 1<<n; lane++ {
						got := laneValue(ws, b.c.outputs, lane)
						want := ((z0+lane)*K + off) & (1<<uint(w) - 1)
						if got != want || (z0+lane)*K+off >= 1<<uint(w) {
							t.Fatalf("a=%d n=%d K=%d z=%d: got %d, want %d", a, n, K, z0+lane, got, want)
						}
					}
				}
			}
		}
	}
}

// TestMACSumBound: reduceSolinas is right on every x below
// 2^(2a-b-1) (its stated precondition) for the tiny moduli, and the
// decision circuit's claim m < 2^(a+CBits+1) <= 2^(2a-b-1) holds at the
// worst case for every accepted width.
func TestMACSumBound(t *testing.T) {
	for _, sh := range tinyModuli(12) {
		nb := 2*sh.a - sh.b - 1
		b := newBuilder(0, nb)
		b.c.outputs = b.reduceSolinas(b.evaluatorWires(0, nb), sh.a, sh.b, sh.q)
		in := make([]uint64, b.c.garblerIn+nb)
		buf := make([]uint64, b.c.wires)
		for x0 := uint64(0); x0 < 1<<nb; x0 += 64 {
			countLanes(in[b.c.garblerIn:b.c.garblerIn+nb], x0)
			ws := evalWords(&b.c, in, buf)
			for lane := uint64(0); lane < 64 && x0+lane < 1<<nb; lane++ {
				got := laneValue(ws, b.c.outputs, lane)
				if got != (x0+lane)%sh.q {
					t.Fatalf("Q=%d: reduceSolinas(%d) = %d, want %d", sh.q, x0+lane, got, (x0+lane)%sh.q)
				}
			}
		}
	}
	// the bound of newDecisionCircuit's comment, at the production modulus
	// and every accepted width: the worst m is below 2^(a+CBits+1), which is
	// at most 2^(2a-b-1) and at most 2^macBits
	for _, sh := range append(tinyModuli(12), tinyShape{q0, 60, 18}) {
		for cb := 2; cb <= sh.a-sh.b-2; cb++ {
			p := Params{Q: sh.q, CBits: cb, YBits: cb - 1, Tol: 0}
			if p.Validate() != nil {
				continue
			}
			l := newLayout(p)
			q1 := new(big.Int).SetUint64(sh.q - 1)
			m := new(big.Int).Mul(q1, big.NewInt(1<<cb-1))
			m.Add(m, new(big.Int).Mul(q1, big.NewInt(2*(1<<(cb-1)-1))))
			m.Add(m, new(big.Int).Add(q1, q1)) // K3 + (Off_T - 2^Tol mod Q)
			if m.BitLen() > sh.a+cb+1 || sh.a+cb+1 > 2*sh.a-sh.b-1 || sh.a+cb+1 > l.macBits {
				t.Fatalf("Q=%#x CBits=%d: worst m has %d bits, a+CBits+1=%d, 2a-b-1=%d, macBits=%d", sh.q, cb, m.BitLen(), sh.a+cb+1, 2*sh.a-sh.b-1, l.macBits)
			}
		}
	}
}

// TestDecisionCircuitStructure: for every tiny shape and the production ones, the
// circuit passes check(), every gateANDG's first input is a garbler input
// other than the constant-zero wire and its second is not a constant, and
// no gate has a constant input the builder could have folded except the
// one NOT that makes the constant-one wire.
func TestDecisionCircuitStructure(t *testing.T) {
	ps := []Params{testParams, {Q: q0, CBits: 40, YBits: 25, Tol: 10}, {Q: q0, CBits: 2, YBits: 1, Tol: 0}}
	for _, sh := range tinyModuli(12) {
		ps = append(ps, tinyParams(sh)...)
	}
	for _, p := range ps {
		c, l := newDecisionCircuit(p)
		if err := c.check(); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		zero := l.garbler
		one := -1
		for i, g := range c.gates {
			a, b := int(g.a), int(g.b)
			switch g.kind {
			case gateNOT:
				if a == zero {
					if one >= 0 {
						t.Fatalf("%+v gate %d: a second constant-one wire", p, i)
					}
					one = int(g.o)
				} else if a == one {
					t.Fatalf("%+v gate %d: NOT of the constant one", p, i)
				}
			case gateANDG:
				if a >= c.garblerIn || a == zero || b == zero || b == one || b < c.garblerIn {
					t.Fatalf("%+v gate %d: garbler AND on wires %d, %d (garbler inputs < %d, zero %d, one %d)", p, i, a, b, c.garblerIn, zero, one)
				}
				if a < l.k1 || a >= l.k3 {
					t.Fatalf("%+v gate %d: garbler AND on a garbler wire %d that is not a key bit", p, i, a)
				}
			case gateAND, gateXOR:
				if a == zero || b == zero || (g.kind == gateAND && (a == one || b == one)) {
					t.Fatalf("%+v gate %d (%d): unfolded constant input %d, %d", p, i, g.kind, a, b)
				}
			}
		}
		if len(c.outputs) != 1 || c.outputs[0] >= c.wires || c.outputs[0] < c.garblerIn+c.evaluatorIn || c.outputs[0] == one {
			t.Fatalf("%+v: outputs %v", p, c.outputs)
		}
	}
}

// booth patterns of a bits: all -1 digits, alternating +2/-2, -0 rows.
func boothPatterns(n int) []uint64 {
	mask := uint64(1)<<n - 1
	return []uint64{
		mask, mask - 1, 0, 1, 1 << (n - 1), mask >> 1,
		0xaaaaaaaaaaaaaaab & mask, // digits -1, -1, ..., the top +
		0xaaaaaaaaaaaaaaaa & mask, // -2, -1, -1, ...
		0x5555555555555555 & mask,
		0x9999999999999999 & mask, // +1, -2, +2, -2, ...
		0x6666666666666666 & mask,
		0xcccccccccccccccc & mask,
		0x3333333333333333 & mask,
		0xb6db6db6db6db6db & mask,
	}
}

// TestDecisionCircuitProductionShape: the production shape (Q = 2^60 - 2^18 + 1,
// CBits 40, YBits 25, Tol 10) and testParams, in the clear against
// Reference: extreme keys and masks (0, 1, Q-1, 2^59, Booth patterns),
// Off_T around 2^Tol (where Off_T - 2^Tol wraps mod Q), z at the windows'
// ends and in Booth patterns, tags at each end of the tolerance.
func TestDecisionCircuitProductionShape(t *testing.T) {
	for _, p := range []Params{{Q: q0, CBits: 40, YBits: 25, Tol: 10}, testParams} {
		c, l := decisionCircuit(p)
		rng := rand.New(rand.NewPCG(3, 68))
		buf := make([]uint64, c.wires)
		in := make([]uint64, c.garblerIn+c.evaluatorIn)
		keys := append([]uint64{0, 1, 2, q0 - 1, q0 - 2, 1 << 59, 1<<59 - 1, q0 >> 1}, boothPatterns(60)...)
		offs := []uint64{0, 1, q0 - 1, 1 << p.Tol, 1<<p.Tol - 1, 1<<p.Tol + 1, 1<<(p.Tol+1) - 1}
		pick := func(vs []uint64) uint64 {
			if rng.IntN(3) == 0 {
				return rng.Uint64N(q0)
			}
			return vs[rng.IntN(len(vs))] % q0
		}
		zv := func(bitsW int, width uint64) uint64 {
			switch rng.IntN(5) {
			case 0:
				return width - 1
			case 1:
				return width
			case 2:
				return q0 - 1 - rng.Uint64N(3)
			case 3:
				return rng.Uint64N(width)
			}
			return boothPatterns(bitsW)[rng.IntN(14)] % q0
		}
		wv := func(bitsW int) uint64 {
			switch rng.IntN(3) {
			case 0:
				return 1 << bitsW
			case 1:
				return 1 + rng.Uint64N(1<<bitsW)
			}
			return boothPatterns(bitsW)[rng.IntN(14)] + 1
		}
		var cases, hits int
		for trial := 0; trial < 2000; trial++ {
			s := &Secrets{
				OffC: pick(offs), OffY: pick(offs), OffP: pick(offs), OffT: pick(offs),
				WidthC: wv(p.CBits), WidthY: wv(p.YBits), WidthP: wv(p.YBits),
				K1: pick(keys), K2: pick(keys), K4: pick(keys), K3: pick(keys),
			}
			if err := s.validate(p); err != nil {
				t.Fatal(err)
			}
			for i, v := range l.garblerBits(s, p) {
				in[i] = -v
			}
			var batch []Inputs
			for lane := 0; lane < 64; lane++ {
				zC, zY, zP := zv(p.CBits, s.WidthC), zv(p.YBits, s.WidthY), zv(p.YBits, s.WidthP)
				if lane%2 == 0 { // keep most in their windows
					zC, zY, zP = zC%s.WidthC, zY%s.WidthY, zP%s.WidthP
				}
				es := []int64{0, -(1 << p.Tol), 1<<p.Tol - 1, 1 << p.Tol, -(1 << p.Tol) - 1}
				e := es[rng.IntN(len(es))]
				tag := honestTag(p, s, zC, zY, zP, e)
				x := Inputs{addMod(q0, zC, s.OffC), addMod(q0, zY, s.OffY), addMod(q0, zP, s.OffP), addMod(q0, tag, s.OffT)}
				if lane%7 == 3 {
					x[3] = rng.Uint64N(q0)
				}
				batch = append(batch, x)
			}
			lanes(in[c.garblerIn:], l.n, batch)
			out := plain64(c, in, buf)
			for lane, x := range batch {
				got, want := out>>uint(lane)&1 == 1, Reference(p, s, x)
				if got != want {
					t.Fatalf("%+v secrets %+v inputs %v: circuit %v, Reference %v", p, *s, x, got, want)
				}
				cases++
				if want {
					hits++
				}
			}
		}
		t.Logf("%+v: %d cases, %d hits", p, cases, hits)
		if hits < 1000 || cases-hits < 1000 {
			t.Fatalf("coverage: %d hits of %d", hits, cases)
		}
	}
}

// runUnchecked is run with newEvaluator: the evaluator's inputs are not
// range checked, as a querier that picks its own choice bits can have it.
func runUnchecked(t *testing.T, p Params, s *Secrets, x Inputs, seed byte) (bool, error) {
	t.Helper()
	return runWith(t, p, s, x, seed, newEvaluator)
}

// TestGarbledTinyModuli: full garbled runs (Garble, OT extension, Finish)
// at Q = 31, 127 and 4093 with extreme secrets, honest-looking and
// unreduced inputs, against Reference (unreduced: never a hit Reference
// of the reduced shares refuses).
func TestGarbledTinyModuli(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 68))
	ps := []Params{{Q: 31, CBits: 2, YBits: 1, Tol: 0}, {Q: 127, CBits: 4, YBits: 3, Tol: 1}, {Q: 4093, CBits: 8, YBits: 7, Tol: 2}}
	hits := 0
	for _, p := range ps {
		a := bits.Len64(p.Q)
		for i := 0; i < 40; i++ {
			s := extremeSecrets(rng, p)
			zC, zY, zP := rng.Uint64N(s.WidthC), rng.Uint64N(s.WidthY), rng.Uint64N(s.WidthP)
			e := int64(rng.IntN(1<<(p.Tol+2))) - 1<<(p.Tol+1)
			tag := honestTag(p, s, zC, zY, zP, e)
			x := Inputs{addMod(p.Q, zC, s.OffC), addMod(p.Q, zY, s.OffY), addMod(p.Q, zP, s.OffP), addMod(p.Q, tag, s.OffT)}
			if i%4 == 3 {
				x[rng.IntN(4)] = p.Q + rng.Uint64N(uint64(1)<<a-p.Q) // unreduced
			}
			want := Reference(p, s, x)
			reduced := x[0] < p.Q && x[1] < p.Q && x[2] < p.Q && x[3] < p.Q
			got, err := runUnchecked(t, p, s, x, byte(i))
			if err != nil {
				t.Fatalf("%+v %+v %v: %v", p, *s, x, err)
			}
			if (reduced && got != want) || (!reduced && got && !want) {
				t.Fatalf("%+v %+v %v: garbled %v, Reference %v", p, *s, x, got, want)
			}
			if got {
				hits++
			}
		}
	}
	if hits < 30 {
		t.Fatalf("only %d hits", hits)
	}
}

// TestShiftAttackProductionShape: the querier's shift attack at the production
// shape (YBits 25, Tol 10) on each of the count, the norm and the padding
// norm: a value far outside its window shifted into it, the tag left alone,
// shifted at random, or shifted by a guessed key times the shift. In the
// clear 3 x 3 x 300 attempts, garbled 3 x 3.
func TestShiftAttackProductionShape(t *testing.T) {
	p := Params{Q: q0, CBits: 40, YBits: 25, Tol: 10}
	rng := rand.New(rand.NewPCG(5, 68))
	for i := 0; i < 3; i++ {
		bitsW := p.YBits
		if i == 0 {
			bitsW = p.CBits
		}
		for mode := 0; mode < 3; mode++ {
			attempt := func() (*Secrets, Inputs) {
				z := [3]uint64{1000, 300, 20}
				z[i] = uint64(1)<<(bitsW+1) + rng.Uint64N(1<<20) // far out
				s, x := honest(rng, p, z[0], z[1], z[2], 0)
				target := rng.Uint64N(1 << (bitsW - 3)) // inside every window honest() sets
				delta := (target + q0 - z[i]) % q0
				x[i] = (x[i] + delta) % q0
				switch mode {
				case 1:
					x[3] = (x[3] + rng.Uint64N(q0)) % q0
				case 2: // guess the key: x_T += K'·(low(target) - low(z))
					k := rng.Uint64N(q0)
					lowd := (target%(1<<bitsW) + q0 - z[i]%(1<<bitsW)) % q0
					x[3] = (x[3] + new(big.Int).Mod(new(big.Int).Mul(new(big.Int).SetUint64(k), new(big.Int).SetUint64(lowd)), new(big.Int).SetUint64(q0)).Uint64()) % q0
				}
				return s, x
			}
			for range 300 {
				if s, x := attempt(); Reference(p, s, x) {
					t.Fatalf("value %d mode %d: a shifted share passed Reference", i, mode)
				}
			}
			s, x := attempt()
			got, err := runUnchecked(t, p, s, x, byte(30*i+10*mode))
			if err != nil || got {
				t.Fatalf("value %d mode %d: garbled %v, %v", i, mode, got, err)
			}
		}
	}
}

// TestDecisionCircuitWideShapes: moduli 2^A - 2^B + 1 for A from 13 to 62 (the
// smallest and the largest B that give a prime), at the widest widths
// Validate accepts (CBits = A-B-2, YBits = CBits-1) and at Tol 0 and
// A-3, against Reference on extreme secrets and Booth-pattern values.
func TestDecisionCircuitWideShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 68))
	var ps []Params
	for a := 13; a <= 62; a++ {
		var found []int
		for b := 1; 2*b < a; b++ {
			q := uint64(1)<<a - uint64(1)<<b + 1
			if new(big.Int).SetUint64(q).ProbablyPrime(20) && a-b-2 >= 2 {
				found = append(found, b)
			}
		}
		if len(found) == 0 {
			continue
		}
		for _, b := range []int{found[0], found[len(found)-1]} {
			q := uint64(1)<<a - uint64(1)<<b + 1
			cb := a - b - 2
			for _, tol := range []int{0, a - 3} {
				p := Params{Q: q, CBits: cb, YBits: cb - 1, Tol: tol}
				if err := p.Validate(); err != nil {
					t.Fatalf("%+v: %v", p, err)
				}
				ps = append(ps, p)
			}
		}
	}
	cases, hits := 0, 0
	for _, p := range ps {
		c, l := decisionCircuit(p)
		buf := make([]uint64, c.wires)
		in := make([]uint64, c.garblerIn+c.evaluatorIn)
		q := p.Q
		a := bits.Len64(q)
		for trial := 0; trial < 40; trial++ {
			s := extremeSecrets(rng, p)
			for i, v := range l.garblerBits(s, p) {
				in[i] = -v
			}
			zv := func(bitsW int, width uint64) uint64 {
				switch rng.IntN(4) {
				case 0:
					return width - 1
				case 1:
					return width
				case 2:
					return boothPatterns(bitsW)[rng.IntN(14)] % width
				}
				return rng.Uint64N(width)
			}
			var batch []Inputs
			for lane := 0; lane < 64; lane++ {
				zC, zY, zP := zv(p.CBits, s.WidthC), zv(p.YBits, s.WidthY), zv(p.YBits, s.WidthP)
				e := int64(rng.IntN(1<<(p.Tol+2))) - 1<<(p.Tol+1)
				tag := honestTag(p, s, zC%q, zY%q, zP%q, e)
				x := Inputs{addMod(q, zC%q, s.OffC), addMod(q, zY%q, s.OffY), addMod(q, zP%q, s.OffP), addMod(q, tag, s.OffT)}
				if lane%9 == 4 {
					x[3] = rng.Uint64N(q)
				}
				if lane%13 == 6 {
					x[rng.IntN(4)] = q + rng.Uint64N(uint64(1)<<a-q) // unreduced
				}
				batch = append(batch, x)
			}
			lanes(in[c.garblerIn:], l.n, batch)
			out := plain64(c, in, buf)
			for lane, x := range batch {
				got, want := out>>uint(lane)&1 == 1, Reference(p, s, x)
				reduced := x[0] < q && x[1] < q && x[2] < q && x[3] < q
				if (reduced && got != want) || (!reduced && got && !want) {
					t.Fatalf("%+v secrets %+v inputs %v: circuit %v, Reference %v", p, *s, x, got, want)
				}
				cases++
				if got {
					hits++
				}
			}
		}
	}
	t.Logf("%d shapes, %d cases, %d hits", len(ps), cases, hits)
}
