//go:build puente_testparams

package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
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
	a.stop(t)
	rebuildHalts(t, cfg, a.clock, h, "after a running node's prune")

	// Again with the node stopped, once the record the first prune wrote is old in turn, and
	// with a state file that lost the halt: the stopped prune must take it from the log.
	deleteHalt(t, a)
	skew.Store(int64(4 * time.Minute))
	ret, _ := policy.ParsePeriod("1m")
	rep, err = PruneStoppedAudit(ctx, cfg, ret, Options{Now: a.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a stopped node's prune dropped %d records", rep.Dropped)
	rebuildHalts(t, cfg, a.clock, h, "after a stopped node's prune")
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
	rebuildHalts(t, cfg, a.clock, nil, "after the resume and a prune")
	for _, r := range records(t, a) {
		if r.Action == audit.ActionPartnerHalted {
			t.Errorf("record %d: a prune after the resume recorded a halt", r.Seq)
		}
	}
}

// TestCrashBeforeDeviatedRecordKeepsHalt stops a node as a crash would between the halt's entry
// in the state file and the query's deviated record: its files are what they were at that
// moment. The restart must end the query deviated, not failed, so that the audit log proves the
// halt, and a state file rebuilt from the log alone keeps it.
func TestCrashBeforeDeviatedRecordKeepsHalt(t *testing.T) {
	a, b, gal := haltPair(t, 53, 2)
	snap := crashAtHalt(t, a, b, gal[0])
	h := haltOf(t, a)
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
	// The log alone must prove it: the state file is lost before the rebuild.
	if err := os.Remove(a.cfg.Path(a.cfg.StateFile)); err != nil {
		t.Fatal(err)
	}
	rebuildHalts(t, loadConfig(t, a), nil, h, "after the crash, the restart and the loss of the state file")
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

// TestCrashThenPruneKeepsHalt: after the same crash, the node stays stopped while an operator
// rebuilds the state file, or prunes the whole log (the query's own record is still pending)
// and then loses the state file: the log must still prove the halt.
func TestCrashThenPruneKeepsHalt(t *testing.T) {
	a, b, gal := haltPair(t, 59, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	snap := crashAtHalt(t, a, b, gal[0])
	h := haltOf(t, a)
	a.stop(t)
	cfg := loadConfig(t, a)

	restoreHome(t, a.home, snap)
	rebuildHalts(t, cfg, nil, h, "right after the crash")

	restoreHome(t, a.home, snap)
	setRetention(t, a, "1m")
	clock := func() time.Time { return time.Now().Add(2 * time.Minute) }
	ret, _ := policy.ParsePeriod("1m")
	if _, err := PruneStoppedAudit(ctx, cfg, ret, Options{Now: clock}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(a.cfg.Path(a.cfg.StateFile)); err != nil {
		t.Fatal(err)
	}
	rebuildHalts(t, cfg, clock, h, "after a prune and the loss of the state file")
}

// TestStoppedPruneRefusesDamagedState: a stopped node's prune reads the halts from the state
// file, so it refuses a damaged one, naming the rebuild, and leaves the log as it was.
func TestStoppedPruneRefusesDamagedState(t *testing.T) {
	a, b, gal := haltPair(t, 67, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	deviate(t, a, b, gal[0])
	a.stop(t)
	cfg := loadConfig(t, a)
	if err := os.WriteFile(a.cfg.Path(a.cfg.StateFile), []byte("not a state file"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(records(t, a))
	ret, _ := policy.ParsePeriod("1m")
	_, err := PruneStoppedAudit(ctx, cfg, ret, Options{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	if !errors.Is(err, ErrStateCorrupt) || !strings.Contains(err.Error(), "puente state rebuild") || strings.Contains(err.Error(), "does not start") {
		t.Errorf("prune with a damaged state file: %v, want ErrStateCorrupt naming `puente state rebuild`", err)
	}
	if after := len(records(t, a)); after != before {
		t.Errorf("the refused prune changed the log: %d records, was %d", after, before)
	}
}

// TestHaltOfUnconfiguredPartner takes the halted partner out of the configuration: a running
// node's prune and a rebuild must keep its halt, so that putting the partner back does not
// lift it; a resume then lifts it.
func TestHaltOfUnconfiguredPartner(t *testing.T) {
	a, b, gal := haltPair(t, 61, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	h := deviate(t, a, b, gal[0])
	b.cheat.Store(nil)
	a.stop(t)
	setRetention(t, a, "1m")
	without := loadConfig(t, a)
	without.Partners = slices.DeleteFunc(without.Partners, func(p home.PartnerConfig) bool { return p.Name == "beta" })
	clock := func() time.Time { return time.Now().Add(2 * time.Minute) }

	n, err := Open(ctx, without, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.PruneAudit(ctx)
	n.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records(t, a) {
		if r.Kind == audit.KindQuery && r.RequestID == h.RequestID {
			t.Fatalf("record %d of the query is still in the log: the prune did not reach it", r.Seq)
		}
	}
	// The log alone must prove it: the state file is lost before the rebuild.
	if err := os.Remove(a.cfg.Path(a.cfg.StateFile)); err != nil {
		t.Fatal(err)
	}
	rebuildHalts(t, without, clock, h, "with beta out of the configuration and the state file lost")
	a.clock = clock
	a.start(t)
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); !errors.Is(err, ErrHalted) {
		t.Errorf("Search after beta was put back: %v, want ErrHalted", err)
	}
	a.stop(t)
	if _, err := ResumePartner(ctx, without, "beta", Options{Now: clock}); err != nil {
		t.Fatalf("resume of beta, out of the configuration: %v", err)
	}
	if _, err := ResumePartner(ctx, without, "beta", Options{Now: clock}); err == nil {
		t.Error("a second resume of beta, out of the configuration and no longer halted, succeeded")
	}
	a.start(t)
	if res, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); err != nil || !res.Hit {
		t.Errorf("Search after the resume: %+v, %v; want a hit", res, err)
	}
}

// TestPruneKeepsHaltWhenClockStepsBack: the clock steps back between the halt (its time in the
// state file) and its records in the audit log, and a prune's cutoff falls between the two: the
// prune must still record the halt again.
func TestPruneKeepsHaltWhenClockStepsBack(t *testing.T) {
	a, b, gal := haltPair(t, 63, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	var skew, fixed atomic.Int64
	a.clock = func() time.Time {
		if f := fixed.Load(); f != 0 {
			return time.Unix(0, f)
		}
		return time.Now().Add(time.Duration(skew.Load()))
	}
	a.stop(t)
	setRetention(t, a, "1m")
	a.start(t)
	hook := func(_ context.Context, point string, _ error) {
		if point == "halting" {
			skew.Store(int64(-time.Hour)) // a fast clock is set back
		}
	}
	a.hook.Store(&hook)
	h := deviate(t, a, b, gal[0])
	a.hook.Store(nil)
	var dev time.Time
	for _, r := range records(t, a) {
		if r.Kind == audit.KindQuery && r.RequestID == h.RequestID && r.Outcome == audit.OutcomeDeviated {
			dev, _ = r.ParsedTime()
		}
	}
	if !dev.Before(h.At) {
		t.Fatalf("the deviated record (%s) is not before the halt (%s): the clock did not step back", dev, h.At)
	}
	mid := dev.Add(h.At.Sub(dev) / 2)
	fixed.Store(mid.Add(time.Minute).UnixNano()) // the prune's cutoff is mid
	if _, err := a.PruneAudit(ctx); err != nil {
		t.Fatal(err)
	}
	a.stop(t)
	for _, r := range records(t, a) {
		if r.Kind == audit.KindQuery && r.RequestID == h.RequestID && r.Outcome == audit.OutcomeDeviated {
			t.Fatalf("the deviated record %d is still in the log: the prune did not reach it", r.Seq)
		}
	}
	// The log alone must prove it: the state file is lost before the rebuild.
	if err := os.Remove(a.cfg.Path(a.cfg.StateFile)); err != nil {
		t.Fatal(err)
	}
	rebuildHalts(t, loadConfig(t, a), a.clock, h, "after a prune whose cutoff fell between the deviated record and the halt")
}

// TestInterruptedResumeIsCompleted: a crash between a resume's record and the state file's
// update leaves the halt in the state file; the restart, a prune and a rebuild must all take
// the recorded resume as done.
func TestInterruptedResumeIsCompleted(t *testing.T) {
	a, b, gal := haltPair(t, 71, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	deviate(t, a, b, gal[0])
	b.cheat.Store(nil)
	a.stop(t)
	st, err := openState(a.cfg.Path(a.cfg.StateFile), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.halts()
	st.close()
	if err != nil || stored["beta"] == nil {
		t.Fatalf("state halts %v, %v", stored, err)
	}
	cfg := loadConfig(t, a)
	if _, err := ResumePartner(ctx, cfg, "beta", Options{}); err != nil {
		t.Fatal(err)
	}
	putBack := func() {
		t.Helper()
		st, err := openState(a.cfg.Path(a.cfg.StateFile), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.putHalt("beta", stored["beta"]); err != nil {
			t.Fatal(err)
		}
		st.close()
	}
	putBack()
	ret, _ := policy.ParsePeriod("7y")
	if _, err := PruneStoppedAudit(ctx, cfg, ret, Options{}); err != nil {
		t.Fatal(err)
	}
	resumed := false
	for _, r := range records(t, a) {
		resumed = resumed || r.Action == audit.ActionPartnerResumed
		if resumed && r.Action == audit.ActionPartnerHalted {
			t.Errorf("record %d: the prune recorded the halt the resume lifted", r.Seq)
		}
	}
	rebuildHalts(t, cfg, nil, nil, "after an interrupted resume")
	putBack()
	if _, err := ResumePartner(ctx, cfg, "beta", Options{}); err == nil || !strings.Contains(err.Error(), "not halted") {
		t.Errorf("a second resume after an interrupted one: %v, want \"not halted\"", err)
	}
	if st, err := openState(a.cfg.Path(a.cfg.StateFile), nil, false); err != nil {
		t.Fatal(err)
	} else if left, err := st.halts(); st.close() != nil || err != nil || len(left) != 0 {
		t.Errorf("after the second resume the state file still halts %v (%v)", left, err)
	}
	putBack()
	a.start(t)
	if h := haltOf(t, a); h != nil {
		t.Errorf("after the restart: halt %+v, want none", h)
	}
	if res, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); err != nil || !res.Hit {
		t.Errorf("Search after the restart: %+v, %v; want a hit", res, err)
	}
}

// crashAtHalt makes b's answers fail to open and returns a's files as a crash between the halt's
// entry in the state file and the query's deviated record leaves them.
func crashAtHalt(t *testing.T, a, b *testNode, probe []float64) map[string][]byte {
	t.Helper()
	var snap map[string][]byte
	hook := func(_ context.Context, point string, _ error) {
		if point == "halted" && snap == nil {
			snap = snapshotHome(t, a.home)
		}
	}
	a.hook.Store(&hook)
	deviate(t, a, b, probe)
	a.hook.Store(nil)
	if snap == nil {
		t.Fatal("the querier never reached its point \"halted\"")
	}
	return snap
}

// deleteHalt removes the halt of n's queries to beta from n's state file (n stopped), as an older
// copy of the file would lack it.
func deleteHalt(t *testing.T, n *testNode) {
	t.Helper()
	st, err := openState(n.cfg.Path(n.cfg.StateFile), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if err := st.deleteHalt("beta"); err != nil {
		t.Fatal(err)
	}
}

// rebuildHalts rebuilds the state file of the stopped node of cfg from its audit log, with clock
// (nil: the real one), and checks that the new file halts exactly beta's queries by want (nil:
// none).
func rebuildHalts(t *testing.T, cfg *home.Config, clock func() time.Time, want *Halt, when string) {
	t.Helper()
	rep, err := RebuildState(context.Background(), cfg, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ok := len(rep.Halted) == 0
	if want != nil {
		ok = len(rep.Halted) == 1 && rep.Halted[0].Partner == "beta" && rep.Halted[0].RequestID == want.RequestID
	}
	if !ok {
		t.Errorf("%s: the rebuilt state file halts %+v, want %+v", when, rep.Halted, want)
	}
}

// TestResumeDoesNotLiftLaterHalt: a partner is resumed, the clock then steps back, and its next
// answer fails to open, with a crash between the halt's entry in the state file and the query's
// record: the new halt's time is before the resume's record. The restart must keep the new halt:
// a resume lifts the halt it names, not any halt older than itself.
func TestResumeDoesNotLiftLaterHalt(t *testing.T) {
	a, b, gal := haltPair(t, 73, 2)
	ctx := ctxTimeout(t, 5*time.Minute)
	first := deviate(t, a, b, gal[0])
	a.stop(t)
	fast := func() time.Time { return time.Now().Add(time.Hour) } // the clock runs fast, then is set right
	if _, err := ResumePartner(ctx, loadConfig(t, a), "beta", Options{Now: fast}); err != nil {
		t.Fatal(err)
	}
	a.start(t)
	snap := crashAtHalt(t, a, b, gal[1])
	second := haltOf(t, a)
	var resumed time.Time
	for _, r := range records(t, a) {
		if r.Action == audit.ActionPartnerResumed {
			resumed, _ = r.ParsedTime()
		}
	}
	if second == nil || second.RequestID == first.RequestID || !second.At.Before(resumed) {
		t.Fatalf("second halt %+v after the first %+v and the resume (%s): want a new one, dated before the resume", second, first, resumed)
	}
	a.stop(t)
	restoreHome(t, a.home, snap)
	a.start(t)
	if h := haltOf(t, a); h == nil || h.RequestID != second.RequestID {
		t.Errorf("after the crash and the restart: halt %+v, want the second halt %+v", h, second)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, ""); !errors.Is(err, ErrHalted) {
		t.Errorf("Search after the restart: %v, want ErrHalted", err)
	}
}

// TestHaltNotRecordedKeepsHalt: the audit log fails as the answer fails to open (a full disk, an
// I/O error: here its signer fails), so the halt's partner-halted record and the query's own
// record are not written; the state file holds the halt alone. A restart, a rebuild of the state
// file and a stopped prune must all keep it.
func TestHaltNotRecordedKeepsHalt(t *testing.T) {
	ret, _ := policy.ParsePeriod("1m")
	for _, then := range []string{"restart", "rebuild", "interrupted rebuild", "prune"} {
		t.Run(then, func(t *testing.T) {
			a, b, gal := haltPair(t, 81, 2)
			ctx := ctxTimeout(t, 5*time.Minute)
			h := haltUnrecorded(t, a, b, gal[0])
			cfg := loadConfig(t, a)
			switch then {
			case "restart": // the state file is the only evidence; the restart records the query deviated
				a.start(t)
				if got := haltOf(t, a); got == nil || got.RequestID != h.RequestID {
					t.Errorf("after the restart: halt %+v, want %+v", got, h)
				}
				a.stop(t)
				rebuildHalts(t, cfg, nil, h, "after the restart")
			case "rebuild", "interrupted rebuild": // before any restart: the query is still pending in the log
				if then == "interrupted rebuild" { // a crash after the rebuild's record of the halt, before the query's
					n, _, done, err := openStoppedLog(ctx, cfg, Options{})
					if err != nil {
						t.Fatal(err)
					}
					id, _ := hex.DecodeString(h.RequestID)
					err = n.recordHalt(ctx, "beta", &halt{request: id, at: time.Now(), epoch: h.Epoch, unresolved: true})
					n.audit.Close()
					done()
					if err != nil {
						t.Fatal(err)
					}
				}
				rep, err := RebuildState(ctx, cfg, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Halted) != 1 || rep.Halted[0].RequestID != h.RequestID || !rep.Halted[0].Unresolved {
					t.Errorf("rebuild: halted %+v; want beta's halt, unresolved, by the pending query %s", rep.Halted, h.RequestID)
				}
				var outcomes []audit.Outcome
				unresolved := 0
				for _, r := range records(t, a) {
					if r.Kind == audit.KindQuery && r.RequestID == h.RequestID {
						outcomes = append(outcomes, r.Outcome)
					}
					if r.Action == audit.ActionPartnerHaltedUnresolved && r.RequestID == h.RequestID {
						unresolved++
					}
				}
				if !slices.Equal(outcomes, []audit.Outcome{audit.OutcomePending, audit.OutcomeFailed}) || unresolved != 1 {
					t.Errorf("the query's records %v and %d partner-halted-unresolved records; want pending then failed (nothing proves a deviation), and one", outcomes, unresolved)
				}
			case "prune": // a stopped prune drops the pending record; only the state file held the halt
				setRetention(t, a, "1m")
				clock := func() time.Time { return time.Now().Add(2 * time.Minute) }
				if _, err := PruneStoppedAudit(ctx, cfg, ret, Options{Now: clock}); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(a.cfg.Path(a.cfg.StateFile)); err != nil {
					t.Fatal(err)
				}
				rebuildHalts(t, cfg, clock, h, "after a stopped prune and the loss of the state file")
			}
			b.cheat.Store(nil)
			a.start(t)
			_, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, "")
			if !errors.Is(err, ErrHalted) {
				t.Errorf("Search: %v, want ErrHalted", err)
			}
			if unresolved := strings.Contains(then, "rebuild"); err != nil && strings.Contains(err.Error(), "nothing proves it deviated") != unresolved {
				t.Errorf("Search after %s: %v; want the refusal to say whether a deviation is proved", then, err)
			}
		})
	}
}

// failingSigner fails every signature, so that every audit append fails.
type failingSigner struct{ id string }

func (f failingSigner) SignerID() string { return f.id }
func (f failingSigner) Sign(string, []byte) ([]byte, error) {
	return nil, errors.New("the audit log cannot be written")
}

// haltUnrecorded makes b's answers fail to open and a's audit log fail from the moment a halts
// (test point "halting") to the end of that query; it returns the halt, with a stopped, its
// state file holding the halt and its log proving none.
func haltUnrecorded(t *testing.T, a, b *testNode, probe []float64) *Halt {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Minute)
	signer := a.signer.key()
	hook := func(_ context.Context, point string, _ error) {
		if point == "halting" {
			if err := a.audit.SetSigner(context.Background(), failingSigner{signer.SignerID()}); err != nil {
				t.Error(err)
			}
		}
	}
	a.hook.Store(&hook)
	cheat := func(tr []byte) {
		tr[0] ^= 1
		tr[labelBytesForTest] ^= 1
	}
	b.cheat.Store(&cheat)
	_, err := a.Search(ctx, "beta", Probe{Raw: probe}, "")
	a.hook.Store(nil)
	if !errors.Is(err, ErrDeviated) {
		t.Errorf("Search whose answer did not open, with the audit log failing: %v, want ErrDeviated among its errors", err)
	}
	if err := a.audit.SetSigner(ctx, signer); err != nil {
		t.Fatal(err)
	}
	h := haltOf(t, a)
	if h == nil {
		t.Fatal("no halt")
	}
	a.stop(t)
	for _, r := range records(t, a) {
		if r.Action == audit.ActionPartnerHalted || r.Outcome == audit.OutcomeDeviated {
			t.Fatalf("record %d proves the halt: the audit log did not fail", r.Seq)
		}
	}
	return h
}
