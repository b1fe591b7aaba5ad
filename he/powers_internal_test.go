package he

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"
	common "github.com/tuneinsight/lattigo/v6/circuits/common/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/bignum"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// TestPowerBasisMatchesLattigo checks that the power basis the threshold
// computes in parallel holds exactly Lattigo's ciphertexts, coefficient for
// coefficient, for the degrees of the production threshold; and that
// Lattigo's evaluation from it needs no further power.
func TestPowerBasisMatchesLattigo(t *testing.T) {
	ps, _ := Lookup(N15V2)
	params := ps.params
	kgen := rlwe.NewKeyGenerator(params)
	sk := kgen.GenSecretKeyNew()
	evk := rlwe.NewMemEvaluationKeySet(kgen.GenRelinearizationKeyNew(sk))
	enc := ckks.NewEncoder(params)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, ps.Slots())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	pt := ckks.NewPlaintext(params, ps.relinLevel())
	if err := enc.Encode(x, pt); err != nil {
		t.Fatal(err)
	}
	prng, _ := sampling.NewKeyedPRNG([]byte("powers"))
	ct, err := rlwe.NewEncryptor(params, sk).WithPRNG(prng).EncryptNew(pt)
	if err != nil {
		t.Fatal(err)
	}
	eval := ckks.NewEvaluator(params, evk)
	evals := []*ckks.Evaluator{eval.ShallowCopy(), eval.ShallowCopy()}

	cases := []struct {
		d   int
		odd bool
	}{{7, true}, {15, true}, {31, true}, {31, false}}
	for _, c := range cases {
		want := common.NewPowerBasis(ct, bignum.Chebyshev)
		if err := lattigoPowers(&want, c.d, c.odd, eval); err != nil {
			t.Fatal(err)
		}
		got, err := powerBasis(ct, c.d, c.odd, evals)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sortedKeys(got.Value), sortedKeys(want.Value)) {
			t.Fatalf("degree %d odd %v: powers %v, Lattigo computes %v", c.d, c.odd, sortedKeys(got.Value), sortedKeys(want.Value))
		}
		for n, w := range want.Value {
			g := got.Value[n]
			if g.Level() != w.Level() || !g.Scale.Equal(w.Scale) || !g.Value[0].Equal(&w.Value[0]) || !g.Value[1].Equal(&w.Value[1]) {
				t.Errorf("degree %d odd %v: T_%d differs from Lattigo's (level %d/%d)", c.d, c.odd, n, g.Level(), w.Level())
			}
		}
		if !c.odd {
			continue
		}
		// Evaluating an odd polynomial of degree d from the basis adds no
		// power to it.
		coeffs := make([]float64, c.d+1)
		for i := 1; i <= c.d; i += 2 {
			coeffs[i] = 1 / float64(i)
		}
		p := bignum.NewPolynomial(bignum.Chebyshev, coeffs, [2]float64{-1, 1})
		p.IsOdd, p.IsEven = true, false
		before := len(got.Value)
		if _, err := polynomial.NewEvaluator(params, evals[0]).EvaluateFromPowerBasis(got, p, params.DefaultScale()); err != nil {
			t.Fatal(err)
		}
		if len(got.Value) != before {
			t.Errorf("degree %d: evaluation computed %d more powers: %v", c.d, len(got.Value)-before, sortedKeys(got.Value))
		}
	}
}

// lattigoPowers is what polynomial.Evaluator.Evaluate computes before its
// Paterson–Stockmeyer step.
func lattigoPowers(pb *common.PowerBasis, d int, odd bool, eval *ckks.Evaluator) error {
	logDegree := bitsLen(d)
	if err := pb.GenPower(1<<(logDegree-1), false, eval); err != nil {
		return err
	}
	for i := (1 << bignum.OptimalSplit(logDegree)) - 1; i > 2; i-- {
		if !odd || i&1 == 1 {
			if err := pb.GenPower(i, false, eval); err != nil {
				return err
			}
		}
	}
	return nil
}

func bitsLen(d int) int {
	n := 0
	for ; d > 0; d >>= 1 {
		n++
	}
	return n
}

func sortedKeys(m map[int]*rlwe.Ciphertext) []int {
	var k []int
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}
