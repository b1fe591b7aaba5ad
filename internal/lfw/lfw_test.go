package lfw_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/internal/lfw/lfwtest"
)

// loadSet returns the evaluation set, or skips the test without it
// (lfwtest).
func loadSet(t *testing.T) *lfw.Set {
	t.Helper()
	return lfwtest.Set(t)
}

func TestLoadCounts(t *testing.T) {
	s := loadSet(t)
	multi := 0
	for _, rows := range s.ByIdentity() {
		if len(rows) >= 2 {
			multi++
		}
	}
	same := 0
	for _, p := range s.Pairs {
		if p.Same {
			same++
		}
	}
	got := []int{s.Emb.Rows, s.Emb.Cols, len(s.Names), multi, len(s.Pairs), same, len(s.MatedPairs())}
	want := []int{3200, 128, 1458, 404, 883, 696, 45680}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("rows, dim, identities, multi-image, pairs, same pairs, mated pairs = %v, want %v", got, want)
			break
		}
	}
	if s.Identity[0] != "Aaron_Eckhart" || s.Image[0] != "Aaron_Eckhart_0001.jpg" {
		t.Errorf("row 0 is %s %s", s.Identity[0], s.Image[0])
	}
}

func TestOpenSetProtocol(t *testing.T) {
	s := loadSet(t)
	o := s.OpenSet()
	if len(o.Gallery) != 211 || len(o.Mated) != 1067 || len(o.NonMated) != 1922 {
		t.Fatalf("open set %d/%d/%d, want 211/1067/1922 (data README)", len(o.Gallery), len(o.Mated), len(o.NonMated))
	}
	enrolled := map[int]bool{}
	for _, g := range o.Gallery {
		enrolled[s.Label[g]] = true
	}
	for _, r := range o.Mated {
		if !enrolled[s.Label[r]] {
			t.Fatalf("mated search %d is not enrolled", r)
		}
	}
	for _, r := range o.NonMated {
		if enrolled[s.Label[r]] {
			t.Fatalf("non-mated search %d is enrolled", r)
		}
	}
}

func TestSamplingIsFixedAndValid(t *testing.T) {
	s := loadSet(t)
	a, b := s.NonMatedPairs(1000, 5), s.NonMatedPairs(1000, 5)
	c := s.NonMatedPairs(1000, 6)
	differ := false
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different sample")
		}
		if s.Label[a[i].A] == s.Label[a[i].B] {
			t.Fatal("non-mated pair of one identity")
		}
		differ = differ || a[i] != c[i]
	}
	if !differ {
		t.Error("different seeds, same sample")
	}
	m, nm := s.LinkagePairs(10, 1)
	if len(m) != len(nm) || len(m) == 0 {
		t.Fatalf("linkage pairs %d / %d", len(m), len(nm))
	}
	for i := range m {
		if s.Label[m[i].A] != s.Label[m[i].B] || nm[i].A != m[i].A || s.Label[nm[i].B] == s.Label[m[i].A] {
			t.Fatalf("linkage pair %d wrong: %v %v", i, m[i], nm[i])
		}
	}
}

func TestFindDataDirEnv(t *testing.T) {
	t.Setenv(lfw.EnvDataDir, filepath.Join(t.TempDir(), "missing"))
	if _, err := lfw.FindDataDir(); !errors.Is(err, lfw.ErrNoData) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v, want lfw.ErrNoData naming the directory", err)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	src := lfwtest.Dir(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, lfw.SetDir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	emb, err := os.ReadFile(filepath.Join(src, lfw.SetDir, lfw.EmbeddingsFile))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(sub, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sub, lfw.EmbeddingsFile), emb, 0o644); err != nil {
		t.Fatal(err)
	}
	write(lfw.IndexFile, "row\tidentity\timage\n0\tA\tA_0001.jpg\n2\tB\tB_0001.jpg\n")
	_, err = lfw.Load(dir)
	if err == nil || !strings.Contains(err.Error(), lfw.IndexFile) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad index: err = %v, want one naming %s line 3", err, lfw.IndexFile)
	}
	write(lfw.EmbeddingsFile, string(emb[:1000]))
	if _, err = lfw.Load(dir); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated embeddings: err = %v", err)
	}
}
