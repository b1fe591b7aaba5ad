package opening

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
)

// Garbling follows the half-gates scheme of Zahur, Rosulek and Evans
// ("Two Halves Make a Whole", EUROCRYPT 2015): free XOR (Kolesnikov and
// Schneider, ICALP 2008) with a global offset R whose point-and-permute bit
// is 1, two ciphertexts per AND gate, NOT for free, and the hash of
// [hasher]. A wire's label for 1 is its label for 0 XOR R. An AND gate
// whose first input is a garbler input (gateANDG) is the generator half-gate
// alone, with the garbler's bit in place of the permute bit: one
// ciphertext.

// garbling is the garbler's secret state for one circuit: R and the label
// for 0 of every wire. It is used once.
type garbling struct {
	c     *circuit
	r     label
	zero  []label // label for 0, per wire
	table []label // two per AND gate, one per garbler AND gate, in gate order
}

// tableEntries is the number of garbled-table entries of c.
func (c *circuit) tableEntries() int { return 2*c.ands + c.andsG }

// garble garbles c with fresh randomness from rand; gIn holds the garbler's
// input bits (wire order), which the garbler AND gates use.
func garble(c *circuit, gIn []uint64, rand io.Reader) (*garbling, error) {
	if len(gIn) != c.garblerIn {
		return nil, errors.New("opening: wrong number of garbler input bits")
	}
	g := &garbling{c: c, zero: make([]label, c.wires), table: make([]label, 0, c.tableEntries())}
	var err error
	if g.r, err = randomLabel(rand); err != nil {
		return nil, err
	}
	g.r.lo |= 1
	for w := 0; w < c.garblerIn+c.evaluatorIn; w++ {
		if g.zero[w], err = randomLabel(rand); err != nil {
			return nil, err
		}
	}
	h := newHasher()
	var j uint64
	for _, gt := range c.gates {
		a, b := g.zero[gt.a], g.zero[gt.b]
		switch gt.kind {
		case gateXOR:
			g.zero[gt.o] = a.xor(b)
		case gateNOT:
			g.zero[gt.o] = a.xor(g.r)
		case gateAND:
			pa, pb := a.lsb(), b.lsb()
			a1, b1 := a.xor(g.r), b.xor(g.r)
			ha0, ha1 := h.tccr(a, 2*j), h.tccr(a1, 2*j)
			hb0, hb1 := h.tccr(b, 2*j+1), h.tccr(b1, 2*j+1)
			tg := ha0.xor(ha1).xor(g.r.mask(pb))
			wg := ha0.xor(tg.mask(pa))
			te := hb0.xor(hb1).xor(a)
			we := hb0.xor(te.xor(a).mask(pb))
			g.table = append(g.table, tg, te)
			g.zero[gt.o] = wg.xor(we)
			j++
		case gateANDG:
			// v ∧ b for the garbler's bit v: T = H(B0) ⊕ H(B1) ⊕ v·R and
			// W0 = H(B0) ⊕ p_b·T; the evaluator computes H(B) ⊕ lsb(B)·T.
			v := gIn[gt.a] & 1
			pb := b.lsb()
			hb0, hb1 := h.tccr(b, 2*j), h.tccr(b.xor(g.r), 2*j)
			t := hb0.xor(hb1).xor(g.r.mask(v))
			g.table = append(g.table, t)
			g.zero[gt.o] = hb0.xor(t.mask(pb))
			j++
		}
	}
	return g, nil
}

// input returns the label of input wire w for bit v.
func (g *garbling) input(w int, v uint64) label { return g.zero[w].xor(g.r.mask(v)) }

// destroy zeroes the garbler's secrets.
func (g *garbling) destroy() {
	g.r = label{}
	clear(g.zero)
}

// evaluate runs c on the garbled tables with one label per input wire
// (garbler inputs then evaluator inputs) and returns the label of every
// output wire. It never fails on bad labels: wrong labels give output labels
// that the output commitments reject.
func evaluate(c *circuit, table []label, inputs []label) ([]label, error) {
	if len(inputs) != c.garblerIn+c.evaluatorIn {
		return nil, errors.New("opening: wrong number of input labels")
	}
	if len(table) != c.tableEntries() {
		return nil, errors.New("opening: wrong number of garbled-table entries")
	}
	w := make([]label, c.wires)
	copy(w, inputs)
	h := newHasher()
	var j uint64
	pos := 0
	for _, gt := range c.gates {
		a, b := w[gt.a], w[gt.b]
		switch gt.kind {
		case gateXOR:
			w[gt.o] = a.xor(b)
		case gateNOT:
			w[gt.o] = a
		case gateAND:
			tg, te := table[pos], table[pos+1]
			pos += 2
			wg := h.tccr(a, 2*j).xor(tg.mask(a.lsb()))
			we := h.tccr(b, 2*j+1).xor(te.xor(a).mask(b.lsb()))
			w[gt.o] = wg.xor(we)
			j++
		case gateANDG:
			t := table[pos]
			pos++
			w[gt.o] = h.tccr(b, 2*j).xor(t.mask(b.lsb()))
			j++
		}
	}
	out := make([]label, len(c.outputs))
	for i, o := range c.outputs {
		out[i] = w[o]
	}
	clear(w)
	return out, nil
}

// outputCommitment commits to an output wire's label: SHA-256 of a domain
// string, the session, the output index and the label, truncated to 16
// bytes. The garbler sends the commitments to both labels of every output,
// so the evaluator reads its bit by matching and detects a label that
// matches neither (a garbler that cheated).
func outputCommitment(session []byte, i int, l label) [16]byte {
	h := sha256.New()
	h.Write([]byte("puente/opening/v1 output\x00"))
	h.Write(session)
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(i))
	l.bytes(b[8:])
	h.Write(b[:])
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

// decodeOutput returns the bit an output label stands for, or an error when
// it matches neither commitment.
func decodeOutput(session []byte, i int, l label, c0, c1 [16]byte) (bool, error) {
	got := outputCommitment(session, i, l)
	is0 := subtle.ConstantTimeCompare(got[:], c0[:])
	is1 := subtle.ConstantTimeCompare(got[:], c1[:])
	switch {
	case is0 == 1 && is1 == 0:
		return false, nil
	case is1 == 1 && is0 == 0:
		return true, nil
	}
	return false, ErrCheating
}
