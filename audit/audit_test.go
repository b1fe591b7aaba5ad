package audit

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog writes n query records and one key record and closes the log.
func writeLog(t *testing.T, n int) (string, *testKey) {
	t.Helper()
	k := newTestKey(1)
	w, path := openTest(t, k)
	for i := range n {
		mustAppend(t, w, KindQuery, queryEvent(i, []Role{RoleQuerier, RoleResponder}[i%2]))
	}
	mustAppend(t, w, KindKey, Event{Action: "epoch-retired", Key: "agreement/us-co/epoch/2/seed", Partner: "co-migracion", Epoch: 2})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, k
}

func TestAppendAndVerify(t *testing.T) {
	path, k := writeLog(t, 6)
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 7 || rep.First != 1 || rep.Last.Seq != 7 || rep.Kinds[KindQuery] != 6 || rep.Kinds[KindKey] != 1 {
		t.Fatalf("report %+v", rep)
	}
	head, err := ReadHead(path)
	if err != nil || head == nil || *head != rep.Last {
		t.Fatalf("head file %v (%v), want %v", head, err, rep.Last)
	}
	// Reopening continues the chain.
	w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if r := mustAppend(t, w, KindLog, Event{Action: "opened"}); r.Seq != 8 || r.Prev != rep.Last.Hash {
		t.Fatalf("record after reopen: seq %d prev %s", r.Seq, r.Prev)
	}
	w.Close()
	if _, err := VerifyFile(path, ringOf(k), nil); err != nil {
		t.Fatal(err)
	}
	// A signer the verifier does not know.
	if _, err := VerifyFile(path, ringOf(newTestKey(2)), nil); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("unknown signer: %v", err)
	}
}

// lineOf returns the lines of a log file.
func linesOfFile(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

func TestTamperDetection(t *testing.T) {
	path, k := writeLog(t, 6)
	orig := linesOfFile(t, path) // 7 lines and a trailing empty element
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	swap := func(i, j int) []byte {
		ls := append([][]byte(nil), orig...)
		ls[i], ls[j] = ls[j], ls[i]
		return join(ls...)
	}
	edited := bytes.Replace(orig[2], []byte(`"decision":"hit"`), []byte(`"decision":"no-hit"`), 1)
	if bytes.Equal(edited, orig[2]) {
		t.Fatal("test setup: line 3 has no hit decision")
	}
	cases := []struct {
		what     string
		content  []byte
		line     int
		sentinel error
	}{
		{"edit a decision", join(append(orig[:2:2], append([][]byte{edited}, orig[3:]...)...)...), 3, ErrBadSignature},
		{"edit the layout", join(orig[0], bytes.Replace(orig[1], []byte(`,"seq"`), []byte(`, "seq"`), 1), join(orig[2:]...)), 2, ErrMalformed},
		{"add a field", join(orig[0], bytes.Replace(orig[1], []byte(`"seq"`), []byte(`"score":0.93,"seq"`), 1), join(orig[2:]...)), 2, ErrMalformed},
		{"delete a record", join(append(orig[:3:3], orig[4:]...)...), 4, ErrBrokenChain},
		{"reorder two records", swap(2, 3), 3, ErrBrokenChain},
		{"delete the first record", join(orig[1:]...), 1, ErrBrokenChain},
		{"truncate at a record boundary", join(orig[:6]...), 7, ErrTruncated},
		// The head names record 7: a crash never leaves it past the last
		// complete record, so this is a truncation, not a torn write.
		{"truncate inside a record", join(join(orig[:6]...), orig[6][:100]), 7, ErrTruncated},
	}
	for _, c := range cases {
		if err := os.WriteFile(path, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := VerifyFile(path, ringOf(k), nil)
		var bad *BadRecordError
		if !errors.As(err, &bad) || !errors.Is(err, c.sentinel) || bad.Line != c.line {
			t.Errorf("%s: %v; want %v at line %d", c.what, err, c.sentinel, c.line)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error does not name the file: %v", c.what, err)
		}
	}
	// Without its head file a boundary truncation is invisible in the file
	// alone, but a head noted earlier still catches it.
	os.WriteFile(path, join(orig[:6]...), 0o600)
	os.Remove(headPath(path))
	if _, err := VerifyFile(path, ringOf(k), nil); err != nil {
		t.Errorf("truncated log without head: %v (expected to pass: documented limit)", err)
	}
	noted := &Head{Seq: 7, Hash: strings.Repeat("ab", 32)}
	if _, err := VerifyFile(path, ringOf(k), noted); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated log against a noted head: %v", err)
	}
}

func TestEventValidation(t *testing.T) {
	good := queryEvent(1, RoleQuerier)
	bad := map[string]struct {
		k Kind
		e Event
	}{
		"responder claims a decision": {KindQuery, func() Event { e := queryEvent(1, RoleResponder); e.Decision = DecisionHit; return e }()},
		"querier without decision":    {KindQuery, func() Event { e := good; e.Decision = ""; return e }()},
		"template in request ID":      {KindQuery, func() Event { e := good; e.RequestID = "0.12,-0.33,0.871"; return e }()},
		"base64 in request ID":        {KindQuery, func() Event { e := good; e.RequestID = "q83vEjRWeJA+/w=="; return e }()},
		"long request ID":             {KindQuery, func() Event { e := good; e.RequestID = strings.Repeat("a", 65); return e }()},
		"score as request ID":         {KindQuery, func() Event { e := good; e.RequestID = "0.9234"; return e }()},
		"hex blob as request ID":      {KindQuery, func() Event { e := good; e.RequestID = strings.Repeat("3f9a0c1b", 8); return e }()},
		"short hex request ID":        {KindQuery, func() Event { e := good; e.RequestID = strings.Repeat("ab", 15); return e }()},
		"upper-case request ID":       {KindQuery, func() Event { e := good; e.RequestID = strings.Repeat("AB", 16); return e }()},
		"score in purpose":            {KindQuery, func() Event { e := good; e.Purpose = "score-0-93"; return e }()},
		"refusal without class":       {KindQuery, func() Event { e := good; e.Outcome, e.Decision = OutcomeRefused, ""; return e }()},
		"refusal with decision":       {KindQuery, func() Event { e := good; e.Outcome, e.Refusal = OutcomeRefused, RefusedQuota; return e }()},
		"unknown refusal class": {KindQuery, func() Event {
			e := good
			e.Outcome, e.Decision, e.Refusal = OutcomeRefused, "", "score-too-low"
			return e
		}()},
		"key fields on a query": {KindQuery, func() Event { e := good; e.Key = "sign/keyring"; return e }()},
		"responder deviated": {KindQuery, func() Event {
			e := queryEvent(1, RoleResponder)
			e.Outcome, e.Decision = OutcomeDeviated, ""
			return e
		}()},
		"deviated with decision":     {KindQuery, func() Event { e := good; e.Outcome = OutcomeDeviated; return e }()},
		"resumed without partner":    {KindKey, Event{Action: ActionPartnerResumed}},
		"halted without partner":     {KindKey, Event{Action: ActionPartnerHalted, RequestID: strings.Repeat("ab", 16)}},
		"unresolved, no request ID":  {KindKey, Event{Action: ActionPartnerHaltedUnresolved, Partner: "co"}},
		"halted without request ID":  {KindKey, Event{Action: ActionPartnerHalted, Partner: "co"}},
		"halted, bad request ID":     {KindKey, Event{Action: ActionPartnerHalted, Partner: "co", RequestID: "0.9234"}},
		"request ID on a key record": {KindKey, Event{Action: "epoch-begun", Partner: "co", RequestID: strings.Repeat("ab", 16)}},
		"resumed, bad request ID":    {KindKey, Event{Action: ActionPartnerResumed, Partner: "co", RequestID: "0.9234"}},
		"resumed with a key":         {KindKey, Event{Action: ActionPartnerResumed, Partner: "co", Key: "sign/keyring"}},
		"halted with an epoch key":   {KindKey, Event{Action: ActionPartnerHalted, Partner: "co", RequestID: strings.Repeat("ab", 16), KeyID: strings.Repeat("ab", 32)}},
		"key record without action":  {KindKey, Event{Key: "sign/keyring"}},
		"key record with a decision": {KindKey, Event{Action: "epoch-begun", Decision: DecisionHit}},
		"bad key ID":                 {KindKey, Event{Action: "signing-key-rotated", KeyID: "xyz"}},
		"log record with partner":    {KindLog, Event{Action: "prune", Partner: "co"}},
		"recovered query":            {KindQuery, func() Event { e := good; e.Recovered = true; return e }()},
		"recovered log record":       {KindLog, Event{Action: "prune", Recovered: true}},
		"recovered halt":             {KindKey, Event{Action: ActionPartnerHalted, Partner: "co", RequestID: strings.Repeat("ab", 16), Recovered: true}},
		"unknown kind":               {"gossip", Event{}},
		"checkpoint by hand":         {KindCheckpoint, Event{}},
	}
	w, _ := openTest(t, newTestKey(1))
	defer w.Close()
	for what, c := range bad {
		if _, err := w.Append(ctx, c.k, c.e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", what, err)
		}
	}
	if h, _ := w.Head(ctx); h.Seq != 0 {
		t.Errorf("invalid events were written: head %v", h)
	}
	id, err := NewRequestID(strings.NewReader(strings.Repeat("\x5a", 16)))
	if err != nil || id != strings.Repeat("5a", 16) || !ValidRequestID(id) {
		t.Fatalf("NewRequestID: %q %v", id, err)
	}
	refused := Event{Partner: "co-migracion", Role: RoleResponder, Purpose: "border-check", RequestID: id, Outcome: OutcomeRefused, Refusal: RefusedQuota}
	mustAppend(t, w, KindQuery, refused)
	deviated := Event{Partner: "co-migracion", Role: RoleQuerier, Purpose: "border-check", RequestID: id, Outcome: OutcomeDeviated}
	mustAppend(t, w, KindQuery, deviated)
	mustAppend(t, w, KindKey, Event{Partner: "co-migracion", Action: ActionPartnerHalted, RequestID: id, Epoch: 3})
	mustAppend(t, w, KindKey, Event{Partner: "co-migracion", Action: ActionPartnerHaltedUnresolved, RequestID: id, Epoch: 3})
	mustAppend(t, w, KindKey, Event{Partner: "co-migracion", Action: ActionPartnerResumed, RequestID: id})
	mustAppend(t, w, KindKey, Event{Partner: "co-migracion", Action: ActionPartnerResumed}) // as written before resumes named the halt
}

// TestConcurrentAppendsAndClose closes the log while eight writers append without end: each has
// had at least one append acknowledged before the close (a signal, not a sleep), each stops at
// ErrClosed, and every acknowledged record is in the log, which verifies.
func TestConcurrentAppendsAndClose(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	appended := make(chan struct{}, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				e := queryEvent(g*100000+i, RoleResponder)
				_, err := w.Append(ctx, KindQuery, e)
				if i == 0 {
					appended <- struct{}{} // Close waits for every writer's first append
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[e.RequestID] = true
				mu.Unlock()
			}
		}()
	}
	for range 8 {
		<-appended
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != len(acked) {
		t.Fatalf("%d records in the log, %d appends acknowledged", rep.Records, len(acked))
	}
	content, _ := os.ReadFile(path)
	for id := range acked {
		if !bytes.Contains(content, []byte(`"request":"`+id+`"`)) {
			t.Errorf("acknowledged record %s is missing", id)
		}
	}
	if _, err := w.Append(ctx, KindLog, Event{Action: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
}

func TestSecondWriterRefused(t *testing.T) {
	w, path := openTest(t, newTestKey(1))
	defer w.Close()
	if _, err := Open(path, Options{Node: "us-cbp", Signer: newTestKey(1), Verifier: ringOf(newTestKey(1))}); err == nil {
		t.Fatal("a second writer opened the same log")
	}
}

func TestKeyRotationInLog(t *testing.T) {
	k1, k2 := newTestKey(1), newTestKey(2)
	now := t0
	clock := func() time.Time { now = now.Add(time.Minute); return now }
	path := t.TempDir() + "/audit.log"
	w, err := Open(path, Options{Node: "us-cbp", Signer: k1, Verifier: ringOf(k1, k2), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustAppend(t, w, KindQuery, queryEvent(i, RoleQuerier))
	}
	w.Close()
	rotation := now.Add(time.Minute)
	w, err = Open(path, Options{Node: "us-cbp", Signer: k2, Verifier: ringOf(k1, k2), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, KindKey, Event{Action: "signing-key-rotated", KeyID: k2.id})
	mustAppend(t, w, KindQuery, queryEvent(9, RoleQuerier))
	w.Close()
	ring := ringOf(k1, k2)
	e1 := ring[k1.id]
	e1.end = rotation.Add(time.Hour) // overlap window
	ring[k1.id] = e1
	if _, err := VerifyFile(path, ring, nil); err != nil {
		t.Fatalf("log across a rotation: %v", err)
	}
	e1.end = t0.Add(2 * time.Minute) // k1 ended before its third record
	ring[k1.id] = e1
	_, err = VerifyFile(path, ring, nil)
	var bad *BadRecordError
	if !errors.As(err, &bad) || bad.Seq != 2 || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("record signed after its key ended: %v", err)
	}
}

// TestRecordsAfterRevocationRefused: once the log records the revocation of
// a signing key, a later record signed by that key is refused, even if it
// claims a time at which the keyring still lists the key as valid (the
// signer chooses the time; a thief of the key would).
func TestRecordsAfterRevocationRefused(t *testing.T) {
	k1, k2 := newTestKey(1), newTestKey(2)
	path := t.TempDir() + "/audit.log"
	clock := stepClock()
	appendAs := func(k *testKey, kind Kind, e Event) {
		t.Helper()
		w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k1, k2), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, w, kind, e)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendAs(k1, KindQuery, queryEvent(1, RoleQuerier))
	appendAs(k1, KindKey, Event{Action: ActionSigningKeyRevoked, KeyID: k1.id})
	appendAs(k2, KindKey, Event{Action: "signing-key-rotated", KeyID: k2.id})
	appendAs(k2, KindQuery, queryEvent(2, RoleQuerier))
	ring := ringOf(k1, k2) // both valid at every time in the log
	if _, err := VerifyFile(path, ring, nil); err != nil {
		t.Fatalf("log across a revocation: %v", err)
	}
	appendAs(k1, KindQuery, queryEvent(3, RoleQuerier)) // forged with the revoked key
	_, err := VerifyFile(path, ring, nil)
	var bad *BadRecordError
	if !errors.As(err, &bad) || !errors.Is(err, ErrBadSignature) || bad.Seq != 5 || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("record signed by a revoked key after its revocation record: %v", err)
	}
}

// TestRefusedValueNotInError: the error for a value outside a field's type names the field and
// the values allowed, never the refused value (a score routed there by a bug would reach the
// node's log with the error).
func TestRefusedValueNotInError(t *testing.T) {
	k := newTestKey(1)
	w, _ := openTest(t, k)
	defer w.Close()
	const score = "0.9731442"
	id := strings.Repeat("01", 16)
	for name, c := range map[string]struct {
		ev   Event
		want string
	}{
		"decision": {Event{Partner: "co-migracion", Role: RoleQuerier, Purpose: "border-check", RequestID: id, Outcome: OutcomeAnswered, Decision: Decision(score)}, "decision"},
		"outcome":  {Event{Partner: "co-migracion", Role: RoleQuerier, Purpose: "border-check", RequestID: id, Outcome: Outcome(score)}, "outcome"},
		"role":     {Event{Partner: "co-migracion", Role: Role(score), Purpose: "border-check", RequestID: id, Outcome: OutcomeFailed}, "role"},
		"refusal":  {Event{Partner: "co-migracion", Role: RoleQuerier, Purpose: "border-check", RequestID: id, Outcome: OutcomeRefused, Refusal: RefusalClass(score)}, "refusal class"},
	} {
		_, err := w.Append(ctx, KindQuery, c.ev)
		if !errors.Is(err, ErrInvalidEvent) {
			t.Fatalf("%s: a score was accepted: %v", name, err)
		}
		if strings.Contains(err.Error(), score) || strings.Contains(err.Error(), "0.97") {
			t.Errorf("%s: the refused value is in the error: %v", name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: the error does not name the field %q: %v", name, c.want, err)
		}
	}
}

// TestRecoveredKeyRecord: a key record marked recovered (written after the fact, for an action a
// crash left unrecorded) verifies, the report lists it, and the mark is signed: removing it from
// the line breaks the record's signature.
func TestRecoveredKeyRecord(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	mustAppend(t, w, KindKey, Event{Action: "epoch-begun", Key: "agreement/us-co/epoch/1/seed", Epoch: 1})
	rec := mustAppend(t, w, KindKey, Event{Action: "epoch-retired", Key: "agreement/us-co/epoch/1/seed", Epoch: 1, Recovered: true})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recovered) != 1 || rep.Recovered[0].Seq != rec.Seq || rep.Recovered[0].Action != "epoch-retired" {
		t.Errorf("report lists recovered %+v, want record %d", rep.Recovered, rec.Seq)
	}
	lines := linesOfFile(t, path)
	if !bytes.Contains(lines[1], []byte(`,"recovered":true,`)) {
		t.Fatalf("the recovered record's line: %s", lines[1])
	}
	lines[1] = bytes.Replace(lines[1], []byte(`,"recovered":true`), nil, 1)
	if _, err := Verify(bytes.NewReader(bytes.Join(lines, nil)), ringOf(k), VerifyOptions{}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("the recovered mark removed: %v, want ErrBadSignature", err)
	}
}
