package he

import (
	"math/big"
	"math/bits"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
)

// The key switch's basis extensions with IFMA. Lattigo extends a
// polynomial from the primes of a digit (the decomposition,
// ring.Decomposer.DecomposeAndSplit) or from P (ModDown,
// ring.BasisExtender.ModUpPtoQ) to other primes centred: with H half the
// product of the source primes, it reconstructs x + H from its residues
// (y_i = (x_i + H)·(S/s_i)^-1 mod s_i, the count v = ⌊Σ y_i/s_i⌋ in
// float64, and Σ y_i·(S/s_i) - v·S mod each target prime) and takes H off
// again. extension.extend does the same, with the same y_i and the same v
// (the same float64 sum, in the same order), each target row whose prime
// is below 2^52 by IFMA (extendRowIFMA), and -v·S - H mod the target from
// one table. The y_i of a source prime at 2^50 or above (q0, the scoring
// prime) are computed in Go by Shoup's method; IFMA multiplies 52 bits, so
// a y_i of q0 (60 bits) enters a target row as two terms, its low 52 bits
// by S/s_i and its high 8 by (S/s_i)·2^52. Its values are the same mod each prime (below 2q, as
// Lattigo's), and the key switch reduces them fully after, so its result is
// Lattigo's coefficient for coefficient (TestParallelKeySwitchMatchesLattigo,
// TestBabyStepsMatchLattigo).

// extension holds the constants of one extension from the primes src to
// the primes dst.
type extension struct {
	src, dst []uint64
	// y_i = (x_i + hs[i])·yc[i]·2^-52 mod src[i], yInv[i] = -src[i]^-1 mod
	// 2^52, for a source prime below 2^50; for one at 2^50 or above (big[i])
	// y_i = (x_i + hs[i])·yc[i] mod src[i] by Shoup, ycq[i] = ⌊yc[i]·2^64/
	// src[i]⌋. srcF[i] = src[i] as Lattigo's count divides by it.
	hs, yc, yInv, ycq []uint64
	big               []bool
	srcF              []float64
	// The rows of the scratch ys: first the k rows an IFMA target row
	// multiplies (y_i, or its low 52 bits where y_i can exceed 2^52), then
	// those y_i's bits from 2^52 up (hiRow[i], -1 for the others), then
	// those y_i whole: wholeRow[i] is the row holding y_i whole, i itself
	// for most.
	hiRow, wholeRow []int
	terms           int // k plus the high rows: the products of an IFMA target row
	scratchRows     int
	rows            []extensionRow
}

// extensionRow is one target prime's constants: for an IFMA row (ifma),
// cs[i] = (S/s_i)·2^52 mod q, then for each high row (S/s_i)·2^104 mod q,
// and qInvNeg = -q^-1 mod 2^52; otherwise cs[i] = S/s_i mod q in Lattigo's
// Montgomery form and its reduction constants. table[v] = -v·S - H mod q
// either way.
type extensionRow struct {
	q       uint64
	ifma    bool
	cs      []uint64
	table   [8]uint64
	qInvNeg uint64
	mred    uint64
	bred    [2]uint64
}

// maxIFMATarget bounds an IFMA target row's prime: IFMA's operands are
// 52 bits, and the sum of up to maxExtensionTerms terms below 2q each, and
// the table's, below 15q, fits its 64-bit lanes.
const (
	maxIFMATarget     = 1 << 52
	maxExtensionTerms = 7
)

// extensions caches the constants by their source and target primes.
var extensions sync.Map

type extensionKey struct{ src, dst string }

func primesKey(ps []uint64) string {
	b := make([]byte, 0, 8*len(ps))
	for _, p := range ps {
		b = append(b, byte(p), byte(p>>8), byte(p>>16), byte(p>>24), byte(p>>32), byte(p>>40), byte(p>>48), byte(p>>56))
	}
	return string(b)
}

// extensionOf returns the constants of the extension from src to dst, or
// nil where the key switch takes Lattigo's: no IFMA, or more than
// maxExtensionTerms products per target value.
func extensionOf(src, dst []uint64) *extension {
	terms := len(src)
	for _, p := range src {
		if p >= 1<<52 {
			terms++
		}
	}
	if !useIFMA || terms > maxExtensionTerms {
		return nil
	}
	k := extensionKey{primesKey(src), primesKey(dst)}
	if x, ok := extensions.Load(k); ok {
		return x.(*extension)
	}
	x, _ := extensions.LoadOrStore(k, newExtension(src, dst))
	return x.(*extension)
}

// shift52 returns a·2^52 mod m, for a below m.
func shift52(a, m uint64) uint64 {
	_, r := bits.Div64(a>>12, a<<52, m)
	return r
}

// invNeg52 returns -m^-1 mod 2^52, for m odd (m^-1 mod 2^64 by Newton's
// iteration, each step doubling the bits that are right).
func invNeg52(m uint64) uint64 {
	inv := m
	for range 6 {
		inv *= 2 - m*inv
	}
	return -inv & (1<<52 - 1)
}

func newExtension(src, dst []uint64) *extension {
	x := &extension{src: src, dst: dst, terms: len(src)}
	half := big.NewInt(1)
	for _, p := range src {
		half.Mul(half, new(big.Int).SetUint64(p))
	}
	half.Rsh(half, 1)
	halfMod := func(q uint64) uint64 { return new(big.Int).Mod(half, new(big.Int).SetUint64(q)).Uint64() }
	for i, p := range src {
		// (S/s_i)^-1 mod s_i, then times 2^52 for MontMul52.
		prod := uint64(1)
		for j, o := range src {
			if j != i {
				prod = mulMod(prod, o%p, p)
			}
		}
		inv := ring.ModExp(prod, p-2, p)
		big := p >= maxIFMAModulus
		x.hs = append(x.hs, halfMod(p))
		x.big = append(x.big, big)
		x.srcF = append(x.srcF, float64(p))
		hi := -1
		if p >= 1<<52 {
			hi, x.terms = x.terms, x.terms+1
		}
		x.hiRow = append(x.hiRow, hi)
		x.wholeRow = append(x.wholeRow, i)
		if big {
			wq, _ := bits.Div64(inv, 0, p)
			x.yc, x.ycq, x.yInv = append(x.yc, inv), append(x.ycq, wq), append(x.yInv, 0)
			continue
		}
		x.yc, x.ycq, x.yInv = append(x.yc, shift52(inv, p)), append(x.ycq, 0), append(x.yInv, invNeg52(p))
	}
	x.scratchRows = x.terms
	for i, hi := range x.hiRow {
		if hi >= 0 {
			x.wholeRow[i], x.scratchRows = x.scratchRows, x.scratchRows+1
		}
	}
	for _, q := range dst {
		r := extensionRow{q: q, ifma: q < maxIFMATarget}
		sModQ := uint64(1)
		for _, p := range src {
			sModQ = mulMod(sModQ, p%q, q)
		}
		h := halfMod(q)
		for v := range r.table {
			r.table[v] = (2*q - mulMod(uint64(v), sModQ, q) - h) % q
		}
		bred := ring.GenBRedConstant(q)
		for i := range src {
			c := uint64(1)
			for j, o := range src {
				if j != i {
					c = mulMod(c, o%q, q)
				}
			}
			if r.ifma {
				c = shift52(c, q)
			} else {
				c = ring.MForm(c, q, bred)
			}
			r.cs = append(r.cs, c)
		}
		if r.ifma {
			for i, hi := range x.hiRow {
				if hi >= 0 {
					r.cs = append(r.cs, shift52(r.cs[i], q))
				}
			}
		}
		if r.ifma {
			r.qInvNeg = invNeg52(q)
		} else {
			r.mred, r.bred = ring.GenMRedConstant(q), bred
		}
		x.rows = append(x.rows, r)
	}
	return x
}

// extensionScratch holds the y_i and the counts v of one extension.
var extensionScratch sync.Pool

// extend sets dst[j] (the rows of x.dst) to the centred extension of src
// (the rows of x.src, values below 2s), each value below 2q.
func (x *extension) extend(src, dst [][]uint64) {
	n := len(src[0])
	size := (x.scratchRows + 1) * n
	buf, _ := extensionScratch.Get().(*[]uint64)
	if buf == nil || len(*buf) < size {
		b := make([]uint64, size)
		buf = &b
	}
	defer extensionScratch.Put(buf)
	ys, v := (*buf)[:x.scratchRows*n], (*buf)[x.scratchRows*n:size]
	row := func(r int) []uint64 { return ys[r*n : (r+1)*n] }
	for i, p := range x.src {
		if !x.big[i] {
			montCanonIFMA(&ys[i*n], &src[i][0], n, x.hs[i], x.yc[i], p, x.yInv[i])
			continue
		}
		whole := row(x.wholeRow[i])
		shoupCanon(whole, src[i][:n], x.hs[i], x.yc[i], x.ycq[i], p)
		if h := x.hiRow[i]; h >= 0 {
			lo, hi := row(i), row(h)
			for c, y := range whole {
				lo[c], hi[c] = y&(1<<52-1), y>>52
			}
		}
	}
	extendCount(v, ys, x.wholeRow, x.srcF)
	for j, r := range x.rows {
		out := dst[j][:n]
		if r.ifma {
			extendRowIFMA(&out[0], &ys[0], &v[0], n, x.terms, &r.cs[0], &r.table[0], r.q, r.qInvNeg)
			continue
		}
		for c := range out {
			s := r.table[v[c]]
			for i, w := range x.wholeRow {
				s += ring.MRed(ys[w*n+c], r.cs[i], r.q, r.mred)
			}
			out[c] = ring.BRedAdd(s, r.q, r.bred)
		}
	}
}

// extendCount sets v[c] to Lattigo's count ⌊Σ_i y_i/s_i⌋ of coefficient c,
// y_i being row rows[i] of ys (rows of len(v) values below 2^63) and
// srcF[i] = s_i: in float64, each quotient rounded and added in the order
// of i as Lattigo does (ring.reconstructRNSCentered), so the same count
// bit for bit, eight coefficients per instruction where AVX-512 DQ serves
// (IEEE division and addition are correctly rounded on every lane).
func extendCount(v, ys []uint64, rows []int, srcF []float64) {
	n := len(v)
	if useIFMA && hasAVX512DQ && n%8 == 0 {
		extendCountAVX512(&v[0], &ys[0], &rows[0], n, len(rows), &srcF[0])
		return
	}
	for c := range v {
		var f float64
		for i, r := range rows {
			f += float64(ys[r*n+c]) / srcF[i]
		}
		v[c] = uint64(f)
	}
}

// shoupCanon sets dst[c] to (src[c] + h)·w mod q in [0, q), for src below
// 2q and h below q, wq = ⌊w·2^64/q⌋.
func shoupCanon(dst, src []uint64, h, w, wq, q uint64) {
	for c, s := range src {
		y := shoupMul(s+h, w, wq, q)
		if y >= q {
			y -= q
		}
		dst[c] = y
	}
}

// modUpPtoQ sets polQ (levels up to levelQ) to polP (levels up to levelP,
// values below 2p) extended to Q, as ring.BasisExtender.ModUpPtoQ does,
// each value below 2q; Lattigo's where extensionOf has no constants.
func modUpPtoQ(e *rlwe.Evaluator, levelP, levelQ int, polP, polQ ring.Poly) {
	params := e.GetRLWEParameters()
	x := extensionOf(params.RingP().ModuliChain()[:levelP+1], params.RingQ().ModuliChain()[:levelQ+1])
	if x == nil {
		e.BasisExtender.ModUpPtoQ(levelP, levelQ, polP, polQ)
		return
	}
	x.extend(polP.Coeffs[:levelP+1], polQ.Coeffs[:levelQ+1])
}

// decomposeDigit sets c2Q's rows outside digit i (nbPi primes from
// i·nbPi) and c2P's to the digit of cxInvNTT (out of NTT form, values below
// q) extended, as ring.Decomposer.DecomposeAndSplit does, each value below
// 2q; Lattigo's for a digit of one prime or where extensionOf has no
// constants. c2Q's rows of the digit are left to the caller.
func decomposeDigit(e *rlwe.Evaluator, levelQ, levelP, nbPi, i int, cxInvNTT, c2Q, c2P ring.Poly) {
	params := e.GetRLWEParameters()
	Q, P := params.RingQ().ModuliChain()[:levelQ+1], params.RingP().ModuliChain()[:levelP+1]
	first, end := i*nbPi, min(i*nbPi+nbPi, levelQ+1)
	var x *extension
	if end-first > 1 {
		dst := append(append(append([]uint64{}, Q[:first]...), Q[end:]...), P...)
		x = extensionOf(Q[first:end], dst)
	}
	if x == nil {
		e.Decomposer.DecomposeAndSplit(levelQ, levelP, nbPi, i, cxInvNTT, c2Q, c2P)
		return
	}
	dst := append(append(append([][]uint64{}, c2Q.Coeffs[:first]...), c2Q.Coeffs[end:levelQ+1]...), c2P.Coeffs[:levelP+1]...)
	x.extend(cxInvNTT.Coeffs[first:end], dst)
}
