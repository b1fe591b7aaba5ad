package protect

import (
	"errors"
	"testing"
)

// TestInvertRecoversWithKey checks the attacks do what they claim on
// synthetic vectors: with the transform, the estimate is close to the
// input; with another epoch's transform, it is not.
func TestInvertRecoversWithKey(t *testing.T) {
	xs := testVectors(10, 16)
	params := []Params{
		{Scheme: BioHash, InputDim: 16, M: 256},
		{Scheme: IndexOfMax, InputDim: 16, M: 64, Q: 4},
		{Scheme: PolyProtect, InputDim: 16, Order: 3, Overlap: 2, Scale: 1},
	}
	for _, p := range params {
		tr, _ := New(p, mustSeed(t, p.Scheme, 1))
		wrong, _ := New(p, mustSeed(t, p.Scheme, 2))
		for _, a := range []Attack{AttackPseudoInverse, AttackOptimise} {
			var right, other float64
			for _, x := range xs {
				pt := apply(t, tr, x)
				u := append([]float64(nil), x...)
				scaleUnit(u)
				g, err := Invert(tr, pt, a, AttackOptions{Iterations: 100})
				if err != nil {
					t.Fatal(err)
				}
				right += Dot(g, u) / float64(len(xs))
				g, _ = Invert(wrong, pt, a, AttackOptions{Iterations: 100})
				other += Dot(g, u) / float64(len(xs))
			}
			// The pseudo-inverse is a first-order estimate (PolyProtect's
			// higher powers are not small on these vectors); the
			// optimisation must get close.
			floor := 0.85
			if a == AttackPseudoInverse {
				floor = 0.5
			}
			if right < floor || other > right-0.3 {
				t.Errorf("%v, %v: mean cosine %.3f with the key, %.3f without", p.Scheme, a, right, other)
			}
		}
	}
}

func TestInvertRejects(t *testing.T) {
	tr, _ := New(testParams(BioHash), mustSeed(t, BioHash, 1))
	if _, err := Invert(tr, make([]float64, 3), AttackPseudoInverse, AttackOptions{}); !errors.Is(err, ErrInput) {
		t.Errorf("wrong dimension: err %v", err)
	}
	if _, err := Invert(tr, make([]float64, tr.OutputDim()), AttackPseudoInverse, AttackOptions{}); !errors.Is(err, ErrInput) {
		t.Errorf("zero vector: err %v", err)
	}
	p := apply(t, tr, testVectors(1, 16)[0])
	if _, err := Invert(tr, p, Attack(9), AttackOptions{}); !errors.Is(err, ErrParams) {
		t.Errorf("unknown attack: err %v", err)
	}
}
