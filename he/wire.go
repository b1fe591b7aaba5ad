package he

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

// Every object this package puts on the wire or hands to a store starts
// with the same 8-byte header:
//
//	magic "PHE1" | kind (1 byte) | format version (1 byte) | parameter-set ID (2 bytes, big endian)
//
// followed by a kind-specific fixed header and polynomials. A polynomial is
// written residue row by residue row (one row per prime, in modulus order);
// each residue is packed little-endian at the bit width of its prime, so a
// row for prime q holds N·bitlen(q-1) bits rounded up to whole bytes. The
// decoder derives every length from the parameter set and the fixed header
// (never from a length field it has not bounded first), checks each
// residue against its prime, and rejects trailing bytes. Lattigo's own
// UnmarshalBinary is never called on received bytes.

const wireMagic = "PHE1"

const wireVersion = 1

const headerSize = 8

type objKind uint8

const (
	kindCeremony objKind = 1
	kindQuery    objKind = 2
	kindAnswer   objKind = 11 // 8 was the answer with three c1 (count, norm, tag): no longer accepted
	kindShare    objKind = 4
	kindKeys     objKind = 5
	kindProbe    objKind = 9  // a prepared probe, node to shard (shard.go)
	kindPartial  objKind = 10 // a shard's partial count, shard to node
)

var kindNames = map[objKind]string{
	kindCeremony: "ceremony message",
	kindQuery:    "query",
	kindAnswer:   "answer",
	kindShare:    "secret share",
	kindKeys:     "evaluation keys",
	kindProbe:    "prepared probe",
	kindPartial:  "partial count",
}

// encoder appends an object to a byte slice.
type encoder struct{ b []byte }

func newEncoder(kind objKind, ps *ParamSet, size int) *encoder {
	e := &encoder{b: make([]byte, 0, size)}
	e.b = append(e.b, wireMagic...)
	e.b = append(e.b, byte(kind), wireVersion)
	e.u16(uint16(ps.ID()))
	return e
}

func (e *encoder) u8(v uint8)    { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16)  { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32)  { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)  { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *encoder) raw(p []byte)  { e.b = append(e.b, p...) }
func (e *encoder) poly(p ring.Poly, moduli []uint64) {
	for i, q := range moduli {
		e.b = packRow(e.b, p.Coeffs[i], uint(bits.Len64(q-1)), q)
	}
}

func (e *encoder) polyQP(p ringqp.Poly, qs, ps []uint64) {
	e.poly(p.Q, qs)
	if len(ps) > 0 {
		e.poly(p.P, ps)
	}
}

// decoder reads an object with bounds checks. The first failure is kept in
// err and every later read is a no-op, so callers check err once.
type decoder struct {
	b   []byte
	off int
	obj string
	err error
}

// newDecoder checks the common header against the expected kind and
// parameter set.
func newDecoder(b []byte, kind objKind, ps *ParamSet) *decoder {
	d := &decoder{b: b, obj: kindNames[kind]}
	if len(b) < headerSize || string(b[:4]) != wireMagic {
		d.err = malformed(d.obj, "header", "bad magic or shorter than %d bytes", headerSize)
		return d
	}
	d.off = headerSize
	switch {
	case objKind(b[4]) != kind:
		d.err = mismatch(d.obj, "kind", "got a %s", kindName(objKind(b[4])))
	case b[5] != wireVersion:
		d.err = malformed(d.obj, "format version", "got %d, want %d", b[5], wireVersion)
	case ParamSetID(binary.BigEndian.Uint16(b[6:8])) != ps.ID():
		d.err = mismatch(d.obj, "parameter set", "got %#04x, want %#04x (%s)", binary.BigEndian.Uint16(b[6:8]), uint16(ps.ID()), ps.Name())
	}
	return d
}

func kindName(k objKind) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "unknown object"
}

func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = malformed(d.obj, field, "truncated: need %d more bytes, have %d", n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(field string) uint8 {
	if p := d.take(field, 1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16(field string) uint16 {
	if p := d.take(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if p := d.take(field, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if p := d.take(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) f64(field string) float64 { return math.Float64frombits(d.u64(field)) }

func (d *decoder) bytes32(field string) (out [32]byte) {
	if p := d.take(field, 32); p != nil {
		copy(out[:], p)
	}
	return out
}

// poly reads len(moduli) residue rows into out, which the caller allocated
// at the matching level.
func (d *decoder) poly(field string, moduli []uint64, out ring.Poly) {
	for i, q := range moduli {
		w := uint(bits.Len64(q - 1))
		p := d.take(field, rowBytes(len(out.Coeffs[i]), w))
		if p == nil {
			return
		}
		if !unpackRow(out.Coeffs[i], p, w, q) {
			d.err = malformed(d.obj, field, "residue out of range for prime %d of %d", i, len(moduli))
			return
		}
	}
}

func (d *decoder) polyQP(field string, qs, ps []uint64, out ringqp.Poly) {
	d.poly(field, qs, out.Q)
	if len(ps) > 0 {
		d.poly(field, ps, out.P)
	}
}

// expect records a mismatch when got != want.
func (d *decoder) expect(field string, got, want uint64) {
	if d.err == nil && got != want {
		d.err = mismatch(d.obj, field, "got %d, want %d", got, want)
	}
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = malformed(d.obj, "length", "%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

func rowBytes(n int, w uint) int { return (n*int(w) + 7) / 8 }

// packRow appends the residues of src modulo q at w bits each (w <= 62).
// Lattigo leaves some results lazily reduced (in [0, 2q)), so every value
// is reduced here: the encoding is canonical.
func packRow(dst []byte, src []uint64, w uint, q uint64) []byte {
	var acc uint64
	var nb uint
	for _, v := range src {
		if v >= q {
			v %= q
		}
		// Write in chunks of at most 32 bits so acc never overflows.
		for rem := w; rem > 0; {
			c := min(rem, 32)
			acc |= (v & (1<<c - 1)) << nb
			v >>= c
			nb += c
			rem -= c
			for nb >= 8 {
				dst = append(dst, byte(acc))
				acc >>= 8
				nb -= 8
			}
		}
	}
	if nb > 0 {
		dst = append(dst, byte(acc))
	}
	return dst
}

// unpackRow fills dst from p (exactly rowBytes(len(dst), w) bytes) and
// reports whether every residue is below q.
func unpackRow(dst []uint64, p []byte, w uint, q uint64) bool {
	var acc uint64
	var nb uint
	k := 0
	ok := true
	for i := range dst {
		var v uint64
		var got uint
		for rem := w; rem > 0; {
			c := min(rem, 32)
			for nb < c {
				acc |= uint64(p[k]) << nb
				k++
				nb += 8
			}
			v |= (acc & (1<<c - 1)) << got
			acc >>= c
			nb -= c
			got += c
			rem -= c
		}
		ok = ok && v < q
		dst[i] = v
	}
	return ok
}

// polySize is the packed size of a polynomial over the given moduli.
func polySize(n int, moduli []uint64) (s int) {
	for _, q := range moduli {
		s += rowBytes(n, uint(bits.Len64(q-1)))
	}
	return s
}

// Moduli of the parameter set at a level.
func (ps *ParamSet) qAt(level int) []uint64 { return ps.params.Q()[:level+1] }
func (ps *ParamSet) pAll() []uint64         { return ps.params.P() }

func (ps *ParamSet) polySizeQ(level int) int { return polySize(ps.params.N(), ps.qAt(level)) }

// evkSize is the packed size of an evaluation key (both components) whose
// Q part stops at levelQ and that uses every P prime.
func (ps *ParamSet) evkSize(levelQ int) int {
	dnum := ps.params.BaseRNSDecompositionVectorSize(levelQ, ps.params.MaxLevelP())
	return dnum * 2 * (ps.polySizeQ(levelQ) + polySize(ps.params.N(), ps.pAll()))
}

// gadgetShape checks that a gadget ciphertext has the expected shape, so
// that decoding into it cannot index out of range.
func gadgetRows(g *rlwe.GadgetCiphertext) int {
	n := 0
	for i := range g.Value {
		n += len(g.Value[i])
	}
	return n
}
