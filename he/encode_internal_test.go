package he

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestEncodeIntMatchesLattigo checks the gallery's integer encoding against
// Lattigo's Encoder at the same scale: equal up to the dither, within one.
func TestEncodeIntMatchesLattigo(t *testing.T) {
	ps, _ := Lookup(N15V2)
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float64, ps.Slots())
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	enc := ckks.NewEncoder(ps.params)
	got := ps.encodeInt(enc, v, make([]complex128, ps.Slots()), 1)
	pt := ckks.NewPlaintext(ps.params, 0)
	pt.IsNTT = false
	pt.Scale = ps.galleryScale()
	if err := enc.Encode(v, pt); err != nil {
		t.Fatal(err)
	}
	q0 := ps.params.Q()[0]
	for i, c := range pt.Value.Coeffs[0] {
		want := int64(c)
		if c > q0/2 {
			want = -int64(q0 - c)
		}
		if d := int64(got[i]) - want; d < -1 || d > 1 {
			t.Fatalf("coefficient %d: %d, Lattigo %d", i, got[i], want)
		}
	}
}

// TestEncodeIntOneEntry: a one-entry gallery (a verification) makes every
// diagonal a single spike, whose coefficients follow a cosine; rounded
// without dither their errors line up, add coherently at the spike's slot,
// and add again across the diagonals in the score (4.6·10^-5 of score
// measured on puente-ckks-n15-v2 against 3·10^-6 for a gallery of four, enough
// to move a decision inside the band). The encoding dithers its rounding, so
// the score's error stays within a few standard deviations of the
// incoherent sum, sqrt(N/6)/2^galleryScale for a unit probe.
func TestEncodeIntOneEntry(t *testing.T) {
	ps, _ := Lookup(N15V2)
	S := ps.Slots()
	enc := ckks.NewEncoder(ps.params)
	buf := make([]complex128, S)
	sd := math.Sqrt(float64(ps.params.N())/6) / ps.galleryScale().Float64()
	rng := rand.New(rand.NewPCG(3, 4))
	decode := func(c []int32) []float64 {
		pt := ckks.NewPlaintext(ps.params, 0)
		pt.IsNTT = false
		pt.Scale = ps.galleryScale()
		q0 := ps.params.Q()[0]
		for k, x := range c {
			if x < 0 {
				pt.Value.Coeffs[0][k] = q0 - uint64(-int64(x))
			} else {
				pt.Value.Coeffs[0][k] = uint64(x)
			}
		}
		out := make([]float64, S)
		if err := enc.Decode(pt, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	worst := 0.0
	for trial, slot := range []int{0, 5, S - 1} {
		const m = 124
		g := make([]float64, m)
		var n2 float64
		for j := range g {
			g[j] = rng.NormFloat64()
			n2 += g[j] * g[j]
		}
		var errScore float64
		for j := range g {
			g[j] /= math.Sqrt(n2)
			v := make([]float64, S)
			v[slot] = g[j]
			out := decode(ps.encodeInt(enc, v, buf, uint64(trial*m+j)))
			errScore += g[j] * (out[slot] - g[j]) // the probe is the entry itself
		}
		worst = math.Max(worst, math.Abs(errScore))
	}
	t.Logf("worst score error of a one-entry gallery %.2e: %.1f incoherent standard deviations (%.2e)", worst, worst/sd, sd)
	if worst > 5*sd {
		t.Fatalf("score error of a one-entry gallery %.2e, %.1f standard deviations of the incoherent error: the rounding errors add coherently", worst, worst/sd)
	}
}

// BenchmarkDiagConversion measures the conversion of one diagonal of a
// block to the NTT form at the top level of each production set: "kept" as
// a block held in memory stores it (Montgomery form), "search" as a block
// beyond the NTT budget is converted during every search.
func BenchmarkDiagConversion(b *testing.B) {
	for _, id := range []ParamSetID{N15V2, N15V3, N15V4} {
		ps, err := Lookup(id)
		if err != nil {
			b.Fatal(err)
		}
		c := make([]int32, ps.Slots())
		r := rand.New(rand.NewPCG(1, 2))
		for i := range c {
			c[i] = int32(r.IntN(1<<26)) - 1<<25
		}
		lvl := ps.topLevel()
		out := ps.params.RingQ().AtLevel(lvl).NewPoly()
		b.Run(ps.Name()+"/kept", func(b *testing.B) {
			for b.Loop() {
				ps.diagNTT(c, lvl, out)
			}
		})
		b.Run(ps.Name()+"/search", func(b *testing.B) {
			for b.Loop() {
				ps.diagNTTLazy(c, lvl, out)
			}
		})
	}
}

// TestDiagNTTLazy checks that the search's form of a diagonal is the kept
// form without the Montgomery factor: equal to the kept one once reduced
// and put in Montgomery form, for coefficients up to int32's extremes.
func TestDiagNTTLazy(t *testing.T) {
	for _, id := range []ParamSetID{N15V2, N15V3, N15V4} {
		ps, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		c := make([]int32, ps.Slots())
		r := rand.New(rand.NewPCG(3, 4))
		for i := range c {
			c[i] = int32(r.Uint32())
		}
		c[0], c[1], c[2], c[3] = math.MinInt32, math.MaxInt32, -1, 0
		lvl := ps.topLevel()
		ringQ := ps.params.RingQ().AtLevel(lvl)
		kept, lazy := ringQ.NewPoly(), ringQ.NewPoly()
		ps.diagNTT(c, lvl, kept)
		ps.diagNTTLazy(c, lvl, lazy)
		// The kept form is Lattigo's NTT of c mod each prime, in Montgomery form.
		want := ringQ.NewPoly()
		for i, q := range ps.qAt(lvl) {
			for k, v := range c {
				want.Coeffs[i][k] = uint64((int64(v)%int64(q) + int64(q)) % int64(q))
			}
		}
		ringQ.NTT(want, want)
		ringQ.MForm(want, want)
		if !ringQ.Equal(kept, want) {
			t.Fatalf("%s: the kept form differs from the NTT of the coefficients in Montgomery form", ps.Name())
		}
		ringQ.Reduce(lazy, lazy)
		ringQ.MForm(lazy, lazy)
		if !ringQ.Equal(kept, lazy) {
			t.Fatalf("%s: the lazy form, reduced and in Montgomery form, differs from the kept form", ps.Name())
		}
	}
}

// TestMulAddExtremeOperands runs the scorer's sums (mulAdd's n terms, then
// finishSum) at their worst case, with the Go and the IFMA arithmetic, on
// every prime of two production sets' top level, for diagonals in
// Montgomery form (kept blocks) and not (converted ones): the first
// coefficients hold n terms of (q-1)·b for the largest b each row takes
// (any 64-bit b on Lattigo's rows, b below 4q on IFMA's, beyond anything
// the lazy NTT leaves), the others random operands in those bounds. Each
// sum must be n·a·b (times 2^-64 for Montgomery form) mod q: no row's lazy
// accumulation overflows and every operand in its bound is valid.
func TestMulAddExtremeOperands(t *testing.T) {
	eachArithmetic(t, func(t *testing.T) {
		for _, id := range []ParamSetID{N15V2, N15V4} {
			ps, err := Lookup(id)
			if err != nil {
				t.Fatal(err)
			}
			for _, mont := range []bool{true, false} {
				checkMulAddSums(t, ps, mont)
			}
		}
	})
}

func checkMulAddSums(t *testing.T, ps *ParamSet, mont bool) {
	const n = 128
	rng := rand.New(rand.NewPCG(3, 4))
	ringQ := ps.params.RingQ().AtLevel(ps.topLevel())
	rows := sumRows(ringQ.SubRings, n)
	a, b, acc := ringQ.NewPoly(), ringQ.NewPoly(), ringQ.NewPoly()
	ifmaRows := 0
	for i, q := range ps.qAt(ps.topLevel()) {
		bMax := uint64(math.MaxUint64)
		if rows[i].t != nil {
			bMax, ifmaRows = 4*q-1, ifmaRows+1
		}
		for k := range a.Coeffs[i] {
			a.Coeffs[i][k], b.Coeffs[i][k] = q-1, bMax
			if k >= 8 {
				a.Coeffs[i][k], b.Coeffs[i][k] = rng.Uint64N(q), rng.Uint64()%bMax
			}
		}
	}
	if useIFMA && ifmaRows == 0 {
		t.Fatalf("%s: no row runs with IFMA", ps.Name())
	}
	for range n {
		mulAdd(rows, a, b, acc, n)
	}
	finishSum(rows, acc, mont)
	for i, q := range ps.qAt(ps.topLevel()) {
		r := uint64(1)
		if mont { // 2^-64 mod q
			r = ring.ModExp(2, q-1-64, q)
		}
		mod := func(x, y uint64) uint64 {
			hi, lo := bits.Mul64(x%q, y%q)
			_, m := bits.Div64(hi, lo, q)
			return m
		}
		for k, v := range acc.Coeffs[i] {
			if want := mod(mod(n, mod(a.Coeffs[i][k], b.Coeffs[i][k])), r); v != want {
				t.Fatalf("%s, Montgomery form %v, prime %d (%d bits, IFMA %v), coefficient %d: %d, want %d", ps.Name(), mont, i, bits.Len64(q), rows[i].t != nil, k, v, want)
			}
		}
	}
}
