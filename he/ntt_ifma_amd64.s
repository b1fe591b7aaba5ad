//go:build amd64 && !purego

#include "textflag.h"

// nttTable's transforms, the key switch's products and basis extensions,
// eight coefficients per instruction with AVX-512 IFMA (ntt_ifma_amd64.go).
//
// SHOUP52(v, w, wq, out, t): out = v·w mod q up to one q, in [0, 2q), by
// Shoup's method in base 2^52: wq = ⌊w·2^52/q⌋, v < 2^52, quot =
// ⌊v·wq/2^52⌋ and out = (v·w - quot·q) mod 2^52. Z31 holds q, Z29 2^52-1;
// t and Z28 are clobbered.
#define SHOUP52(v, w, wq, out, t) \
	VPXORQ t, t, t; \
	VPMADD52HUQ wq, v, t; \
	VPXORQ out, out, out; \
	VPMADD52LUQ w, v, out; \
	VPXORQ Z28, Z28, Z28; \
	VPMADD52LUQ Z31, t, Z28; \
	VPSUBQ Z28, out, out; \
	VPANDQ Z29, out, out

// setup(q): Z31 = q, Z30 = 2q, Z29 = 2^52-1.
#define SETUP(qreg) \
	VPBROADCASTQ qreg, Z31; \
	ADDQ qreg, qreg; \
	VPBROADCASTQ qreg, Z30; \
	MOVQ $0xfffffffffffff, qreg; \
	VPBROADCASTQ qreg, Z29

// LAYERARGS loads a layer's arguments (p *uint64, m, d int, w, wq *uint64,
// q uint64): DI = p, R8 = m/2 groups, R9 = d, R10 and R11 the roots w[m]
// and wq[m], R12 = 8d bytes, and SETUP(q).
#define LAYERARGS \
	MOVQ p+0(FP), DI; \
	MOVQ m+8(FP), R8; \
	MOVQ d+16(FP), R9; \
	MOVQ w+24(FP), R10; \
	MOVQ wq+32(FP), R11; \
	MOVQ q+40(FP), AX; \
	SETUP(AX); \
	LEAQ (R10)(R8*8), R10; \
	LEAQ (R11)(R8*8), R11; \
	SHRQ $1, R8; \
	MOVQ R9, R12; \
	SHLQ $3, R12

// GROUPSTART: Z27 and Z26 the group's root and companion, SI and DX its
// halves, CX = d; GROUPEND moves to the next group (flags from DECQ R8).
#define GROUPSTART \
	VPBROADCASTQ (R10), Z27; \
	VPBROADCASTQ (R11), Z26; \
	MOVQ DI, SI; \
	LEAQ (DI)(R12*1), DX; \
	MOVQ R9, CX

#define GROUPEND \
	ADDQ $8, R10; \
	ADDQ $8, R11; \
	LEAQ (DI)(R12*2), DI; \
	DECQ R8

// func fwdLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64)
//
// Layer m of the forward transform: for each of the m/2 groups i, the
// butterflies of p[2id+k] and p[2id+d+k] (k < d, d a multiple of 8) by the
// root w[m+i]: x, y below 4q in, x' = (x mod 2q) + y·w, y' = (x mod 2q) +
// 2q - y·w out, both below 4q.
TEXT ·fwdLayerIFMA(SB), NOSPLIT, $0-48
	LAYERARGS

fwdGroup:
	GROUPSTART

fwdLoop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 (DX), Z1
	VPSUBQ Z30, Z0, Z2
	VPMINUQ Z2, Z0, Z0
	SHOUP52(Z1, Z27, Z26, Z4, Z3)
	VPADDQ Z4, Z0, Z5
	VPADDQ Z30, Z0, Z6
	VPSUBQ Z4, Z6, Z6
	VMOVDQU64 Z5, (SI)
	VMOVDQU64 Z6, (DX)
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $8, CX
	JNZ  fwdLoop
	GROUPEND
	JNZ  fwdGroup
	VZEROUPPER
	RET

// func invLayerIFMA(p *uint64, m, d int, w, wq *uint64, q uint64)
//
// The inverse layer at distance d (m = n/d): for each of the m/2 groups i,
// the butterflies of x = p[2id+k] and y = p[2id+d+k] by the root w[m+i]: x,
// y below 2q in, x' = (x + y) mod 2q, y' = (x + 2q - y)·w out, both below
// 2q.
TEXT ·invLayerIFMA(SB), NOSPLIT, $0-48
	LAYERARGS

invGroup:
	GROUPSTART

invLoop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 (DX), Z1
	VPADDQ Z1, Z0, Z2
	VPSUBQ Z30, Z2, Z3
	VPMINUQ Z3, Z2, Z2
	VPADDQ Z30, Z0, Z5
	VPSUBQ Z1, Z5, Z5
	SHOUP52(Z5, Z27, Z26, Z4, Z3)
	VMOVDQU64 Z2, (SI)
	VMOVDQU64 Z4, (DX)
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $8, CX
	JNZ  invLoop
	GROUPEND
	JNZ  invGroup
	VZEROUPPER
	RET

// The last three layers of the forward transform (distances 4, 2, 1) and
// the first three of the inverse (1, 2, 4), on sixteen coefficients (two
// groups of eight) at a time: each layer gathers the butterflies' inputs
// into X and Y with a permutation of the two groups (SPLIT), runs eight
// butterflies, and puts the outputs back in place (MERGE).

DATA tailIdx<>+0x000(SB)/8, $0
DATA tailIdx<>+0x008(SB)/8, $1
DATA tailIdx<>+0x010(SB)/8, $2
DATA tailIdx<>+0x018(SB)/8, $3
DATA tailIdx<>+0x020(SB)/8, $8
DATA tailIdx<>+0x028(SB)/8, $9
DATA tailIdx<>+0x030(SB)/8, $10
DATA tailIdx<>+0x038(SB)/8, $11
DATA tailIdx<>+0x040(SB)/8, $4
DATA tailIdx<>+0x048(SB)/8, $5
DATA tailIdx<>+0x050(SB)/8, $6
DATA tailIdx<>+0x058(SB)/8, $7
DATA tailIdx<>+0x060(SB)/8, $12
DATA tailIdx<>+0x068(SB)/8, $13
DATA tailIdx<>+0x070(SB)/8, $14
DATA tailIdx<>+0x078(SB)/8, $15
DATA tailIdx<>+0x080(SB)/8, $0
DATA tailIdx<>+0x088(SB)/8, $1
DATA tailIdx<>+0x090(SB)/8, $4
DATA tailIdx<>+0x098(SB)/8, $5
DATA tailIdx<>+0x0a0(SB)/8, $8
DATA tailIdx<>+0x0a8(SB)/8, $9
DATA tailIdx<>+0x0b0(SB)/8, $12
DATA tailIdx<>+0x0b8(SB)/8, $13
DATA tailIdx<>+0x0c0(SB)/8, $2
DATA tailIdx<>+0x0c8(SB)/8, $3
DATA tailIdx<>+0x0d0(SB)/8, $6
DATA tailIdx<>+0x0d8(SB)/8, $7
DATA tailIdx<>+0x0e0(SB)/8, $10
DATA tailIdx<>+0x0e8(SB)/8, $11
DATA tailIdx<>+0x0f0(SB)/8, $14
DATA tailIdx<>+0x0f8(SB)/8, $15
DATA tailIdx<>+0x100(SB)/8, $0
DATA tailIdx<>+0x108(SB)/8, $1
DATA tailIdx<>+0x110(SB)/8, $8
DATA tailIdx<>+0x118(SB)/8, $9
DATA tailIdx<>+0x120(SB)/8, $2
DATA tailIdx<>+0x128(SB)/8, $3
DATA tailIdx<>+0x130(SB)/8, $10
DATA tailIdx<>+0x138(SB)/8, $11
DATA tailIdx<>+0x140(SB)/8, $4
DATA tailIdx<>+0x148(SB)/8, $5
DATA tailIdx<>+0x150(SB)/8, $12
DATA tailIdx<>+0x158(SB)/8, $13
DATA tailIdx<>+0x160(SB)/8, $6
DATA tailIdx<>+0x168(SB)/8, $7
DATA tailIdx<>+0x170(SB)/8, $14
DATA tailIdx<>+0x178(SB)/8, $15
DATA tailIdx<>+0x180(SB)/8, $0
DATA tailIdx<>+0x188(SB)/8, $2
DATA tailIdx<>+0x190(SB)/8, $4
DATA tailIdx<>+0x198(SB)/8, $6
DATA tailIdx<>+0x1a0(SB)/8, $8
DATA tailIdx<>+0x1a8(SB)/8, $10
DATA tailIdx<>+0x1b0(SB)/8, $12
DATA tailIdx<>+0x1b8(SB)/8, $14
DATA tailIdx<>+0x1c0(SB)/8, $1
DATA tailIdx<>+0x1c8(SB)/8, $3
DATA tailIdx<>+0x1d0(SB)/8, $5
DATA tailIdx<>+0x1d8(SB)/8, $7
DATA tailIdx<>+0x1e0(SB)/8, $9
DATA tailIdx<>+0x1e8(SB)/8, $11
DATA tailIdx<>+0x1f0(SB)/8, $13
DATA tailIdx<>+0x1f8(SB)/8, $15
DATA tailIdx<>+0x200(SB)/8, $0
DATA tailIdx<>+0x208(SB)/8, $8
DATA tailIdx<>+0x210(SB)/8, $1
DATA tailIdx<>+0x218(SB)/8, $9
DATA tailIdx<>+0x220(SB)/8, $2
DATA tailIdx<>+0x228(SB)/8, $10
DATA tailIdx<>+0x230(SB)/8, $3
DATA tailIdx<>+0x238(SB)/8, $11
DATA tailIdx<>+0x240(SB)/8, $4
DATA tailIdx<>+0x248(SB)/8, $12
DATA tailIdx<>+0x250(SB)/8, $5
DATA tailIdx<>+0x258(SB)/8, $13
DATA tailIdx<>+0x260(SB)/8, $6
DATA tailIdx<>+0x268(SB)/8, $14
DATA tailIdx<>+0x270(SB)/8, $7
DATA tailIdx<>+0x278(SB)/8, $15
DATA tailIdx<>+0x280(SB)/8, $0
DATA tailIdx<>+0x288(SB)/8, $0
DATA tailIdx<>+0x290(SB)/8, $0
DATA tailIdx<>+0x298(SB)/8, $0
DATA tailIdx<>+0x2a0(SB)/8, $1
DATA tailIdx<>+0x2a8(SB)/8, $1
DATA tailIdx<>+0x2b0(SB)/8, $1
DATA tailIdx<>+0x2b8(SB)/8, $1
DATA tailIdx<>+0x2c0(SB)/8, $0
DATA tailIdx<>+0x2c8(SB)/8, $0
DATA tailIdx<>+0x2d0(SB)/8, $1
DATA tailIdx<>+0x2d8(SB)/8, $1
DATA tailIdx<>+0x2e0(SB)/8, $2
DATA tailIdx<>+0x2e8(SB)/8, $2
DATA tailIdx<>+0x2f0(SB)/8, $3
DATA tailIdx<>+0x2f8(SB)/8, $3
DATA tailIdx<>+0x300(SB)/8, $7
DATA tailIdx<>+0x308(SB)/8, $6
DATA tailIdx<>+0x310(SB)/8, $5
DATA tailIdx<>+0x318(SB)/8, $4
DATA tailIdx<>+0x320(SB)/8, $3
DATA tailIdx<>+0x328(SB)/8, $2
DATA tailIdx<>+0x330(SB)/8, $1
DATA tailIdx<>+0x338(SB)/8, $0
GLOBL tailIdx<>(SB), RODATA|NOPTR, $0x340

// Index vectors: Z10 halves (distance 4; also its merge), Z11 the other
// halves; Z12, Z13 pairs at distance 2 and Z14, Z16 their merge; Z17, Z18
// even and odd (distance 1) and Z19, Z20 their merge; Z21 and Z22 spread
// two and four roots over eight lanes.
#define TAILIDX \
	VMOVDQU64 tailIdx<>+0x000(SB), Z10; \
	VMOVDQU64 tailIdx<>+0x040(SB), Z11; \
	VMOVDQU64 tailIdx<>+0x080(SB), Z12; \
	VMOVDQU64 tailIdx<>+0x0c0(SB), Z13; \
	VMOVDQU64 tailIdx<>+0x100(SB), Z14; \
	VMOVDQU64 tailIdx<>+0x140(SB), Z16; \
	VMOVDQU64 tailIdx<>+0x180(SB), Z17; \
	VMOVDQU64 tailIdx<>+0x1c0(SB), Z18; \
	VMOVDQU64 tailIdx<>+0x200(SB), Z19; \
	VMOVDQU64 tailIdx<>+0x240(SB), Z20; \
	VMOVDQU64 tailIdx<>+0x280(SB), Z21; \
	VMOVDQU64 tailIdx<>+0x2c0(SB), Z22

// SPLIT(lo, hi): Z2, Z3 = the lanes lo and hi of the groups Z0 (0-7) and
// Z1 (8-15).
#define SPLIT(lo, hi) \
	VMOVDQA64 lo, Z2; \
	VPERMI2Q Z1, Z0, Z2; \
	VMOVDQA64 hi, Z3; \
	VPERMI2Q Z1, Z0, Z3

// MERGE(a, b): Z0, Z1 = the lanes a and b of Z2 (0-7) and Z3 (8-15).
#define MERGE(a, b) \
	VMOVDQA64 a, Z0; \
	VPERMI2Q Z3, Z2, Z0; \
	VMOVDQA64 b, Z1; \
	VPERMI2Q Z3, Z2, Z1

// FWDBF: the forward butterflies of Z2 (below 4q) and Z3 by the roots
// Z23 (companions Z24): Z2 = (Z2 mod 2q) + v, Z3 = (Z2 mod 2q) + 2q - v,
// v = Z3·w mod q in [0, 2q).
#define FWDBF \
	VPSUBQ Z30, Z2, Z6; \
	VPMINUQ Z6, Z2, Z2; \
	SHOUP52(Z3, Z23, Z24, Z7, Z8); \
	VPADDQ Z30, Z2, Z9; \
	VPSUBQ Z7, Z9, Z3; \
	VPADDQ Z7, Z2, Z2

// INVBF: the inverse butterflies of Z2 and Z3 (below 2q) by the roots Z23
// (companions Z24): Z2 = (Z2 + Z3) mod 2q, Z3 = (Z2 + 2q - Z3)·w.
#define INVBF \
	VPADDQ Z3, Z2, Z6; \
	VPSUBQ Z30, Z6, Z7; \
	VPMINUQ Z7, Z6, Z6; \
	VPADDQ Z30, Z2, Z9; \
	VPSUBQ Z3, Z9, Z9; \
	SHOUP52(Z9, Z23, Z24, Z3, Z8); \
	VMOVDQA64 Z6, Z2

// TAILARGS loads a tail's arguments (p *uint64, n int, w, wq *uint64,
// q uint64), SETUP(q) and TAILIDX: DI = p, CX = n/16 iterations, R12 and
// R13 the roots n/4 + i and their companions (two per iteration), SI and DX
// the roots n/2 + i (four), R8 and R9 the roots n + i (eight).
#define TAILARGS \
	MOVQ p+0(FP), DI; \
	MOVQ n+8(FP), CX; \
	MOVQ w+16(FP), R10; \
	MOVQ wq+24(FP), R11; \
	MOVQ q+32(FP), AX; \
	SETUP(AX); \
	TAILIDX; \
	MOVQ CX, BX; \
	SHLQ $1, BX; \
	LEAQ (R10)(BX*1), R12; \
	LEAQ (R11)(BX*1), R13; \
	LEAQ (R10)(BX*2), SI; \
	LEAQ (R11)(BX*2), DX; \
	LEAQ (R10)(BX*4), R8; \
	LEAQ (R11)(BX*4), R9; \
	SHRQ $4, CX

// TAILNEXT stores the two groups and moves to the next two (flags from
// DECQ CX).
#define TAILNEXT \
	VMOVDQU64 Z0, (DI); \
	VMOVDQU64 Z1, 64(DI); \
	ADDQ $128, DI; \
	ADDQ $16, R12; \
	ADDQ $16, R13; \
	ADDQ $32, SI; \
	ADDQ $32, DX; \
	ADDQ $64, R8; \
	ADDQ $64, R9; \
	DECQ CX

// func fwdTailIFMA(p *uint64, n int, w, wq *uint64, q uint64)
//
// The layers n/4, n/2, n (distances 4, 2, 1) of the forward transform on
// p[:n], n a multiple of 16, values below 4q in and out; w and wq are the
// forward roots from index 0 and their companions in base 2^52.
TEXT ·fwdTailIFMA(SB), NOSPLIT, $0-40
	TAILARGS

fwdTailLoop:
	VMOVDQU64 (DI), Z0
	VMOVDQU64 64(DI), Z1
	SPLIT(Z10, Z11)
	VPERMQ (R12), Z21, Z23
	VPERMQ (R13), Z21, Z24
	FWDBF
	MERGE(Z10, Z11)
	SPLIT(Z12, Z13)
	VPERMQ (SI), Z22, Z23
	VPERMQ (DX), Z22, Z24
	FWDBF
	MERGE(Z14, Z16)
	SPLIT(Z17, Z18)
	VMOVDQU64 (R8), Z23
	VMOVDQU64 (R9), Z24
	FWDBF
	MERGE(Z19, Z20)
	TAILNEXT
	JNZ  fwdTailLoop
	VZEROUPPER
	RET

// func invTailIFMA(p *uint64, n int, w, wq *uint64, q uint64)
//
// The inverse layers at distances 1, 2, 4 on p[:n], n a multiple of 16,
// values below 2q in and out; w and wq are the backward roots from index 0
// and their companions in base 2^52.
TEXT ·invTailIFMA(SB), NOSPLIT, $0-40
	TAILARGS

invTailLoop:
	VMOVDQU64 (DI), Z0
	VMOVDQU64 64(DI), Z1
	SPLIT(Z17, Z18)
	VMOVDQU64 (R8), Z23
	VMOVDQU64 (R9), Z24
	INVBF
	MERGE(Z19, Z20)
	SPLIT(Z12, Z13)
	VPERMQ (SI), Z22, Z23
	VPERMQ (DX), Z22, Z24
	INVBF
	MERGE(Z14, Z16)
	SPLIT(Z10, Z11)
	VPERMQ (R12), Z21, Z23
	VPERMQ (R13), Z21, Z24
	INVBF
	MERGE(Z10, Z11)
	TAILNEXT
	JNZ  invTailLoop
	VZEROUPPER
	RET

// func conjLayerIFMA(p *uint64, n, k int, w, wq, q uint64)
//
// The conjugate-invariant layer's pairs j, n-j for 1 <= j <= k (k a
// multiple of 8, k < n/2): x = p[j], y = p[n-j] below 2q in, x' = x + 2q
// - y·w, y' = y + 2q - x·w out, below 4q.
TEXT ·conjLayerIFMA(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), BX
	MOVQ k+16(FP), CX
	MOVQ w+24(FP), R10
	MOVQ wq+32(FP), R11
	MOVQ q+40(FP), AX
	SETUP(AX)
	VPBROADCASTQ R10, Z23
	VPBROADCASTQ R11, Z24
	VMOVDQU64 tailIdx<>+0x300(SB), Z25 // lanes reversed
	LEAQ 8(DI), SI                      // p[j], j = 1
	SUBQ $8, BX
	LEAQ (DI)(BX*8), DX                 // p[n-j-7], j = 1
	SHRQ $3, CX

conjLoop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 (DX), Z1
	VPERMQ Z1, Z25, Z1
	SHOUP52(Z1, Z23, Z24, Z2, Z8)
	SHOUP52(Z0, Z23, Z24, Z3, Z8)
	VPADDQ Z30, Z0, Z0
	VPSUBQ Z2, Z0, Z0
	VPADDQ Z30, Z1, Z1
	VPSUBQ Z3, Z1, Z1
	VPERMQ Z1, Z25, Z1
	VMOVDQU64 Z0, (SI)
	VMOVDQU64 Z1, (DX)
	ADDQ $64, SI
	SUBQ $64, DX
	DECQ CX
	JNZ  conjLoop
	VZEROUPPER
	RET

// func scaleIFMA(p *uint64, n int, w, wq, q uint64, full bool)
//
// p[k] = p[k]·w mod q for k < n (n a multiple of 8, values below 2^52
// in), in [0, 2q), or [0, q) if full: the result less Z27 where that does
// not wrap, Z27 being q if full, 0 if not.
TEXT ·scaleIFMA(SB), NOSPLIT, $0-41
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), R10
	MOVQ wq+24(FP), R11
	MOVQ q+32(FP), AX
	MOVBQZX full+40(FP), BX
	NEGQ BX
	ANDQ AX, BX // q if full, 0 if not
	VPBROADCASTQ BX, Z27
	SETUP(AX)
	VPBROADCASTQ R10, Z23
	VPBROADCASTQ R11, Z24
	SHRQ $3, CX

scaleLoop:
	VMOVDQU64 (DI), Z0
	SHOUP52(Z0, Z23, Z24, Z1, Z8)
	VPSUBQ Z27, Z1, Z2
	VPMINUQ Z2, Z1, Z1
	VMOVDQU64 Z1, (DI)
	ADDQ $64, DI
	DECQ CX
	JNZ  scaleLoop
	VZEROUPPER
	RET

// func subScaleIFMA(out, x, y *uint64, n int, w, wq, q uint64)
//
// out[k] = (x[k] + 2q - y[k])·w mod q, in [0, q), for k < n (a multiple of
// 8): x below 4q and y below 2q, q below 2^49 (the sum below 6q < 2^52).
TEXT ·subScaleIFMA(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ w+32(FP), R10
	MOVQ wq+40(FP), R11
	MOVQ q+48(FP), AX
	SETUP(AX)
	VPBROADCASTQ R10, Z23
	VPBROADCASTQ R11, Z24
	SHRQ $3, CX

subScaleLoop:
	VMOVDQU64 (SI), Z0
	VPADDQ Z30, Z0, Z0
	VPSUBQ (DX), Z0, Z0
	SHOUP52(Z0, Z23, Z24, Z1, Z8)
	VPSUBQ Z31, Z1, Z2
	VPMINUQ Z2, Z1, Z1
	VMOVDQU64 Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  subScaleLoop
	VZEROUPPER
	RET

// func addModAVX512(out, a, b *uint64, n int, q uint64)
//
// out[k] = a[k] + b[k] mod q, in [0, q), for k < n (a multiple of 8): a
// and b below q, q below 2^63.
TEXT ·addModAVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ q+32(FP), AX
	VPBROADCASTQ AX, Z31
	SHRQ $3, CX

addModLoop:
	VMOVDQU64 (SI), Z0
	VPADDQ (DX), Z0, Z0
	VPSUBQ Z31, Z0, Z1
	VPMINUQ Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  addModLoop
	VZEROUPPER
	RET

// func extendCountAVX512(v, ys *uint64, rows *int, n, k int, srcF *float64)
//
// v[x] = ⌊Σ_{i<k} float64(ys[rows[i]·n + x]) / srcF[i]⌋ for x < n (a
// multiple of 8), each conversion, quotient and sum rounded to nearest as
// Go's float64 arithmetic does, in the order of i: ys below 2^63, the sum
// below 2^63.
TEXT ·extendCountAVX512(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), DI
	MOVQ ys+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R8
	MOVQ srcF+40(FP), R11
	MOVQ CX, BX
	SHLQ $3, BX // a row's bytes
	SHRQ $3, CX
	XORQ R12, R12 // the byte offset of x

countLoop:
	VPXORQ Z0, Z0, Z0
	XORQ R13, R13

countTerm:
	MOVQ (DX)(R13*8), AX
	IMULQ BX, AX
	ADDQ SI, AX
	VMOVDQU64 (AX)(R12*1), Z1
	VCVTUQQ2PD Z1, Z1
	VBROADCASTSD (R11)(R13*8), Z2
	VDIVPD Z2, Z1, Z1
	VADDPD Z1, Z0, Z0
	INCQ R13
	CMPQ R13, R8
	JLT  countTerm
	VCVTTPD2UQQ Z0, Z0
	VMOVDQU64 Z0, (DI)(R12*1)
	ADDQ $64, R12
	DECQ CX
	JNZ  countLoop
	VZEROUPPER
	RET

// MONT52(a, b, out): out = a·b·2^-52 mod q, in [0, 2q), for a, b below
// 2^52 with a·b < 4q^2 (Montgomery's reduction in base 2^52: m =
// (a·b)·(-q^-1) mod 2^52 and out = (a·b + m·q)/2^52, whose low half, a·b's
// low 52 bits plus m·q's, is 0 or 2^52). Z31 holds q, Z30 -q^-1 mod 2^52;
// Z3 and Z4 are clobbered.
#define MONT52(a, b, out) \
	VPXORQ Z3, Z3, Z3; \
	VPMADD52LUQ b, a, Z3; \
	VPXORQ out, out, out; \
	VPMADD52HUQ b, a, out; \
	VPXORQ Z4, Z4, Z4; \
	VPMADD52LUQ Z30, Z3, Z4; \
	VPMADD52LUQ Z31, Z4, Z3; \
	VPMADD52HUQ Z31, Z4, out; \
	VPSRLQ $52, Z3, Z3; \
	VPADDQ Z3, out, out

// func mulMont52IFMA(acc, a, b *uint64, n int, q, qInvNeg uint64, add bool)
//
// acc[k] = a[k]·b[k]·2^-52 mod q, in [0, 2q), or acc[k] plus that if add,
// for k < n (a multiple of 8); a below q, b below 4q, q below 2^50. acc is
// read either way, and kept through the mask Z27 (all ones if add, zero if
// not).
TEXT ·mulMont52IFMA(SB), NOSPLIT, $0-49
	MOVQ acc+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ q+32(FP), AX
	MOVQ qInvNeg+40(FP), BX
	MOVBQZX add+48(FP), R8
	NEGQ R8
	VPBROADCASTQ R8, Z27
	VPBROADCASTQ AX, Z31
	VPBROADCASTQ BX, Z30
	SHRQ $3, CX

montLoop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 (DX), Z1
	MONT52(Z0, Z1, Z2)
	VPANDQ (DI), Z27, Z5
	VPADDQ Z5, Z2, Z2
	VMOVDQU64 Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ  montLoop
	VZEROUPPER
	RET

// func montCanonIFMA(dst, src *uint64, n int, h, c, q, qInvNeg uint64)
//
// dst[k] = (src[k] + h)·c·2^-52 mod q in [0, q), for k < n (a multiple of
// 8); src below 2q, h and c below q, q below 2^50.
TEXT ·montCanonIFMA(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ h+24(FP), AX
	VPBROADCASTQ AX, Z28
	MOVQ c+32(FP), AX
	VPBROADCASTQ AX, Z29
	MOVQ q+40(FP), AX
	VPBROADCASTQ AX, Z31
	MOVQ qInvNeg+48(FP), AX
	VPBROADCASTQ AX, Z30
	SHRQ $3, CX

canonLoop:
	VMOVDQU64 (SI), Z0
	VPADDQ Z28, Z0, Z0
	MONT52(Z0, Z29, Z2)
	VPSUBQ Z31, Z2, Z5
	VPMINUQ Z5, Z2, Z2
	VMOVDQU64 Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  canonLoop
	VZEROUPPER
	RET

// func extendRowIFMA(out, ys, v *uint64, n, k int, cs, table *uint64, p, pInvNeg uint64)
//
// One target row of a basis extension: out[x] = Σ_{i<k} ys[i·n+x]·cs[i]·
// 2^-52 + table[v[x]], brought below 2p by conditional subtractions of 8p,
// 4p and 2p, for x < n (a multiple of 8): ys below 2^52, cs[i] below p,
// v[x] below 8, k at most 7, p below 2^52 (each term below 2p, the sum
// below 15p < 2^56).
TEXT ·extendRowIFMA(SB), NOSPLIT, $0-72
	MOVQ out+0(FP), DI
	MOVQ ys+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), R8
	MOVQ cs+40(FP), R11
	MOVQ table+48(FP), AX
	VMOVDQU64 (AX), Z28
	MOVQ p+56(FP), AX
	VPBROADCASTQ AX, Z31
	SHLQ $1, AX
	VPBROADCASTQ AX, Z27 // 2p
	SHLQ $1, AX
	VPBROADCASTQ AX, Z26 // 4p
	SHLQ $1, AX
	VPBROADCASTQ AX, Z25 // 8p
	MOVQ pInvNeg+64(FP), AX
	VPBROADCASTQ AX, Z30
	MOVQ CX, BX
	SHLQ $3, BX // a row's bytes
	SHRQ $3, CX
	XORQ R12, R12 // the byte offset of x

extendLoop:
	VPXORQ Z6, Z6, Z6
	LEAQ (SI)(R12*1), R9
	MOVQ R11, R10
	MOVQ R8, R13

extendTerm:
	VMOVDQU64 (R9), Z0
	VPBROADCASTQ (R10), Z1
	MONT52(Z0, Z1, Z2)
	VPADDQ Z2, Z6, Z6
	ADDQ BX, R9
	ADDQ $8, R10
	DECQ R13
	JNZ  extendTerm

	VMOVDQU64 (DX)(R12*1), Z7
	VPERMQ Z28, Z7, Z8
	VPADDQ Z8, Z6, Z6
	VPSUBQ Z25, Z6, Z2
	VPMINUQ Z2, Z6, Z6
	VPSUBQ Z26, Z6, Z2
	VPMINUQ Z2, Z6, Z6
	VPSUBQ Z27, Z6, Z2
	VPMINUQ Z2, Z6, Z6
	VMOVDQU64 Z6, (DI)(R12*1)
	ADDQ $64, R12
	DECQ CX
	JNZ  extendLoop
	VZEROUPPER
	RET

// CANON(x, t): x = x mod q for x below 2q (Z31 holds q).
#define CANON(x, t) \
	VPSUBQ Z31, x, t; \
	VPMINUQ t, x, x

// func tensorIFMA(c0, c1, c2, a0, a1, b0, b1 *uint64, n int, q, qInvNeg, r104 uint64)
//
// The tensor product of two ciphertexts of degree 1 on one prime: c0 =
// a0·b0, c1 = a0·b1 + a1·b0 and c2 = a1·b1 mod q, each in [0, q), for k < n
// (a multiple of 8): a and b below q, q below 2^50, qInvNeg = -q^-1 mod
// 2^52, r104 = 2^104 mod q (each Montgomery product lacks 2^52 twice).
// The outputs may be any of the inputs.
TEXT ·tensorIFMA(SB), NOSPLIT, $0-88
	MOVQ c0+0(FP), DI
	MOVQ c1+8(FP), R8
	MOVQ c2+16(FP), R9
	MOVQ a0+24(FP), SI
	MOVQ a1+32(FP), R10
	MOVQ b0+40(FP), DX
	MOVQ b1+48(FP), R11
	MOVQ n+56(FP), CX
	MOVQ q+64(FP), AX
	VPBROADCASTQ AX, Z31
	MOVQ qInvNeg+72(FP), AX
	VPBROADCASTQ AX, Z30
	MOVQ r104+80(FP), AX
	VPBROADCASTQ AX, Z28
	SHRQ $3, CX
	XORQ R12, R12 // the byte offset of k

tensorLoop:
	VMOVDQU64 (SI)(R12*1), Z10
	VMOVDQU64 (R10)(R12*1), Z11
	VMOVDQU64 (DX)(R12*1), Z12
	VMOVDQU64 (R11)(R12*1), Z13
	MONT52(Z10, Z12, Z14)
	MONT52(Z14, Z28, Z15)
	CANON(Z15, Z16)
	MONT52(Z10, Z13, Z14)
	MONT52(Z11, Z12, Z17)
	VPADDQ Z17, Z14, Z14
	MONT52(Z14, Z28, Z18)
	CANON(Z18, Z16)
	MONT52(Z11, Z13, Z14)
	MONT52(Z14, Z28, Z19)
	CANON(Z19, Z16)
	VMOVDQU64 Z15, (DI)(R12*1)
	VMOVDQU64 Z18, (R8)(R12*1)
	VMOVDQU64 Z19, (R9)(R12*1)
	ADDQ $64, R12
	DECQ CX
	JNZ  tensorLoop
	VZEROUPPER
	RET
