//go:build amd64 && !purego

package he

import (
	"os"

	"golang.org/x/sys/cpu"
)

// useIFMA reports whether the he package runs nttTable's transforms, the
// key switch's products and its basis extensions with AVX-512 IFMA
// (ntt_ifma_amd64.s), on primes below maxIFMAModulus.
// PUENTE_HE_NO_IFMA=1 in the environment turns it off, so that both paths
// can be measured on one machine; tests turn it off to compare them.
var useIFMA = cpu.X86.HasAVX512F && cpu.X86.HasAVX512IFMA && os.Getenv("PUENTE_HE_NO_IFMA") == ""

// fwdLayerIFMA runs layer m of the forward transform (distance d, a multiple
// of 8) on p[:n], n = m·d, with the roots w and their companions wq =
// ⌊w·2^52/q⌋.
//
//go:noescape
func fwdLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64)

// invLayerIFMA runs the inverse layer at distance d (a multiple of 8) on
// p[:n], n = m·d, with the backward roots w and their companions wq.
//
//go:noescape
func invLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64)

// fwdTailIFMA runs the forward transform's last three layers (distances 4,
// 2, 1) on p[:n], n a multiple of 16.
//
//go:noescape
func fwdTailIFMA(p *uint64, n int, w, wq *uint64, q uint64)

// invTailIFMA runs the inverse transform's first three layers (distances
// 1, 2, 4) on p[:n], n a multiple of 16.
//
//go:noescape
func invTailIFMA(p *uint64, n int, w, wq *uint64, q uint64)

// conjLayerIFMA runs the conjugate-invariant layer's pairs j, n-j for 1 <=
// j <= k, k a multiple of 8 below n/2, by the root w (companion wq in base
// 2^52).
//
//go:noescape
func conjLayerIFMA(p *uint64, n, k int, w, wq, q uint64)

// scaleIFMA multiplies p[:n] (n a multiple of 8, values below 2^52) by w
// (companion wq in base 2^52): each value below 2q, or q if full.
//
//go:noescape
func scaleIFMA(p *uint64, n int, w, wq, q uint64, full bool)

// hasAVX512DQ reports whether the processor converts between 64-bit
// integers and doubles on eight lanes (extendCountAVX512).
var hasAVX512DQ = cpu.X86.HasAVX512DQ

// extendCountAVX512 sets v[x] to ⌊Σ_{i<k} float64(ys[rows[i]·n+x]) /
// srcF[i]⌋, for x < n (a multiple of 8), rounded as Go's float64
// arithmetic, summed in the order of i.
//
//go:noescape
func extendCountAVX512(v, ys *uint64, rows *int, n, k int, srcF *float64)

// tensorIFMA sets c0 = a0·b0, c1 = a0·b1 + a1·b0 and c2 = a1·b1 mod q in
// [0, q), for k < n (a multiple of 8): a and b below q, q below 2^50,
// qInvNeg = -q^-1 mod 2^52, r104 = 2^104 mod q. The outputs may be inputs.
//
//go:noescape
func tensorIFMA(c0, c1, c2, a0, a1, b0, b1 *uint64, n int, q, qInvNeg, r104 uint64)

// addModAVX512 sets out[k] to a[k] + b[k] mod q in [0, q), for k < n (a
// multiple of 8): a and b below q, q below 2^63.
//
//go:noescape
func addModAVX512(out, a, b *uint64, n int, q uint64)

// subScaleIFMA sets out[k] to (x[k] + 2q - y[k])·w mod q in [0, q), for k
// < n (a multiple of 8): x below 4q, y below 2q, q below 2^49, wq =
// ⌊w·2^52/q⌋.
//
//go:noescape
func subScaleIFMA(out, x, y *uint64, n int, w, wq, q uint64)

// mulMont52IFMA sets acc[k] to a[k]·b[k]·2^-52 mod q (in [0, 2q)), or adds
// it if add, for k < n (a multiple of 8): a below q, b below 4q, q below
// 2^50, qInvNeg = -q^-1 mod 2^52.
//
//go:noescape
func mulMont52IFMA(acc, a, b *uint64, n int, q, qInvNeg uint64, add bool)

// montCanonIFMA sets dst[k] to (src[k] + h)·c·2^-52 mod q in [0, q), for
// k < n (a multiple of 8): src below 2q, h and c below q, q below 2^50.
//
//go:noescape
func montCanonIFMA(dst, src *uint64, n int, h, c, q, qInvNeg uint64)

// extendRowIFMA computes one target row of a basis extension
// (basisext.go): out[x] = Σ_{i<k} ys[i·n+x]·cs[i]·2^-52 + table[v[x]] mod
// p, below 2p, for x < n (a multiple of 8): k at most 7, p below 2^52.
//
//go:noescape
func extendRowIFMA(out, ys, v *uint64, n, k int, cs, table *uint64, p, pInvNeg uint64)
