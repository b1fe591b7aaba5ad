package gallery

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// Protector turns raw features into protected templates for one epoch: the protect package's
// transform keyed with that epoch's seed. The gallery calls it on enrolment and re-protection.
type Protector interface {
	// Epoch is the transform epoch the protector's seed belongs to.
	Epoch() uint64
	// Scheme names the scheme and its parameters (stored with every record).
	Scheme() string
	// Dim is the dimension of the templates Protect returns.
	Dim() int
	// Protect returns the protected template of one raw feature vector, or an error for a vector
	// it cannot protect. It must not keep raw. The gallery checks the result's length and values.
	Protect(raw []float32) ([]float64, error)
}

// Enrolment is one subject to enrol: the agency's reference and the raw feature vector, which is
// archived (sealed under the archive key) and protected under the current epoch.
type Enrolment struct {
	Ref string
	Raw []float32
}

// view runs fn in a read transaction. A panic from the storage engine on a corrupt file, or a
// fault on a page past the end of a truncated file, is reported as ErrCorrupt rather than
// crashing the node.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverCorrupt(&err)
	return s.db.View(fn)
}

// update runs fn in a write transaction: all of fn's writes are committed, or none.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverCorrupt(&err)
	return s.db.Update(fn)
}

// recoverCorrupt turns a storage-engine panic (including a memory fault, see
// debug.SetPanicOnFault) into ErrCorrupt.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: storage engine failed: %v", ErrCorrupt, r)
	}
}

// checkProtector checks that p protects for the store's current epoch, scheme and dimension.
func checkProtector(p Protector, cur Params) error {
	switch {
	case p.Epoch() != cur.Epoch:
		return &InputError{Index: -1, Field: "epoch",
			Reason: fmt.Sprintf("protector is for epoch %d, gallery is at %d", p.Epoch(), cur.Epoch), Err: ErrEpoch}
	case p.Scheme() != cur.Scheme:
		return &InputError{Index: -1, Field: "scheme", Reason: "protector's scheme is not the gallery's", Err: ErrEpoch}
	case p.Dim() != cur.Dim:
		return &InputError{Index: -1, Field: "dim",
			Reason: fmt.Sprintf("protector makes %d dims, gallery holds %d", p.Dim(), cur.Dim), Err: ErrInvalid}
	}
	return nil
}

// checkTemplate checks a protected template from a Protector.
func checkTemplate(i int, t []float64, dim int) error {
	if len(t) != dim {
		return &InputError{Index: i, Field: "template",
			Reason: fmt.Sprintf("protector returned %d values, want %d", len(t), dim), Err: ErrInvalid}
	}
	if j, ok := firstNonFinite64(t); !ok {
		return &InputError{Index: i, Field: "template",
			Reason: fmt.Sprintf("protector returned a non-finite value at %d", j), Err: ErrInvalid}
	}
	return nil
}

// checkEnrolment checks one raw enrolment against the gallery's parameters.
func checkEnrolment(i int, e Enrolment, rawDim int) error {
	if err := CheckRef(e.Ref); err != nil {
		return &InputError{Index: i, Field: "ref", Reason: err.Error(), Err: ErrInvalid}
	}
	if len(e.Raw) != rawDim {
		return &InputError{Index: i, Field: "raw",
			Reason: fmt.Sprintf("%d values, want %d", len(e.Raw), rawDim), Err: ErrInvalid}
	}
	if j, ok := firstNonFinite32(e.Raw); !ok {
		return &InputError{Index: i, Field: "raw", Reason: fmt.Sprintf("value %d is not finite", j), Err: ErrInvalid}
	}
	return nil
}

// Enrol protects and enrols a batch of subjects with p, which must be for the current epoch,
// scheme and dimension. The batch is one transaction, which also keeps it as the gallery's last
// change ([Store.LastChange]): after a crash or any error the gallery holds all of the batch or
// none of it. A reference already enrolled, or repeated within the
// batch, fails the whole batch with ErrDuplicate. Enrol needs the archive key.
func (s *Store) Enrol(p Protector, batch []Enrolment) error {
	_, err := s.enrol(p, batch, false)
	return err
}

// EnrolResume is Enrol for an enrolment that an interruption stopped part-way and that is run
// again from its start: a subject already enrolled with exactly these raw features (bit for bit,
// from the archive) is skipped; one enrolled with other features fails the whole batch with
// ErrDuplicate. It returns how many were skipped.
func (s *Store) EnrolResume(p Protector, batch []Enrolment) (skipped int, err error) {
	return s.enrol(p, batch, true)
}

func (s *Store) enrol(p Protector, batch []Enrolment, resume bool) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.writable()
	if err != nil {
		return 0, err
	}
	if err := checkProtector(p, cur); err != nil {
		return 0, err
	}
	recs := make([]*Record, len(batch))
	macs := make(map[string]int, len(batch))
	now := s.now().UTC()
	for i, e := range batch {
		if err := checkEnrolment(i, e, cur.RawDim); err != nil {
			return 0, err
		}
		mac := string(refMAC(s.macKey, e.Ref))
		if j, dup := macs[mac]; dup {
			return 0, &InputError{Index: i, Field: "ref", Reason: fmt.Sprintf("repeats item %d", j), Err: ErrDuplicate}
		}
		macs[mac] = i
		t, err := p.Protect(e.Raw)
		if err != nil {
			return 0, fmt.Errorf("gallery: item %d: protect: %w", i, err)
		}
		if err := checkTemplate(i, t, cur.Dim); err != nil {
			return 0, err
		}
		recs[i] = &Record{Ref: e.Ref, Template: t, Scheme: cur.Scheme, Epoch: cur.Epoch, EnrolledAt: now}
	}
	skipped := 0
	err = s.update(func(tx *bolt.Tx) error {
		skipped = 0
		eb, ab := tx.Bucket(epochBucket(cur.Epoch)), tx.Bucket(bucketArchive)
		before := eb.Stats().KeyN
		for i, r := range recs {
			mac := refMAC(s.macKey, r.Ref)
			if eb.Get(mac) != nil || ab.Get(mac) != nil {
				if !resume {
					return &InputError{Index: i, Field: "ref", Reason: "already enrolled", Err: ErrDuplicate}
				}
				same, err := s.sameArchived(ab, mac, batch[i].Raw)
				if err != nil {
					return err
				}
				if !same || eb.Get(mac) == nil {
					return &InputError{Index: i, Field: "ref", Reason: "already enrolled with other features", Err: ErrDuplicate}
				}
				skipped++
				continue
			}
			if err := s.putRecord(eb, epochBucket(cur.Epoch), s.records, mac, r); err != nil {
				return err
			}
			a := &archived{ref: r.Ref, raw: batch[i].Raw, enrolledAt: now}
			if err := s.putArchived(ab, mac, a); err != nil {
				return err
			}
		}
		c := Change{Action: ChangeEnrol, Enrolled: len(batch) - skipped, Skipped: skipped, Epoch: cur.Epoch}
		if err := s.putLedger(tx, before, c); err != nil {
			return err
		}
		return s.testHook("enrol-before-commit")
	})
	return skipped, s.committed(err, "enrol")
}

// writable returns the current parameters if the store is open and holds the archive key.
func (s *Store) writable() (Params, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Params{}, ErrClosed
	}
	if s.archive == nil {
		return Params{}, ErrNoArchiveKey
	}
	return s.params, nil
}

// committed bumps the write generation after a successful write and wraps a failure.
func (s *Store) committed(err error, op string) error {
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) || errors.Is(err, ErrCorrupt) {
			return err
		}
		return fmt.Errorf("gallery: %s: %w", op, err)
	}
	s.mu.Lock()
	s.gen++
	s.snapshot = nil
	s.mu.Unlock()
	return nil
}

func (s *Store) putRecord(b *bolt.Bucket, bucket []byte, sl *sealer, mac []byte, r *Record) error {
	sealed, err := sl.seal(bucket, mac, encodeRecord(r))
	if err != nil {
		return err
	}
	return b.Put(mac, sealed)
}

func (s *Store) putArchived(b *bolt.Bucket, mac []byte, a *archived) error {
	pt := encodeArchived(a)
	defer clear(pt)
	sealed, err := s.archive.seal(bucketArchive, mac, pt)
	if err != nil {
		return err
	}
	return b.Put(mac, sealed)
}

// Remove deletes subjects from the current epoch and from the archive, in one transaction that
// also keeps it as the gallery's last change ([Store.LastChange]). If any reference is not
// enrolled, or one is repeated, nothing is removed and the error (ErrNotFound) names its index.
// Remove does not need the archive key.
func (s *Store) Remove(refs ...string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.readable()
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		eb, ab := tx.Bucket(epochBucket(cur.Epoch)), tx.Bucket(bucketArchive)
		before := eb.Stats().KeyN
		for i, ref := range refs {
			mac := refMAC(s.macKey, ref)
			if eb.Get(mac) == nil {
				return &InputError{Index: i, Field: "ref", Reason: "not enrolled", Err: ErrNotFound}
			}
			if err := eb.Delete(mac); err != nil {
				return err
			}
			if err := ab.Delete(mac); err != nil {
				return err
			}
		}
		return s.putLedger(tx, before, Change{Action: ChangeRemove, Removed: len(refs), Epoch: cur.Epoch})
	})
	return s.committed(err, "remove")
}

// readable returns the current parameters if the store is open.
func (s *Store) readable() (Params, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Params{}, ErrClosed
	}
	return s.params, nil
}

// openRecord decrypts, decodes and checks one stored record of the current epoch.
func (s *Store) openRecord(cur Params, mac, sealed []byte) (*Record, error) {
	pt, err := s.records.open(epochBucket(cur.Epoch), mac, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: record %x: %v", ErrCorrupt, mac[:8], err)
	}
	r, err := decodeRecord(pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: record %x: %v", ErrCorrupt, mac[:8], err)
	}
	if !bytes.Equal(refMAC(s.macKey, r.Ref), mac) || r.Epoch != cur.Epoch ||
		r.Scheme != cur.Scheme || len(r.Template) != cur.Dim {
		return nil, fmt.Errorf("%w: record %x does not belong to epoch %d", ErrCorrupt, mac[:8], cur.Epoch)
	}
	return r, nil
}

// Get returns the record of one subject in the current epoch, or ErrNotFound.
func (s *Store) Get(ref string) (*Record, error) {
	s.mu.RLock() // held through the read so that a re-protection cannot switch epochs under it
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	cur := s.params
	var r *Record
	err := s.view(func(tx *bolt.Tx) error {
		mac := refMAC(s.macKey, ref)
		sealed := tx.Bucket(epochBucket(cur.Epoch)).Get(mac)
		if sealed == nil {
			return &InputError{Index: -1, Field: "ref", Reason: "not enrolled", Err: ErrNotFound}
		}
		var err error
		r, err = s.openRecord(cur, mac, sealed)
		return err
	})
	return r, err
}

// List returns the subject references of the current epoch in the store's stable order (the
// order of their keyed MACs, which says nothing about when they were enrolled).
func (s *Store) List() ([]string, error) {
	snap, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	return append([]string(nil), snap.Refs...), nil
}

// Count returns the number of subjects enrolled in the current epoch, without decrypting them.
func (s *Store) Count() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(epochBucket(s.params.Epoch)).Stats().KeyN
		return nil
	})
	return n, err
}
