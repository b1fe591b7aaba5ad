package protect

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scheme names a cancellable transform.
type Scheme uint8

// The transforms this package implements. The numeric values are part of
// the binary parameter encoding and never change.
const (
	// PolyProtect is the polynomial mapping of Hahn and Marcel (2022).
	PolyProtect Scheme = 1
	// BioHash is BioHashing (Teoh, Ngo and Goh, 2004) with an orthonormal
	// projection.
	BioHash Scheme = 2
	// IndexOfMax is Gaussian-random-projection Index-of-Max hashing (Jin et
	// al., 2018).
	IndexOfMax Scheme = 3
)

var schemeNames = map[Scheme]string{PolyProtect: "polyprotect", BioHash: "biohash", IndexOfMax: "iom"}

func (s Scheme) valid() bool { _, ok := schemeNames[s]; return ok }

// String returns the scheme's name as used in the text encoding.
func (s Scheme) String() string {
	if n, ok := schemeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("scheme(%d)", uint8(s))
}

// ParseScheme returns the scheme named name ("polyprotect", "biohash", "iom").
func ParseScheme(name string) (Scheme, error) {
	for s, n := range schemeNames {
		if n == name {
			return s, nil
		}
	}
	return 0, paramsErr("unknown scheme %q (want polyprotect, biohash or iom)", name)
}

// Limits on parameters, so that a decoded parameter set cannot make a node
// allocate without bound.
const (
	MaxInputDim  = 4096
	MaxOutputDim = 8192
)

// Params fixes everything both parties of an agreement must share, besides
// the seed, to compute comparable protected templates: the scheme, its
// parameters, the input dimension and the normalisation. Fields a scheme
// does not use must be zero. Two parties agree on a transform by comparing
// [Params.Fingerprint] (or the encodings).
type Params struct {
	Scheme   Scheme
	InputDim int        // dimension of the raw feature vectors
	Norm     Normalizer // the agreed normalisation step

	// BioHash: M is the number of bits (the output dimension).
	// IndexOfMax: M is the number of hash functions and Q the number of
	// Gaussian projections per hash; the output dimension is M*Q.
	M, Q int

	// PolyProtect: Order is the number of coefficient/exponent pairs (the
	// paper's m), Overlap the number of elements shared by consecutive
	// windows, and Scale the factor applied to the normalised vector before
	// the polynomial is evaluated.
	Order, Overlap int
	Scale          float64
}

// OutputDim returns the dimension of the protected vectors, or 0 for an
// invalid parameter set.
func (p Params) OutputDim() int {
	if p.Validate() != nil {
		return 0
	}
	return p.outputDim()
}

func (p *Params) outputDim() int {
	switch p.Scheme {
	case BioHash:
		return p.M
	case IndexOfMax:
		return p.M * p.Q
	case PolyProtect:
		return (p.InputDim-p.Order)/(p.Order-p.Overlap) + 1
	}
	return 0
}

// Validate checks the parameter set. The error wraps [ErrParams] and names
// the field at fault.
func (p Params) Validate() error {
	if !p.Scheme.valid() {
		return paramsErr("unknown scheme %d", p.Scheme)
	}
	if p.InputDim < 2 || p.InputDim > MaxInputDim {
		return paramsErr("input dimension %d outside [2, %d]", p.InputDim, MaxInputDim)
	}
	if err := p.Norm.validate(p.InputDim); err != nil {
		return err
	}
	var err error
	switch p.Scheme {
	case BioHash:
		err = p.checkUnused(p.Q == 0 && p.Order == 0 && p.Overlap == 0 && p.Scale == 0)
		if err == nil && (p.M < 1 || p.M > MaxOutputDim) {
			err = paramsErr("biohash: M = %d bits outside [1, %d]", p.M, MaxOutputDim)
		}
	case IndexOfMax:
		err = p.checkUnused(p.Order == 0 && p.Overlap == 0 && p.Scale == 0)
		if err == nil && (p.Q < 2 || p.Q > 256 || p.M < 1 || p.M > MaxOutputDim || p.M*p.Q > MaxOutputDim) {
			err = paramsErr("iom: M = %d hashes of Q = %d projections: need Q in [2, 256] and M*Q in [1, %d]", p.M, p.Q, MaxOutputDim)
		}
	case PolyProtect:
		err = p.validatePoly()
	}
	return err
}

func (p *Params) checkUnused(ok bool) error {
	if !ok {
		return paramsErr("%s: fields the scheme does not use must be zero", p.Scheme)
	}
	return nil
}

func (p *Params) validatePoly() error {
	if err := p.checkUnused(p.M == 0 && p.Q == 0); err != nil {
		return err
	}
	if p.Order < 2 || p.Order > 8 || p.Order > p.InputDim {
		return paramsErr("polyprotect: order %d outside [2, min(8, input dimension)]", p.Order)
	}
	if p.Overlap < 0 || p.Overlap >= p.Order {
		return paramsErr("polyprotect: overlap %d outside [0, order-1 = %d]", p.Overlap, p.Order-1)
	}
	if !(p.Scale > 0 && p.Scale <= 1000) { // also rejects NaN
		return paramsErr("polyprotect: scale %v outside (0, 1000]", p.Scale)
	}
	return nil
}

// Fingerprint is SHA-256 of the binary encoding: two parties hold the same
// parameters exactly when their fingerprints are equal. It panics on
// invalid parameters (validate first).
func (p Params) Fingerprint() [32]byte {
	b, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return sha256.Sum256(b)
}

// binary encoding, version 1 (all little-endian):
//
//	"PTPR" | version u8 = 1 | scheme u8 | input dim u32 | M u32 | Q u32 |
//	order u32 | overlap u32 | scale f64 | norm weight f64 | mean length u32 |
//	mean f64 * length
const paramsMagic = "PTPR"

const paramsFixedLen = 4 + 1 + 1 + 5*4 + 8 + 8 + 4

// MarshalBinary returns the stable, versioned binary encoding.
func (p Params) MarshalBinary() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, paramsFixedLen+8*len(p.Norm.Mean))
	b = append(b, paramsMagic...)
	b = append(b, 1, byte(p.Scheme))
	for _, v := range []int{p.InputDim, p.M, p.Q, p.Order, p.Overlap} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Scale))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Norm.Weight))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Norm.Mean)))
	for _, v := range p.Norm.Mean {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b, nil
}

// UnmarshalBinary decodes and validates a binary encoding.
func (p *Params) UnmarshalBinary(b []byte) error {
	if len(b) < paramsFixedLen || string(b[:4]) != paramsMagic {
		return paramsErr("binary encoding: not a parameter set (bad magic or %d bytes)", len(b))
	}
	if b[4] != 1 {
		return paramsErr("binary encoding: unsupported version %d", b[4])
	}
	var q Params
	q.Scheme = Scheme(b[5])
	ints := []*int{&q.InputDim, &q.M, &q.Q, &q.Order, &q.Overlap}
	off := 6
	for _, v := range ints {
		u := binary.LittleEndian.Uint32(b[off:])
		if u > MaxOutputDim*256 {
			return paramsErr("binary encoding: integer field at byte %d too large", off)
		}
		*v = int(u)
		off += 4
	}
	q.Scale = math.Float64frombits(binary.LittleEndian.Uint64(b[off:]))
	q.Norm.Weight = math.Float64frombits(binary.LittleEndian.Uint64(b[off+8:]))
	n := binary.LittleEndian.Uint32(b[off+16:])
	off += 20
	if uint64(n) > MaxInputDim || len(b)-off != 8*int(n) {
		return paramsErr("binary encoding: mean of %d values does not fit %d remaining bytes", n, len(b)-off)
	}
	if n > 0 {
		q.Norm.Mean = make([]float64, n)
		for i := range q.Norm.Mean {
			q.Norm.Mean[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[off+8*i:]))
		}
	}
	if err := q.Validate(); err != nil {
		return err
	}
	*p = q
	return nil
}

// text encoding, version 1: one "key value" per line, in this order, only
// the keys the scheme uses; the mean is comma-separated shortest decimal
// forms that round-trip exactly.
const paramsTextHeader = "puente-protect-params v1"

// MarshalText returns the stable, versioned text encoding.
func (p Params) MarshalText() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nscheme %s\ninput-dim %d\n", paramsTextHeader, p.Scheme, p.InputDim)
	switch p.Scheme {
	case BioHash:
		fmt.Fprintf(&b, "m %d\n", p.M)
	case IndexOfMax:
		fmt.Fprintf(&b, "m %d\nq %d\n", p.M, p.Q)
	case PolyProtect:
		fmt.Fprintf(&b, "order %d\noverlap %d\nscale %s\n", p.Order, p.Overlap, fmtFloat(p.Scale))
	}
	if p.Norm.Weight != 0 {
		fmt.Fprintf(&b, "centre-weight %s\nmean ", fmtFloat(p.Norm.Weight))
		for i, v := range p.Norm.Mean {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(fmtFloat(v))
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// UnmarshalText decodes and validates a text encoding. Unknown or repeated
// keys are errors naming the line.
func (p *Params) UnmarshalText(text []byte) error {
	if len(text) > 1<<20 {
		return paramsErr("text encoding: %d bytes is too long", len(text))
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	if lines[0] != paramsTextHeader {
		return paramsErr("text encoding: line 1: want header %q", paramsTextHeader)
	}
	var q Params
	seen := map[string]bool{}
	for i, line := range lines[1:] {
		key, val, ok := strings.Cut(line, " ")
		if !ok || seen[key] {
			return paramsErr("text encoding: line %d: want one \"key value\" per key", i+2)
		}
		seen[key] = true
		if err := q.setText(key, val); err != nil {
			return paramsErr("text encoding: line %d: %s: %v", i+2, key, err)
		}
	}
	if err := q.Validate(); err != nil {
		return err
	}
	*p = q
	return nil
}

func (p *Params) setText(key, val string) error {
	var err error
	atoi := func(dst *int) {
		var v int
		v, err = strconv.Atoi(val)
		if err == nil && (v < 0 || v > MaxOutputDim*256) {
			err = fmt.Errorf("value %d out of range", v)
		}
		*dst = v
	}
	switch key {
	case "scheme":
		p.Scheme, err = ParseScheme(val)
	case "input-dim":
		atoi(&p.InputDim)
	case "m":
		atoi(&p.M)
	case "q":
		atoi(&p.Q)
	case "order":
		atoi(&p.Order)
	case "overlap":
		atoi(&p.Overlap)
	case "scale":
		p.Scale, err = strconv.ParseFloat(val, 64)
	case "centre-weight":
		p.Norm.Weight, err = strconv.ParseFloat(val, 64)
	case "mean":
		p.Norm.Mean, err = parseFloats(val)
	default:
		err = fmt.Errorf("unknown key")
	}
	return err
}

func parseFloats(s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxInputDim {
		return nil, fmt.Errorf("%d values, at most %d", len(parts), MaxInputDim)
	}
	out := make([]float64, len(parts))
	for i, f := range parts {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("value %d: %v", i, err)
		}
		out[i] = v
	}
	return out, nil
}
