package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCmd runs puente-lab in process and returns its exit code, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &stdio{out: &out, err: &errb}, args)
	return code, out.String(), errb.String()
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		args               []string
		code               int
		inStderr, inStdout string
	}{
		{args: nil, code: exitUsage, inStdout: "Commands:"},
		{args: []string{"-h"}, code: exitOK, inStdout: "Exit codes: 0 success, 1 failure, 2 bad usage."},
		{args: []string{"help"}, code: exitOK, inStdout: "  bench  measure encrypted search"},
		{args: []string{"serve"}, code: exitUsage, inStderr: `unknown command "serve" (run 'puente-lab -h' for the list; the node's commands are puente's)`},
		{args: []string{"eval", "--bogus"}, code: exitUsage, inStderr: "puente-lab eval: flag provided but not defined: -bogus (run 'puente-lab eval -h' for help)"},
		{args: []string{"bench", "-h"}, code: exitOK, inStderr: "Usage: puente-lab bench [flags]"},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) || !strings.Contains(out, tt.inStdout) {
			t.Errorf("puente-lab %q: exit %d, stdout %q, stderr %q; want %d, %q in stdout, %q in stderr",
				tt.args, code, out, errs, tt.code, tt.inStdout, tt.inStderr)
		}
	}
}

// TestVerboseCauseChain: a failure is one line, and -v adds its causes.
func TestVerboseCauseChain(t *testing.T) {
	missing := t.TempDir() + "/no-report.md"
	code, _, errs := runCmd(t, "eval", "-check", missing)
	if code != exitFailure || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "caused by") {
		t.Errorf("without -v: exit %d, stderr %q; want 1 and one line", code, errs)
	}
	code, _, errs = runCmd(t, "eval", "-v", "-check", missing)
	if code != exitFailure || !strings.Contains(errs, "\n  caused by: ") {
		t.Errorf("with -v: exit %d, stderr %q; want 1 and the cause chain", code, errs)
	}
}
