package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCmd runs puente in process and returns its exit code, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &stdio{in: strings.NewReader(""), out: &out, err: &errb}, args)
	return code, out.String(), errb.String()
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		inStderr string
		inStdout string
	}{
		{args: nil, code: exitUsage, inStdout: "Commands:"},
		{args: []string{"-h"}, code: exitOK, inStdout: "Exit codes"},
		{args: []string{"no-such-command"}, code: exitUsage, inStderr: `unknown command "no-such-command"`},
		{args: []string{"version", "--bogus"}, code: exitUsage, inStderr: "flag provided but not defined: -bogus"},
		{args: []string{"version", "extra"}, code: exitUsage, inStderr: `takes no arguments, got "extra"`},
		{args: []string{"version", "-h"}, code: exitOK, inStderr: "Examples:"},
		{args: []string{"version"}, code: exitOK, inStdout: "puente"},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != tt.code {
			t.Errorf("puente %q: exit code %d, want %d (stderr %q)", tt.args, code, tt.code, errs)
		}
		if !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente %q: stderr %q does not contain %q", tt.args, errs, tt.inStderr)
		}
		if !strings.Contains(out, tt.inStdout) {
			t.Errorf("puente %q: stdout %q does not contain %q", tt.args, out, tt.inStdout)
		}
	}
}
