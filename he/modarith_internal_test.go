package he

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestModArith checks mulMod, addMod and reduce against math/big at the
// edges of their ranges and on random operands, for the answer's modulus
// and for other moduli below 2^63.
func TestModArith(t *testing.T) {
	ps, err := Lookup(N15V2)
	if err != nil {
		t.Fatal(err)
	}
	moduli := []uint64{2, 3, 97, 1<<32 + 15, ps.params.Q()[0], 1<<62 - 57, 1<<63 - 25, 1<<63 - 1}
	r := rand.New(rand.NewPCG(7, 8))
	for _, q := range moduli {
		vals := []uint64{0, 1, 2, q - 2, q - 1, q, q + 1, 2*q - 1, 1 << 62, 1<<63 - 1, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
		for range 200 {
			vals = append(vals, r.Uint64(), r.Uint64N(q))
		}
		bq := new(big.Int).SetUint64(q)
		for _, a := range vals {
			ba := new(big.Int).SetUint64(a)
			if got, want := reduce(a, q), new(big.Int).Mod(ba, bq).Uint64(); got != want {
				t.Fatalf("reduce(%d, %d) = %d, want %d", a, q, got, want)
			}
			for _, b := range vals {
				bb := new(big.Int).SetUint64(b)
				if got, want := mulMod(a, b, q), new(big.Int).Mod(new(big.Int).Mul(ba, bb), bq).Uint64(); got != want {
					t.Fatalf("mulMod(%d, %d, %d) = %d, want %d", a, b, q, got, want)
				}
				if a >= q || b >= q {
					continue
				}
				if got, want := addMod(a, b, q), new(big.Int).Mod(new(big.Int).Add(ba, bb), bq).Uint64(); got != want {
					t.Fatalf("addMod(%d, %d, %d) = %d, want %d", a, b, q, got, want)
				}
			}
		}
	}
}
