package audit

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestOpenChecksTheLog: a writer refuses to continue a log that was cut, edited, or separated
// from its head file, and names the first bad record; AcceptLoss is the way on, and leaves the
// loss on record.
func TestOpenChecksTheLog(t *testing.T) {
	path, k := writeLog(t, 6) // 7 records
	orig := linesOfFile(t, path)
	headFile, _ := os.ReadFile(headPath(path))
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	edited := bytes.Replace(orig[2], []byte(`"decision":"hit"`), []byte(`"decision":"no-hit"`), 1)
	opts := Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Now: func() time.Time { return t0.Add(time.Hour) }}
	cases := []struct {
		what     string
		log      []byte // nil: no log file
		head     bool
		line     int
		sentinel error
	}{
		{"cut two records off the end", join(orig[:5]...), true, 6, ErrTruncated},
		{"edit a record in the middle", join(append(orig[:2:2], append([][]byte{edited}, orig[3:]...)...)...), true, 3, ErrBadSignature},
		{"delete a record in the middle", join(append(orig[:3:3], orig[4:]...)...), true, 4, ErrBrokenChain},
		{"delete the head file", join(orig...), false, 8, ErrNoHead},
		{"delete the log", nil, true, 1, ErrNoHead},
		{"empty the log", []byte{}, true, 1, ErrTruncated},
	}
	for _, c := range cases {
		os.Remove(path)
		os.Remove(headPath(path))
		if c.log != nil {
			os.WriteFile(path, c.log, 0o600)
		}
		if c.head {
			os.WriteFile(headPath(path), headFile, 0o600)
		}
		_, err := Open(path, opts)
		var bad *BadRecordError
		if !errors.As(err, &bad) || !errors.Is(err, c.sentinel) || bad.Line != c.line {
			t.Errorf("%s: Open: %v; want %v at line %d", c.what, err, c.sentinel, c.line)
			continue
		}
		if _, err := os.Stat(path); c.log == nil && err == nil {
			t.Errorf("%s: Open created the missing log", c.what)
		}
		// The explicit way on: the loss is set aside and recorded, and the log opens.
		rep, err := AcceptLoss(path, ringOf(k), opts)
		if err != nil {
			t.Errorf("%s: AcceptLoss: %v", c.what, err)
			continue
		}
		if c.head && (rep.Head == nil || rep.Head.Seq != 7) {
			t.Errorf("%s: AcceptLoss reports the head before as %v, want record 7", c.what, rep.Head)
		}
		w, err := Open(path, opts)
		if err != nil {
			t.Errorf("%s: Open after AcceptLoss: %v", c.what, err)
			continue
		}
		w.Close()
		ls := linesOfFile(t, path)
		last, err := parseLine(bytes.TrimSuffix(ls[len(ls)-2], []byte("\n")))
		if err != nil || last.Action != ActionLossAccepted || last.Count != uint64(rep.Bytes) {
			t.Errorf("%s: last record %+v (%v), want the signed record of the accepted loss", c.what, last, err)
		}
		if rep.Bytes > 0 {
			if saved, err := os.ReadFile(rep.SavedTo); err != nil || !bytes.HasSuffix(c.log, saved) {
				t.Errorf("%s: the bytes set aside are not the log's tail (%v)", c.what, err)
			}
		}
		if _, err := CheckFile(path, ringOf(k), FileOptions{RequireHead: true}); err != nil {
			t.Errorf("%s: log after AcceptLoss: %v", c.what, err)
		}
	}
}

// TestOpenScansRecords: Open hands every record to Scan, and a good log is left alone by
// AcceptLoss.
func TestOpenScansRecords(t *testing.T) {
	path, k := writeLog(t, 3)
	var seen []uint64
	opts := Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Scan: func(r *Record, hash string) error {
		if h, err := r.Hash(); err != nil || h != hash {
			t.Errorf("record %d: hash %s, Record.Hash %s (%v)", r.Seq, hash, h, err)
		}
		seen = append(seen, r.Seq)
		return nil
	}}
	w, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if len(seen) != 4 || seen[3] != 4 {
		t.Errorf("Scan saw records %v, want 1 to 4", seen)
	}
	before, _ := os.ReadFile(path)
	if rep, err := AcceptLoss(path, ringOf(k), Options{Node: "us-cbp", Signer: k}); err != nil || rep.Bytes != 0 || rep.SavedTo != "" {
		t.Errorf("AcceptLoss of a good log: %+v %v", rep, err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("AcceptLoss changed a good log")
	}
	// A new log needs no head; a log with no verifier is never opened.
	if _, err := Open(t.TempDir()+"/new.log", Options{Node: "us-cbp", Signer: k}); err == nil {
		t.Error("Open without a verifier")
	}
}

// TestWitness: a head a node signed for its partner, recorded in the partner's log, proves that
// the node's log was cut, or rewritten, after it.
func TestWitness(t *testing.T) {
	kr, kq := newTestKey(1), newTestKey(2) // responder us-cbp, querier co-migracion
	rpath, _ := writeLog(t, 6)             // us-cbp's log, signed by key 1
	rep, err := VerifyFile(rpath, ringOf(kr), nil)
	if err != nil {
		t.Fatal(err)
	}
	head := rep.Last // record 7
	at := t0.Add(10 * time.Minute)
	sig, err := SignHead(kr, "us-cbp", head)
	if err != nil {
		t.Fatal(err)
	}
	wit, err := NewWitness(ringOf(kr), "us-cbp", head, at, kr.id, sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWitness(ringOf(kr), "other-node", head, at, kr.id, sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a head signed for us-cbp passed as another node's: %v", err)
	}

	// The querier records the witness with its answered query.
	qpath := t.TempDir() + "/audit.log"
	qw, err := Open(qpath, Options{Node: "co-migracion", Signer: kq, Verifier: ringOf(kq), Now: stepClock()})
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{Partner: "us-cbp", Role: RoleQuerier, Purpose: "border-check", RequestID: strings.Repeat("ab", 16),
		Outcome: OutcomeAnswered, Decision: DecisionHit, Epoch: 1, Witness: wit}
	mustAppend(t, qw, KindQuery, ev)
	bad := ev
	bad.Witness, bad.Outcome, bad.Decision = wit, OutcomeFailed, ""
	if _, err := qw.Append(ctx, KindQuery, bad); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("a witness on a failed query: %v", err)
	}
	qw.Close()
	if _, err := VerifyFile(qpath, ringOf(kq), nil); err != nil {
		t.Fatalf("querier's log: %v", err)
	}

	witnesses := func() []Expectation {
		f, _ := os.Open(qpath)
		defer f.Close()
		ws, err := Witnessed(f, qpath, "us-cbp", ringOf(kr))
		if err != nil || len(ws) != 1 || ws[0].Head != head {
			t.Fatalf("Witnessed: %v %v", ws, err)
		}
		return ws
	}
	if rep, err := CheckFile(rpath, ringOf(kr), FileOptions{Witnesses: witnesses()}); err != nil || rep.Witnessed != 1 {
		t.Fatalf("the witnessed log: %+v %v", rep, err)
	}

	// Cut after the witnessed head, with a head file rewritten to match: the node's own checks
	// pass, the witness does not.
	orig := linesOfFile(t, rpath)
	cut := bytes.Join(orig[:5], nil)
	os.WriteFile(rpath, cut, 0o600)
	cutRep, err := Verify(bytes.NewReader(cut), ringOf(kr), VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeHead(rpath, cutRep.Last)
	if _, err := CheckFile(rpath, ringOf(kr), FileOptions{RequireHead: true}); err != nil {
		t.Fatalf("the cut log with its head rewritten: %v (should pass on its own)", err)
	}
	_, err = CheckFile(rpath, ringOf(kr), FileOptions{Witnesses: witnesses()})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "record 7") || !strings.Contains(err.Error(), qpath) {
		t.Errorf("cut log against the witness: %v", err)
	}

	// Rewritten from record 3 on (with the node's key): the witness names the record that differs.
	w, err := Open(rpath, Options{Node: "us-cbp", Signer: kr, Verifier: ringOf(kr), Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, KindLog, Event{Action: "rewritten"})
	mustAppend(t, w, KindLog, Event{Action: "rewritten"})
	w.Close()
	_, err = CheckFile(rpath, ringOf(kr), FileOptions{Witnesses: witnesses()})
	var br *BadRecordError
	if !errors.Is(err, ErrRolledBack) || !errors.As(err, &br) || br.Seq != 7 {
		t.Errorf("rewritten log against the witness: %v", err)
	}

	// A witness the node never signed is refused, naming the line of the partner's log.
	forged := bytes.Replace(mustRead(t, qpath), []byte(`"head":"7:`), []byte(`"head":"9:`), 1)
	_, err = Witnessed(bytes.NewReader(forged), qpath, "us-cbp", ringOf(kr))
	if !errors.As(err, &br) || br.Line != 1 {
		t.Errorf("forged witness: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewRecordKinds: pending queries, refusal summaries and log records with a count.
func TestNewRecordKinds(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	p := queryEvent(1, RoleResponder)
	p.Outcome, p.Decision = OutcomePending, ""
	mustAppend(t, w, KindQuery, p)
	if _, err := w.AppendRefusals(ctx, "192.0.2.7", RefusedUnauthenticated, 60); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AppendRefusals(ctx, "2001:db8::1", RefusedUnauthenticated, 1); err != nil {
		t.Fatal(err)
	}
	for _, class := range refusalClasses { // a partner's refusals past the first few are counted, whatever their class
		if _, err := w.AppendPartnerRefusals(ctx, "co", class, 40); err != nil {
			t.Fatal(err)
		}
	}
	for name, ev := range map[string]Event{
		"a source and a partner": {Source: "192.0.2.7", Partner: "co", Refusal: RefusedCeremonyLimit},
		"neither":                {Refusal: RefusedCeremonyLimit},
		"an epoch":               {Partner: "co", Refusal: RefusedCeremonyLimit, Epoch: 2},
		"no refusal class":       {Partner: "co"},
		"an unknown class":       {Partner: "co", Refusal: "quota-exceeded-twice"},
	} {
		if err := ev.Validate(KindRefusals); err == nil {
			t.Errorf("a refusals record with %s accepted", name)
		}
	}
	if _, err := w.AppendLog(ctx, "state-rebuilt", 12); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src   string
		count uint64
	}{{"192.0.2.7:443", 1}, {"not an address", 1}, {"192.0.2.7", 0}} {
		if _, err := w.AppendRefusals(ctx, c.src, RefusedUnauthenticated, c.count); err == nil {
			t.Errorf("refusals of %q counting %d accepted", c.src, c.count)
		}
	}
	if _, err := w.Append(ctx, KindRefusals, Event{Source: "192.0.2.7", Refusal: RefusedUnauthenticated}); err == nil {
		t.Error("a refusals record without a count")
	}
	p.Decision = DecisionNotKnown
	if _, err := w.Append(ctx, KindQuery, p); err == nil {
		t.Error("a pending query with a decision")
	}
	// A shard install names its shard; no other record does.
	mustAppend(t, w, KindKey, Event{Partner: "co", Epoch: 2, Action: "shards-installed", Shard: "shard-0.puente-shard:7443"})
	for name, c := range map[string]struct {
		k  Kind
		ev Event
	}{
		"on a query":            {KindQuery, func() Event { q := queryEvent(2, RoleResponder); q.Shard = "s:1"; return q }()},
		"on another key action": {KindKey, Event{Action: "epoch-retired", Shard: "s:1"}},
		"not host:port":         {KindKey, Event{Action: "shards-installed", Shard: "shard-0"}},
		"with a space":          {KindKey, Event{Action: "shards-install-failed", Shard: "s :1"}},
	} {
		if _, err := w.Append(ctx, c.k, c.ev); err == nil {
			t.Errorf("shard %s accepted", name)
		}
	}
	w.Close()
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil || rep.Kinds[KindRefusals] != 2+len(refusalClasses) || rep.Records != 5+len(refusalClasses) {
		t.Fatalf("log: %+v %v", rep, err)
	}
}
