package dataset_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/internal/dataset/datasettest"
	"github.com/puente-id/puente/protect"
)

func write(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadNPY512 loads a 512-d set from .npy and labels: the shape, the
// identities in order of first appearance, the provenance of both files,
// and ten-fold pairs built from the labels.
func TestLoadNPY512(t *testing.T) {
	m, ids := datasettest.Clustered(40, 3, 512, 1)
	dir := t.TempDir()
	npy := write(t, dir, "arc.npy", datasettest.NPY(m))
	lab := write(t, dir, "arc.txt", datasettest.Labels(ids))
	s, err := dataset.Load(dataset.Source{Embeddings: npy, Format: dataset.NPY, Labels: lab, Note: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "arc" || s.Dim() != 512 || s.Emb.Rows != 120 || len(s.Names) != 40 || s.Names[1] != "id-0001" || s.Label[3] != 1 || s.MultiImage() != 40 {
		t.Errorf("name %q, dim %d, rows %d, %d identities, names[1] %q, label[3] %d", s.Name, s.Dim(), s.Emb.Rows, len(s.Names), s.Names[1], s.Label[3])
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	if len(s.Provenance.Files) != 2 || s.Provenance.Note != "synthetic" {
		t.Fatalf("provenance %+v", s.Provenance)
	}
	for _, f := range s.Provenance.Files {
		b, _ := os.ReadFile(f.Name)
		sum := sha256.Sum256(b)
		if f.Size != int64(len(b)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: size %d, digest %s; the file has %d bytes, digest %x", f.Role, f.Size, f.SHA256, len(b), sum)
		}
	}
	if s.PairsGiven || s.Pairs != nil {
		t.Errorf("%d pairs, given %v: want none without a pairs file", len(s.Pairs), s.PairsGiven)
	}
	pf := write(t, dir, "pairs.tsv", []byte("0 1 1 0\n0 3 0 1\n"))
	s, err = dataset.Load(dataset.Source{Embeddings: npy, Format: dataset.NPY, Labels: lab, Pairs: pf})
	if err != nil || !s.PairsGiven || len(s.Pairs) != 2 || len(s.Provenance.Files) != 3 || s.Provenance.Files[2].Role != "pairs" {
		t.Errorf("with a pairs file: %v, %+v", err, s)
	}
}

// TestLoadFormats: CSV with a labels file, JSON groups that name their
// rows, and the mistakes: a JSON set named twice, or not at all.
func TestLoadFormats(t *testing.T) {
	dir := t.TempDir()
	csv := write(t, dir, "e.csv", []byte("a,b,c\n1,0,0\n0.9,0.1,0\n0,1,0\n0,0.9,0.1\n"))
	lab := write(t, dir, "e.txt", []byte("ann\nann\nbob\nbob\n"))
	s, err := dataset.Load(dataset.Source{Embeddings: csv, Format: dataset.CSV, CSVHeader: true, Labels: lab, Name: "tiny"})
	if err != nil || s.Name != "tiny" || s.Emb.Rows != 4 || len(s.Names) != 2 {
		t.Fatalf("csv: %v %+v", err, s)
	}
	groups := write(t, dir, "g.json", []byte(`[{"name": "ann", "embeddings": [[1, 0], [0.9, 0.1]]}, {"name": "bob", "embeddings": [[0, 1]]}]`))
	s, err = dataset.Load(dataset.Source{Embeddings: groups, Format: dataset.JSON})
	if err != nil || len(s.Names) != 2 || s.Identity[2] != "bob" || s.Emb.Labels != nil {
		t.Fatalf("json groups: %v %+v", err, s)
	}
	bare := write(t, dir, "b.json", []byte(`[[1, 0], [0, 1]]`))
	three := write(t, dir, "three.txt", []byte("a\nb\nc\n"))
	for _, tc := range []struct {
		src  dataset.Source
		want string
	}{
		{dataset.Source{Embeddings: groups, Format: dataset.JSON, Labels: lab}, "names them again"},
		{dataset.Source{Embeddings: bare, Format: dataset.JSON}, "no identities: give a labels file"},
		{dataset.Source{Embeddings: bare, Format: dataset.JSON, Labels: three}, "line 3: more identities than the 2 rows"},
		{dataset.Source{Embeddings: csv, Format: dataset.CSV, CSVHeader: true, Labels: three}, "3 identities for 4 rows"},
		{dataset.Source{Embeddings: csv, Format: "xml", Labels: lab}, `format "xml"`},
		{dataset.Source{Embeddings: filepath.Join(dir, "none.npy"), Format: dataset.NPY, Labels: lab}, "none.npy"},
		{dataset.Source{Embeddings: csv, Format: dataset.NPY, Labels: lab}, "not a .npy file"},
	} {
		if _, err := dataset.Load(tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}

func TestReadLabelsErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		rows int
		want string
	}{
		{"a\n\nb\n", 3, "line 2: empty identity"},
		{"a\nb\nc\n", 2, "line 3: more identities than the 2 rows"},
		{"a\n", 2, "1 identities for 2 rows"},
		{"a\nb\x01c\n", 2, "line 2: control character"},
		{"a\n\xff\xfe\n", 2, "line 2: not UTF-8"},
		{"a\n" + strings.Repeat("x", dataset.MaxLabelBytes+1) + "\n", 2, "line 2: identity longer than"},
	} {
		_, err := dataset.ReadLabels(strings.NewReader(tc.in), "l.txt", tc.rows)
		if !errors.Is(err, dataset.ErrInput) || !strings.Contains(err.Error(), "l.txt: "+tc.want) {
			t.Errorf("%q: err = %v, want ErrInput naming %q", tc.in, err, tc.want)
		}
	}
	got, err := dataset.ReadLabels(strings.NewReader(" Ann Lee \r\nbob"), "l.txt", 2)
	if err != nil || len(got) != 2 || got[0] != "Ann Lee" || got[1] != "bob" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestReadPairs(t *testing.T) {
	labels := []int{0, 0, 1, 1}
	ps, err := dataset.ReadPairs(strings.NewReader("row_a row_b same fold\n# comment\n0 1 1 0\n\n2\t0\t0\t9\n"), "p.tsv", labels)
	if err != nil || len(ps) != 2 || ps[1] != (dataset.Pair{Index: 1, Fold: 9, A: 2, B: 0}) || !ps[0].Same {
		t.Fatalf("pairs %+v, %v", ps, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"0 1 1\n", "line 1: 3 fields"},
		{"0 1 1 0\n0 4 0 0\n", "line 2: row_b \"4\" is not a whole number in [0, 3]"},
		{"0 1 2 0\n", "same \"2\""},
		{"0 1 1 10\n", "fold \"10\""},
		{"0 0 1 0\n", "the same row"},
		{"0 2 1 0\n", "the labels of rows 0 and 2 say otherwise"},
		{"# nothing\n", "no pairs"},
		{"-1 1 1 0\n", "row_a \"-1\""},
	} {
		_, err := dataset.ReadPairs(strings.NewReader(tc.in), "p.tsv", labels)
		if !errors.Is(err, dataset.ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want ErrInput with %q", tc.in, err, tc.want)
		}
	}
}

// TestTenFoldPairs: fixed by the seed, folds of disjoint identities, pair
// kinds that agree with the labels, at most 300 of each per fold.
func TestTenFoldPairs(t *testing.T) {
	m, ids := datasettest.Clustered(200, 4, 16, 2)
	s, err := dataset.New("x", m, ids)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := s.TenFoldPairs(1), s.TenFoldPairs(1), s.TenFoldPairs(2)
	if fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("the seed does not fix the pairs")
	}
	foldOf := map[int]int{}
	var per [10][2]int
	for i, p := range a {
		if p.Index != i || p.Same != (s.Label[p.A] == s.Label[p.B]) || p.A == p.B {
			t.Fatalf("pair %d: %+v", i, p)
		}
		for _, r := range []int{p.A, p.B} {
			if f, ok := foldOf[s.Label[r]]; ok && f != p.Fold {
				t.Fatalf("identity %d in folds %d and %d", s.Label[r], f, p.Fold)
			}
			foldOf[s.Label[r]] = p.Fold
		}
		kind := 0
		if p.Same {
			kind = 1
		}
		per[p.Fold][kind]++
	}
	for f, n := range per {
		if n[0] != n[1] || n[1] == 0 || n[1] > dataset.TenFoldPerKind {
			t.Errorf("fold %d: %d non-mated, %d mated pairs", f, n[0], n[1])
		}
	}
}

func TestCheck(t *testing.T) {
	m := &protect.Matrix{Rows: 4, Cols: 2, Data: []float64{1, 0, 0, 1, 1, 1, 1, 2}}
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"a", "a", "a", "a"}, "1 identities"},
		{[]string{"a", "b", "c", "d"}, "no identity has two or more rows"},
		{[]string{"a", "b", "b", "c"}, "open-set search"},
		{[]string{"a", "a", "b", "b"}, ""},
	} {
		s, err := dataset.New("x", m, tc.ids)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.ids, err, tc.want)
		}
	}
	if _, err := dataset.New("x", m, []string{"a"}); !errors.Is(err, dataset.ErrInput) {
		t.Errorf("1 label for 4 rows: %v", err)
	}
}

// FuzzReadLabels: bad input is an error, never a panic; what is read has
// the number of rows asked for, no empty identity, and reads back the same
// when written one per line.
func FuzzReadLabels(f *testing.F) {
	f.Add([]byte("a\nb\n"), 2)
	f.Add([]byte(" x \r\n\ny"), 3)
	f.Add([]byte("\xff"), -1)
	f.Fuzz(func(t *testing.T, b []byte, rows int) {
		got, err := dataset.ReadLabels(bytes.NewReader(b), "f", rows)
		if err != nil {
			return
		}
		if rows >= 0 && len(got) != rows {
			t.Fatalf("%d identities for %d rows", len(got), rows)
		}
		again, err := dataset.ReadLabels(bytes.NewReader(datasettest.Labels(got)), "f", len(got))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("round trip: %q, %v; want %q", again, err, got)
		}
	})
}

// FuzzReadPairs: bad input is an error, never a panic; the pairs read are
// valid for the labels and read back the same when written out.
func FuzzReadPairs(f *testing.F) {
	labels := []int{0, 0, 1, 1, 2}
	f.Add([]byte("0 1 1 0\n2 4 0 9\n"))
	f.Add([]byte("row_a row_b same fold\n# c\n3 2 1 5"))
	f.Add([]byte("0 1 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := dataset.ReadPairs(bytes.NewReader(b), "f", labels)
		if err != nil {
			return
		}
		var out bytes.Buffer
		for i, p := range ps {
			if p.Index != i || p.A == p.B || p.A >= len(labels) || p.B >= len(labels) || p.Fold > 9 || p.Same != (labels[p.A] == labels[p.B]) {
				t.Fatalf("pair %d: %+v", i, p)
			}
			same := 0
			if p.Same {
				same = 1
			}
			fmt.Fprintf(&out, "%d %d %d %d\n", p.A, p.B, same, p.Fold)
		}
		again, err := dataset.ReadPairs(&out, "f", labels)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(ps) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, ps)
		}
	})
}

// FuzzLoad feeds arbitrary embeddings and labels files to Load: an error
// names a file, never a panic; a set that loads passes or fails Check
// without hanging, its protocols can be built when it passes, and written
// again it loads as the same set.
func FuzzLoad(f *testing.F) {
	m, ids := datasettest.Clustered(3, 2, 4, 1)
	f.Add(datasettest.NPY(m), datasettest.Labels(ids), false)
	f.Add([]byte("1,2\n3,4\n"), []byte("a\na\n"), true)
	f.Fuzz(func(t *testing.T, emb, labels []byte, csv bool) {
		dir := t.TempDir()
		src := dataset.Source{Embeddings: write(t, dir, "e", emb), Labels: write(t, dir, "l", labels), Format: dataset.NPY}
		if csv {
			src.Format = dataset.CSV
		}
		s, err := dataset.Load(src)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error names no file: %v", err)
			}
			return
		}
		if s.Check() == nil {
			s.NonMatedPairs(10, 1)
			s.LinkagePairs(2, 1)
			s.OpenSet()
		}
		// Round trip: the set written again as .npy (float32) and labels loads as the same
		// set, its values rounded to float32. (Load is not canonical: CSV or .npy, float32 or
		// float64, spacing; so the value round-trips, not the files.)
		for _, v := range s.Emb.Data {
			if math.Abs(v) > math.MaxFloat32 {
				return // not a float32: .npy as datasettest writes it cannot hold it
			}
		}
		npy, lab, err := datasettest.WriteNPY(t.TempDir(), "again", s.Emb, s.Identity)
		if err != nil {
			t.Fatal(err)
		}
		again, err := dataset.Load(dataset.Source{Embeddings: npy, Labels: lab, Format: dataset.NPY})
		if err != nil {
			t.Fatalf("a loaded set written again does not load: %v", err)
		}
		want := make([]float32, len(s.Emb.Data))
		got := make([]float32, len(again.Emb.Data))
		for i, v := range s.Emb.Data {
			want[i] = float32(v)
		}
		for i, v := range again.Emb.Data {
			got[i] = float32(v)
		}
		if again.Emb.Rows != s.Emb.Rows || again.Emb.Cols != s.Emb.Cols || fmt.Sprint(got) != fmt.Sprint(want) ||
			fmt.Sprint(again.Identity) != fmt.Sprint(s.Identity) {
			t.Fatalf("round trip: %d x %d %q, want %d x %d %q", again.Emb.Rows, again.Emb.Cols, again.Identity, s.Emb.Rows, s.Emb.Cols, s.Identity)
		}
	})
}
