package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTornTailAndRepair(t *testing.T) {
	path, k := writeLog(t, 4)
	orig, _ := os.ReadFile(path)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"seq":6,"time":"2026-03-01T12:`)
	f.Close()

	_, err := VerifyFile(path, ringOf(k), nil)
	var bad *BadRecordError
	if !errors.As(err, &bad) || !errors.Is(err, ErrTornTail) || bad.Line != 6 || bad.Offset != int64(len(orig)) {
		t.Fatalf("verify torn log: %v", err)
	}
	if _, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k)}); !errors.Is(err, ErrTornTail) {
		t.Fatalf("Open on a torn log: %v, want ErrTornTail", err)
	}
	rep, err := Repair(path, ringOf(k), Options{Node: "us-cbp", Signer: k, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offset != int64(len(orig)) || rep.Bytes != 37 {
		t.Errorf("repair report %+v", rep)
	}
	if saved, _ := os.ReadFile(rep.SavedTo); !strings.HasPrefix(string(saved), `{"v":1,"seq":6`) {
		t.Errorf("torn bytes not saved: %q", saved)
	}
	vr, err := VerifyFile(path, ringOf(k), nil)
	if err != nil || vr.Records != 6 {
		t.Fatalf("after repair: %+v %v", vr, err)
	}
	// The signed repair record names the head the log had before.
	if rep.Head == nil || rep.Head.Seq != 5 {
		t.Errorf("repair report head %v, want record 5", rep.Head)
	}
	repaired := linesOfFile(t, path)
	last, err := parseLine(bytes.TrimSuffix(repaired[len(repaired)-2], []byte("\n")))
	if err != nil || last.Action != "repair" || last.Count != 37 || rep.Head == nil || last.Head != rep.Head.String() {
		t.Errorf("repair record %+v (%v), want head %v", last, err, rep.Head)
	}
	// A log damaged elsewhere is not "repaired".
	lines := linesOfFile(t, path)
	os.WriteFile(path, []byte(string(lines[0])+"garbage\n"+string(lines[2])+`{"v"`), 0o600)
	if _, err := Repair(path, ringOf(k), Options{Node: "us-cbp", Signer: k}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("repair of a tampered log: %v", err)
	}
}

func TestPrune(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k) // one minute per record from t0
	for i := range 10 {
		mustAppend(t, w, KindQuery, queryEvent(i, RoleResponder))
	}
	cutoff := t0.Add(4*time.Minute + 30*time.Second) // records 1-4 are older
	n, err := w.Prune(ctx, cutoff, ringOf(k))
	if err != nil || n != 4 {
		t.Fatalf("Prune: %d, %v", n, err)
	}
	mustAppend(t, w, KindQuery, queryEvent(11, RoleResponder))
	w.Close()
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil {
		t.Fatalf("pruned log: %v", err)
	}
	if rep.Checkpoint == nil || rep.Checkpoint.Seq != 4 || rep.Checkpoint.Count != 4 || rep.First != 5 || rep.Last.Seq != 12 {
		t.Fatalf("report %+v checkpoint %+v", rep, rep.Checkpoint)
	}
	// Prune again: the checkpoint's count accumulates.
	w, err = Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Prune(ctx, t0.Add(7*time.Minute+30*time.Second), ringOf(k)); err != nil || n != 3 {
		t.Fatalf("second Prune: %d %v", n, err)
	}
	w.Close()
	rep, err = VerifyFile(path, ringOf(k), nil)
	if err != nil || rep.Checkpoint.Count != 7 || rep.Checkpoint.Seq != 7 {
		t.Fatalf("after second prune: %+v %v", rep.Checkpoint, err)
	}
	// Records before a checkpoint cannot be slipped back in front of it.
	lines := linesOfFile(t, path)
	os.WriteFile(path, []byte(string(lines[1])+string(lines[0])+strings.Join(toStrings(lines[2:]), "")), 0o600)
	if _, err := VerifyFile(path, ringOf(k), nil); !errors.Is(err, ErrBrokenChain) {
		t.Errorf("checkpoint moved: %v", err)
	}
	// Opening refuses a log that does not verify; so does pruning, when the log is edited
	// under an open writer.
	os.WriteFile(path, []byte(strings.Join(toStrings(lines), "")), 0o600)
	w, err = Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tampered := []byte(strings.Join(toStrings(append(lines[:2:2], lines[3:]...)), ""))
	os.WriteFile(path, tampered, 0o600)
	if _, err := w.Prune(ctx, t0.Add(24*time.Hour), ringOf(k)); !errors.Is(err, ErrBrokenChain) {
		t.Errorf("prune of a tampered log: %v", err)
	}
}

func toStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// TestCrashDuringAppend SIGKILLs a process that is appending records and
// checks that every record it had acknowledged survives and the log still
// verifies (up to a torn last line, which Repair removes).
func TestCrashDuringAppend(t *testing.T) {
	if p := os.Getenv("PUENTE_AUDIT_CRASH_CHILD"); p != "" {
		crashChild(p)
		return
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringAppend$")
	cmd.Env = append(os.Environ(), "PUENTE_AUDIT_CRASH_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := 0
	for sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "acked ")); err == nil {
			acked = n
		}
		if acked >= 40 {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed (acked %d)", acked)
	}
	k := newTestKey(7)
	rep, err := VerifyFile(path, ringOf(k), nil)
	if errors.Is(err, ErrTornTail) {
		if _, err := Repair(path, ringOf(k), Options{Node: "us-cbp", Signer: k}); err != nil {
			t.Fatal(err)
		}
		rep, err = VerifyFile(path, ringOf(k), nil)
	}
	if err != nil {
		t.Fatalf("log after the crash: %v", err)
	}
	if int(rep.Kinds[KindQuery]) < acked {
		t.Fatalf("%d query records survive, %d were acknowledged", rep.Kinds[KindQuery], acked)
	}
}

func crashChild(path string) {
	w, err := Open(path, Options{Node: "us-cbp", Signer: newTestKey(7), Verifier: ringOf(newTestKey(7))})
	if err != nil {
		panic(err)
	}
	for i := 1; ; i++ {
		if _, err := w.Append(ctx, KindQuery, queryEvent(i, RoleResponder)); err != nil {
			panic(err)
		}
		fmt.Printf("acked %d\n", i)
	}
}

// FuzzVerify: Verify never panics; a log it accepts ends with a newline and holds only canonical
// lines (each parses and re-encodes to itself).
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	k := newTestKey(1)
	w, err := Open(filepath.Join(dir, "a.log"), Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Now: stepClock()})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 3 {
		mustAppend(f, w, KindQuery, queryEvent(i, RoleQuerier))
	}
	w.Close()
	good, _ := os.ReadFile(filepath.Join(dir, "a.log"))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"v":1,"seq":1}` + "\n"))
	ring := ringOf(k)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Verify(strings.NewReader(string(b)), ring, VerifyOptions{})
		if err != nil {
			return
		}
		if rep.Records > 0 && !strings.HasSuffix(string(b), "\n") {
			t.Fatal("accepted a log without a final newline")
		}
		// An accepted log is the concatenation of its records' canonical encodings: every
		// line parses and re-encodes to itself.
		for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line == "" && rep.Records == 0 {
				continue
			}
			r, err := parseLine([]byte(line))
			if err != nil {
				t.Fatalf("accepted a log with a line that does not parse: %v", err)
			}
			if again, err := marshal(r); err != nil || string(again) != line {
				t.Fatalf("accepted a log with a non-canonical line %q", line)
			}
		}
	})
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"v":1,"seq":1,"time":"2026-03-01T12:01:00.000000000Z","node":"us-cbp","kind":"log","action":"x","prev":"00","signer":"00"}`))
	f.Add([]byte(`{"v":1,"partner":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseLine(b)
		if err != nil {
			return
		}
		again, err := marshal(r)
		if err != nil || string(again) != string(b) {
			t.Fatalf("accepted a non-canonical line")
		}
	})
}

// TestRepairRefusesTruncation: records cut off the end with part of a
// record left behind look like a torn tail, but the head file still names
// the last record written. Verify reports a truncation, and Repair refuses
// to set the evidence aside and leaves the log and its head untouched.
func TestRepairRefusesTruncation(t *testing.T) {
	path, k := writeLog(t, 6) // 7 records
	orig := linesOfFile(t, path)
	var content []byte
	for _, l := range orig[:3] {
		content = append(content, l...)
	}
	content = append(content, orig[3][:50]...)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	headBefore, err := os.ReadFile(headPath(path))
	if err != nil {
		t.Fatal(err)
	}

	_, err = VerifyFile(path, ringOf(k), nil)
	var bad *BadRecordError
	if !errors.As(err, &bad) || !errors.Is(err, ErrTruncated) || errors.Is(err, ErrTornTail) || bad.Line != 4 {
		t.Fatalf("verify: %v; want ErrTruncated at line 4", err)
	}
	if !strings.Contains(err.Error(), "record 7") {
		t.Errorf("verify error does not name the head's record: %v", err)
	}
	_, err = Repair(path, ringOf(k), Options{Node: "us-cbp", Signer: k})
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("repair of a truncated log: %v, want ErrTruncated", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(content) {
		t.Error("repair changed a truncated log")
	}
	if headAfter, _ := os.ReadFile(headPath(path)); string(headAfter) != string(headBefore) {
		t.Errorf("repair changed the head: %q -> %q", headBefore, headAfter)
	}
	if m, _ := filepath.Glob(path + ".torn-*"); len(m) != 0 {
		t.Errorf("repair set bytes aside: %v", m)
	}
	// Against a head noted earlier the same holds when the head file is gone.
	os.Remove(headPath(path))
	noted := &Head{Seq: 7, Hash: strings.Repeat("ab", 32)}
	if _, err := VerifyFile(path, ringOf(k), noted); !errors.Is(err, ErrTruncated) {
		t.Errorf("verify against a noted head: %v", err)
	}
}

// TestPruneAfterCrashedPrune: a crash during a prune leaves its temporary
// file behind (the log itself is untouched); the next prune goes ahead.
func TestPruneAfterCrashedPrune(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	for i := range 6 {
		mustAppend(t, w, KindQuery, queryEvent(i, RoleResponder))
	}
	if err := os.WriteFile(path+".prune.tmp", []byte(`{"v":1,"seq":3,"ti`), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Prune(ctx, t0.Add(3*time.Minute+30*time.Second), ringOf(k)); err != nil || n != 3 {
		t.Fatalf("prune after a crashed prune: %d %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := VerifyFile(path, ringOf(k), nil); err != nil || rep.Checkpoint == nil || rep.Last.Seq != 7 {
		t.Fatalf("after the prune: %+v %v", rep, err)
	}
}

// TestHeadWriteFailureLosesNothing: records written and fsynced are
// durable even if the head file cannot be updated; their appends succeed,
// the writer goes on, the head catches up at the next batch that can write
// it, and Close reports a head it could not bring up to date.
func TestHeadWriteFailureLosesNothing(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	mustAppend(t, w, KindQuery, queryEvent(1, RoleResponder))
	// A directory in the head file's place makes every head update fail.
	os.Remove(headPath(path))
	if err := os.MkdirAll(filepath.Join(headPath(path), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 3; i++ {
		if _, err := w.Append(ctx, KindQuery, queryEvent(i, RoleResponder)); err != nil {
			t.Fatalf("append %d with the head not writable: %v", i, err)
		}
	}
	os.RemoveAll(headPath(path))
	r := mustAppend(t, w, KindQuery, queryEvent(4, RoleResponder))
	if h, err := ReadHead(path); err != nil || h == nil || h.Seq != r.Seq {
		t.Fatalf("head after it became writable again: %v %v", h, err)
	}
	// Still failing at Close: reported, and nothing lost.
	os.Remove(headPath(path))
	os.MkdirAll(filepath.Join(headPath(path), "x"), 0o700)
	mustAppend(t, w, KindQuery, queryEvent(5, RoleResponder))
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "head") {
		t.Errorf("Close with the head not writable: %v", err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	if rep, err := Verify(f, ringOf(k), VerifyOptions{}); err != nil || rep.Records != 5 {
		t.Errorf("log: %+v %v, want 5 records", rep, err)
	}
}

// TestRepairRefusesLogWithoutHead: a log with complete records but no head file is [ErrNoHead]
// even when it ends in a partial line: a crash never leaves that (the writer's first batch writes
// the head, and a log without one does not open), so records may have been cut off with the head
// file deleted and a partial line appended. Repair refuses it and changes nothing; only
// AcceptLoss passes it, with a signed loss-accepted record.
func TestRepairRefusesLogWithoutHead(t *testing.T) {
	path, k := writeLog(t, 9) // records 1..10
	ring := ringOf(k)
	ls := linesOfFile(t, path)
	cut := append(bytes.Join(ls[:6], nil), []byte(`{"v":1,"seq":7,"ti`)...) // records 7..10 gone, a "torn" tail
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(headPath(path)); err != nil {
		t.Fatal(err)
	}
	_, err := Repair(path, ring, Options{Node: "us-cbp", Signer: k})
	if !errors.Is(err, ErrNoHead) || errors.Is(err, ErrTornTail) {
		t.Fatalf("Repair of a log with 6 records, a partial line and no head file: %v, want ErrNoHead", err)
	}
	if !strings.Contains(err.Error(), "AcceptLoss") {
		t.Errorf("the refusal does not name the way on: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, cut) {
		t.Error("Repair changed the log it refused")
	}
	if m, _ := filepath.Glob(path + ".torn-*"); len(m) != 0 {
		t.Errorf("Repair set bytes aside: %v", m)
	}
	if _, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ring}); err == nil {
		t.Fatal("the node opens the cut log")
	}
	// AcceptLoss records the loss.
	rep, err := AcceptLoss(path, ring, Options{Node: "us-cbp", Signer: k})
	if err != nil || !rep.Recorded || rep.Head != nil {
		t.Fatalf("AcceptLoss: %+v %v", rep, err)
	}
	last, err := parseLine(bytes.TrimSuffix(linesOfFile(t, path)[6], []byte("\n")))
	if err != nil || last.Action != ActionLossAccepted || last.Head != noHead {
		t.Errorf("record after the loss: %+v %v", last, err)
	}

	// A crash in the first write of a new log (a partial line, no complete record, no head
	// file yet) is still repaired.
	fresh := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(fresh, []byte(`{"v":1,"seq":1,"ti`), 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err := Repair(fresh, ring, Options{Node: "us-cbp", Signer: k}); err != nil || rep.Bytes != 18 {
		t.Fatalf("Repair of a new log's torn first record: %+v %v", rep, err)
	}
}
