package protocol

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/puente-id/puente/internal/bolttest"
	"github.com/puente-id/puente/keys/policy"
)

func TestStateReplayAndQuotaSurviveRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	q := func(partner string) []limit {
		return []limit{{bucket: quotaBucket(partner), quota: policy.Quota{Queries: 2, Window: time.Hour}}}
	}
	n1, n2, n3 := []byte("nonce-0000000001"), []byte("nonce-0000000002"), []byte("nonce-0000000003")
	if _, err := s.admit("beta", n1, now.Add(5*time.Minute), q("beta"), now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit("beta", n1, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errNonceSeen) {
		t.Fatalf("repeated nonce: %v", err)
	}
	if _, err := s.admit("gamma", n1, now.Add(5*time.Minute), q("gamma"), now); err != nil {
		t.Fatalf("another partner's equal nonce: %v", err)
	}
	tk, err := s.admit("beta", n2, now.Add(5*time.Minute), q("beta"), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit("beta", n3, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errQuotaSpent) {
		t.Fatalf("third query of a quota of 2: %v", err)
	}
	// The refusal recorded nothing: n3 is still fresh.
	if seen, _ := s.seen("beta", n3); seen {
		t.Fatal("a refused request's nonce was recorded")
	}
	if err := s.release(tk); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.used("beta", time.Hour, now); used != 1 {
		t.Fatalf("used %d after a release, want 1", used)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	// After a restart the accepted nonces and answered queries are still there.
	s, err = openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, n := range [][]byte{n1, n2} {
		if seen, _ := s.seen("beta", n); !seen {
			t.Errorf("nonce %s forgotten across a restart", n)
		}
		if _, err := s.admit("beta", n, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errNonceSeen) {
			t.Errorf("nonce %s accepted again after a restart: %v", n, err)
		}
	}
	if used, _ := s.used("beta", time.Hour, now); used != 1 {
		t.Errorf("used %d after a restart, want 1", used)
	}
	// The window slides: an hour later the old queries no longer count.
	later := now.Add(61 * time.Minute)
	if _, err := s.admit("beta", n3, later.Add(5*time.Minute), q("beta"), later); err != nil {
		t.Errorf("after the window: %v", err)
	}
	if k, err := s.pruneNonces(later); err != nil || k != 3 {
		t.Errorf("pruned %d nonces (%v), want the 3 expired ones", k, err)
	}
}

// TestStateChecked: a missing state file is not made anew, a damaged one is refused, a file of
// an older build (no meta bucket) is taken and marked, and a rebuilt file refuses requests signed
// before its rebuild.
func TestStateChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if _, err := openState(path, rand.Reader, false); !errors.Is(err, ErrStateMissing) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a missing state file was made")
	}
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	q := &policy.Quota{Queries: 5, Window: time.Hour}
	id := []byte("0123456789abcdef")
	vb := verifyBucket("beta", "s-1")
	ls := []limit{{bucket: quotaBucket("beta"), quota: *q}, {bucket: vb, quota: *q}}
	if _, err := s.admitQuery("beta", []byte("nonce-0000000001"), id, now.Add(5*time.Minute), ls, now); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.counted(limit{bucket: vb, quota: *q}, now); used != 1 {
		t.Fatalf("verification limit: %d used after the reservation, want 1", used)
	}
	if ok, err := s.releaseRequest("beta", id); !ok || err != nil {
		t.Fatalf("release by request ID: %v %v", ok, err)
	}
	if used, _ := s.used("beta", time.Hour, now); used != 0 {
		t.Fatalf("used %d after the release", used)
	}
	if used, _ := s.counted(limit{bucket: vb, quota: *q}, now); used != 0 {
		t.Fatalf("verification limit: %d used after the release, want 0", used)
	}
	s.close()
	good, _ := os.ReadFile(path)

	// Damaged pages: refused, whatever the engine makes of them.
	bad := append([]byte(nil), good...)
	for i := 2 * 4096; i < len(bad); i++ {
		bad[i] = 0xa5
	}
	os.WriteFile(path, bad, 0o600)
	if _, err := openState(path, rand.Reader, false); !errors.Is(err, ErrStateCorrupt) {
		t.Fatalf("damaged: %v", err)
	}
	// (A file the engine panicked on stays locked by this process, which then stops: the
	// truncated copy is another file.)
	short := filepath.Join(dir, "short.db")
	os.WriteFile(short, good[:4096], 0o600)
	if _, err := openState(short, rand.Reader, false); !errors.Is(err, ErrStateCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	path = filepath.Join(dir, "older.db")

	// A file of an older build: no meta bucket; it is taken and marked.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketNonces); return err })
	db.Close()
	if s, err = openState(path, rand.Reader, false); err != nil {
		t.Fatalf("older file: %v", err)
	}
	// Rebuilt at now: a request signed before is refused as a possible replay.
	s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyRebuilt, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	})
	s.close()
	if s, err = openState(path, rand.Reader, false); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.rebuiltWindow(5 * time.Minute)
	if !s.signedBeforeRebuild(now.Add(-time.Second)) || s.signedBeforeRebuild(now.Add(time.Second)) {
		t.Error("signedBeforeRebuild")
	}
	if _, err := s.admit("beta", []byte("nonce-0000000002"), now.Add(-time.Second).Add(5*time.Minute), nil, now); !errors.Is(err, errNonceSeen) {
		t.Errorf("a request signed before the rebuild: %v", err)
	}
	if _, err := s.admit("beta", []byte("nonce-0000000003"), now.Add(time.Second).Add(5*time.Minute), nil, now); err != nil {
		t.Errorf("a request signed after the rebuild: %v", err)
	}
}

// TestStateCyclicTree opens a state file whose root tree has a cycle: a node with many
// partners' limit buckets, damaged so that every child of its branch page is the page itself.
// Any lookup then descends forever; opening it crashed the node with a stack overflow (init
// looked up its buckets before bbolt's page check ran), which no recover catches. It must be
// refused as damaged.
func TestStateCyclicTree(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.update(func(tx *bolt.Tx) error {
		for i := range 400 {
			if _, err := tx.CreateBucket(quotaBucket(fmt.Sprintf("partner-%03d", i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.close()
	if _, err := bolttest.MakeCycles(path); err != nil {
		t.Fatal(err)
	}
	if s, err := openState(path, rand.Reader, false); !errors.Is(err, ErrStateCorrupt) {
		if err == nil {
			s.close()
		}
		t.Fatalf("a state file with a cycle: %v, want ErrStateCorrupt", err)
	}
}

// TestVerifyFloorCounts: after a rebuild, the answers the audit log proves (the floor bucket)
// count against every reference's verification limit, and the file with a floor bucket checks
// out when it is opened again.
func TestVerifyFloorCounts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := policy.Quota{Queries: 3, Window: time.Hour}
	// Two answers the log proves, one older than the window.
	err = s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(verifyFloorBucket("beta"))
		if err != nil {
			return err
		}
		for i, at := range []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Minute), now.Add(-time.Second)} {
			key := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
			key = append(key, []byte{byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}...)
			if err := b.Put(key, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.close()
	if s, err = openState(path, rand.Reader, false); err != nil {
		t.Fatalf("a state file with a verification floor: %v", err)
	}
	defer s.close()
	for _, ref := range []string{"s-1", "s-2"} {
		l := []limit{{bucket: verifyBucket("beta", ref), quota: v, floor: verifyFloorBucket("beta")}}
		if used, _ := s.counted(l[0], now); used != 2 {
			t.Errorf("%s: %d counted, want the floor's 2 in the window", ref, used)
		}
		if _, err := s.admit("beta", []byte("nonce-"+ref), now.Add(5*time.Minute), l, now); err != nil {
			t.Fatalf("%s: the third verification: %v", ref, err)
		}
		var spent *limitSpent
		if _, err := s.admit("beta", []byte("nonce-again-"+ref), now.Add(5*time.Minute), l, now); !errors.As(err, &spent) {
			t.Fatalf("%s: a fourth verification within the window: %v, want the limit spent", ref, err)
		}
	}
	// Another partner's references are not charged.
	l := []limit{{bucket: verifyBucket("gamma", "s-1"), quota: v, floor: verifyFloorBucket("gamma")}}
	if used, _ := s.counted(l[0], now); used != 0 {
		t.Errorf("gamma: %d counted, want 0", used)
	}
}

// TestStateHalts: a halt survives closing the file with its fields, is deleted by name, and an
// entry not of the form the node writes makes the file refused as damaged, naming the entry.
func TestStateHalts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 42).UTC()
	h := &halt{request: []byte("0123456789abcdef"), at: at, epoch: 3}
	if err := s.putHalt("beta", h); err != nil {
		t.Fatal(err)
	}
	if err := s.putHalt("gamma", &halt{request: []byte("short")}); err == nil {
		t.Error("a halt with a 5-byte request ID was stored")
	}
	s.close()
	if s, err = openState(path, rand.Reader, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.halts()
	if err != nil || len(got) != 1 || got["beta"] == nil || string(got["beta"].request) != string(h.request) || !got["beta"].at.Equal(at) || got["beta"].epoch != 3 {
		t.Fatalf("halts after reopening: %+v, %v; want beta's", got, err)
	}
	if err := s.deleteHalt("beta"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.halts(); len(got) != 0 {
		t.Fatalf("halts after the delete: %+v", got)
	}
	for what, kv := range map[string][2]string{
		"short value": {"beta", "0123456789abcdef"},
		"bad partner": {"Beta Agency", "0123456789abcdef0123456701234567"},
		"long value":  {"beta", "0123456789abcdef0123456701234567x"},
	} {
		s.update(func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucketIfNotExists(bucketHalted)
			return b.Put([]byte(kv[0]), []byte(kv[1]))
		})
		s.close()
		_, err := openState(path, rand.Reader, false)
		if !errors.Is(err, ErrStateCorrupt) {
			t.Errorf("%s: %v, want ErrStateCorrupt", what, err)
		}
		db, _ := bolt.Open(path, 0o600, nil)
		db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketHalted) })
		db.Close()
		if s, err = openState(path, rand.Reader, false); err != nil {
			t.Fatalf("%s: after removing the bad entry: %v", what, err)
		}
	}
	s.close()
}

// TestStateCharge: charge counts events against a limit in its window, refuses one past it with
// the time the oldest leaves the window (and writes nothing), and the count survives a reopen
// and the file's check.
func TestStateCharge(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	l := limit{bucket: ceremonyBucket("co"), quota: policy.Quota{Queries: 2, Window: time.Hour}}
	t0 := time.Now()
	for i, at := range []time.Time{t0, t0.Add(time.Minute)} {
		if err := s.charge(l, at); err != nil {
			t.Fatalf("charge %d: %v", i, err)
		}
	}
	s.close()
	if s, err = openState(path, rand.Reader, false); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var se *limitSpent
	if err := s.charge(l, t0.Add(2*time.Minute)); !errors.As(err, &se) || !errors.Is(err, errQuotaSpent) || !se.free.Equal(t0.Add(time.Hour)) {
		t.Fatalf("charge past the limit: %v (free %v), want spent until %v", err, se, t0.Add(time.Hour))
	}
	if n, err := s.counted(l, t0.Add(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("%d counted (%v) after a refused charge, want 2", n, err)
	}
	if err := s.charge(l, t0.Add(time.Hour+time.Nanosecond)); err != nil {
		t.Fatalf("charge once the first left the window: %v", err)
	}
}

// TestSpentNamesWhenFreed: a spent limit names the time from which it allows one more, counting
// its floor's entries with its own and, when it counts more than its quota (the policy lowered
// it), waiting for the oldest to leave the window until it counts fewer than its quota.
func TestSpentNamesWhenFreed(t *testing.T) {
	t.Parallel()
	s, err := openState(filepath.Join(t.TempDir(), "state.db"), rand.Reader, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	t0 := time.Now()
	l := limit{bucket: ceremonyBucket("co"), quota: policy.Quota{Queries: 3, Window: time.Hour}, floor: verifyFloorBucket("co")}
	err = s.update(func(tx *bolt.Tx) error {
		for b, mins := range map[string][]int{string(l.bucket): {0, 20}, string(l.floor): {10, 30}} {
			qb, err := tx.CreateBucketIfNotExists([]byte(b))
			if err != nil {
				return err
			}
			for _, m := range mins {
				if err := qb.Put(binary.BigEndian.AppendUint64(nil, uint64(t0.Add(time.Duration(m)*time.Minute).UnixNano())), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(40 * time.Minute)
	for _, c := range []struct {
		queries int
		free    time.Time
	}{
		{5, time.Time{}},                        // not spent
		{4, t0.Add(time.Hour)},                  // at its quota: the oldest must leave
		{3, t0.Add(10*time.Minute + time.Hour)}, // one past: two must leave, the second is the floor's
		{1, t0.Add(30*time.Minute + time.Hour)}, // all four must leave
		{0, time.Time{}},                        // allows none, ever
	} {
		l.quota.Queries = c.queries
		used, free, err := s.spent(l, now)
		if err != nil || used != 4 || !free.Equal(c.free) {
			t.Errorf("%d per 1h: %d used, free %v (%v), want 4, %v", c.queries, used, free, err, c.free)
		}
	}
}
