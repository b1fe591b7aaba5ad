package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/puente-id/puente/audit"
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

	// A node whose puente.hcl is missing is not taken for a home of keys only: its log records
	// queries, and pruning it without its halts could drop their proof.
	// The same when the log's only sign of queries is a halt (older query records pruned).
	id := strings.Repeat("ab", 16)
	for _, c := range []struct {
		kind audit.Kind
		ev   audit.Event
	}{
		{audit.KindQuery, audit.Event{Partner: "co-migracion", Role: audit.RoleResponder, Purpose: "border-check", RequestID: id,
			Outcome: audit.OutcomeAnswered, Decision: audit.DecisionNotKnown, Epoch: 1}},
		{audit.KindKey, audit.Event{Partner: "co-migracion", Action: audit.ActionPartnerHaltedUnresolved, RequestID: id, Epoch: 1}},
	} {
		plain := filepath.Join(t.TempDir(), "us")
		mustRunCmd(t, "init", "-home", plain, "-listen", "127.0.0.1:7443", "us-cbp")
		appendRecord(t, plain, c.kind, c.ev)
		if err := os.Rename(filepath.Join(plain, "puente.hcl"), filepath.Join(plain, "puente.hcl.away")); err != nil {
			t.Fatal(err)
		}
		code, _, errs = runCmd(t, "audit", "prune", "-home", plain)
		if code == exitOK || !strings.Contains(errs, "records queries") {
			t.Errorf("audit prune of a node without its puente.hcl, whose log holds a %s record: exit %d, %s; want a refusal", c.kind, code, errs)
		}
	}
	if err := os.Remove(filepath.Join(node, "state.db")); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd(t, "audit", "prune", "-home", node)
	if code == exitOK || !strings.Contains(errs, "puente state rebuild -home "+node) || strings.Contains(errs, "does not start") {
		t.Errorf("audit prune with the state file missing: exit %d, %s; want a refusal naming `puente state rebuild`", code, errs)
	}
}

// appendRecord appends a record to the log of the stopped node at dir, signed with its key.
func appendRecord(t *testing.T, dir string, kind audit.Kind, ev audit.Event) {
	t.Helper()
	ctx := context.Background()
	cfg, err := loadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := openNodeForWrite(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	opts, k, err := auditOptions(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Zero()
	if opts.Verifier, err = loadKeyring(ctx, dir, ""); err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(cfg.Path(cfg.AuditLog), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, kind, ev); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
