//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys/policy"
)

// The records of a halt (halt.go) must outlive what an operator does to the node's files: a
// halt the audit log no longer proves is lifted by the next `puente state rebuild` with no
// partner-resumed record, and queries to a partner that proved it cheats go out again.

// TestPruneKeepsOpenHalts prunes the audit log past the record of the query whose answer did not
// open, while the halt is still in force, and then rebuilds the state file from the log: the
// halt must stay, through a running node's prune and a stopped node's, until an operator resumes
// the partner.
func TestPruneKeepsOpenHalts(t *testing.T) {
	a, b, gal := haltPair(t, 47, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	h := deviate(t, a, b, gal[0])

	// a keeps its audit records for one minute, and its clock runs ahead of the records so far.
	a.stop(t)
	setRetention(t, a, "1m")
	var skew atomic.Int64
	a.clock = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	skew.Store(int64(2 * time.Minute))
	cfg := loadConfig(t, a)
	rebuildKeeps := func(when string) {
		t.Helper()
		rep, err := RebuildState(ctx, cfg, Options{Now: a.clock})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Halted) != 1 || rep.Halted[0].RequestID != h.RequestID {
			t.Errorf("%s: the rebuilt state file halts %+v, want the halt of query %s", when, rep.Halted, h.RequestID)
		}
	}
	dropped := func(when string) {
		t.Helper()
		for _, r := range records(t, a) {
			if r.RequestID == h.RequestID && r.Kind == audit.KindQuery {
				t.Fatalf("%s: the query's record %d is still in the log: the prune did not reach it", when, r.Seq)
			}
		}
	}

	a.start(t)
	rep, err := a.PruneAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a running node's prune dropped %d records", rep.Dropped)
	dropped("after a running node's prune")
	if haltOf(t, a) == nil {
		t.Fatal("the prune lifted the halt of the running node")
	}
	a.stop(t)
	rebuildKeeps("after a running node's prune")

	// Again with the node stopped, once the record the first prune wrote is old in turn.
	skew.Store(int64(4 * time.Minute))
	ret, _ := policy.ParsePeriod("1m")
	rep, err = PruneStoppedAudit(ctx, cfg, ret, Options{Now: a.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a stopped node's prune dropped %d records", rep.Dropped)
	for _, r := range records(t, a) {
		if r.Kind == audit.KindKey && r.Action == audit.ActionPartnerHalted && r.Partner == "beta" {
			if at, _ := r.ParsedTime(); at.Before(rep.Cutoff) {
				t.Fatalf("record %d, from before the cutoff, is still in the log: the prune did not reach the first prune's records", r.Seq)
			}
		}
	}
	rebuildKeeps("after a stopped node's prune")
	a.start(t)
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); !errors.Is(err, ErrHalted) {
		t.Errorf("Search after both prunes and a rebuild: %v, want ErrHalted", err)
	}
	a.stop(t)

	// A resume ends it: the log then proves no halt, and a prune records none.
	if _, err := ResumePartner(ctx, cfg, "beta", Options{Now: a.clock}); err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(6 * time.Minute))
	if _, err := PruneStoppedAudit(ctx, cfg, ret, Options{Now: a.clock}); err != nil {
		t.Fatal(err)
	}
	if rep, err := RebuildState(ctx, cfg, Options{Now: a.clock}); err != nil || len(rep.Halted) != 0 {
		t.Errorf("rebuild after the resume and a prune: halted %+v, %v; want none", rep.Halted, err)
	}
	for _, r := range records(t, a) {
		if r.Action == audit.ActionPartnerHalted {
			t.Errorf("record %d: a prune after the resume recorded a halt", r.Seq)
		}
	}
}

// TestCrashBeforeDeviatedRecordKeepsHalt stops a node as a crash would between the halt's entry
// in the state file and the query's deviated record: its files are what they were at that
// moment. The restart must end the query deviated, not failed, so that the audit log proves the
// halt, and a state file rebuilt from the log keeps it.
func TestCrashBeforeDeviatedRecordKeepsHalt(t *testing.T) {
	a, b, gal := haltPair(t, 53, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	var snap map[string][]byte
	hook := func(_ context.Context, point string, _ error) {
		if point == "halted" && snap == nil {
			snap = snapshotHome(t, a.home)
		}
	}
	a.hook.Store(&hook)
	h := deviate(t, a, b, gal[0])
	a.hook.Store(nil)
	if snap == nil {
		t.Fatal("the querier never reached its point \"halted\"")
	}
	a.stop(t)
	restoreHome(t, a.home, snap)
	a.start(t)
	var outcome audit.Outcome
	for _, r := range records(t, a) {
		if r.Kind == audit.KindQuery && r.RequestID == h.RequestID {
			outcome = r.Outcome
		}
	}
	if outcome != audit.OutcomeDeviated {
		t.Errorf("after the crash the query ends %q, want %q: the audit log no longer proves the halt", outcome, audit.OutcomeDeviated)
	}
	if haltOf(t, a) == nil {
		t.Error("the restart lifted the halt")
	}
	a.stop(t)
	rep, err := RebuildState(ctx, loadConfig(t, a), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Halted) != 1 || rep.Halted[0].RequestID != h.RequestID {
		t.Errorf("the state file rebuilt after the crash halts %+v, want the halt of query %s", rep.Halted, h.RequestID)
	}
}

// deviate makes b spoil both messages of the first transfer of its answers, so that no answer
// opens, and returns the halt of a's queries to b that a's next search brings.
func deviate(t *testing.T, a, b *testNode, probe []float64) *Halt {
	t.Helper()
	cheat := func(tr []byte) {
		tr[0] ^= 1
		tr[labelBytesForTest] ^= 1
	}
	b.cheat.Store(&cheat)
	if _, err := a.Search(ctxTimeout(t, 5*time.Minute), "beta", Probe{Raw: probe}, ""); !errors.Is(err, ErrDeviated) {
		t.Fatalf("Search of a spoiled answer: %v, want ErrDeviated", err)
	}
	h := haltOf(t, a)
	if h == nil {
		t.Fatal("no halt after an answer that did not open")
	}
	return h
}

// setRetention sets the audit retention of n's key policy (n stopped).
func setRetention(t *testing.T, n *testNode, period string) {
	t.Helper()
	path := filepath.Join(n.home, "policy.hcl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `retention = "7y"`, `retention = "`+period+`"`, 1)
	if s == string(b) {
		t.Fatalf("%s: no retention of 7y to replace", path)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// snapshotHome reads every regular file under dir: what a crash at this moment would leave (each
// store writes its files durably before the call that wrote them returns).
func snapshotHome(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// restoreHome puts back the files of a snapshot and removes those made since (the node stopped).
func restoreHome(t *testing.T, dir string, snap map[string][]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if _, ok := snap[path]; !ok {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, b := range snap {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
