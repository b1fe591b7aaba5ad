package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// headAt returns the head (seq and hash) of record seq of the log at path.
func headAt(t *testing.T, path string, v Verifier, seq uint64) Head {
	t.Helper()
	var h Head
	_, err := CheckFile(path, v, FileOptions{Each: func(rec *Record, hash string) error {
		if rec.Seq == seq {
			h = Head{Seq: seq, Hash: hash}
		}
		return nil
	}})
	if err != nil || h.Hash == "" {
		t.Fatalf("head of record %d: %v", seq, err)
	}
	return h
}

// TestNotedHeadBesideHeadFile: a head noted earlier (`audit verify -expect`) is checked beside
// the head file, not instead of it, and each is reported in its own words. Records cut off the
// end after the noted head, with the head file left alone, are still a truncation.
func TestNotedHeadBesideHeadFile(t *testing.T) {
	path, k := writeLog(t, 9) // records 1..10, head file names 10
	ring := ringOf(k)
	orig := linesOfFile(t, path)
	noted := headAt(t, path, ring, 4)
	head6 := headAt(t, path, ring, 6)
	if _, err := CheckFile(path, ring, FileOptions{Expect: &noted, RequireHead: true}); err != nil {
		t.Fatalf("intact log against a noted head: %v", err)
	}
	// A noted head with another hash: the log was rewritten after it was noted.
	other := Head{Seq: 4, Hash: strings.Repeat("ab", 32)}
	_, err := CheckFile(path, ring, FileOptions{Expect: &other, RequireHead: true})
	if !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "noted earlier") {
		t.Errorf("noted head with another hash: %v, want ErrRolledBack naming the noted head", err)
	}

	// Records 7..10 cut off at a line boundary; the head file still names record 10.
	if err := os.WriteFile(path, bytes.Join(orig[:6], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = CheckFile(path, ring, FileOptions{Expect: &noted, RequireHead: true})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "head file") {
		t.Errorf("verify against noted head 4 of a log cut from record 7 on (head file at 10): %v, want ErrTruncated naming the head file", err)
	}
	if _, err := VerifyFile(path, ring, &noted); !errors.Is(err, ErrTruncated) {
		t.Errorf("VerifyFile with a noted head of a cut log: %v, want ErrTruncated", err)
	}

	// The log and its head file both rolled back to record 6: only the noted head shows it.
	if err := writeHead(path, head6); err != nil {
		t.Fatal(err)
	}
	late := Head{Seq: 8, Hash: strings.Repeat("cd", 32)}
	_, err = CheckFile(path, ring, FileOptions{Expect: &late, RequireHead: true})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "noted earlier") || strings.Contains(err.Error(), "head file names") {
		t.Errorf("log and head file rolled back before a noted head: %v, want ErrTruncated naming the noted head", err)
	}
}

// TestCheckpointCount: a prune drops every record up to its checkpoint, so a checkpoint's count
// equals its seq (the prune code keeps it so over several prunes); a checkpoint that says
// otherwise is refused.
func TestCheckpointCount(t *testing.T) {
	k := newTestKey(1)
	ring := ringOf(k)
	for _, count := range []uint64{0, 29, 31} {
		path := filepath.Join(t.TempDir(), "audit.log")
		w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ring, Now: stepClock()})
		if err != nil {
			t.Fatal(err)
		}
		_, line, _, _, err := w.seal(30, zeroHash, time.Time{}, Record{Kind: KindCheckpoint, Count: count})
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := os.WriteFile(path, append(line, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := CheckFile(path, ring, FileOptions{})
		if !errors.Is(err, ErrBrokenChain) {
			t.Errorf("a checkpoint at record %d that says %d records were pruned: %v (report %+v)", rep.Last.Seq, count, err, rep)
		}
	}
}

// TestCheckpointTime: a checkpoint takes part in the time order. The writer dates it no earlier
// than the records it keeps and dates the prune record after it no earlier than it, even with a
// clock that steps back; the verifier refuses a prune record dated before its checkpoint, and (with
// VerifyOptions.Now) a checkpoint dated in the future.
func TestCheckpointTime(t *testing.T) {
	k := newTestKey(1)
	ring := ringOf(k)
	path := filepath.Join(t.TempDir(), "audit.log")
	now := t0
	w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ring, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		now = t0.Add(time.Duration(i+1) * time.Minute)
		mustAppend(t, w, KindQuery, queryEvent(i, RoleResponder))
	}
	// The clock steps back between the checkpoint and the prune record.
	clock := []time.Time{t0.Add(20 * time.Minute), t0.Add(15 * time.Minute)}
	w.opts.Now = func() time.Time { c := clock[0]; clock = clock[1:]; return c }
	if n, err := w.Prune(ctx, t0.Add(7*time.Minute+30*time.Second), ring); err != nil || n != 7 {
		t.Fatalf("Prune: %d %v", n, err)
	}
	if _, err := CheckFile(path, ring, FileOptions{RequireHead: true}); err != nil {
		t.Fatalf("pruned log: %v", err)
	}
	// The clock steps back behind the last record before the next prune.
	w.opts.Now = func() time.Time { return t0.Add(time.Minute) }
	if n, err := w.Prune(ctx, t0.Add(10*time.Minute+30*time.Second), ring); err != nil || n != 3 {
		t.Fatalf("second Prune: %d %v", n, err)
	}
	w.Close()
	rep, err := CheckFile(path, ring, FileOptions{RequireHead: true, Now: t0.Add(20 * time.Minute)})
	if err != nil {
		t.Fatalf("pruned log: %v", err)
	}
	if ct, _ := rep.Checkpoint.ParsedTime(); ct.Before(t0.Add(20 * time.Minute)) {
		t.Errorf("checkpoint dated %s, before the records it keeps", ct)
	}
	// Checked an hour before the checkpoint's time (its clock was ahead, or it was forged).
	if _, err := CheckFile(path, ring, FileOptions{RequireHead: true, Now: t0.Add(-time.Hour)}); !errors.Is(err, ErrBrokenChain) || !strings.Contains(err.Error(), "future") {
		t.Errorf("checkpoint dated in the future: %v, want ErrBrokenChain", err)
	}

	// A prune record dated before its checkpoint.
	for _, c := range []struct {
		prune time.Time
		ok    bool
	}{{t0.Add(5 * time.Minute), false}, {t0.Add(10 * time.Minute), true}} {
		cpTime := t0.Add(10 * time.Minute)
		w, _ := openTest(t, k)
		w.opts.Now = func() time.Time { return cpTime }
		_, cp, _, _, err := w.seal(5, strings.Repeat("ab", 32), time.Time{}, Record{Kind: KindCheckpoint, Count: 5})
		if err != nil {
			t.Fatal(err)
		}
		w.opts.Now = func() time.Time { return c.prune }
		_, pr, _, _, err := w.seal(6, strings.Repeat("ab", 32), time.Time{}, Record{Kind: KindLog, Event: Event{Action: "prune"}, Count: 5,
			Head: Head{Seq: 5, Hash: strings.Repeat("ab", 32)}.String()})
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		_, err = Verify(bytes.NewReader(append(append(cp, '\n'), append(pr, '\n')...)), ring, VerifyOptions{})
		if c.ok != (err == nil) || !c.ok && !errors.Is(err, ErrBrokenChain) {
			t.Errorf("prune record dated %s after a checkpoint dated %s: %v", c.prune, cpTime, err)
		}
	}
}

// TestCheckpointHidesNothingSilently: a checkpoint (the first line of a pruned log) cannot pass
// a head noted earlier or a witnessed head in silence. Whoever holds a signing key valid at some
// time can write a new log from scratch behind a checkpoint past every head anyone noted or
// witnessed:
//   - a noted head older than the checkpoint is ErrPrunedHead (not checkable) unless the caller
//     acknowledges the prune (AcceptPruned), and then it is reported (Report.NotedPruned);
//   - a witnessed head the checkpoint hides whose witness is younger than the checkpoint's time
//     minus the retention is ErrRolledBack: a prune under that retention could not have dropped it;
//   - without a retention, a witness dated after the checkpoint is still ErrRolledBack, and an
//     older one is counted in Report.Unchecked.
func TestCheckpointHidesNothingSilently(t *testing.T) {
	for _, tc := range []struct {
		name      string
		revokedAt time.Time // end of the forger's key's window; the forged log is dated inside it
	}{
		{"operator-with-current-key", time.Time{}},
		{"thief-of-revoked-key", t0.Add(3 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newTestKey(1)
			ring := ringOf(k)
			if !tc.revokedAt.IsZero() {
				e := ring[k.id]
				e.end = tc.revokedAt
				ring[k.id] = e
			}
			// The genuine log: 12 queries, at t0+1m..t0+12m.
			path := filepath.Join(t.TempDir(), "audit.log")
			w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ring, Now: stepClock()})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 12 {
				mustAppend(t, w, KindQuery, queryEvent(i, RoleQuerier))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			noted := headAt(t, path, ring, 12)
			witnessed := headAt(t, path, ring, 9) // signed for the partner at t0+9m30s
			witnesses := []Expectation{{Head: witnessed, By: "co-migracion's record 41", Time: t0.Add(9*time.Minute + 30*time.Second)}}
			if rep, err := CheckFile(path, ring, FileOptions{Expect: &noted, Witnesses: witnesses, RequireHead: true, Retention: 24 * time.Hour}); err != nil || rep.Witnessed != 1 {
				t.Fatalf("genuine log: %+v %v", rep, err)
			}

			// The forged log: 32 records from scratch, pruned behind a checkpoint at record 30
			// (dated t0+33m), in place of the log and its head file.
			forged := filepath.Join(t.TempDir(), "audit.log")
			fw, err := Open(forged, Options{Node: "us-cbp", Signer: k, Verifier: ring, Now: stepClock()})
			if err != nil {
				t.Fatal(err)
			}
			for range 32 {
				mustAppend(t, fw, KindLog, Event{Action: "opened"})
			}
			if _, err := fw.Prune(ctx, t0.Add(31*time.Minute), ring); err != nil {
				t.Fatal(err)
			}
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", ".head"} {
				b, err := os.ReadFile(forged + suffix)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			// The noted head is not checkable: an error, unless the prune is acknowledged.
			rep, err := CheckFile(path, ring, FileOptions{Expect: &noted, RequireHead: true})
			if !errors.Is(err, ErrPrunedHead) || !strings.Contains(err.Error(), "record 12") {
				t.Errorf("noted head 12 behind a checkpoint at record %d: %v, want ErrPrunedHead", rep.Last.Seq, err)
			}
			rep, err = CheckFile(path, ring, FileOptions{Expect: &noted, RequireHead: true, AcceptPruned: true})
			if err != nil || !rep.NotedPruned {
				t.Errorf("noted head behind a checkpoint, prune acknowledged: %v, NotedPruned %v", err, rep.NotedPruned)
			}
			// The witness is younger than the checkpoint's time minus the retention.
			for _, ret := range []time.Duration{24 * time.Hour, 7 * 365 * 24 * time.Hour} {
				_, err = CheckFile(path, ring, FileOptions{Expect: &noted, Witnesses: witnesses, RequireHead: true, AcceptPruned: true, Retention: ret})
				if !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), witnesses[0].By) {
					t.Errorf("witnessed head 9 behind a checkpoint, retention %s: %v, want ErrRolledBack naming the witness", ret, err)
				}
			}
			// Without the retention the witness cannot be placed: not checked, and said so.
			rep, err = CheckFile(path, ring, FileOptions{Witnesses: witnesses, RequireHead: true})
			if err != nil || rep.Unchecked != 1 || rep.Witnessed != 0 {
				t.Errorf("witnessed head behind a checkpoint, no retention: %v, witnessed %d, unchecked %d", err, rep.Witnessed, rep.Unchecked)
			}
			// A witness dated after the checkpoint is a finding whatever the retention.
			late := []Expectation{{Head: witnessed, By: "co-migracion's record 90", Time: t0.Add(2 * time.Hour)}}
			if _, err := CheckFile(path, ring, FileOptions{Witnesses: late, RequireHead: true}); !errors.Is(err, ErrRolledBack) {
				t.Errorf("witness dated after the checkpoint that hides it: %v, want ErrRolledBack", err)
			}
		})
	}
}

// TestLegitimatePruneHidesOldWitnesses: a witnessed head that a prune under the retention did
// drop is counted as not checked, not reported.
func TestLegitimatePruneHidesOldWitnesses(t *testing.T) {
	k := newTestKey(1)
	ring := ringOf(k)
	w, path := openTest(t, k) // records at t0+1m, +2m, ...
	for i := range 12 {
		mustAppend(t, w, KindQuery, queryEvent(i, RoleQuerier))
	}
	witnessed := headAt(t, path, ring, 2) // record 3 is the checkpoint's anchor, compared
	kept := headAt(t, path, ring, 10)
	// Retention 9m; the prune runs at t0+13m and drops the records before t0+4m (1..3).
	if n, err := w.Prune(ctx, t0.Add(4*time.Minute), ring); err != nil || n != 3 {
		t.Fatalf("Prune: %d %v", n, err)
	}
	w.Close()
	ws := []Expectation{
		{Head: witnessed, By: "co-migracion's record 4", Time: t0.Add(2*time.Minute + 30*time.Second)},
		{Head: kept, By: "co-migracion's record 11", Time: t0.Add(10*time.Minute + 30*time.Second)},
	}
	rep, err := CheckFile(path, ring, FileOptions{Witnesses: ws, RequireHead: true, Retention: 9 * time.Minute, Now: t0.Add(time.Hour)})
	if err != nil || rep.Witnessed != 1 || rep.Unchecked != 1 {
		t.Fatalf("legitimately pruned log: %v, witnessed %d, unchecked %d", err, rep.Witnessed, rep.Unchecked)
	}
	if rep.Checkpoint.Count != rep.Checkpoint.Seq {
		t.Errorf("prune wrote a checkpoint with count %d at record %d", rep.Checkpoint.Count, rep.Checkpoint.Seq)
	}
}

// TestLogOfOneNode: every record of a log is the same node's; the report names it.
func TestLogOfOneNode(t *testing.T) {
	path, k := writeLog(t, 3)
	ring := ringOf(k)
	rep, err := VerifyFile(path, ring, nil)
	if err != nil || rep.Node != "us-cbp" {
		t.Fatalf("report node %q, %v", rep.Node, err)
	}
	// A record of another node, signed by the same key, appended to the log.
	w, err := Open(path, Options{Node: "co-migracion", Signer: k, Verifier: ring, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, KindLog, Event{Action: "opened"})
	w.Close()
	if _, err := VerifyFile(path, ring, nil); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), fmt.Sprintf("line %d", 5)) {
		t.Errorf("a record of another node in the log: %v, want ErrMalformed at line 5", err)
	}
}
