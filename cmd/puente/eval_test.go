package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{[]string{"eval", "-h"}, exitOK, "puente eval -check docs/evaluation.md"},
		{[]string{"eval", "-data", missing}, exitFailure, "nothing-here"},
		{[]string{"eval", "-check", filepath.Join(dir, "no-report.md")}, exitFailure, "no-report.md"},
	}
	for _, tt := range tests {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente %q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
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
