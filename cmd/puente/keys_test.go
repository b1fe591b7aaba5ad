package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// newHome makes a node home with the example key policy (adapted to the
// node's name) and runs 'keys init'.
func newHome(t *testing.T, name string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), name)
	os.MkdirAll(home, 0o700)
	pol, err := os.ReadFile("../../keys/policy/testdata/example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	pol = []byte(strings.Replace(string(pol), `node = "us-cbp"`, `node = "`+name+`"`, 1))
	if err := os.WriteFile(filepath.Join(home, "policy.hcl"), pol, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "keys", "init", "-home", home, name)
	if code != exitOK || !strings.Contains(out, "recipient (give it to the partner): age1pq1") {
		t.Fatalf("keys init: %d %s %s", code, out, errs)
	}
	return home
}

func TestKeysPolicyAuditCommands(t *testing.T) {
	us := newHome(t, "us-cbp")

	// An epoch as the key ceremony leaves it (beginEpoch).
	dir := t.TempDir()
	if err := beginEpoch(context.Background(), us, "co-migracion", "us-co", 1); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "keys", "list", "-home", us)
	if code != exitOK || !strings.Contains(out, "agreement/us-co/epoch/1/seed") || !strings.Contains(out, "alice,bob") {
		t.Errorf("keys list: %s", out)
	}
	code, out, errs = runCmd(t, "policy", "check", "-home", us)
	if code != exitOK || !strings.Contains(out, "follows the policy") {
		t.Errorf("policy check of a clean node: %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "policy", "show", "-home", us)
	if code != exitOK || !strings.Contains(out, "Key \"transform-seed\"") {
		t.Errorf("policy show: %d %s", code, out)
	}

	// Revoke the epoch: policy check now reports it with exit code 3.
	code, _, errs = runCmd(t, "keys", "epoch", "-home", us, "-agreement", "us-co", "-epoch", "1", "revoke")
	if code != exitOK {
		t.Fatalf("keys epoch revoke: %s", errs)
	}
	code, out, errs = runCmd(t, "policy", "check", "-home", us)
	if code != exitFinding || !strings.Contains(out, "revoked epoch still present: agreement/us-co/epoch/1/seed") || !strings.Contains(errs, "1 problem found") {
		t.Errorf("policy check after revocation: %d\n%s%s", code, out, errs)
	}

	code, _, errs = runCmd(t, "keys", "rotate", "-home", us, "-overlap", "1d")
	if code != exitOK {
		t.Fatalf("keys rotate: %s", errs)
	}
	// The audit log holds every action and verifies, against the node's
	// keyring or an exported one.
	ring := filepath.Join(dir, "ring.json")
	if code, _, errs := runCmd(t, "keys", "keyring", "-home", us, ring); code != exitOK {
		t.Fatal(errs)
	}
	code, out, errs = runCmd(t, "audit", "verify", "-home", us, "-keyring", ring)
	if code != exitOK || !strings.Contains(out, "4 records verified") {
		t.Fatalf("audit verify: %d\n%s%s", code, out, errs)
	}
	log := filepath.Join(us, "audit.log")
	b, _ := os.ReadFile(log)
	os.WriteFile(log, []byte(strings.Replace(string(b), `"action":"epoch-revoked"`, `"action":"epoch-retired"`, 1)), 0o600)
	code, out, _ = runCmd(t, "audit", "verify", "-home", us)
	if code != exitFinding || !strings.Contains(out, "line 3") || !strings.Contains(out, "signature") {
		t.Errorf("audit verify of an edited log: %d\n%s", code, out)
	}
}

// beginEpoch begins epoch of agreement with partner on the node at dir, with its audit
// record, as the key ceremony leaves it: from two contributions drawn here.
func beginEpoch(ctx context.Context, dir, partner, agreement string, epoch uint64) error {
	n, err := home.OpenNodeHome(ctx, dir, true)
	if err != nil {
		return err
	}
	defer n.Close()
	mine, err := keys.NewContribution(rand.Reader, n.Name, agreement, epoch)
	if err != nil {
		return err
	}
	defer mine.Zero()
	theirs, err := keys.NewContribution(rand.Reader, partner, agreement, epoch)
	if err != nil {
		return err
	}
	defer theirs.Zero()
	secret, err := keys.DeriveAgreementSecret(mine, theirs)
	if err != nil {
		return err
	}
	defer secret.Zero()
	return (&keys.Agreements{Store: n.Store, Events: n.AuditSink()}).Begin(ctx, partner, secret)
}

func TestBadInputChangesNothing(t *testing.T) {
	home := newHome(t, "us-cbp")
	// A policy with an unknown field: exit 1, the file and line named.
	bad := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(bad, []byte("node = \"us-cbp\"\nowner = \"x\"\n"), 0o600)
	code, _, errs := runCmd(t, "policy", "check", "-home", home, "-policy", bad)
	if code != exitFailure || !strings.Contains(errs, bad+":2: unknown field \"owner\"") {
		t.Errorf("policy with an unknown field: %d %s", code, errs)
	}
	// A corrupt key file: reported by name, nothing else changes.
	files, _ := filepath.Glob(filepath.Join(home, "keys/sign/key/*/@00000001.age"))
	if len(files) != 1 {
		t.Fatalf("signing key files: %v", files)
	}
	os.WriteFile(files[0], []byte("not an age file"), 0o600)
	code, out, _ := runCmd(t, "policy", "check", "-home", home)
	if code != exitFinding || !strings.Contains(out, "key unreadable: sign/key/") || !strings.Contains(out, files[0]) {
		t.Errorf("corrupt key: %d %s", code, out)
	}
	if b, _ := os.ReadFile(files[0]); string(b) != "not an age file" {
		t.Error("policy check changed the corrupt file")
	}
	// The wrong identity.
	other := newHome(t, "us-cbp")
	os.Rename(filepath.Join(other, "identity.age"), filepath.Join(home, "identity.age"))
	code, _, errs = runCmd(t, "keys", "rotate", "-home", home)
	if code != exitFailure || !strings.Contains(errs, "not sealed to this identity") {
		t.Errorf("wrong identity: %d %s", code, errs)
	}
	// Not a node home at all.
	code, _, errs = runCmd(t, "keys", "list", "-home", t.TempDir())
	if code != exitFailure || !strings.Contains(errs, "not a node home") {
		t.Errorf("empty home: %d %s", code, errs)
	}
	code, _, errs = runCmd(t, "keys", "epoch", "-home", home, "-agreement", "us-co", "-epoch", "1", "explode")
	if code != exitUsage {
		t.Errorf("unknown epoch action: %d %s", code, errs)
	}
}

// TestAuditRepairCommand: a torn last line left by a crash is set aside;
// a log cut short with part of a record left is refused and left as it is.
func TestAuditRepairCommand(t *testing.T) {
	home := newHome(t, "us-cbp")
	for range 2 {
		if code, _, errs := runCmd(t, "keys", "rotate", "-home", home, "-overlap", "1d"); code != exitOK {
			t.Fatal(errs)
		}
	}
	log := filepath.Join(home, "audit.log")
	good, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n") // 3 records and ""
	// Cut off the last record, leaving half of it: the head still names it.
	cut := lines[0] + lines[1] + lines[2][:40]
	os.WriteFile(log, []byte(cut), 0o600)
	code, out, errs := runCmd(t, "audit", "repair", "-home", home)
	if code != exitFailure || !strings.Contains(errs, "cut off") {
		t.Errorf("repair of a truncated log: %d %s %s", code, out, errs)
	}
	if b, _ := os.ReadFile(log); string(b) != cut {
		t.Error("repair changed a truncated log")
	}
	// A torn line after the last record: repaired.
	os.WriteFile(log, []byte(string(good)+`{"v":1,"seq":4,"ti`), 0o600)
	code, out, errs = runCmd(t, "audit", "repair", "-home", home)
	if code != exitOK || !strings.Contains(out, "set aside 18 bytes") {
		t.Fatalf("repair of a torn tail: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "audit", "verify", "-home", home)
	if code != exitOK || !strings.Contains(out, "4 records verified") {
		t.Errorf("verify after repair: %d %s %s", code, out, errs)
	}
}

// TestRotateWithoutOverlapDestroysTheOldSeed: with no overlap the replaced
// key's seed is destroyed at once, and the destruction is audited.
func TestRotateWithoutOverlapDestroysTheOldSeed(t *testing.T) {
	home := newHome(t, "us-cbp")
	code, out, errs := runCmd(t, "keys", "rotate", "-home", home, "-overlap", "0")
	if code != exitOK || !strings.Contains(out, "seed was destroyed") {
		t.Fatalf("keys rotate -overlap 0: %d %s %s", code, out, errs)
	}
	_, out, _ = runCmd(t, "keys", "list", "-home", home)
	if n := strings.Count(out, "sign/key/"); n != 1 {
		t.Errorf("%d signing seeds after a rotation without overlap:\n%s", n, out)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "audit.log")); !strings.Contains(string(b), `"action":"signing-key-destroyed"`) {
		t.Error("the destruction is not in the audit log")
	}
	code, out, errs = runCmd(t, "keys", "destroy-expired", "-home", home)
	if code != exitOK || !strings.Contains(out, "no signing key") {
		t.Errorf("keys destroy-expired with nothing to do: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCmd(t, "audit", "verify", "-home", home); code != exitOK {
		t.Errorf("audit verify: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCmd(t, "policy", "check", "-home", home); code != exitOK {
		t.Errorf("policy check: %d %s %s", code, out, errs)
	}
}

// TestRevokeCurrentSigningKey: offline, as on a running node, the revocation
// of the current key first rotates in a new key (with no overlap, so the old
// seed is destroyed), then takes effect and is recorded, signed by the new
// key; the log verifies, and the verifier knows the action name the keys
// package records.
func TestRevokeCurrentSigningKey(t *testing.T) {
	if keys.ActSigningKeyRevoked != audit.ActionSigningKeyRevoked {
		t.Fatalf("keys records %q, the audit verifier looks for %q", keys.ActSigningKeyRevoked, audit.ActionSigningKeyRevoked)
	}
	home := newHome(t, "us-cbp")
	_, out, _ := runCmd(t, "keys", "list", "-home", home)
	id := regexp.MustCompile(`sign/key/([0-9a-f]{64})`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no signing key listed:\n%s", out)
	}
	code, out, errs := runCmd(t, "keys", "revoke-signing", "-home", home, id[1])
	if code != exitOK || !strings.Contains(out, "new signing key") {
		t.Fatalf("keys revoke-signing: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCmd(t, "keys", "rotate", "-home", home); code != exitOK {
		t.Fatalf("keys rotate after revoking the current key: %s", errs)
	}
	// created, rotated (the new key), destroyed (the old seed), revoked, rotated.
	code, out, errs = runCmd(t, "audit", "verify", "-home", home)
	if code != exitOK || !strings.Contains(out, "5 records verified") {
		t.Errorf("audit verify: %d %s %s", code, out, errs)
	}
	b, err := os.ReadFile(filepath.Join(home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	revoked := regexp.MustCompile(`"action":"signing-key-revoked".*"signer":"([0-9a-f]{64})"`).FindSubmatch(b)
	if revoked == nil || string(revoked[1]) == id[1] {
		t.Errorf("the revocation is not recorded, or is signed by the key it revokes:\n%s", b)
	}
}

// TestExtraArgumentsRefused: commands that take only flags refuse a stray
// argument instead of ignoring it (a mistyped flag value would otherwise
// run the command with defaults).
func TestExtraArgumentsRefused(t *testing.T) {
	home := newHome(t, "us-cbp")
	for _, cmd := range [][]string{
		{"keys", "list"}, {"keys", "rotate"}, {"keys", "destroy-expired"},
		{"audit", "prune"}, {"audit", "repair"}, {"audit", "verify"},
		{"policy", "check"}, {"policy", "show"},
	} {
		args := append(cmd, "-home", home, "7d")
		code, _, errs := runCmd(t, args...)
		if code != exitUsage || !strings.Contains(errs, `takes no arguments, got "7d"`) {
			t.Errorf("puente %s with an extra argument: %d %s", strings.Join(cmd, " "), code, errs)
		}
	}
	// Nothing ran: still one key and one audit record.
	_, out, _ := runCmd(t, "keys", "list", "-home", home)
	if n := strings.Count(out, "sign/key/"); n != 1 {
		t.Errorf("%d signing keys after refused commands", n)
	}
}

// TestPolicyCheckVaultNode: checking a Vault store also refuses a policy
// written for another node, before connecting.
func TestPolicyCheckVaultNode(t *testing.T) {
	home := newHome(t, "us-cbp")
	other := filepath.Join(t.TempDir(), "co.hcl")
	pol, _ := os.ReadFile(filepath.Join(home, "policy.hcl"))
	os.WriteFile(other, []byte(strings.Replace(string(pol), `node = "us-cbp"`, `node = "co-migracion"`, 1)), 0o600)
	vault := []string{"-vault-addr", "http://127.0.0.1:1", "-vault-prefix", "puente/us-cbp", "-vault-transit-key", "k"}
	code, _, errs := runCmd(t, append([]string{"policy", "check", "-home", home, "-policy", other}, vault...)...)
	if code != exitFailure || !strings.Contains(errs, "policy of node co-migracion") || !strings.Contains(errs, "us-cbp") {
		t.Errorf("vault check with another node's policy: %d %s", code, errs)
	}
	code, _, errs = runCmd(t, append([]string{"policy", "check", "-home", t.TempDir(), "-policy", other, "-node", "us-cbp"}, vault...)...)
	if code != exitFailure || !strings.Contains(errs, "policy of node co-migracion") {
		t.Errorf("vault check with -node: %d %s", code, errs)
	}
	code, _, errs = runCmd(t, append([]string{"policy", "check", "-home", t.TempDir(), "-policy", other}, vault...)...)
	if code != exitUsage || !strings.Contains(errs, "-node") {
		t.Errorf("vault check without a node name: %d %s", code, errs)
	}
}

// TestKeyCommandsHonourConfig moves a node's identity, key store, policy and audit log to the
// places its puente.hcl then names: the key, policy and audit commands find them there, write
// the audit record of a rotation to the configured log, and make nothing at the default places.
func TestKeyCommandsHonourConfig(t *testing.T) {
	home := homeElsewhere(t)
	logFile := filepath.Join(home, "logs", "audit.log")
	before, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if out := mustRunCmd(t, "keys", "list", "-home", home); !strings.Contains(out, "sign/keyring") {
		t.Errorf("keys list of the configured store:\n%s", out)
	}
	mustRunCmd(t, "keys", "rotate", "-home", home, "-overlap", "1d")
	after, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) <= len(before) || !bytes.HasPrefix(after, before) {
		t.Errorf("the rotation's audit record is not in the configured log %s (%d bytes before, %d after)", logFile, len(before), len(after))
	}
	if out := mustRunCmd(t, "audit", "verify", "-home", home); !strings.Contains(out, "records verified") {
		t.Errorf("audit verify of the configured log:\n%s", out)
	}
	if out := mustRunCmd(t, "policy", "show", "-home", home); !strings.Contains(out, "us-cbp") {
		t.Errorf("policy show of the configured policy:\n%s", out)
	}
	nothingAtDefaults(t, home)
}

// homeElsewhere makes a node with puente init and moves its identity, key store, policy and
// audit log to other places, which its puente.hcl then names.
func homeElsewhere(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "us")
	mustRunCmd(t, "init", "-home", home, "-listen", "127.0.0.1:7443", "us-cbp")
	for _, m := range [][2]string{{"identity.age", "secret/id.age"}, {"keys", "store"}, {"policy.hcl", "conf/policy.hcl"},
		{"audit.log", "logs/audit.log"}, {"audit.log.head", "logs/audit.log.head"}} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(home, m[1])), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(home, m[0]), filepath.Join(home, m[1])); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile := filepath.Join(home, "puente.hcl")
	b, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), `path = "keys"`, `path = "store"`, 1)
	cfg = strings.Replace(cfg, `policy      = "policy.hcl"`, `policy      = "conf/policy.hcl"`, 1)
	cfg += "\nidentity  = \"secret/id.age\"\naudit_log = \"logs/audit.log\"\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// nothingAtDefaults fails the test if any of the files that homeElsewhere moved is at its
// default place again.
func nothingAtDefaults(t *testing.T, home string) {
	t.Helper()
	for _, def := range []string{"identity.age", "keys", "policy.hcl", "audit.log", "audit.log.head"} {
		if _, err := os.Stat(filepath.Join(home, def)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s at the default place after the commands: %v", def, err)
		}
	}
}

// TestPolicyAuditCommandsHonourConfig runs the policy, audit, card and partner commands on a
// node whose puente.hcl names other places for its identity, key store, policy and audit log:
// each finds them there (policy check compares the configured policy with the configured store,
// audit repair and prune work on the configured log) and none makes a file at a default place.
func TestPolicyAuditCommandsHonourConfig(t *testing.T) {
	home := homeElsewhere(t)
	// The default policy names no custodians: the check finds that in the configured files.
	if code, out, errs := runCmd(t, "policy", "check", "-home", home); code != exitFinding || !strings.Contains(out, `missing custodian: key class "signing"`) {
		t.Errorf("policy check of the configured policy and store: exit %d\n%s%s", code, out, errs)
	}
	logFile := filepath.Join(home, "logs", "audit.log")
	f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":2,"ti`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out := mustRunCmd(t, "audit", "repair", "-home", home); !strings.Contains(out, "set aside 12 bytes of a torn record") {
		t.Errorf("audit repair of the configured log:\n%s", out)
	}
	if out := mustRunCmd(t, "audit", "prune", "-home", home); !strings.Contains(out, "pruned 0 records") {
		t.Errorf("audit prune of the configured log:\n%s", out)
	}
	if out := mustRunCmd(t, "audit", "verify", "-home", home); !strings.Contains(out, "logs/audit.log: 2 records verified") {
		t.Errorf("audit verify after repair and prune:\n%s", out)
	}
	card := filepath.Join(t.TempDir(), "us.card.json")
	if out := mustRunCmd(t, "card", "-home", home, "-out", card); !strings.Contains(out, "card of us-cbp written") {
		t.Errorf("card from the configured identity and store:\n%s", out)
	}
	co := filepath.Join(t.TempDir(), "co")
	mustRunCmd(t, "init", "-home", co, "-listen", "127.0.0.1:7444", "co-migracion")
	out := mustRunCmd(t, "partner", "add", "-home", home, "-card", filepath.Join(co, "card.json"), "-agreement", "us-co", "-address", "127.0.0.1:7444")
	if !strings.Contains(out, "add to the key policy ("+filepath.Join(home, "conf", "policy.hcl")+")") {
		t.Errorf("partner add names the policy to change:\n%s", out)
	}
	want := "the policy " + filepath.Join(home, "conf", "policy.hcl") + " has no partner block for it"
	if code, out, errs := runCmd(t, "policy", "check", "-home", home); code != exitFinding || !strings.Contains(out, want) {
		t.Errorf("policy check after partner add: exit %d, want a finding %q\n%s%s", code, want, out, errs)
	}
	nothingAtDefaults(t, home)
}

// mustRunCmd runs a command in process and fails the test unless it exits 0.
func mustRunCmd(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("puente %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}
