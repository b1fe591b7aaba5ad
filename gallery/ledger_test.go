package gallery

import (
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestLastChange: each enrolment, enrolment run again and removal is kept as the gallery's last
// change, numbered, with its counts and the total after it; a write that fails keeps none; the
// change survives a reopen (and a reopen without the archive key can read it); a damaged ledger
// is ErrCorrupt, not a panic.
func TestLastChange(t *testing.T) {
	s := newTestStore(t)
	if c, err := s.LastChange(); err != nil || c.Seq != 0 {
		t.Fatalf("a new gallery's last change: %+v %v, want none", c, err)
	}
	p := newTestProtector(1)
	if err := s.Enrol(p, batchOf(0, 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnrolResume(p, batchOf(0, 7)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(refFor(1), refFor(2), refFor(3)); err != nil {
		t.Fatal(err)
	}
	want := Change{Seq: 3, Action: ChangeRemove, Removed: 3, Total: 4, Epoch: 1, At: testOptions(t).Now()}
	check := func(s *Store, when string) {
		t.Helper()
		if c, err := s.LastChange(); err != nil || c != want {
			t.Errorf("%s: last change %+v %v, want %+v", when, c, err, want)
		}
	}
	check(s, "after the removal")

	// Failed writes are not changes.
	if err := s.Enrol(p, batchOf(0, 1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("enrolling a subject again: %v", err)
	}
	if err := s.Remove(refFor(0), refFor(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing a subject twice in one call: %v", err)
	}
	s.hook = func(point string) error { return errors.New("test: abort before commit") }
	if err := s.Enrol(p, batchOf(10, 12)); err == nil {
		t.Fatal("enrolment aborted before its commit succeeded")
	}
	s.hook = nil
	check(s, "after failed writes")

	if _, err := s.EnrolResume(p, batchOf(0, 1)); err != nil {
		t.Fatal(err)
	}
	want = Change{Seq: 4, Action: ChangeEnrol, Skipped: 1, Total: 4, Epoch: 1, At: want.At}
	check(s, "after an enrolment that skipped all")
	path := s.Path()
	s.Close()
	if _, err := s.LastChange(); !errors.Is(err, ErrClosed) {
		t.Errorf("LastChange after Close: %v, want ErrClosed", err)
	}
	ro, err := Open(path, testKey(t, 0xD1), nil)
	if err != nil {
		t.Fatal(err)
	}
	check(ro, "reopened without the archive key")
	ro.Close()

	editLedger(t, path, func(v []byte) []byte { v[len(v)/2] ^= 1; return v })
	s = reopen(t, path)
	if _, err := s.LastChange(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a damaged ledger: %v, want ErrCorrupt", err)
	}
	if err := s.Remove(refFor(0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a removal over a damaged ledger: %v, want ErrCorrupt", err)
	}
}

// editLedger changes the sealed ledger of the closed gallery at path.
func editLedger(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		return meta.Put(keyLedger, edit(append([]byte(nil), meta.Get(keyLedger)...)))
	})
	if err != nil {
		t.Fatal(err)
	}
}
