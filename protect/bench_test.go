package protect

import (
	"testing"
)

// Benchmarks of protecting one 128-d vector and of scoring two templates,
// each beside the plaintext computation on the same data (L2 normalisation,
// raw 128-d inner product) so that the ratio can be read from one run.
// Parameters are those the evaluation recommends (m = 124 and 512).

var benchParams = []struct {
	name string
	p    Params
}{
	{"polyprotect-m124", Params{Scheme: PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}},
	{"biohash-m512", Params{Scheme: BioHash, InputDim: 128, M: 512, Norm: Normalizer{Mean: testMean(128), Weight: 0.7}}},
	{"iom-m512", Params{Scheme: IndexOfMax, InputDim: 128, M: 128, Q: 4, Norm: Normalizer{Mean: testMean(128), Weight: 0.8}}},
}

func BenchmarkApply(b *testing.B) {
	x := testVectors(1, 128)[0]
	b.Run("plaintext-l2", func(b *testing.B) {
		var n Normalizer
		dst := make([]float64, 128)
		for b.Loop() {
			if err := n.Apply(dst, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bp := range benchParams {
		tr, err := New(bp.p, mustSeed(b, bp.p.Scheme, 1))
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float64, tr.OutputDim())
		b.Run(bp.name, func(b *testing.B) {
			for b.Loop() {
				if err := tr.Apply(dst, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for _, bp := range benchParams {
		seed := mustSeed(b, bp.p.Scheme, 1)
		b.Run(bp.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := New(bp.p, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScore(b *testing.B) {
	xs := testVectors(2, 128)
	b.Run("plaintext-raw-128", func(b *testing.B) {
		for b.Loop() {
			_ = Dot(xs[0], xs[1])
		}
	})
	for _, bp := range benchParams {
		tr, _ := New(bp.p, mustSeed(b, bp.p.Scheme, 1))
		p0, p1 := apply(b, tr, xs[0]), apply(b, tr, xs[1])
		b.Run(bp.name, func(b *testing.B) {
			for b.Loop() {
				_ = Dot(p0, p1)
			}
		})
	}
}
