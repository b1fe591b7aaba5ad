package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalUsageAndMissingData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"eval", "extra"}, exitUsage, `takes no arguments, got "extra"`},
		{[]string{"eval", "-attack-targets", "0"}, exitUsage, "must be at least 1"},
		{[]string{"eval", "-h"}, exitOK, "puente eval -o docs/evaluation.md"},
		{[]string{"eval", "-data", missing}, exitFailure, "nothing-here"},
	}
	for _, tt := range tests {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente %q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
		}
	}
}
