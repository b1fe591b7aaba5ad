package gallery

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ChangeAction is what a change to a gallery's subjects did.
type ChangeAction uint8

// Change actions.
const (
	ChangeEnrol  ChangeAction = 1 // Enrol or EnrolResume
	ChangeRemove ChangeAction = 2 // Remove
)

// Change is the last change to a gallery's subjects, kept sealed in the gallery beside them and
// written in the same transaction as the change, so that a caller who records each change
// elsewhere (Puente's audit log) can find, after a crash between the change and its record, the
// change the record is missing. It holds counts only, never a subject reference.
type Change struct {
	// Seq numbers the changes from 1 since the gallery was made; 0 means none yet (or none since
	// the gallery began to keep them).
	Seq                        uint64
	Action                     ChangeAction
	Enrolled, Skipped, Removed int
	Total                      int    // subjects of the current epoch after the change
	Epoch                      uint64 // the epoch the change was made under
	At                         time.Time
}

const tagLedger = 0x04

var keyLedger = []byte("ledger")

// LastChange returns the gallery's last change to its subjects (Seq 0 if none).
func (s *Store) LastChange() (Change, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Change{}, ErrClosed
	}
	var c Change
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = s.getLedger(tx.Bucket(bucketMeta))
		return err
	})
	return c, err
}

// putLedger keeps c, in the transaction that makes it, as the gallery's last change: numbered
// after the one before, with its total the subjects before it plus those enrolled minus those
// removed.
func (s *Store) putLedger(tx *bolt.Tx, before int, c Change) error {
	meta := tx.Bucket(bucketMeta)
	last, err := s.getLedger(meta)
	if err != nil {
		return err
	}
	c.Seq = last.Seq + 1
	c.Total = before + c.Enrolled - c.Removed
	c.At = s.now().UTC()
	b := []byte{tagLedger}
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = append(b, byte(c.Action))
	for _, n := range []int{c.Enrolled, c.Skipped, c.Removed, c.Total} {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UnixNano()))
	sealed, err := s.state.seal(bucketMeta, keyLedger, b)
	if err != nil {
		return err
	}
	return meta.Put(keyLedger, sealed)
}

// getLedger opens and checks the sealed last change (the zero Change if there is none).
func (s *Store) getLedger(meta *bolt.Bucket) (Change, error) {
	sealed := meta.Get(keyLedger)
	if sealed == nil {
		return Change{}, nil
	}
	b, err := s.state.open(bucketMeta, keyLedger, sealed)
	if err != nil {
		return Change{}, fmt.Errorf("%w: ledger: %v", ErrCorrupt, err)
	}
	d := decoder{b: b}
	if tag := d.byte("tag"); d.err == nil && tag != tagLedger {
		return Change{}, fmt.Errorf("%w: ledger: tag %#x", ErrCorrupt, tag)
	}
	c := Change{Seq: d.u64("seq"), Action: ChangeAction(d.byte("action"))}
	for _, n := range []*int{&c.Enrolled, &c.Skipped, &c.Removed, &c.Total} {
		v := d.u64("count")
		if v > uint64(maxCount) {
			d.err = fmt.Errorf("%w: count %d", errDecode, v)
		}
		*n = int(v)
	}
	c.Epoch = d.u64("epoch")
	c.At = time.Unix(0, int64(d.u64("time"))).UTC()
	if err := d.finish(); err != nil {
		return Change{}, fmt.Errorf("%w: ledger: %v", ErrCorrupt, err)
	}
	if c.Seq == 0 || (c.Action != ChangeEnrol && c.Action != ChangeRemove) || c.Epoch == 0 {
		return Change{}, fmt.Errorf("%w: ledger: not a change", ErrCorrupt)
	}
	return c, nil
}

// maxCount bounds a count read from the ledger, so that it fits an int on every platform.
const maxCount = 1<<31 - 1
