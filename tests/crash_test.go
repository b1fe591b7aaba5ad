//go:build puente_testparams

package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/puente-id/puente/protocol"
)

// crashCase is one node killed at one step of the key ceremony, and whether the new epoch must
// end up current (the crash came after the initiator's commit) or the old one stay.
type crashCase struct {
	node     string // "initiator" or "responder"
	point    string // a crash point of package protocol
	newEpoch bool
}

var crashCases = []crashCase{
	{"responder", "responder:Hello", false},
	{"responder", "responder:CommitSeed", false},
	{"responder", "responder:RevealSeed", false},
	{"responder", "responder:CommitShares", false},
	{"responder", "responder:ExchangeKeyShare", false},
	{"responder", "responder:CheckKeys", false},
	{"responder", "responder:Prepare", false}, // prepared, reply lost: the initiator aborts
	{"responder", "responder:Commit", true},   // committed, reply lost: the initiator retries
	{"initiator", "initiator:CommitShares", false},
	{"initiator", "initiator:ExchangeKeyShare", false},
	{"initiator", "initiator:CheckKeys", false},
	{"initiator", "initiator:prepared", false},
	{"initiator", "initiator:prepare-acked", false}, // the responder is prepared: Outcome says aborted
	{"initiator", "initiator:committed", true},      // the responder is prepared: Commit on restart
	{"initiator", "initiator:commit-acked", true},
}

// TestCeremonyCrash kills either node (SIGKILL, real processes) at every step of the key
// ceremony, including between its commit and its reply, restarts it, and checks that both nodes
// end on the same current epoch (the new one exactly when the initiator had committed), that no
// prepared epoch is left, and that a search works. The responder's and the initiator's crashes
// run on two pairs of nodes at once.
func TestCeremonyCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: fifteen ceremonies over two processes, each killed and restarted")
	}
	for _, who := range []string{"responder", "initiator"} {
		t.Run(who, func(t *testing.T) {
			t.Parallel()
			var cases []crashCase
			for _, tc := range crashCases {
				if tc.node == who {
					cases = append(cases, tc)
				}
			}
			crashEach(t, cases)
		})
	}
}

// crashEach runs the crash cases in turn on one pair of nodes.
func crashEach(t *testing.T, cases []crashCase) {
	dir := t.TempDir()
	us, co := newNode(t, dir, "us-cbp"), newNode(t, dir, "co-migracion")
	ag := agreement{id: "us-co", params: "INSECURE-test-n11", quota: "1000 per 24h", tau: tau}
	link(t, us, co, ag)
	link(t, co, us, ag)
	for _, n := range []*node{us, co} {
		n.env = []string{protocol.CrashEnv + "=" + crashFile(n)}
		n.start(t)
	}
	ceremony(t, us, co)
	gal := filepath.Join(dir, "gal.npy")
	writeNPY(t, gal, gaussianRows(1, 8))
	must(t, "enroll", "-home", co.home, "-partner", "us-cbp", gal)
	probe := filepath.Join(dir, "probe.npy")
	writeNPY(t, probe, gaussianRows(2, 1))
	epoch := 1
	for _, tc := range cases {
		victim := co
		if tc.node == "initiator" {
			victim = us
		}
		if err := os.WriteFile(crashFile(victim), []byte(tc.point), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := try("ceremony", "-home", us.home, "-partner", "co-migracion")
		died := waitExit(t, victim)
		os.Remove(crashFile(victim))
		if !died {
			t.Fatalf("%s: %s never reached the crash point (ceremony: %v)\n%s", tc.point, victim.name, err, out)
		}
		victim.start(t)
		if tc.newEpoch {
			epoch++
		}
		waitSettled(t, us, co, epoch, tc.point)
		waitGalleryEpoch(t, co, epoch)
		ls := parseLines(t, must(t, "search", "-home", us.home, "-partner", "co-migracion", "-json", probe))
		if len(ls) != 1 || ls[0].Error != "" || ls[0].Epoch != uint64(epoch) {
			t.Errorf("%s: search after the restart: %+v, want a decision under epoch %d", tc.point, ls, epoch)
		}
		t.Logf("%s killed at %s: both nodes on epoch %d, search answered", victim.name, tc.point, epoch)
	}
}

// crashFile is where the test names the crash point at which a node must kill itself.
func crashFile(n *node) string { return filepath.Join(n.home, "crash-at") }

// waitExit waits for a node's serve process to end by itself (it kills itself at the crash
// point) and reports whether it did; it gives up after two minutes.
func waitExit(t *testing.T, n *node) bool {
	t.Helper()
	done := make(chan struct{})
	go func() { n.serve.Wait(); close(done) }()
	select {
	case <-done:
		n.serve = nil
		return true
	case <-time.After(2 * time.Minute):
		return false
	}
}

// waitSettled waits until both nodes report epoch as current and hold no prepared epoch.
func waitSettled(t *testing.T, us, co *node, epoch int, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pu, pc := hasPendingKey(t, us), hasPendingKey(t, co)
		var eu, ec int
		if !pu && !pc {
			eu, ec = currentEpoch(t, us), currentEpoch(t, co)
			if eu == epoch && ec == epoch {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: epochs %d (us-cbp) and %d (co-migracion), prepared epochs left %v/%v; want both on %d and none left\nus-cbp:\n%s\nco-migracion:\n%s",
				what, eu, ec, pu, pc, epoch, us.log, co.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// currentEpoch is the node's current epoch with its one partner, from `puente status -json`.
func currentEpoch(t *testing.T, n *node) int {
	t.Helper()
	var st struct {
		Partners []struct {
			Epoch uint64 `json:"epoch"`
		} `json:"partners"`
	}
	if err := json.Unmarshal([]byte(must(t, "status", "-home", n.home, "-json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Partners) != 1 {
		t.Fatalf("%s reports %d partners", n.name, len(st.Partners))
	}
	return int(st.Partners[0].Epoch)
}

// hasPendingKey reports whether the node's key store (the file store `puente init` makes) holds
// a prepared epoch's record.
func hasPendingKey(t *testing.T, n *node) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(n.home, "keys", "agreement", "*", "epoch", "*", "pending", "@*.age"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files) > 0
}
