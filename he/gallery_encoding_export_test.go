package he

import (
	"encoding/binary"
	"fmt"
	"runtime"
)

// Test-only: the encoding of the responder's private state: the compact gallery. It holds
// the responder's secrets (the gallery's templates): the caller stores it
// encrypted. Decoding validates every field and never allocates before the
// length is checked.

const kindGallery objKind = 6

func init() { kindNames[kindGallery] = "gallery" }

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
