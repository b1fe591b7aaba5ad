package he

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// TestParallelKeySwitchMatchesLattigo checks that a key switch split over
// several evaluators gives Lattigo's ciphertext coefficient for
// coefficient: rotations (the projection's and a baby step's) at the top
// level and below it, down to the answer's level (where the answer is
// packed, one digit of one prime), products (mulInto, into an operand
// too), relinearisations at the relinearization key's level
// and below it (where a level has fewer digits than evaluators), and a
// threshold component evaluated by Lattigo's polynomial evaluator through
// groupEvaluator. It runs on N15V2 (digits of four primes, five at the
// top level) and N15V4 (digits of six, three at the top level, fewer than
// a wave of three evaluators at the levels below).
func TestParallelKeySwitchMatchesLattigo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates production-size keys")
	}
	for _, id := range []ParamSetID{N15V2, N15V4} {
		ps, _ := Lookup(id)
		t.Run(ps.Name(), func(t *testing.T) { checkParallelKeySwitch(t, ps) })
	}
}

func checkParallelKeySwitch(t *testing.T, ps *ParamSet) {
	params := ps.params
	steps := []int{1, 128, ps.Slots() / 2}
	eval, sk := keySwitchFixture(ps, steps...)
	enc := ckks.NewEncoder(params)
	rng := rand.New(rand.NewPCG(5, 6))
	prng, _ := sampling.NewKeyedPRNG([]byte("keyswitch"))
	encryptor := rlwe.NewEncryptor(params, sk).WithPRNG(prng)
	encrypt := func(level int) *rlwe.Ciphertext {
		x := make([]float64, ps.Slots())
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		pt := ckks.NewPlaintext(params, level)
		if err := enc.Encode(x, pt); err != nil {
			t.Fatal(err)
		}
		ct, err := encryptor.EncryptNew(pt)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	same := func(what string, got, want *rlwe.Ciphertext) {
		t.Helper()
		if got.Degree() != want.Degree() || got.Level() != want.Level() || !got.Scale.Equal(want.Scale) {
			t.Fatalf("%s: degree %d level %d, Lattigo's degree %d level %d", what, got.Degree(), got.Level(), want.Degree(), want.Level())
		}
		for i := range want.Value {
			if !got.Value[i].Equal(&want.Value[i]) {
				t.Fatalf("%s: polynomial %d differs from Lattigo's", what, i)
			}
		}
	}

	for _, workers := range []int{1, 2, 3} {
		evals := make([]*ckks.Evaluator, workers)
		for i := range evals {
			evals[i] = eval.ShallowCopy()
		}
		for _, level := range []int{ps.topLevel(), 6, 1, answerLevel} {
			ct := encrypt(level)
			for _, k := range steps {
				want, err := eval.RotateNew(ct, k)
				if err != nil {
					t.Fatal(err)
				}
				got := ckks.NewCiphertext(params, 1, level)
				if err := rotate(evals, ct, k, got); err != nil {
					t.Fatal(err)
				}
				same("rotation", got, want)
				// In place, as the projection does it.
				in := ct.CopyNew()
				if err := rotate(evals, in, k, in); err != nil {
					t.Fatal(err)
				}
				same("rotation in place", in, want)
			}
		}
		for _, level := range []int{ps.relinLevel(), 9, 2} {
			a, b := encrypt(level), encrypt(level)
			want, err := eval.MulRelinNew(a, b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mulRelinNew(evals, a, b)
			if err != nil {
				t.Fatal(err)
			}
			same("product", got, want)
			sq, err := mulRelinNew(evals, a, a)
			if err != nil {
				t.Fatal(err)
			}
			want, _ = eval.MulRelinNew(a, a)
			same("square", sq, want)
			// Not relinearised, into its second operand one level above
			// the first, as Lattigo's polynomial evaluator may ask.
			up := encrypt(level + 1)
			want = up.CopyNew()
			if err := eval.Mul(a, want, want); err != nil {
				t.Fatal(err)
			}
			if err := mulInto(evals[0], a, up, up); err != nil {
				t.Fatal(err)
			}
			same("product into an operand", up, want)
		}

		// Above the key's level: an error, not an index past the key.
		top := encrypt(ps.topLevel())
		sq, err := evals[0].MulNew(top, top)
		if err != nil {
			t.Fatal(err)
		}
		if err := relinearize(evals, sq, sq); err == nil || !strings.Contains(err.Error(), "above the key's level") {
			t.Errorf("relinearising at level %d with a key at %d: %v, want an error", ps.topLevel(), ps.relinLevel(), err)
		}

		// A threshold component, from the same power basis, through
		// Lattigo's polynomial evaluator with and without the group.
		x := encrypt(ps.relinLevel())
		p := ps.sign.step[0]
		pb, err := powerBasis(x, p.Degree(), p.IsOdd && !p.IsEven, evals)
		if err != nil {
			t.Fatal(err)
		}
		want, err := polynomial.NewEvaluator(params, eval).EvaluateFromPowerBasis(pb, p, params.DefaultScale())
		if err != nil {
			t.Fatal(err)
		}
		peval := polynomial.NewEvaluator(params, evals[0])
		peval.Evaluator.Evaluator = newGroupEvaluator(evals)
		got, err := peval.EvaluateFromPowerBasis(pb, p, params.DefaultScale())
		if err != nil {
			t.Fatal(err)
		}
		same("threshold component", got, want)
	}
}

// BenchmarkKeySwitch measures, on each production set, one top-level
// rotation (a projection step) and one product at the relinearization
// key's level (the threshold's first) and at level 8 (the middle of the
// threshold), each with Lattigo's key switch on one core and split over two
// evaluators:
//
//	go test ./he -run '^$' -bench KeySwitch -benchtime 16x
func BenchmarkKeySwitch(b *testing.B) {
	for _, id := range []ParamSetID{N15V2, N15V3, N15V4} {
		ps, _ := Lookup(id)
		b.Run(ps.Name(), func(b *testing.B) { benchKeySwitch(b, ps) })
	}
}

func benchKeySwitch(b *testing.B, ps *ParamSet) {
	params := ps.params
	eval, _ := keySwitchFixture(ps, 128)
	ct := ckks.NewCiphertext(params, 1, ps.topLevel())
	out := ckks.NewCiphertext(params, 1, ps.topLevel())
	for _, workers := range []int{1, 2} {
		evals := make([]*ckks.Evaluator, workers)
		for i := range evals {
			evals[i] = eval.ShallowCopy()
		}
		b.Run(fmt.Sprintf("rotation/evaluators=%d", workers), func(b *testing.B) {
			for b.Loop() {
				if err := rotate(evals, ct, 128, out); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, level := range []int{ps.relinLevel(), 8} {
			a := ckks.NewCiphertext(params, 1, level)
			b.Run(fmt.Sprintf("product/level=%d/evaluators=%d", level, workers), func(b *testing.B) {
				for b.Loop() {
					if _, err := mulRelinNew(evals, a, a); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// keySwitchFixture returns an evaluator with a relinearization key at the
// production set's level for it and rotation keys by steps at the top
// level, all under one fresh secret key (no ceremony), and that key.
func keySwitchFixture(ps *ParamSet, steps ...int) (*ckks.Evaluator, *rlwe.SecretKey) {
	params := ps.params
	kgen := rlwe.NewKeyGenerator(params)
	sk := kgen.GenSecretKeyNew()
	var gks []*rlwe.GaloisKey
	for _, k := range steps {
		gks = append(gks, kgen.GenGaloisKeyNew(params.GaloisElement(k), sk, ps.evkParams(ps.topLevel())))
	}
	rlk := kgen.GenRelinearizationKeyNew(sk, ps.evkParams(ps.relinLevel()))
	return ckks.NewEvaluator(params, rlwe.NewMemEvaluationKeySet(rlk, gks...)), sk
}
