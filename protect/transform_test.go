package protect

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func testParams(s Scheme) Params {
	switch s {
	case BioHash:
		return Params{Scheme: BioHash, InputDim: 16, M: 40}
	case IndexOfMax:
		return Params{Scheme: IndexOfMax, InputDim: 16, M: 10, Q: 4, Norm: Normalizer{Mean: testMean(16), Weight: 0.5}}
	}
	return Params{Scheme: PolyProtect, InputDim: 16, Order: 3, Overlap: 1, Scale: 2}
}

func testMean(d int) []float64 {
	m := make([]float64, d)
	for i := range m {
		m[i] = 0.5 / math.Sqrt(float64(d))
	}
	return m
}

// testVectors returns n deterministic pseudo-random vectors (not keyed).
func testVectors(n, d int) [][]float64 {
	s, _ := DeriveSeed(testMaterial, "vectors", BioHash, 99)
	ks := newKeystream(&s, "test vectors")
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, d)
		for j := range out[i] {
			out[i][j] = ks.normal() + 0.3
		}
	}
	return out
}

var allSchemes = []Scheme{PolyProtect, BioHash, IndexOfMax}

func apply(t testing.TB, tr Transform, x []float64) []float64 {
	t.Helper()
	out := make([]float64, tr.OutputDim())
	if err := tr.Apply(out, x); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTransformUnitAndDeterministic(t *testing.T) {
	xs := testVectors(20, 16)
	for _, s := range allSchemes {
		p := testParams(s)
		a, err := New(p, mustSeed(t, s, 1))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(p, mustSeed(t, s, 1))
		c, _ := New(p, mustSeed(t, s, 2))
		if a.InputDim() != 16 || a.OutputDim() != p.OutputDim() {
			t.Fatalf("%v: dims %d -> %d, want 16 -> %d", s, a.InputDim(), a.OutputDim(), p.OutputDim())
		}
		var differ bool
		for _, x := range xs {
			pa, pb, pc := apply(t, a, x), apply(t, b, x), apply(t, c, x)
			if n := Dot(pa, pa); math.Abs(n-1) > 1e-12 {
				t.Errorf("%v: |p|^2 = %v, want 1", s, n)
			}
			for i := range pa {
				if pa[i] != pb[i] {
					t.Fatalf("%v: same seed, different output", s)
				}
				differ = differ || pa[i] != pc[i]
			}
			// Scale invariance: the normalisation step comes first.
			x2 := make([]float64, len(x))
			for i := range x {
				x2[i] = 3 * x[i]
			}
			if d := Dot(pa, apply(t, a, x2)); math.Abs(d-1) > 1e-9 {
				t.Errorf("%v: scaling the input changes the template (score %v)", s, d)
			}
		}
		if !differ {
			t.Errorf("%v: epochs 1 and 2 give identical templates", s)
		}
	}
}

func TestTransformRejectsBadInput(t *testing.T) {
	for _, s := range allSchemes {
		tr, _ := New(testParams(s), mustSeed(t, s, 1))
		good := testVectors(1, 16)[0]
		out := make([]float64, tr.OutputDim())
		nan := append([]float64(nil), good...)
		nan[3] = math.NaN()
		inf := append([]float64(nil), good...)
		inf[5] = math.Inf(-1)
		cases := map[string]struct{ dst, x []float64 }{
			"short input":  {out, good[:15]},
			"long input":   {out, append(good, 1)},
			"short output": {out[:1], good},
			"NaN":          {out, nan},
			"Inf":          {out, inf},
			"zero":         {out, make([]float64, 16)},
		}
		for name, c := range cases {
			err := tr.Apply(c.dst, c.x)
			var ie *InputError
			if !errors.Is(err, ErrInput) || !errors.As(err, &ie) {
				t.Errorf("%v, %s: err = %v, want an InputError", s, name, err)
			}
		}
	}
}

func TestTransformConcurrent(t *testing.T) {
	xs := testVectors(64, 16)
	for _, s := range allSchemes {
		tr, _ := New(testParams(s), mustSeed(t, s, 1))
		want := make([][]float64, len(xs))
		for i, x := range xs {
			want[i] = apply(t, tr, x)
		}
		var wg sync.WaitGroup
		errs := make(chan string, len(xs))
		for i, x := range xs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := make([]float64, tr.OutputDim())
				if err := tr.Apply(got, x); err != nil || Dot(got, want[i]) < 1-1e-12 {
					errs <- s.String()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("%s: concurrent Apply disagrees with sequential", e)
		}
	}
}

// TestBioHashScoreEstimatesAngle checks the SimHash property the scheme
// rests on: the code score estimates 1 - 2θ/π.
func TestBioHashScoreEstimatesAngle(t *testing.T) {
	p := Params{Scheme: BioHash, InputDim: 16, M: 4096}
	tr, _ := New(p, mustSeed(t, BioHash, 1))
	xs := testVectors(10, 16)
	for i := 1; i < len(xs); i++ {
		a, b := xs[0], xs[i]
		cos := Dot(a, b) / math.Sqrt(Dot(a, a)*Dot(b, b))
		want := 1 - 2*math.Acos(cos)/math.Pi
		if got := Dot(apply(t, tr, a), apply(t, tr, b)); math.Abs(got-want) > 0.05 {
			t.Errorf("pair %d: score %.3f, want about %.3f", i, got, want)
		}
	}
}

func TestIndexOfMaxOneHot(t *testing.T) {
	p := testParams(IndexOfMax)
	tr, _ := New(p, mustSeed(t, IndexOfMax, 1))
	out := apply(t, tr, testVectors(1, 16)[0])
	for k := 0; k < p.M; k++ {
		var nz int
		for _, v := range out[k*p.Q : (k+1)*p.Q] {
			if v != 0 {
				nz++
			}
		}
		if nz != 1 {
			t.Fatalf("hash %d has %d non-zero entries, want 1", k, nz)
		}
	}
}

func TestNormalizerInvert(t *testing.T) {
	n := Normalizer{Mean: testMean(16), Weight: 0.8}
	for _, x := range testVectors(5, 16) {
		v := make([]float64, 16)
		if err := n.Apply(v, x); err != nil {
			t.Fatal(err)
		}
		u := make([]float64, 16)
		if err := n.Invert(u, v); err != nil {
			t.Fatal(err)
		}
		nx := math.Sqrt(Dot(x, x))
		for i := range u {
			if math.Abs(u[i]-x[i]/nx) > 1e-12 {
				t.Fatalf("Invert(Apply(x)) != x/|x| at %d", i)
			}
		}
	}
}

func TestNormalizerBadSetupErrs(t *testing.T) {
	x := testVectors(1, 16)[0]
	dst := make([]float64, 16)
	for _, n := range []Normalizer{{Weight: 0.5}, {Weight: 0.5, Mean: testMean(8)}} {
		if err := n.Apply(dst, x); !errors.Is(err, ErrInput) {
			t.Errorf("Apply with %d-value mean: err %v, want ErrInput", len(n.Mean), err)
		}
		if err := n.Invert(dst, x); !errors.Is(err, ErrInput) {
			t.Errorf("Invert with %d-value mean: err %v, want ErrInput", len(n.Mean), err)
		}
	}
}

func TestApplyAllNamesRow(t *testing.T) {
	tr, _ := New(testParams(BioHash), mustSeed(t, BioHash, 1))
	m := &Matrix{Rows: 3, Cols: 16, Data: make([]float64, 48)}
	for i := range 32 {
		m.Data[i] = 1
	}
	_, err := ApplyAll(tr, m)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Row != 2 {
		t.Fatalf("err = %v, want an InputError for row 2", err)
	}
}
