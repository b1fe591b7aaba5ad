package he

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestRescaleMatchesLattigo: rescale gives Lattigo's Rescale's ciphertext
// coefficient for coefficient, at every level of the production sets
// (their scoring prime of 52 bits rescaled into primes of 33 bits, q0 of
// 60 bits kept), in place and not, in Go and with IFMA where the processor
// has it.
func TestRescaleMatchesLattigo(t *testing.T) {
	for _, id := range []ParamSetID{N15V2, N15V4} {
		ps, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(ps.Name(), func(t *testing.T) {
			eachArithmetic(t, func(t *testing.T) { testRescaleMatchesLattigo(t, ps, rand.New(rand.NewPCG(uint64(id), 9))) })
		})
	}
}

func testRescaleMatchesLattigo(t *testing.T, ps *ParamSet, r *rand.Rand) {
	params := ps.params
	eval := ckks.NewEvaluator(params, nil)
	for l := params.MaxLevel(); l >= 1; l-- {
		ct := ckks.NewCiphertext(params, 1, l)
		for _, p := range ct.Value {
			for i, row := range p.Coeffs[:l+1] {
				q := params.Q()[i]
				for k := range row {
					row[k] = r.Uint64N(q)
				}
				row[0], row[len(row)-1] = q-1, 0
			}
		}
		ct.Scale = rlwe.NewScale(params.Q()[l]).Mul(params.DefaultScale())
		want := ckks.NewCiphertext(params, 1, l-1)
		if err := eval.Rescale(ct, want); err != nil {
			t.Fatal(err)
		}
		got := ckks.NewCiphertext(params, 1, l-1)
		if err := rescale(eval, ct, got); err != nil {
			t.Fatal(err)
		}
		inPlace := ct.CopyNew()
		if err := rescale(eval, inPlace, inPlace); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]*rlwe.Ciphertext{"into another": got, "in place": inPlace} {
			if c.Level() != l-1 || !c.Scale.Equal(want.Scale) {
				t.Fatalf("level %d, %s: level %d scale %v, want %d and %v", l, name, c.Level(), c.Scale, l-1, want.Scale)
			}
			for j := range want.Value {
				for i := range want.Value[j].Coeffs {
					if !slices.Equal(c.Value[j].Coeffs[i], want.Value[j].Coeffs[i]) {
						t.Fatalf("level %d, %s: polynomial %d, prime %d differs from Lattigo's Rescale", l, name, j, i)
					}
				}
			}
		}
	}
}
