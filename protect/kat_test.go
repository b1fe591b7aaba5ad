package protect

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var updateKAT = flag.Bool("update", false, "rewrite testdata/transform_kat.json from the current code")

// katEntry pins, for one scheme, the start of the material expanded from a
// known seed and the protected form of a known vector. Both parties of an
// agreement must compute the same transform, so any change to the seed
// expansion shows up here.
type katEntry struct {
	Scheme   string    `json:"scheme"`
	Material []float64 `json:"material"` // first values of W, or c, e and the permutation
	Output   []float64 `json:"output"`
}

const katFile = "testdata/transform_kat.json"

func katInput() []float64 {
	x := make([]float64, 16)
	for i := range x {
		x[i] = math.Sin(float64(i+1)) + 0.25
	}
	return x
}

func katCompute(t *testing.T) []katEntry {
	var out []katEntry
	for _, s := range allSchemes {
		tr, err := New(testParams(s), mustSeed(t, s, 1))
		if err != nil {
			t.Fatal(err)
		}
		var mat []float64
		switch tt := tr.(type) {
		case *bioHash:
			mat = tt.w[:8]
		case *indexOfMax:
			mat = tt.w[:8]
		case *polyProtect:
			mat = append(mat, tt.c...)
			for _, e := range tt.e {
				mat = append(mat, float64(e))
			}
			for _, p := range tt.perm {
				mat = append(mat, float64(p))
			}
		}
		out = append(out, katEntry{Scheme: s.String(), Material: mat, Output: apply(t, tr, katInput())})
	}
	return out
}

// TestTransformKnownAnswers compares with tolerance 1e-12: Go may fuse
// multiply-adds differently on other architectures, so the last bits of
// the Gaussian material are not guaranteed to be identical everywhere.
func TestTransformKnownAnswers(t *testing.T) {
	got := katCompute(t)
	if *updateKAT {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(filepath.FromSlash(katFile), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.FromSlash(katFile))
	if err != nil {
		t.Fatalf("%v (run with -update once to create it)", err)
	}
	var want []katEntry
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		for name, pair := range map[string][2][]float64{"material": {got[i].Material, want[i].Material}, "output": {got[i].Output, want[i].Output}} {
			if len(pair[0]) != len(pair[1]) {
				t.Fatalf("%s %s: %d values, want %d", want[i].Scheme, name, len(pair[0]), len(pair[1]))
			}
			for j := range pair[0] {
				if math.Abs(pair[0][j]-pair[1][j]) > 1e-12 {
					t.Errorf("%s %s[%d] = %v, want %v", want[i].Scheme, name, j, pair[0][j], pair[1][j])
				}
			}
		}
	}
}
