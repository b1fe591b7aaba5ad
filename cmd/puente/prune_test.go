package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAuditPruneStopped covers `puente audit prune` with no node running: a home of keys only
// (no configuration, no queries, no halts), a -policy file whose retention is zero (the refusal
// names that file), and a node whose state file is missing (the halts are read from it, so the
// prune refuses, naming the rebuild).
func TestAuditPruneStopped(t *testing.T) {
	keysOnly := newHome(t, "us-cbp")
	if out := mustRunCmd(t, "audit", "prune", "-home", keysOnly); !strings.Contains(out, "pruned 0 records") {
		t.Errorf("audit prune of a home of keys only:\n%s", out)
	}

	node := homeElsewhere(t)
	b, err := os.ReadFile(filepath.Join(node, "conf", "policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	zero := regexp.MustCompile(`retention = "[^"]*"`).ReplaceAllString(string(b), `retention = "0"`)
	other := filepath.Join(t.TempDir(), "other-policy.hcl")
	if err := os.WriteFile(other, []byte(zero), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "audit", "prune", "-home", node, "-policy", other)
	if code == exitOK || !strings.Contains(errs, other+": audit retention is zero") {
		t.Errorf("audit prune -policy with a zero retention: exit %d, %s; want a refusal naming %s", code, errs, other)
	}

	if out := mustRunCmd(t, "audit", "prune", "-home", node); !strings.Contains(out, "pruned 0 records") {
		t.Errorf("audit prune of a stopped node:\n%s", out)
	}
	if err := os.Remove(filepath.Join(node, "state.db")); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd(t, "audit", "prune", "-home", node)
	if code == exitOK || !strings.Contains(errs, "puente state rebuild -home "+node) || strings.Contains(errs, "does not start") {
		t.Errorf("audit prune with the state file missing: exit %d, %s; want a refusal naming `puente state rebuild`", code, errs)
	}
}
