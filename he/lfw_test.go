package he_test

import (
	"bufio"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// dataDir finds the evaluation data: $PUENTE_DATA, or ../shared/data from
// the module root (the directory holding go.mod).
func dataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PUENTE_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory; set PUENTE_DATA")
		}
		dir = parent
	}
}

// loadLFW reads the lfw-dlib128 embeddings, L2-normalised, and their
// identities. A missing or damaged file fails the test.
func loadLFW(t testing.TB) (vecs [][]float64, ids []string) {
	t.Helper()
	dir := filepath.Join(dataDir(t), "lfw-dlib128")
	b, err := os.ReadFile(filepath.Join(dir, "embeddings_f32.npy"))
	if err != nil {
		t.Fatalf("evaluation data missing (set PUENTE_DATA or put it in ../shared/data): %v", err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a NumPy file", filepath.Join(dir, "embeddings_f32.npy"))
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if 10+hl > len(b) || !strings.Contains(string(b[10:10+hl]), "'<f4'") || !strings.Contains(string(b[10:10+hl]), "128)") {
		t.Fatalf("embeddings_f32.npy: unexpected header %q", b[10:min(len(b), 10+hl)])
	}
	data := b[10+hl:]
	if len(data)%(128*4) != 0 {
		t.Fatalf("embeddings_f32.npy: %d data bytes is not a whole number of 128-d rows", len(data))
	}
	for i := 0; i < len(data)/(128*4); i++ {
		v := make([]float64, 128)
		var n float64
		for j := range v {
			v[j] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[(i*128+j)*4:])))
			n += v[j] * v[j]
		}
		n = math.Sqrt(n)
		for j := range v {
			v[j] /= n
		}
		vecs = append(vecs, v)
	}
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatalf("index.tsv: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for line := 2; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			t.Fatalf("index.tsv line %d: %d columns, want 3", line, len(cols))
		}
		ids = append(ids, cols[1])
	}
	if len(ids) != len(vecs) {
		t.Fatalf("index.tsv has %d rows, embeddings %d", len(ids), len(vecs))
	}
	return vecs, ids
}

// TestSearchLFW runs open-set searches on real face embeddings (raw dlib
// descriptors, L2-normalised: the protect package's recommended scheme
// scores like raw cosine) and checks every encrypted decision against the
// plaintext one. Gallery: the first image of each identity with two or
// more images; mated probes: their second images; non-mated probes: images
// of identities with one image.
func TestSearchLFW(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	vecs, ids := loadLFW(t)
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	var gal [][]float64
	var mated, nonMated [][]float64
	seen := map[string]int{}
	for i, id := range ids {
		seen[id]++
		switch {
		case count[id] >= 2 && seen[id] == 1:
			gal = append(gal, vecs[i])
		case count[id] >= 2 && seen[id] == 2:
			mated = append(mated, vecs[i])
		case count[id] == 1:
			nonMated = append(nonMated, vecs[i])
		}
	}
	th := he.Threshold{Tau: 0.9234} // raw cosine at FMR 1e-3 on this set (docs/evaluation.md)
	g, err := he.Pack(ps, 128, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	probes := append(pick(mated, 8), pick(nonMated, 8)...)
	for i, p := range probes {
		_, exact, inBand := plainCount(ps, th, p, gal)
		dec, _ := f.search(t, p, g, he.Options{Threshold: th, Mode: he.ModeCount}, uint64(1000+10*i))
		switch {
		case inBand == 0 && (dec.Count != exact || dec.Uncertain):
			t.Errorf("probe %d: encrypted %+v, plaintext count %d", i, dec, exact)
		case inBand > 0 && (dec.Count < exact-inBand || dec.Count > exact+inBand):
			t.Errorf("probe %d: encrypted %+v, plaintext count %d with %d scores in the band", i, dec, exact, inBand)
		}
	}
	t.Logf("%d gallery entries, %d probes, threshold %.4f, band ±%.4f", len(gal), len(probes), th.Tau, th.Band(ps))
}

// pick returns n evenly spaced elements.
func pick(v [][]float64, n int) [][]float64 {
	out := make([][]float64, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, v[i*len(v)/n])
	}
	return out
}
