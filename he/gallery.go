package he

import (
	"fmt"
	"math"
	"runtime"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// A Gallery is the responder's templates packed for encrypted scoring.
//
// # Layout
//
// Templates of m coordinates are padded with zeros to M, the next power of
// two (at least 2). A block holds S templates (S = slots of the parameter
// set), template i of the gallery in slot i mod S of block i / S; a gallery
// of n templates has ceil(n / S) blocks, the last one padded with absent
// slots. A block is stored as the M generalized diagonals of its S × M
// matrix T (Halevi–Shoup, "Algorithms in HElib", CRYPTO 2014):
//
//	diag_j[k] = T[k][(k + j) mod M],  j = 0 … M-1,
//
// so that with the probe p replicated with period M across the slots, the
// scores of the whole block are Σ_j diag_j ⊙ rot_j(p): fully packed, one
// score per slot. The sum is split baby-step/giant-step, j = g·n1 + b: the
// n1 baby rotations of the probe are computed once per query, and each
// block needs M/n1 - 1 giant rotations (Horner) of its partial sums; to
// allow that, diagonal g·n1 + b is stored pre-rotated by -g·n1.
//
// Each diagonal is kept compactly as the integer coefficients of its
// encoding at the gallery scale (4 bytes per coefficient, M·S·4 bytes per
// block), and, within a memory budget, also as ready-to-multiply NTT
// plaintexts at the top level ((L+1)·8 bytes per coefficient). Blocks
// beyond the budget are converted when a query needs them, which costs
// (L+1) NTTs per diagonal on the query path.
//
// A nil template is an absent entry (a removed record); its slot can never
// produce a hit. A zero vector is a present entry whose score is 0.
type Gallery struct {
	ps     *ParamSet
	dims   int
	pad    int
	n1     int
	size   int
	blocks []*block
}

type block struct {
	used   int       // slots holding entries (present or absent)
	absent []bool    // slots that must never hit; nil when every used slot is present and used == S
	coeffs [][]int32 // per stored diagonal: integer coefficients at the gallery scale
	ntt    []ring.Poly
}

// PackOptions tune the packing.
type PackOptions struct {
	// BabySteps is n1, a power of two dividing the padded dimension; 0
	// picks it from the gallery size.
	BabySteps int
	// MemoryBudget bounds, in bytes, the NTT plaintexts kept ready; 0 means
	// no precomputation (every block is converted per query), a negative
	// value means no bound.
	MemoryBudget int64
	// Workers bounds the goroutines used to encode; 0 means GOMAXPROCS.
	Workers int
}

// Pack packs templates (each nil, or of exactly dims coordinates, finite,
// with norm <= 1) for parameter set ps.
func Pack(ps *ParamSet, dims int, templates [][]float64, opts PackOptions) (*Gallery, error) {
	if dims < 1 || dims > ps.Slots()/2 {
		return nil, &FieldError{Object: "gallery", Field: "dims", Reason: fmt.Sprintf("%d outside [1, %d]", dims, ps.Slots()/2), Kind: ErrBadTemplate}
	}
	for i, t := range templates {
		if t == nil {
			continue
		}
		if len(t) != dims {
			return nil, &FieldError{Object: "gallery", Field: fmt.Sprintf("template %d", i), Reason: fmt.Sprintf("has %d coordinates, want %d", len(t), dims), Kind: ErrBadTemplate}
		}
		if err := checkVector(fmt.Sprintf("gallery template %d", i), t, dims); err != nil {
			return nil, err
		}
	}
	S := ps.Slots()
	g := &Gallery{ps: ps, dims: dims, pad: padDims(dims), size: len(templates)}
	nb := (len(templates) + S - 1) / S
	var err error
	if g.n1, err = chooseBabySteps(g.pad, nb, opts.BabySteps); err != nil {
		return nil, err
	}
	g.blocks = make([]*block, nb)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel(nb, workers, func(b int) {
		hi := min((b+1)*S, len(templates))
		g.blocks[b] = g.packBlock(templates[b*S:hi], uint64(b))
	})
	g.precompute(opts.MemoryBudget, workers)
	return g, nil
}

// chooseBabySteps picks n1 minimizing the key switches of one query, each
// block needing pad/n1 - 1 giant steps. A baby step (hoisted, its source's
// decomposition shared) costs about half a giant step (at N = 2^15 on one
// core, 99, 91 and 84 ms per baby step for n1 = 16, 32 and 64 against
// 181 ms per top-level rotation: BenchmarkBabySteps). The model counts
// 0.6, as before the shared decompositions: at m = 128 it keeps n1 = 64 up
// to 38 blocks, where half would double it from 33 blocks (just past 10^6
// entries), and each baby step is also a ciphertext held for the query.
func chooseBabySteps(pad, blocks, want int) (int, error) {
	if want != 0 {
		if want < 1 || want > pad || pad%want != 0 || want&(want-1) != 0 {
			return 0, fmt.Errorf("he: gallery: baby steps %d must be a power of two dividing %d", want, pad)
		}
		return want, nil
	}
	best, bestCost := 1, math.Inf(1)
	for n1 := 1; n1 <= pad; n1 <<= 1 {
		cost := 0.6*float64(n1-1) + float64(blocks*(pad/n1-1))
		if cost < bestCost {
			best, bestCost = n1, cost
		}
	}
	return best, nil
}

// packBlock builds the stored diagonals of one block.
func (g *Gallery) packBlock(ts [][]float64, index uint64) *block {
	ps, S := g.ps, g.ps.Slots()
	bl := &block{used: len(ts)}
	if len(ts) < S {
		bl.absent = make([]bool, S)
		for k := len(ts); k < S; k++ {
			bl.absent[k] = true
		}
	}
	for k, t := range ts {
		if t == nil {
			if bl.absent == nil {
				bl.absent = make([]bool, S)
			}
			bl.absent[k] = true
		}
	}
	enc := ckks.NewEncoder(ps.params)
	diag := make([]float64, S)
	buf := make([]complex128, S)
	bl.coeffs = make([][]int32, g.pad)
	for j := 0; j < g.pad; j++ {
		shift := (j / g.n1) * g.n1 // giant-step pre-rotation
		for k := range diag {
			src := (k - shift + S) % S // diag'_j[k] = diag_j[k - shift]
			diag[k] = 0
			if src < len(ts) && ts[src] != nil {
				if c := (src + j) % g.pad; c < g.dims {
					diag[k] = ts[src][c]
				}
			}
		}
		bl.coeffs[j] = ps.encodeInt(enc, diag, buf, index<<32|uint64(j))
	}
	clear(diag)
	return bl
}

// encodeInt encodes slot values at the gallery scale and returns the
// integer coefficients: the ConjugateInvariant encoding is the special
// inverse FFT followed by rounding the real parts times the scale (what
// Lattigo's Encoder does, without its per-coefficient CRT reduction), with
// |c| < 2^(LogGalleryScale+1) because |values| <= 1 + tolerance. The
// rounding is dithered: a uniform value in [-1/2, 1/2), from a generator
// seeded with seed, is added to each coefficient before it is rounded. The rounding errors are then
// independent of the values and of each other, with mean 0: structured
// diagonals, such as the single spikes of a one-entry gallery whose
// coefficients follow a cosine, no longer line up their errors at one slot
// (TestEncodeIntOneEntry). The dither need not be secret; the seed makes
// packing deterministic.
func (ps *ParamSet) encodeInt(enc *ckks.Encoder, values []float64, buf []complex128, seed uint64) []int32 {
	for i, v := range values {
		buf[i] = complex(v, 0)
	}
	if err := enc.IFFT(buf, ps.params.LogMaxSlots()); err != nil {
		panic(err) // sizes are ours: a failure is a programming error
	}
	scale := math.Exp2(float64(ps.spec.LogGalleryScale))
	out := make([]int32, len(values))
	state := seed ^ 0x70756e7465646974 // "puntedit"
	for i := range out {
		// splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		u := float64(z>>11)/(1<<53) - 0.5
		out[i] = int32(math.Round(real(buf[i])*scale + u))
	}
	clear(buf)
	return out
}

// diagNTT converts integer coefficients to an NTT, Montgomery-form
// plaintext polynomial at the given level, into out: the form a block kept
// in memory holds.
func (ps *ParamSet) diagNTT(c []int32, level int, out ring.Poly) {
	ps.diagNTTLazy(c, level, out)
	ps.params.RingQ().AtLevel(level).MForm(out, out)
}

// diagNTTLazy converts integer coefficients to an NTT plaintext polynomial
// at the given level, into out, leaving each coefficient unreduced (below
// 4q from nttTable, ntt.go, or below 2q from Lattigo's lazy NTT for a prime
// nttTable does not serve) and not in Montgomery form: the form a block converted during a search is used
// in, where a product with it is a factor 2^-64 mod q short, which the
// scorer restores once per sum (scorer.score). It saves the Montgomery pass
// and the NTT's last reduction over every coefficient of every diagonal.
func (ps *ParamSet) diagNTTLazy(c []int32, level int, out ring.Poly) {
	for i, s := range ps.params.RingQ().SubRings[:level+1] {
		row := out.Coeffs[i]
		if t := nttTableOf(s); t != nil {
			t.forwardNTT(c, row) // ntt.go
			continue
		}
		loadInt32(c, row, s.Modulus)
		s.NTTLazy(row, row)
	}
}

// precompute converts blocks to NTT plaintexts, in order, within budget.
func (g *Gallery) precompute(budget int64, workers int) {
	per := g.blockNTTBytes()
	n := len(g.blocks)
	if budget >= 0 {
		n = int(min(int64(n), budget/per))
	}
	parallel(n, workers, func(b int) {
		bl := g.blocks[b]
		bl.ntt = make([]ring.Poly, g.pad)
		for j := range bl.ntt {
			bl.ntt[j] = g.ps.params.RingQ().AtLevel(g.ps.topLevel()).NewPoly()
			g.ps.diagNTT(bl.coeffs[j], g.ps.topLevel(), bl.ntt[j])
		}
	})
}

func (g *Gallery) blockNTTBytes() int64 {
	_, per := g.ps.PackedBytes(g.size, g.dims)
	return per
}

// PackedBytes returns what Pack holds for n templates of dims coordinates:
// the compact coefficients of the whole gallery, and the NTT plaintexts of
// one block kept ready (PackOptions.MemoryBudget).
func (ps *ParamSet) PackedBytes(n, dims int) (compact, nttPerBlock int64) {
	S, pad := int64(ps.Slots()), int64(padDims(dims))
	blocks := (int64(n) + S - 1) / S
	return blocks * pad * int64(ps.params.N()) * 4, pad * int64(ps.topLevel()+1) * int64(ps.params.N()) * 8
}

// Len returns the number of entries (present or absent).
func (g *Gallery) Len() int { return g.size }

// Dims returns the template dimension.
func (g *Gallery) Dims() int { return g.dims }

// Blocks returns the number of blocks (ciphertext-sized slices of S entries).
func (g *Gallery) Blocks() int { return len(g.blocks) }

// BabySteps returns n1, the baby-step count the layout was built for.
func (g *Gallery) BabySteps() int { return g.n1 }

// NTTBlocks returns the number of blocks kept as NTT plaintexts (within
// PackOptions.MemoryBudget); the others are converted during each search.
func (g *Gallery) NTTBlocks() int {
	n := 0
	for _, bl := range g.blocks {
		if bl.ntt != nil {
			n++
		}
	}
	return n
}

// BatchQueryBytes returns what each query of a [Responder.RespondBatch] on
// g holds while the batch runs, beyond what it holds evaluated alone: its
// n1 baby steps, ciphertexts at the top level, kept until every block is
// scored for every query of the batch (9.4 MiB each on puente-ckks-n15-v2).
// It is 0 when every block is kept in NTT form: a batch then evaluates its
// queries one after the other, shares nothing and holds nothing more.
func (g *Gallery) BatchQueryBytes() int64 {
	if g.NTTBlocks() == len(g.blocks) {
		return 0
	}
	return int64(g.n1) * 2 * int64(g.ps.topLevel()+1) * int64(g.ps.params.N()) * 8
}

// MemoryBytes returns the bytes held: compact coefficients plus NTT plaintexts.
func (g *Gallery) MemoryBytes() int64 {
	var n int64
	for _, bl := range g.blocks {
		n += int64(len(bl.coeffs)) * int64(g.ps.params.N()) * 4
		if bl.ntt != nil {
			n += g.blockNTTBytes()
		}
	}
	return n
}

func (ps *ParamSet) galleryScale() rlwe.Scale {
	return rlwe.NewScale(math.Exp2(float64(ps.spec.LogGalleryScale)))
}

// parallel runs f(0..n-1) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	parallelWorkers(n, workers, func(_, i int) { f(i) })
}
