//go:build puente_testparams && linux

package records

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sizes of TestCrashes, chosen to keep it to a few minutes on two shared cores with the INSECURE
// N = 2^11 set: 40 subjects enrolled in batches of 4, 50 searches in rounds of 5.
const (
	crashSubjects = 40
	crashBatch    = 4
	crashSearches = 50
	crashRound    = 5
)

// The crash points (PUENTE_TEST_CRASH, test builds only) of each side: the querier, the
// responder, and a node's key actions, where a process kills itself with SIGKILL.
var (
	querierPoints   = []string{"querier-stream-opened", "querier-sent", "querier-recorded"}
	responderPoints = []string{"responder-pending", "responder-reserved", "responder-recorded"}
	keyPoints       = []string{"key-epoch-revoked", "key-he-share-stored", "key-epoch-begun", "key-epoch-retired", "key-epoch-destroyed"}
)

// TestCrashes kills the responder and the querier (SIGKILL, at crash points chosen at random:
// PUENTE_CRASH_SEED repeats a run) during an enrolment, 50 searches and a revocation, restarting
// each after its crash, and then checks every store and log: every audit log verifies on its
// own and against the heads its partner witnessed; every query has its two matching records,
// pending first, and none is left pending after the restarts; the responder's quota count is
// what its log proves it answered; the gallery holds each enrolled subject once, every sealed
// record opens, and its epoch is the agreement's.
func TestCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: two nodes killed and restarted through an enrolment, 50 searches and a revocation")
	}
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PUENTE_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("PUENTE_CRASH_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	start := time.Now()

	us, co, data := recordsPairOf(t, crashSubjects, false)
	must(t, "ceremony", "-home", us.home, "-partner", co.name)
	crashes := 0
	// withCrash runs f with node n set to crash at point (its n-th pass), then brings n back
	// up clean, whether it crashed or not. It reports whether it crashed.
	withCrash := func(n *node, point string, nth int, f func()) bool {
		t.Helper()
		n.stop(t)
		n.env = []string{fmt.Sprintf("PUENTE_TEST_CRASH=%s:%d", point, nth)}
		n.start(t)
		f()
		crashed := hasCrashed(t, n)
		if crashed {
			n.waitCrash(t)
			crashes++
		}
		n.env = nil
		if n.serve != nil && n.stopOrCrashed(t) {
			crashed = true
			crashes++
		}
		n.start(t)
		return crashed
	}

	// The enrolment: co-migracion dies after a random batch, and the enrolment resumes.
	refs, gallery := filepath.Join(data, "gallery.refs"), filepath.Join(data, "gallery.json")
	enrol := []string{"enroll", "-home", co.home, "-partner", us.name, "-refs", refs, "-batch", strconv.Itoa(crashBatch)}
	batch := 1 + rng.IntN(crashSubjects/crashBatch-1)
	t.Logf("enrolment: co-migracion crashes after batch %d", batch)
	withCrash(co, "enrolled-batch", batch, func() {
		if r := runPuente(t, append(enrol, gallery)...); r.code != 1 {
			t.Fatalf("enrolment with co-migracion crashing after batch %d: exit %d\n%s", batch, r.code, r)
		}
	})
	out := must(t, append(enrol, "-resume", gallery)...)
	if !strings.Contains(out, fmt.Sprintf("holds %d", crashSubjects)) {
		t.Fatalf("resumed enrolment: %s", out)
	}

	// 50 searches, one at a time, in rounds; before each round one side may be set to crash at a
	// random point of one of its queries, and is brought back up as soon as it has.
	for round := 0; round < crashSearches/crashRound; round++ {
		var victim *node
		var point string
		switch rng.IntN(3) {
		case 0:
			victim, point = us, querierPoints[rng.IntN(len(querierPoints))]
		case 1:
			victim, point = co, responderPoints[rng.IntN(len(responderPoints))]
		}
		if victim != nil {
			point = fmt.Sprintf("%s:%d", point, 1+rng.IntN(crashRound))
			t.Logf("round %d: %s crashes at %s", round, victim.name, point)
			victim.stop(t)
			victim.env = []string{"PUENTE_TEST_CRASH=" + point}
			victim.start(t)
		}
		for i := range crashRound {
			row := strconv.Itoa((round*crashRound + i) % crashSubjects)
			if r := runPuente(t, "search", "-home", us.home, "-partner", co.name, "-json", "-rows", row, gallery); r.code != 0 {
				t.Logf("search %s: exit %d: %s", row, r.code, strings.TrimSpace(r.String()))
			}
			if victim != nil && hasCrashed(t, victim) {
				victim.waitCrash(t)
				crashes++
				victim.env = nil
				victim.start(t)
				victim = nil
			}
		}
		if victim != nil { // its crash point was not reached
			victim.stop(t)
			victim.env = nil
			victim.start(t)
		}
	}

	// The revocation: one side dies at a random key action of the revocation and the new
	// epoch's ceremony; the revocation is then carried through, with a later epoch if the two
	// sides ended up apart.
	side, point := []*node{us, co}[rng.IntN(2)], keyPoints[rng.IntN(len(keyPoints))]
	t.Logf("revocation: %s crashes at %s", side.name, point)
	withCrash(side, point, 1, func() { runPuente(t, "revoke", "-home", us.home, "-partner", co.name) })
	epoch := settleEpoch(t, us, co)
	waitGalleryEpoch(t, co, epoch)

	us.stop(t)
	co.stop(t)
	t.Logf("%d crashes in %s", crashes, time.Since(start).Round(time.Second))
	checkAfterCrashes(t, us, co, epoch)
}

// hasCrashed reports whether n's serve process died (at its crash point): it does not if its
// operator socket still answers; otherwise the test waits, with a limit, until /proc shows the
// process gone.
func hasCrashed(t *testing.T, n *node) bool {
	t.Helper()
	if c, err := net.Dial("unix", filepath.Join(n.home, "run", "admin.sock")); err == nil {
		c.Close()
		return false
	}
	stat := fmt.Sprintf("/proc/%d/stat", n.serve.Process.Pid)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if f := strings.Fields(string(b)); err != nil || len(f) > 2 && (f[2] == "Z" || f[2] == "X") {
			return true
		}
	}
	t.Fatalf("%s neither answers on its operator socket nor has ended:\n%s", n.name, n.log)
	return false
}

// settleEpoch brings both nodes to one current epoch after an interrupted revocation: it runs
// the revocation again, and if the responder has moved past the querier, a ceremony for the
// epoch the responder asks for. It returns the epoch.
func settleEpoch(t *testing.T, us, co *node) uint64 {
	t.Helper()
	for range 3 {
		su, sc := status(t, us).Partners[0], status(t, co).Partners[0]
		if su.Epoch != 0 && su.Epoch == sc.Epoch && su.Epoch > 1 {
			return su.Epoch
		}
		r := runPuente(t, "revoke", "-home", us.home, "-partner", co.name)
		if r.code == 0 {
			continue
		}
		t.Logf("revoke after the crash: %s", r)
		if i := strings.Index(r.stderr, "epoch must be at least "); i >= 0 {
			n := strings.Fields(r.stderr[i+len("epoch must be at least "):])[0]
			must(t, "ceremony", "-home", us.home, "-partner", co.name, "-epoch", strings.Trim(n, "):"))
		}
	}
	su, sc := status(t, us).Partners[0], status(t, co).Partners[0]
	if su.Epoch == 0 || su.Epoch != sc.Epoch {
		t.Fatalf("after the revocation: us-cbp at epoch %d, co-migracion at %d", su.Epoch, sc.Epoch)
	}
	return su.Epoch
}

// checkAfterCrashes checks the two nodes' stores and logs after the crash test.
func checkAfterCrashes(t *testing.T, us, co *node, epoch uint64) {
	t.Helper()
	for _, pair := range [][2]*node{{us, co}, {co, us}} {
		n, partner := pair[0], pair[1]
		out := must(t, "audit", "verify", "-home", n.home, "-witness", filepath.Join(partner.home, "audit.log"))
		t.Logf("%s: %s", n.name, strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
	}
	answered := checkPairs(t, us, co)
	if queries := len(queryRecords(t, us, co.name, "querier")); queries != crashSearches {
		t.Errorf("us-cbp recorded %d queries, want the %d searches", queries, crashSearches)
	}
	co.start(t)
	defer co.stop(t)
	st := status(t, co).Partners[0]
	if st.QuotaUsed != answered {
		t.Errorf("co-migracion counts %d queries of us-cbp's quota, its log proves %d answered", st.QuotaUsed, answered)
	}
	if st.Enrolled != crashSubjects || st.GalleryEpoch != epoch {
		t.Errorf("gallery: %d subjects under epoch %d, want %d under %d", st.Enrolled, st.GalleryEpoch, crashSubjects, epoch)
	}
	out := must(t, "gallery", "verify", "-home", co.home, "-partner", us.name)
	if !strings.Contains(out, fmt.Sprintf("%d records of epoch %d and %d archive entries", crashSubjects, epoch, crashSubjects)) {
		t.Errorf("gallery verify: %s", out)
	}
	t.Logf("quota used %d = answered %d; %s", st.QuotaUsed, answered, strings.TrimSpace(out))
}

// TestCrashLeavesMatchingRecords (case 8): a query's request ID is fixed before its first byte
// and both sides record it as pending first, so that a crash of either side leaves records
// that match, and a restart resolves them (the responder gives back the quota of a query it
// never answered).
func TestCrashLeavesMatchingRecords(t *testing.T) {
	t.Parallel()
	us, co, data := recordsPair(t, true)
	mated := filepath.Join(data, "mated.json")
	crashAt := func(n *node, point string) {
		t.Helper()
		n.stop(t)
		n.env = []string{"PUENTE_TEST_CRASH=" + point}
		n.start(t)
		if r := runPuente(t, "search", "-home", us.home, "-partner", co.name, "-rows", "0", mated); r.code != 1 {
			t.Fatalf("search with %s crashing at %s: exit %d\n%s", n.name, point, r.code, r)
		}
		n.waitCrash(t)
		n.env = nil
		n.start(t)
	}
	crashAt(co, "responder-reserved")    // mid-search, its quota reserved
	crashAt(us, "querier-sent")          // the probe sent, no answer yet
	crashAt(us, "querier-stream-opened") // the call open, its header never sent
	us.stop(t)
	co.stop(t)
	// Only the query whose querier died after sending its probe may have been answered (the
	// responder records an answer before it sends it).
	answered := checkPairs(t, us, co)
	if n := len(queryRecords(t, us, co.name, "querier")); n != 3 {
		t.Errorf("us-cbp recorded %d of the 3 queries", n)
	}
	if n := len(queryRecords(t, co, us.name, "responder")); n != 3 {
		t.Errorf("co-migracion recorded %d of the 3 queries", n)
	}
	co.start(t)
	if used := status(t, co).Partners[0].QuotaUsed; used != answered {
		t.Errorf("quota used %d, but the responder's log proves %d answered", used, answered)
	}
}

// stopOrCrashed stops n as stop does, except that a node which reached its crash point in the
// meantime (work that goes on after the command returned, such as destroying a revoked epoch's
// keys once its gallery is re-protected) has ended with SIGKILL: that is its crash, and
// stopOrCrashed reports it.
func (n *node) stopOrCrashed(t *testing.T) bool {
	t.Helper()
	n.serve.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.serve.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		n.serve.Process.Kill()
		<-done
		t.Fatalf("%s serve did not stop within two minutes of SIGTERM", n.name)
	}
	n.serve = nil
	var ee *exec.ExitError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		return true
	}
	t.Fatalf("%s serve exited with %v:\n%s", n.name, err, n.log)
	return false
}

// waitCrash waits for the node's serve process to end by SIGKILL (a crash point of
// PUENTE_TEST_CRASH, or the test's kill).
func (n *node) waitCrash(t *testing.T) {
	t.Helper()
	err := n.serve.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s serve ended with %v, want SIGKILL:\n%s", n.name, err, n.log)
	}
	n.serve = nil
}
