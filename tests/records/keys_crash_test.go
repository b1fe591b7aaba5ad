//go:build puente_testparams && linux

package records

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// keyStep is one key action of TestKeyActionCrashes, the point where it crashes, and the action
// whose record the crash left unwritten ("" when it crashes after the record).
type keyStep struct {
	args       []string
	point      string
	unrecorded string
}

// TestKeyActionCrashes: a key action killed between its change to the key store and its audit
// record (crash point key-ACTION-unrecorded), or just after the record (key-ACTION), leaves the
// key store and the audit log agreeing once the node next opens its home: every action the store
// shows has exactly one record, one the crash left unwritten is there marked recovered (and
// `puente audit verify` accepts it and names it), and the log records no action the store does
// not show. Each action runs once through the running node and once offline (`puente keys ...`
// with no node running).
func TestKeyActionCrashes(t *testing.T) {
	t.Parallel()
	for _, running := range []bool{true, false} {
		t.Run(map[bool]string{true: "running", false: "offline"}[running], func(t *testing.T) {
			t.Parallel()
			n := newNode(t, t.TempDir(), "us-cbp")
			beginTestEpoch(t, n, 1)
			beginTestEpoch(t, n, 2) // epoch 1 superseded, 2 active
			must(t, "keys", "rotate", "-home", n.home, "-overlap", "1d")
			ids := ringIDs(t, n) // the first key, still valid, and the current one
			steps := []keyStep{
				{[]string{"keys", "rotate", "-overlap", "1d"}, "key-signing-key-rotated-unrecorded", "signing-key-rotated"},
				{[]string{"keys", "revoke-signing", ids[0]}, "key-signing-key-revoked", ""},
				{[]string{"keys", "rotate", "-overlap", "0"}, "key-signing-key-destroyed-unrecorded", "signing-key-destroyed"},
				{[]string{"keys", "revoke-signing", "CURRENT"}, "key-signing-key-revoked-unrecorded", "signing-key-revoked"},
				{[]string{"keys", "epoch", "-agreement", "us-co", "-epoch", "1", "retire"}, "key-epoch-retired-unrecorded", "epoch-retired"},
				{[]string{"keys", "epoch", "-agreement", "us-co", "-epoch", "1", "destroy"}, "key-epoch-destroyed-unrecorded", "epoch-destroyed"},
				{[]string{"keys", "epoch", "-agreement", "us-co", "-epoch", "2", "revoke"}, "key-epoch-revoked-unrecorded", "epoch-revoked"},
			}
			for _, s := range steps {
				args := append([]string{s.args[0], s.args[1], "-home", n.home}, s.args[2:]...)
				if last := len(args) - 1; args[last] == "CURRENT" {
					ids := ringIDs(t, n)
					args[last] = ids[len(ids)-1]
				}
				crashKeyAction(t, n, running, s.point, args)
				if checkKeyRecords(t, n, s); t.Failed() {
					return // the later steps would only repeat what is wrong
				}
			}
		})
	}
}

// crashKeyAction runs a key command that crashes at point, through the running node or offline,
// and then has the node open its home again: serve started and stopped, or (offline) another
// key command that changes nothing.
func crashKeyAction(t *testing.T, n *node, running bool, point string, args []string) {
	t.Helper()
	crash := "PUENTE_TEST_CRASH=" + point
	if running {
		n.env = []string{crash}
		n.start(t)
		if r := runPuente(t, args...); r.code != 1 {
			t.Fatalf("%v with the node crashing at %s: exit %d\n%s", args, point, r.code, r)
		}
		n.waitCrash(t)
		n.env = nil
		n.start(t)
		n.stop(t)
		return
	}
	if r := runPuenteEnv(t, []string{crash}, args...); r.code != -1 {
		t.Fatalf("%v crashing at %s: exit %d, want killed\n%s", args, point, r.code, r)
	}
	must(t, "keys", "destroy-expired", "-home", n.home)
}

// checkKeyRecords compares the node's key store with its audit log (the node stopped): each
// signing key of the keyring was created or rotated in once; a key is revoked in the keyring
// exactly when one record says so; a key's seed is gone (other than by revocation) exactly when
// one record says it was destroyed (or, for a revoked key, by its revocation); each epoch of agreement us-co was begun once, and was
// retired, destroyed and revoked exactly when one record says so. The action the step's crash
// left unrecorded must be there marked recovered, and `puente audit verify` must accept the log.
func checkKeyRecords(t *testing.T, n *node, s keyStep) {
	t.Helper()
	ctx := context.Background()
	h, ring := openHome(t, n, false)
	seeds, err := h.Store.List(ctx, "sign/key/")
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := (&keys.Agreements{Store: h.Store}).State(ctx, "us-co")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{} // "action what" -> records
	recovered := map[string]bool{}
	for _, r := range auditLog(t, n) {
		if r.Kind != "key" {
			continue
		}
		what := r.KeyID
		if what == "" {
			what = fmt.Sprintf("%s@%d", r.Key, r.Epoch)
		}
		act := strings.Replace(r.Action, "signing-key-created", "signing-key-rotated", 1) // the first key's
		count[act+" "+what]++
		recovered[r.Action] = recovered[r.Action] || r.Recovered
	}
	want := map[string]int{}
	for _, e := range ring.Entries() {
		id := e.ID.String()
		want["signing-key-rotated "+id] = 1
		want["signing-key-revoked "+id] = b2i(e.Revoked)
		seedGone := !strings.Contains(strings.Join(seeds, " "), id)
		want["signing-key-destroyed "+id] = b2i(seedGone)
		if e.Revoked && count["signing-key-destroyed "+id] == 0 {
			want["signing-key-destroyed "+id] = 0 // destroyed by the revocation, not after its end
		}
	}
	for _, e := range st.Epochs {
		what := fmt.Sprintf("%s@%d", keys.SeedName("us-co", e.Epoch), e.Epoch)
		want["epoch-begun "+what] = 1
		want["epoch-retired "+what] = b2i(e.State == keys.EpochRetired || e.State == keys.EpochDestroyed)
		want["epoch-destroyed "+what] = b2i(e.State == keys.EpochDestroyed)
		want["epoch-revoked "+what] = b2i(e.Revoked)
	}
	for k, c := range count {
		if _, ok := want[k]; !ok {
			t.Errorf("after %v: the log records %s %d times, of a key or epoch the store does not hold", s.args, k, c)
		}
	}
	for k, w := range want {
		if count[k] != w {
			t.Errorf("after %v (crash at %s): the log records %s %d times, the store shows it %d times", s.args, s.point, k, count[k], w)
		}
	}
	out := must(t, "audit", "verify", "-home", n.home)
	if s.unrecorded != "" && (!recovered[s.unrecorded] || !strings.Contains(out, "recovered") || !strings.Contains(out, s.unrecorded)) {
		t.Errorf("after %v: the %s record the crash left unwritten is not there marked recovered, or audit verify does not name it:\n%s",
			s.args, s.unrecorded, out)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openHome opens the stopped node's home, with its lock if lock, and reads its keyring.
func openHome(t *testing.T, n *node, lock bool) (*home.NodeHome, *keys.Keyring) {
	t.Helper()
	ctx := context.Background()
	h, err := home.OpenNodeHome(ctx, n.home, lock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	ring, _, err := (&keys.SigningKeys{Store: h.Store, Node: h.Name}).Keyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h, ring
}

// ringIDs returns the IDs of the node's signing keys, oldest first.
func ringIDs(t *testing.T, n *node) []string {
	t.Helper()
	_, ring := openHome(t, n, false)
	var ids []string
	for _, e := range ring.Entries() {
		ids = append(ids, e.ID.String())
	}
	return ids
}

// beginTestEpoch begins an epoch of agreement us-co with co-migracion on the stopped node, with
// its audit record, as a key ceremony leaves it (the contributions drawn here).
func beginTestEpoch(t *testing.T, n *node, epoch uint64) {
	t.Helper()
	h, _ := openHome(t, n, true)
	defer h.Close()
	var c [2]*keys.Contribution
	var err error
	for i, who := range []string{n.name, "co-migracion"} {
		if c[i], err = keys.NewContribution(rand.Reader, who, "us-co", epoch); err != nil {
			t.Fatal(err)
		}
		defer c[i].Zero()
	}
	secret, err := keys.DeriveAgreementSecret(c[0], c[1])
	if err != nil {
		t.Fatal(err)
	}
	defer secret.Zero()
	if err := (&keys.Agreements{Store: h.Store, Events: h.AuditSink()}).Begin(context.Background(), "co-migracion", secret); err != nil {
		t.Fatal(err)
	}
}
