package gallery

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// CheckRef checks a new subject reference: 1 to MaxRefLen bytes of valid UTF-8 with no control
// character (C0, DEL or C1: a TAB or a newline would break the tab-separated lists the node
// prints) and no U+FFFD (the replacement character, which is what invalid bytes turn into when
// text is decoded carelessly, so that two different references could become one). Enrol and
// every entry point that takes a reference apply it; references already stored are read with
// the UTF-8 rule alone.
func CheckRef(ref string) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	for i, r := range ref {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("subject reference has a control character (%U) at byte %d", r, i)
		case r == utf8.RuneError:
			return fmt.Errorf("subject reference has U+FFFD (the replacement character) at byte %d", i)
		}
	}
	return nil
}

// CheckStructure checks the file's structure without decrypting anything: every page
// (bbolt's own consistency check), the format, keys and state (all checked when the store was
// opened), and that the current epoch and the enrolment archive hold the same subjects, each
// under a well-formed key. It fails with ErrCorrupt naming the first problem (a subject by a
// prefix of its keyed MAC). A node runs it when it opens the gallery; [Store.Verify] also opens
// every sealed value.
func (s *Store) CheckStructure() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	cur := s.params
	err := s.view(func(tx *bolt.Tx) error {
		eb, ab := tx.Bucket(epochBucket(cur.Epoch)), tx.Bucket(bucketArchive)
		if eb == nil || ab == nil {
			return fmt.Errorf("%w: bucket of epoch %d or archive missing", ErrCorrupt, cur.Epoch)
		}
		return sameKeys(eb, ab, cur.Epoch)
	})
	if err != nil {
		return fmt.Errorf("gallery: %s: %w", s.path, err)
	}
	return nil
}

// sameKeys checks that the epoch's records and the archive have the same keys, each a MAC.
func sameKeys(eb, ab *bolt.Bucket, epoch uint64) error {
	ec, ac := eb.Cursor(), ab.Cursor()
	ek, _ := ec.First()
	ak, _ := ac.First()
	for ek != nil || ak != nil {
		for _, k := range [][]byte{ek, ak} {
			if k != nil && len(k) != sha256.Size {
				return fmt.Errorf("%w: a key of %d bytes, not a reference's MAC", ErrCorrupt, len(k))
			}
		}
		switch c := compareKeys(ek, ak); {
		case c == 0:
			ek, _ = ec.Next()
			ak, _ = ac.Next()
		case c < 0:
			return fmt.Errorf("%w: subject %x of epoch %d has no archive entry", ErrCorrupt, ek[:8], epoch)
		default:
			return fmt.Errorf("%w: archive entry %x has no record in epoch %d", ErrCorrupt, ak[:8], epoch)
		}
	}
	return nil
}

// compareKeys orders cursor keys, a nil key (the end) last.
func compareKeys(a, b []byte) int {
	switch {
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return bytes.Compare(a, b)
}

// VerifyReport says what [Store.Verify] found.
type VerifyReport struct {
	Subjects int // subjects of the current epoch
	Archived int // archive entries opened (0 without the archive key)
	// Bad names each value that did not open or decode, or does not belong where it is stored,
	// by a prefix of its keyed MAC and the reason; never by reference or content.
	Bad []string
}

// Verify checks the structure (CheckStructure) and then opens, decodes and checks every sealed
// value: each record of the current epoch and, if the store holds the archive key, each
// archived feature vector. A bad value is listed in the report, not returned as an error;
// the error is for a store that cannot be read at all.
func (s *Store) Verify() (VerifyReport, error) {
	var rep VerifyReport
	if err := s.CheckStructure(); err != nil {
		var bad []string
		if errors.Is(err, ErrCorrupt) {
			bad = append(bad, err.Error())
		}
		if bad == nil {
			return rep, err
		}
		rep.Bad = bad
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return rep, ErrClosed
	}
	cur := s.params
	err := s.view(func(tx *bolt.Tx) error {
		err := tx.Bucket(epochBucket(cur.Epoch)).ForEach(func(mac, sealed []byte) error {
			rep.Subjects++
			if r, err := s.openRecord(cur, mac, sealed); err != nil {
				rep.Bad = append(rep.Bad, err.Error())
			} else {
				clear(r.Template)
			}
			return nil
		})
		if err != nil || s.archive == nil {
			return err
		}
		return tx.Bucket(bucketArchive).ForEach(func(mac, sealed []byte) error {
			rep.Archived++
			if err := s.checkArchived(cur, mac, sealed); err != nil {
				rep.Bad = append(rep.Bad, err.Error())
			}
			return nil
		})
	})
	slices.Sort(rep.Bad)
	rep.Bad = slices.Compact(rep.Bad)
	return rep, err
}

// checkArchived opens and checks one archive entry.
func (s *Store) checkArchived(cur Params, mac, sealed []byte) error {
	id := mac[:min(8, len(mac))]
	pt, err := s.archive.open(bucketArchive, mac, sealed)
	if err != nil {
		return fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, id, err)
	}
	a, err := decodeArchived(pt)
	clear(pt)
	if err != nil {
		return fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, id, err)
	}
	defer clear(a.raw)
	if !bytes.Equal(refMAC(s.macKey, a.ref), mac) || len(a.raw) != cur.RawDim {
		return fmt.Errorf("%w: archive entry %x does not belong where it is stored", ErrCorrupt, id)
	}
	return nil
}

// sameArchived reports whether the subject with key mac was archived with exactly raw (bit for
// bit); for an enrolment that resumes.
func (s *Store) sameArchived(ab *bolt.Bucket, mac []byte, raw []float32) (bool, error) {
	sealed := ab.Get(mac)
	if sealed == nil {
		return false, nil
	}
	pt, err := s.archive.open(bucketArchive, mac, sealed)
	if err != nil {
		return false, fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, mac[:8], err)
	}
	a, err := decodeArchived(pt)
	clear(pt)
	if err != nil {
		return false, fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, mac[:8], err)
	}
	defer clear(a.raw)
	if len(a.raw) != len(raw) {
		return false, nil
	}
	for i := range raw {
		if math.Float32bits(a.raw[i]) != math.Float32bits(raw[i]) {
			return false, nil
		}
	}
	return true, nil
}
