package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// TestAuditVerifyExpectKeepsHeadFile: `puente audit verify -home NODE -expect SEQ:HASH` (step 2
// of the officer's procedure in SECURITY.md) checks the noted head beside the head file, not
// instead of it: records cut off the end of the log after the noted head, with the head file
// left alone, are reported with -expect as without it.
func TestAuditVerifyExpectKeepsHeadFile(t *testing.T) {
	us := newHome(t, "us-cbp")
	for range 3 {
		if code, _, errs := runCmd(t, "keys", "rotate", "-home", us, "-overlap", "0"); code != exitOK {
			t.Fatalf("keys rotate: %s", errs)
		}
	}
	code, out, errs := runCmd(t, "audit", "verify", "-home", us)
	if code != exitOK {
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
	m := regexp.MustCompile(`head \(note it to detect later truncation\): (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no head in %q", out)
	}
	noted := m[1] // the officer notes the head off the node
	// The node keeps working: one more key action.
	if code, _, errs := runCmd(t, "keys", "rotate", "-home", us, "-overlap", "0"); code != exitOK {
		t.Fatalf("keys rotate: %s", errs)
	}
	// The operator cuts the records written after the officer's note off the end of the log
	// (at a line boundary) and leaves the head file as it is.
	log := filepath.Join(us, "audit.log")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.SplitAfter(string(b), "\n")
	var seq string
	seq, _, _ = strings.Cut(noted, ":")
	keep := 0
	for i, l := range ls {
		if strings.Contains(l, `"seq":`+seq+`,`) {
			keep = i + 1
		}
	}
	if keep == 0 || keep >= len(ls)-1 {
		t.Fatalf("test setup: record %s at line %d of %d", seq, keep, len(ls))
	}
	if err := os.WriteFile(log, []byte(strings.Join(ls[:keep], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "audit", "verify", "-home", us)
	if code != exitFinding || !strings.Contains(out, "cut off") {
		t.Fatalf("baseline: plain audit verify of the cut log: %d\n%s", code, out)
	}
	code, out, errs = runCmd(t, "audit", "verify", "-home", us, "-expect", noted)
	if code != exitFinding || !strings.Contains(out, "head file names record") {
		t.Errorf("audit verify -expect %s of a log cut after that record (its head file names a later one): exit %d, want %d\n%s%s",
			noted, code, exitFinding, out, errs)
	}
}

// TestAuditVerifyWitnessNodeFromLog: `audit verify -log COPY -witness PARTNER_LOG` looks for the
// witnesses of the node whose log COPY is (its records name it), not of the -home's node: the
// partner's officer who checks a copy of our log against their own log on their own machine
// (PUENTE_HOME set, or -home given) finds a log cut after a head their node witnessed. A -witness
// run that compares no witnessed head proves nothing and says so; a -policy of another
// node is refused.
func TestAuditVerifyWitnessNodeFromLog(t *testing.T) {
	ctx := t.Context()
	us := newHome(t, "us-cbp")
	co := newHome(t, "co-migracion")
	for range 3 {
		if code, _, errs := runCmd(t, "keys", "rotate", "-home", us, "-overlap", "7d"); code != exitOK {
			t.Fatalf("keys rotate: %s", errs)
		}
	}
	ring := filepath.Join(t.TempDir(), "us-ring.json")
	if code, _, errs := runCmd(t, "keys", "keyring", "-home", us, ring); code != exitOK {
		t.Fatal(errs)
	}
	usLog := filepath.Join(us, "audit.log")
	rep, err := audit.VerifyFile(usLog, mustRing(t, ring), nil)
	if err != nil {
		t.Fatal(err)
	}
	witnessed := rep.Last // co-migracion's node saw this head of us-cbp's log with an answer

	// us-cbp signs its head, co-migracion records it with its answered query (as the protocol does).
	usN, err := home.OpenNodeHome(ctx, us, false)
	if err != nil {
		t.Fatal(err)
	}
	usKey, err := (&keys.SigningKeys{Store: usN.Store, Node: "us-cbp"}).Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := audit.SignHead(usKey, "us-cbp", witnessed)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	wit, err := audit.NewWitness(mustRing(t, ring), "us-cbp", witnessed, now, usKey.ID().String(), sig)
	usKey.Zero()
	usN.Close()
	if err != nil {
		t.Fatal(err)
	}
	coN, err := home.OpenNodeHome(ctx, co, true)
	if err != nil {
		t.Fatal(err)
	}
	coSK := &keys.SigningKeys{Store: coN.Store, Node: "co-migracion"}
	coKey, err := coSK.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	coRing, _, err := coSK.Keyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(coN.AuditLog(), audit.Options{Node: "co-migracion", Signer: coKey, Verifier: coRing})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, audit.KindQuery, audit.Event{Partner: "us-cbp", Role: audit.RoleQuerier, Purpose: "border-check",
		RequestID: strings.Repeat("ab", 16), Outcome: audit.OutcomeAnswered, Decision: audit.DecisionNoHit, Epoch: 1, Witness: wit}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	coKey.Zero()
	coN.Close()
	coLog := filepath.Join(co, "audit.log")

	// us-cbp's operator cuts its log after the witnessed head; the copy it hands over has no head file.
	b, _ := os.ReadFile(usLog)
	ls := strings.SplitAfter(string(b), "\n")
	cut := strings.Join(ls[:len(ls)-3], "")
	copyLog := filepath.Join(t.TempDir(), "us-audit.log") // the copy handed to co-migracion's officer
	os.WriteFile(copyLog, []byte(cut), 0o600)

	// Run from a directory that is no node's home: the cut is found.
	code, out, errs := runCmd(t, "audit", "verify", "-home", t.TempDir(), "-log", copyLog, "-keyring", ring, "-witness", coLog)
	if code != exitFinding || !strings.Contains(out, "cut after the partner saw it") {
		t.Fatalf("baseline: verify of the cut copy: %d\n%s%s", code, out, errs)
	}
	// co-migracion's officer runs the same on their own machine (PUENTE_HOME / -home = co's home).
	code, out, errs = runCmd(t, "audit", "verify", "-home", co, "-log", copyLog, "-keyring", ring, "-witness", coLog)
	if code != exitFinding || !strings.Contains(out, "cut after the partner saw it") {
		t.Errorf("verify of us-cbp's cut log copy against co-migracion's witnesses, run with co-migracion's home: exit %d, want %d\n%s%s",
			code, exitFinding, out, errs)
	}
	// The intact log checks out against them, from either home.
	for _, h := range []string{co, us} {
		if code, out, errs := runCmd(t, "audit", "verify", "-home", h, "-log", usLog, "-keyring", ring, "-witness", coLog); code != exitOK ||
			!strings.Contains(out, "1 heads witnessed") {
			t.Errorf("verify of us-cbp's log with -home %s: exit %d\n%s%s", h, code, out, errs)
		}
	}
	// A partner log that witnessed nothing of us-cbp's log proves nothing, and verify says so
	// (not a finding: the partner may have had no query answered).
	code, out, errs = runCmd(t, "audit", "verify", "-home", co, "-log", usLog, "-keyring", ring, "-witness", usLog)
	if code != exitOK || !strings.Contains(out, "-witness checked nothing") {
		t.Errorf("verify -witness with a log holding no witness of us-cbp: exit %d, want %d and a note\n%s%s", code, exitOK, out, errs)
	}
	// co-migracion's policy gives no retention for us-cbp's log.
	code, _, errs = runCmd(t, "audit", "verify", "-home", co, "-log", usLog, "-keyring", ring, "-policy", filepath.Join(co, "policy.hcl"))
	if code == exitOK || !strings.Contains(errs, "node co-migracion's key policy") {
		t.Errorf("verify -policy of another node: exit %d, %s", code, errs)
	}
}

// TestAuditVerifyExpectPruned: a head noted earlier that the log's checkpoint has pruned cannot
// be checked; `audit verify -expect` says so and exits 3, unless -accept-pruned acknowledges
// the prune (exit 0, the head reported as not checked).
func TestAuditVerifyExpectPruned(t *testing.T) {
	ctx := t.Context()
	us := newHome(t, "us-cbp")
	if code, _, errs := runCmd(t, "keys", "rotate", "-home", us, "-overlap", "0"); code != exitOK {
		t.Fatalf("keys rotate: %s", errs)
	}
	_, out, _ := runCmd(t, "audit", "verify", "-home", us)
	m := regexp.MustCompile(`head \(note it to detect later truncation\): (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no head in %q", out)
	}
	noted := m[1]
	for range 2 {
		if code, _, errs := runCmd(t, "keys", "rotate", "-home", us, "-overlap", "0"); code != exitOK {
			t.Fatalf("keys rotate: %s", errs)
		}
	}
	// Prune every record so far (as a retention shorter than their age would).
	n, err := home.OpenNodeHome(ctx, us, true)
	if err != nil {
		t.Fatal(err)
	}
	sk := &keys.SigningKeys{Store: n.Store, Node: "us-cbp"}
	k, err := sk.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ring, _, err := sk.Keyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(n.AuditLog(), audit.Options{Node: "us-cbp", Signer: k, Verifier: ring})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Prune(ctx, time.Now().Add(time.Minute), ring); err != nil {
		t.Fatal(err)
	}
	w.Close()
	k.Zero()
	n.Close()

	code, out, errs := runCmd(t, "audit", "verify", "-home", us, "-expect", noted)
	if code != exitFinding || !strings.Contains(out, "NOT CHECKED") || !strings.Contains(out, "-accept-pruned") {
		t.Errorf("verify -expect of a head pruned since: exit %d, want %d\n%s%s", code, exitFinding, out, errs)
	}
	code, out, errs = runCmd(t, "audit", "verify", "-home", us, "-expect", noted, "-accept-pruned")
	if code != exitOK || !strings.Contains(out, "was pruned behind the checkpoint: not checked") {
		t.Errorf("verify -expect -accept-pruned: exit %d\n%s%s", code, out, errs)
	}
}

func mustRing(t *testing.T, file string) *keys.Keyring {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := keys.ParseKeyring(b, file)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
