package he

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// TestBabyStepPlan checks the plan of the baby steps for every n1 a gallery
// can use (a power of two up to the slots' period, 2^14 on the production
// set; here up to 2^12): each step 1 … n1-1 is made once, by a power of two,
// from a source made before; no more sources than the plan of every
// b < n1/2 (and for n1 ≤ 16 as few as an exhaustive search finds); no chain
// longer than log2 n1 rotations.
func TestBabyStepPlan(t *testing.T) {
	for n1 := 1; n1 <= 1<<12; n1 <<= 1 {
		plan := babyStepPlan(n1)
		depth := map[int]int{0: 0}
		for _, src := range plan {
			d, ok := depth[src.from]
			if !ok {
				t.Fatalf("n1 = %d: source %d used before it is made", n1, src.from)
			}
			for _, p := range src.by {
				b := src.from + p
				if p&(p-1) != 0 || b >= n1 {
					t.Fatalf("n1 = %d: %d from %d by %d", n1, b, src.from, p)
				}
				if _, dup := depth[b]; dup {
					t.Fatalf("n1 = %d: step %d made twice", n1, b)
				}
				depth[b] = d + 1
			}
		}
		if len(depth) != n1 {
			t.Fatalf("n1 = %d: %d steps made", n1, len(depth))
		}
		if old := max(1, n1/2); n1 > 1 && len(plan) > old {
			t.Errorf("n1 = %d: %d sources, more than the %d of every b < n1/2", n1, len(plan), old)
		}
		if n1 <= 16 {
			if min := fewestSources(n1); len(plan) != min {
				t.Errorf("n1 = %d: %d sources, an exhaustive search finds %d", n1, len(plan), min)
			}
		}
		for b, d := range depth {
			if d > bits.Len(uint(n1))-1 {
				t.Errorf("n1 = %d: step %d is %d rotations deep", n1, b, d)
			}
		}
		t.Logf("n1 = %d: %d sources (every b < n1/2: %d)", n1, len(plan), max(0, n1/2))
	}
}

// fewestSources returns the fewest sources (0 among them) whose power-of-
// two rotations, each of a step already made, make every step below n1.
func fewestSources(n1 int) int {
	if n1 == 1 {
		return 0
	}
	for k := 1; ; k++ {
		for set := uint64(1); set < 1<<n1; set += 2 { // bit 0: source 0
			if bits.OnesCount64(set) != k {
				continue
			}
			made := uint64(1)
			for changed := true; changed; {
				changed = false
				for s := range n1 {
					if set&made&(1<<s) == 0 {
						continue
					}
					for p := 1; s+p < n1; p <<= 1 {
						if made&(1<<(s+p)) == 0 {
							made |= 1 << (s + p)
							changed = true
						}
					}
				}
			}
			if made == 1<<n1-1 {
				return k
			}
		}
	}
}

// TestBabyStepsMatchLattigo checks the baby steps of a top-level
// ciphertext for n1 = 16 on one and two evaluators: each rot_b is, coefficient
// for coefficient, Lattigo's rotation of its source by its power of two,
// and decrypts to the plaintext rotated by b. It runs on N15V2 and on
// N15V4, whose top level has three key-switching digits.
func TestBabyStepsMatchLattigo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates production-size keys")
	}
	for _, id := range []ParamSetID{N15V2, N15V4} {
		ps, _ := Lookup(id)
		t.Run(ps.Name(), func(t *testing.T) { checkBabySteps(t, ps) })
	}
}

func checkBabySteps(t *testing.T, ps *ParamSet) {
	params := ps.params
	const n1 = 16
	eval, sk := keySwitchFixture(ps, 1, 2, 4, 8)
	enc := ckks.NewEncoder(params)
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float64, ps.Slots())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	pt := ckks.NewPlaintext(params, ps.topLevel())
	if err := enc.Encode(x, pt); err != nil {
		t.Fatal(err)
	}
	prng, _ := sampling.NewKeyedPRNG([]byte("babysteps"))
	ct, err := rlwe.NewEncryptor(params, sk).WithPRNG(prng).EncryptNew(pt)
	if err != nil {
		t.Fatal(err)
	}
	dec := rlwe.NewDecryptor(params, sk)
	r := &Responder{ps: ps, eval: eval}
	for _, workers := range []int{1, 2} {
		evals := r.evaluators(workers)
		out, err := r.babySteps(context.Background(), ct, n1, evals)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range babyStepPlan(n1) {
			for _, p := range src.by {
				want, err := eval.RotateNew(out[src.from], p)
				if err != nil {
					t.Fatal(err)
				}
				got := out[src.from+p]
				for i := range want.Value {
					if !got.Value[i].Equal(&want.Value[i]) {
						t.Fatalf("%d workers: step %d (from %d by %d) differs from Lattigo's rotation", workers, src.from+p, src.from, p)
					}
				}
			}
		}
		for b := range n1 {
			v := make([]float64, ps.Slots())
			if err := enc.Decode(dec.DecryptNew(out[b]), v); err != nil {
				t.Fatal(err)
			}
			for i := range v {
				if want := x[(i+b)%len(x)]; v[i]-want > 1e-4 || want-v[i] > 1e-4 { // a wrong rotation is off by about 1
					t.Fatalf("%d workers: step %d slot %d decrypts to %v, want %v", workers, b, i, v[i], want)
				}
			}
		}
	}
}

// BenchmarkBabySteps measures the baby steps of one top-level ciphertext
// on one evaluator for the n1 the galleries use, beside one top-level
// rotation (a giant step's key switch), in CPU time per call: the figures
// behind chooseBabySteps' costs.
//
//	go test ./he -run '^$' -bench BabySteps -benchtime 4x
func BenchmarkBabySteps(b *testing.B) {
	ps, _ := Lookup(N15V2)
	params := ps.params
	eval, _ := keySwitchFixture(ps, 1, 2, 4, 8, 16, 32)
	r := &Responder{ps: ps, eval: eval}
	evals := r.evaluators(1)
	ct := ckks.NewCiphertext(params, 1, ps.topLevel())
	out := ckks.NewCiphertext(params, 1, ps.topLevel())
	b.Run("rotation", func(b *testing.B) {
		for b.Loop() {
			if err := evals[0].Rotate(ct, 1, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n1 := range []int{8, 16, 32, 64} {
		b.Run(fmt.Sprintf("n1=%d", n1), func(b *testing.B) {
			for b.Loop() {
				if _, err := r.babySteps(context.Background(), ct, n1, evals); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(babyStepPlan(n1))), "sources")
		})
	}
}
