//go:build !amd64 || purego

package he

// useIFMA is false where ntt_ifma_amd64.s is not built: nttTable runs every
// layer in Go.
var useIFMA = false

func fwdLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64) {
	panic("he: fwdLayerIFMA without AVX-512 IFMA")
}

func invLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64) {
	panic("he: invLayerIFMA without AVX-512 IFMA")
}

func fwdTailIFMA(p *uint64, n int, w, wq *uint64, q uint64) {
	panic("he: fwdTailIFMA without AVX-512 IFMA")
}

func invTailIFMA(p *uint64, n int, w, wq *uint64, q uint64) {
	panic("he: invTailIFMA without AVX-512 IFMA")
}

func conjLayerIFMA(p *uint64, n, k int, w, wq, q uint64) {
	panic("he: conjLayerIFMA without AVX-512 IFMA")
}

func scaleIFMA(p *uint64, n int, w, wq, q uint64, full bool) {
	panic("he: scaleIFMA without AVX-512 IFMA")
}

var hasAVX512DQ = false

func extendCountAVX512(v, ys *uint64, rows *int, n, k int, srcF *float64) {
	panic("he: extendCountAVX512 without AVX-512")
}

func tensorIFMA(c0, c1, c2, a0, a1, b0, b1 *uint64, n int, q, qInvNeg, r104 uint64) {
	panic("he: tensorIFMA without AVX-512 IFMA")
}

func addModAVX512(out, a, b *uint64, n int, q uint64) {
	panic("he: addModAVX512 without AVX-512")
}

func subScaleIFMA(out, x, y *uint64, n int, w, wq, q uint64) {
	panic("he: subScaleIFMA without AVX-512 IFMA")
}

func mulMont52IFMA(acc, a, b *uint64, n int, q, qInvNeg uint64, add bool) {
	panic("he: mulMont52IFMA without AVX-512 IFMA")
}

func montCanonIFMA(dst, src *uint64, n int, h, c, q, qInvNeg uint64) {
	panic("he: montCanonIFMA without AVX-512 IFMA")
}

func extendRowIFMA(out, ys, v *uint64, n, k int, cs, table *uint64, p, pInvNeg uint64) {
	panic("he: extendRowIFMA without AVX-512 IFMA")
}
