package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/internal/dataset/datasettest"
	"github.com/puente-id/puente/internal/evaluation"
	"github.com/puente-id/puente/internal/lfw/lfwtest"
)

func TestEvalUsageAndMissingData(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nothing-here")
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"eval", "extra"}, exitUsage, `takes no arguments, got "extra"`},
		{[]string{"eval", "-attack-targets", "0"}, exitUsage, "must be at least 1"},
		{[]string{"eval", "-sweep-iters", "0"}, exitUsage, "must be at least 1"},
		{[]string{"eval", "-check", "a.md", "-o", "b.md"}, exitUsage, "-check and -o exclude each other"},
		{[]string{"eval", "-he-searches", "-1"}, exitUsage, "-he-searches must be at least 0"},
		{[]string{"eval", "-h"}, exitOK, "puente-lab eval -check docs/evaluation.md"},
		{[]string{"eval", "-data", missing}, exitFailure, "nothing-here"},
		{[]string{"eval", "-check", filepath.Join(dir, "no-report.md")}, exitFailure, "no-report.md"},
	}
	for _, tt := range tests {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente-lab %q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
		}
	}
}

// TestWriteFileAtomic: the report was written with mode 0600 (the
// temporary file's) and never synced.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "evaluation.md")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries left in the directory, want only the report", len(ents))
	}
	if err := writeFileAtomic(filepath.Join(dir, "no-such-dir", "x.md"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestFirstDiff(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		line  int
		equal bool
	}{
		{"a\nb\n", "a\nb\n", 0, true},
		{"a\nb\n", "a\nc\n", 2, false},
		{"a\n", "a\nb\n", 2, false},
		{"", "x", 1, false},
	} {
		line, eq := firstDiff([]byte(tc.a), []byte(tc.b))
		if line != tc.line || eq != tc.equal {
			t.Errorf("firstDiff(%q, %q) = %d, %v; want %d, %v", tc.a, tc.b, line, eq, tc.line, tc.equal)
		}
	}
}

func TestFigureDir(t *testing.T) {
	abs := t.TempDir()
	for _, tc := range []struct {
		out, check, img string
		dir, link       string
		write           bool
	}{
		{"docs/evaluation.md", "", "", "docs/img", "img", true},
		{"-", "docs/evaluation.md", "", "docs/img", "img", false},
		{"-", "", "", "img", "img", false},
		{"-", "", "figs", "figs", "figs", true},
		{"report.md", "", "out/figs", "out/figs", "out/figs", true},
		{"docs/evaluation.md", "", "other", "other", "../other", true},
		{filepath.Join(abs, "r", "e.md"), "", filepath.Join(abs, "pics"), filepath.Join(abs, "pics"), "../pics", true},
	} {
		var cfg evaluation.Config
		dir, write, err := figureDir(tc.out, tc.check, tc.img, &cfg)
		if err != nil || dir != tc.dir || write != tc.write || cfg.ImageLink != tc.link {
			t.Errorf("figureDir(%q, %q, %q) = %q, %v, link %q, %v; want %q, %v, link %q",
				tc.out, tc.check, tc.img, dir, write, cfg.ImageLink, err, tc.dir, tc.write, tc.link)
		}
	}
}

// TestEvalWritesFigures runs a reduced evaluation on the real data into a
// temporary directory: the report links to img/, and the figures there
// are PNG files.
func TestEvalWritesFigures(t *testing.T) {
	data := lfwtest.Dir(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "evaluation.md")
	code, _, errs := runCmd(t, "eval", "-data", data, "-o", out, "-sweep=false", "-he-searches", "0",
		"-attack-targets", "2", "-attack-iters", "2", "-epoch-pairs", "1")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	rep, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"det.png", "scores.png", "unlinkability.png"} {
		if !strings.Contains(string(rep), "](img/"+name+")") {
			t.Errorf("report does not link to img/%s", name)
		}
		b, err := os.ReadFile(filepath.Join(dir, "img", name))
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
			t.Errorf("img/%s: %v", name, err)
		}
	}
}

// TestEvalNPY512 runs puente-lab eval as a researcher with 512-d
// embeddings does, without the LFW data: -npy and -labels, the protocols
// built from the labels, and a report with its DET and score plots.
func TestEvalNPY512(t *testing.T) {
	dir := t.TempDir()
	m, ids := datasettest.Clustered(60, 4, 512, 1)
	npy, labels, err := datasettest.WriteNPY(dir, "arcface", m, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.md")
	code, _, errs := runCmd(t, "eval", "-npy", npy, "-labels", labels, "-model", "ArcFace", "-provenance", "synthetic, from the test",
		"-o", out, "-sweep=false", "-he-searches", "0", "-attack-targets", "2", "-attack-iters", "2", "-epoch-pairs", "1")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	rep, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"on `arcface`", "Set: `arcface` (512-d ArcFace embeddings of 240 images, 60 identities",
		"- File: embeddings `arcface.npy`, 491,648 bytes, SHA-256 `", "- File: labels `arcface.txt`",
		"- Provenance: synthetic, from the test.", "| PolyProtect order 5, overlap 4, scale 1 | 508 |",
	} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, name := range []string{"det.png", "scores.png", "unlinkability.png"} {
		b, err := os.ReadFile(filepath.Join(dir, "img", name))
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || !strings.Contains(string(rep), "](img/"+name+")") {
			t.Errorf("img/%s: %v, or the report does not link to it", name, err)
		}
	}
}

// TestEvalSetUsage: the flags that name a set are checked before any work,
// and a bad file is named with the line or row at fault.
func TestEvalSetUsage(t *testing.T) {
	dir := t.TempDir()
	m, ids := datasettest.Clustered(4, 2, 16, 1)
	npy, labels, err := datasettest.WriteNPY(dir, "s", m, ids)
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.txt")
	if err := os.WriteFile(short, []byte("a\n\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"eval", "-npy", npy, "-csv", "x.csv"}, exitUsage, "-npy, -csv and -json exclude each other"},
		{[]string{"eval", "-labels", labels}, exitUsage, "need an embeddings file (-npy, -csv or -json)"},
		{[]string{"eval", "-npy", npy, "-data", dir}, exitUsage, "-data names the LFW set"},
		{[]string{"eval", "-npy", npy, "-labels", labels, "-public-labels", labels}, exitUsage, "-public-labels needs -public"},
		{[]string{"eval", "-npy", npy, "-labels", labels, "-provenance", "two\nlines"}, exitUsage, "-provenance must be one line"},
		{[]string{"eval", "-npy", npy, "-labels", labels, "-public", labels}, exitUsage, "the name must end in .npy, .csv or .json"},
		{[]string{"eval", "-npy", npy, "-labels", short}, exitFailure, "short.txt: line 2: empty identity"},
		{[]string{"eval", "-npy", npy}, exitFailure, "no identities: give a labels file"},
		{[]string{"eval", "-npy", labels, "-labels", labels}, exitFailure, "not a .npy file"},
		{[]string{"eval", "-npy", npy, "-labels", labels}, exitFailure, "FPIR 1% needs at least 100"},
	} {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente-lab %q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
		}
	}
}
