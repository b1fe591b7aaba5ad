package protect

import (
	"errors"
	"math"
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

func TestInvertPriorRejects(t *testing.T) {
	tr, _ := New(testParams(PolyProtect), mustSeed(t, PolyProtect, 1))
	p := apply(t, tr, testVectors(1, 16)[0])
	start := testMean(16)
	for _, opt := range []AttackOptions{
		{Prior: 0.1},                             // no start
		{Prior: -1, Start: start},                // negative
		{Prior: math.NaN(), Start: start},        // not a number
		{Prior: math.Inf(1), Start: start},       // infinite
		{Prior: 0.1, Start: make([]float64, 16)}, // zero start
	} {
		_, err := Invert(tr, p, AttackOptimise, opt)
		want := ErrParams
		if opt.Start != nil && opt.Prior > 0 && !math.IsInf(opt.Prior, 0) {
			want = ErrInput // a valid prior with an invalid start
		}
		if !errors.Is(err, want) {
			t.Errorf("Invert with prior %v: err %v, want %v", opt.Prior, err, want)
		}
	}
}

// TestInvertPrior checks the maximum a posteriori attack on vectors that,
// like face embeddings, share a strong common component, through a
// many-to-one PolyProtect (no overlap: 5 outputs for 16 inputs): a heavy
// prior keeps the estimate at the start, and a light one, started from
// the common component, ends closer to the input than the plain
// optimisation, which leaves the unconstrained directions wherever the
// descent drifts.
func TestInvertPrior(t *testing.T) {
	const d = 16
	mean := testMean(d) // |mean| = 0.5
	p := Params{Scheme: PolyProtect, InputDim: d, Order: 3, Overlap: 0, Scale: 1}
	tr, err := New(p, mustSeed(t, PolyProtect, 1))
	if err != nil {
		t.Fatal(err)
	}
	var plain, map01, heavy float64
	xs := testVectors(20, d)
	for _, x := range xs {
		for i := range x {
			x[i] = mean[i]*8 + x[i] - 0.3 // common component dominates
		}
		u := append([]float64(nil), x...)
		scaleUnit(u)
		pt := apply(t, tr, x)
		cos := func(opt AttackOptions) float64 {
			g, err := Invert(tr, pt, AttackOptimise, opt)
			if err != nil {
				t.Fatal(err)
			}
			return Dot(g, u) / float64(len(xs))
		}
		plain += cos(AttackOptions{Iterations: 150})
		map01 += cos(AttackOptions{Iterations: 150, Start: mean, Prior: 0.01})
		g, _ := Invert(tr, pt, AttackOptimise, AttackOptions{Iterations: 150, Start: mean, Prior: 1e6})
		m := append([]float64(nil), mean...)
		scaleUnit(m)
		heavy += Dot(g, m) / float64(len(xs))
	}
	t.Logf("mean cosine to the input: plain %.3f, prior 0.01 %.3f; heavy prior to the start %.4f", plain, map01, heavy)
	if heavy < 0.999 {
		t.Errorf("a prior of weight 1e6 moved the estimate away from the start: cosine %.4f", heavy)
	}
	if map01 < plain+0.05 {
		t.Errorf("the prior did not help: mean cosine %.3f against %.3f without it", map01, plain)
	}
}
