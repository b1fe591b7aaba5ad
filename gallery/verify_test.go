package gallery

import (
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCheckRef(t *testing.T) {
	for _, ref := range []string{"case-0018", "Ñandú 7", "案件-42", strings.Repeat("x", MaxRefLen)} {
		if err := CheckRef(ref); err != nil {
			t.Errorf("CheckRef(%q): %v", ref, err)
		}
	}
	for _, ref := range []string{"", "\xff-9", "\xfe-9", "case\t9", "case\n9", "case\x1b9", "case\u00859", "case\x7f", "\ufffd-9", strings.Repeat("x", MaxRefLen+1)} {
		if err := CheckRef(ref); err == nil {
			t.Errorf("CheckRef(%q) accepted it", ref)
		} else if strings.Contains(err.Error(), ref) && ref != "" {
			t.Errorf("CheckRef(%q): the error echoes the reference: %v", ref, err)
		}
	}
}

// TestEnrolResume: a resumed enrolment skips the subjects enrolled with the same features and
// refuses one enrolled with other features.
func TestEnrolResume(t *testing.T) {
	s := newTestStore(t)
	p := newTestProtector(1)
	if err := s.Enrol(p, batchOf(0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enrol(p, batchOf(5, 15)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("enrolment over enrolled subjects: %v", err)
	}
	skipped, err := s.EnrolResume(p, batchOf(5, 15))
	if err != nil || skipped != 5 {
		t.Fatalf("resume: skipped %d, %v", skipped, err)
	}
	checkContents(t, s, 1, span(0, 15))
	b := batchOf(14, 16)
	b[0].Raw[3]++
	if _, err := s.EnrolResume(p, b); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), "other features") {
		t.Fatalf("resume with other features: %v", err)
	}
	checkContents(t, s, 1, span(0, 15))
}

// TestVerifyAndStructure: a damaged sealed value is found by Verify, named by its MAC prefix; a
// subject without its archive entry breaks the structure, which CheckStructure finds without
// decrypting anything.
func TestVerifyAndStructure(t *testing.T) {
	s := newTestStore(t)
	if err := s.Enrol(newTestProtector(1), batchOf(0, 12)); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify()
	if err != nil || len(rep.Bad) != 0 || rep.Subjects != 12 || rep.Archived != 12 {
		t.Fatalf("Verify of a good store: %+v %v", rep, err)
	}
	edit := func(f func(tx *bolt.Tx) error) {
		t.Helper()
		if err := s.db.Update(f); err != nil {
			t.Fatal(err)
		}
	}
	var damaged []byte
	edit(func(tx *bolt.Tx) error {
		b := tx.Bucket(epochBucket(1))
		k, v := b.Cursor().Last()
		damaged = append([]byte(nil), k...)
		v = append([]byte(nil), v...)
		v[len(v)-1] ^= 1
		return b.Put(damaged, v)
	})
	if err := s.CheckStructure(); err != nil {
		t.Errorf("a damaged value is not a structural fault: %v", err)
	}
	rep, err = s.Verify()
	if err != nil || len(rep.Bad) != 1 || !strings.Contains(rep.Bad[0], "record "+hexPrefix(damaged)) {
		t.Fatalf("Verify of a damaged record: %+v %v", rep, err)
	}
	edit(func(tx *bolt.Tx) error { return tx.Bucket(bucketArchive).Delete(damaged) })
	if err := s.CheckStructure(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "has no archive entry") {
		t.Fatalf("CheckStructure of a subject without its archive entry: %v", err)
	}
	edit(func(tx *bolt.Tx) error { return tx.Bucket(bucketArchive).Put([]byte("short"), []byte("x")) })
	if err := s.CheckStructure(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("CheckStructure with a malformed key: %v", err)
	}
}

func hexPrefix(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 16)
	for _, c := range b[:8] {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
