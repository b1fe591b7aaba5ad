package he

import (
	"encoding/binary"
	"fmt"
	"runtime"
)

// Encodings of the responder's private state: the compact gallery and the
// trace of a ModeSlots response. Both hold the responder's secrets (the
// gallery's templates, how a position maps to an entry): the caller stores
// them encrypted. Decoding validates every field and never allocates
// before the length is checked.

const (
	kindGallery objKind = 6
	kindTrace   objKind = 7
)

func init() {
	kindNames[kindGallery] = "gallery"
	kindNames[kindTrace] = "trace"
}

// maxGalleryBlocks bounds a decoded gallery (4096 blocks = 134 million
// entries at N = 2^15).
const maxGalleryBlocks = 4096

// Gallery encoding (kind gallery):
//
//	header | dims u16 | baby steps u16 | entries u32 |
//	per block: absent-slot bitmap (S/8 bytes, bit k of byte k/8), then the
//	M stored diagonals, N int32 coefficients each (big endian)

func (g *Gallery) blockWireSize() int {
	return g.ps.Slots()/8 + g.pad*g.ps.params.N()*4
}

// MarshalBinary encodes the gallery's compact form.
func (g *Gallery) MarshalBinary() ([]byte, error) {
	e := newEncoder(kindGallery, g.ps, headerSize+8+len(g.blocks)*g.blockWireSize())
	e.u16(uint16(g.dims))
	e.u16(uint16(g.n1))
	e.u32(uint32(g.size))
	S := g.ps.Slots()
	for _, bl := range g.blocks {
		bitmap := make([]byte, S/8)
		for k := 0; k < S; k++ {
			if bl.absent != nil && bl.absent[k] {
				bitmap[k/8] |= 1 << (k % 8)
			}
		}
		e.raw(bitmap)
		for _, c := range bl.coeffs {
			for _, v := range c {
				e.u32(uint32(v))
			}
		}
	}
	return e.b, nil
}

// ReadGallery decodes a gallery made by [Gallery.MarshalBinary] for
// parameter set ps and converts blocks to NTT form within opts.MemoryBudget
// (opts.BabySteps must be 0: the layout is fixed by the encoding).
func ReadGallery(ps *ParamSet, b []byte, opts PackOptions) (*Gallery, error) {
	d := newDecoder(b, kindGallery, ps)
	dims := int(d.u16("dims"))
	n1 := int(d.u16("baby steps"))
	size := int(d.u32("entries"))
	if d.err != nil {
		return nil, d.err
	}
	S := ps.Slots()
	if dims < 1 || dims > S/2 {
		return nil, malformed(d.obj, "dims", "%d outside [1, %d]", dims, S/2)
	}
	g := &Gallery{ps: ps, dims: dims, pad: padDims(dims), size: size}
	nb := (size + S - 1) / S
	if _, err := chooseBabySteps(g.pad, nb, n1); err != nil || n1 == 0 {
		return nil, malformed(d.obj, "baby steps", "%d is not a power of two dividing %d", n1, g.pad)
	}
	g.n1 = n1
	if size < 1 || nb > maxGalleryBlocks {
		return nil, malformed(d.obj, "entries", "%d outside [1, %d]", size, maxGalleryBlocks*S)
	}
	if want := headerSize + 8 + nb*g.blockWireSize(); len(b) != want {
		return nil, malformed(d.obj, "length", "got %d bytes, want %d for %d entries", len(b), want, size)
	}
	bound := int64(1) << (ps.spec.LogGalleryScale + 2)
	for bi := 0; bi < nb; bi++ {
		bl, err := g.readBlock(d, bi, min(S, size-bi*S), bound)
		if err != nil {
			return nil, err
		}
		g.blocks = append(g.blocks, bl)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.precompute(opts.MemoryBudget, workers)
	return g, nil
}

func (g *Gallery) readBlock(d *decoder, bi, used int, bound int64) (*block, error) {
	S, N := g.ps.Slots(), g.ps.params.N()
	bitmap := d.take(fmt.Sprintf("block %d absent slots", bi), S/8)
	if d.err != nil {
		return nil, d.err
	}
	bl := &block{used: used}
	for k := 0; k < S; k++ {
		absent := bitmap[k/8]>>(k%8)&1 == 1
		if k >= used && !absent {
			return nil, malformed(d.obj, fmt.Sprintf("block %d absent slots", bi), "slot %d past the last entry is not marked absent", k)
		}
		if absent {
			if bl.absent == nil {
				bl.absent = make([]bool, S)
			}
			bl.absent[k] = true
		}
	}
	raw := d.take(fmt.Sprintf("block %d diagonals", bi), g.pad*N*4)
	if d.err != nil {
		return nil, d.err
	}
	bl.coeffs = make([][]int32, g.pad)
	for j := range bl.coeffs {
		c := make([]int32, N)
		for k := range c {
			c[k] = int32(binary.BigEndian.Uint32(raw[(j*N+k)*4:]))
			if v := int64(c[k]); v > bound || v < -bound {
				return nil, malformed(d.obj, fmt.Sprintf("block %d diagonal %d", bi, j), "coefficient %d exceeds the gallery scale", k)
			}
		}
		bl.coeffs[j] = c
	}
	return bl, nil
}

// Trace encoding (kind trace):
//
//	header | slots u32 | entries u32 | blocks u32 | per block: gallery block u32, rotation u32

// MarshalBinary encodes the trace for the responder's store.
func (t *Trace) MarshalBinary() ([]byte, error) {
	e := newEncoder(kindTrace, t.ps, headerSize+12+8*len(t.perm))
	e.u32(uint32(t.slots))
	e.u32(uint32(t.size))
	e.u32(uint32(len(t.perm)))
	for i := range t.perm {
		e.u32(uint32(t.perm[i]))
		e.u32(uint32(t.rot[i]))
	}
	return e.b, nil
}

// ReadTrace decodes a trace made by [Trace.MarshalBinary] for ps.
func ReadTrace(ps *ParamSet, b []byte) (*Trace, error) {
	d := newDecoder(b, kindTrace, ps)
	t := &Trace{ps: ps, slots: int(d.u32("slots")), size: int(d.u32("entries"))}
	n := int(d.u32("blocks"))
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case t.slots != ps.Slots():
		return nil, mismatch(d.obj, "slots", "got %d, want %d", t.slots, ps.Slots())
	case n < 1 || n > maxResponseBlocks:
		return nil, malformed(d.obj, "blocks", "%d outside [1, %d]", n, maxResponseBlocks)
	case t.size < 1 || t.size > n*t.slots || t.size <= (n-1)*t.slots:
		return nil, malformed(d.obj, "entries", "%d does not fill %d blocks", t.size, n)
	case len(b) != headerSize+12+8*n:
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), headerSize+12+8*n)
	}
	seen := make([]bool, n)
	for i := 0; i < n; i++ {
		p, r := int(d.u32("block")), int(d.u32("rotation"))
		if p >= n || seen[p] {
			return nil, malformed(d.obj, "block", "entry %d is not a permutation of %d blocks", i, n)
		}
		if r >= t.slots {
			return nil, malformed(d.obj, "rotation", "entry %d rotates by %d >= %d", i, r, t.slots)
		}
		seen[p] = true
		t.perm, t.rot = append(t.perm, p), append(t.rot, r)
	}
	return t, d.finish()
}
