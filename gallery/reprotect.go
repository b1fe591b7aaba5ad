package gallery

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// defaultReprotectBatch is the number of subjects re-protected per write transaction unless a
// test sets Store.reprotectBatch. It bounds the memory of one transaction; the switch to the new
// epoch is a single transaction of its own.
const defaultReprotectBatch = 1024

// testHook calls the store's hook (Store.hook), which only this package's tests set, to stop or
// cancel at a named point; it returns nil outside tests.
func (s *Store) testHook(point string) error {
	if s.hook != nil {
		return s.hook(point)
	}
	return nil
}

// Reprotect re-protects every enrolled subject under p's epoch, which must be newer than the
// current one (revocation: a new epoch with a new transform seed). It reads the raw features from
// the archive, writes the new epoch's records beside the current ones in batches, and then, in
// one transaction, checks that every subject was re-protected, switches the current epoch and
// deletes the old epoch's records. A crash or an error before the switch leaves the old epoch
// complete and current (the partial new records are removed now or at the next Open); a crash
// after it leaves the new epoch complete and current. Readers see the old epoch until the
// switch. Cancelling ctx stops the work between batches. Reprotect needs the archive key;
// enrolments and removals wait until it returns.
func (s *Store) Reprotect(ctx context.Context, p Protector) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.writable()
	if err != nil {
		return err
	}
	next := Params{Scheme: p.Scheme(), Dim: p.Dim(), RawDim: cur.RawDim, Epoch: p.Epoch()}
	if next.Epoch <= cur.Epoch {
		return &InputError{Index: -1, Field: "epoch",
			Reason: fmt.Sprintf("new epoch %d is not after current %d", next.Epoch, cur.Epoch), Err: ErrEpoch}
	}
	if err := checkParams(next); err != nil {
		return err
	}
	nb := epochBucket(next.Epoch)
	err = s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(nb) != nil {
			if err := tx.DeleteBucket(nb); err != nil {
				return err
			}
		}
		_, err := tx.CreateBucket(nb)
		return err
	})
	if err == nil {
		err = s.reprotectAll(ctx, p, next)
	}
	if err == nil {
		err = s.switchEpoch(cur, next)
	}
	if err != nil {
		// Best effort: Open removes the bucket too if this fails or the process dies first.
		_ = s.update(func(tx *bolt.Tx) error { return tx.DeleteBucket(nb) })
		var ie *InputError
		if errors.As(err, &ie) || errors.Is(err, ErrCorrupt) || errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("gallery: reprotect to epoch %d: %w", next.Epoch, err)
	}
	return nil
}

// reprotectAll walks the archive in batches and writes the new epoch's records.
func (s *Store) reprotectAll(ctx context.Context, p Protector, next Params) error {
	rec := s.recordSealer(next.Epoch)
	nb := epochBucket(next.Epoch)
	var after []byte // last archive key done
	for i := 0; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, macs, err := s.readArchive(after, cmp.Or(s.reprotectBatch, defaultReprotectBatch))
		if err != nil || len(batch) == 0 {
			return err
		}
		recs := make([]*Record, len(batch))
		for j, a := range batch {
			t, err := p.Protect(a.raw)
			clear(a.raw)
			if err != nil {
				return fmt.Errorf("gallery: archive entry %d: protect: %w", i+j, err)
			}
			if err := checkTemplate(i+j, t, next.Dim); err != nil {
				return err
			}
			recs[j] = &Record{Ref: a.ref, Template: t, Scheme: next.Scheme, Epoch: next.Epoch, EnrolledAt: a.enrolledAt}
		}
		err = s.update(func(tx *bolt.Tx) error {
			b := tx.Bucket(nb)
			for j, r := range recs {
				if err := s.putRecord(b, nb, rec, macs[j], r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.testHook("reprotect-batch"); err != nil {
			return err
		}
		i += len(batch)
		after = macs[len(macs)-1]
	}
}

// readArchive decrypts up to n archive entries with keys after the key after (from the first if
// nil), in key order.
func (s *Store) readArchive(after []byte, n int) ([]*archived, [][]byte, error) {
	var out []*archived
	var macs [][]byte
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketArchive).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && string(k) == string(after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < n; k, v = c.Next() {
			pt, err := s.archive.open(bucketArchive, k, v)
			if err != nil {
				return fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, k[:min(8, len(k))], err)
			}
			a, err := decodeArchived(pt)
			clear(pt)
			if err != nil {
				return fmt.Errorf("%w: archive entry %x: %v", ErrCorrupt, k[:min(8, len(k))], err)
			}
			if string(refMAC(s.macKey, a.ref)) != string(k) {
				return fmt.Errorf("%w: archive entry %x is stored under another key", ErrCorrupt, k[:min(8, len(k))])
			}
			out = append(out, a)
			macs = append(macs, append([]byte(nil), k...))
		}
		return nil
	})
	return out, macs, err
}

// switchEpoch makes next current in one transaction, after checking that the new epoch holds
// exactly the subjects of the current one, and deletes the current epoch's records.
func (s *Store) switchEpoch(cur, next Params) error {
	s.mu.Lock() // no reader may hold the old epoch's bucket across the switch
	defer s.mu.Unlock()
	if err := s.testHook("reprotect-before-switch"); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		old, nb := tx.Bucket(epochBucket(cur.Epoch)), tx.Bucket(epochBucket(next.Epoch))
		if o, n := old.Stats().KeyN, nb.Stats().KeyN; o != n {
			return fmt.Errorf("%w: epoch %d holds %d subjects but the archive re-protected %d",
				ErrCorrupt, cur.Epoch, o, n)
		}
		err := old.ForEach(func(mac, _ []byte) error {
			if nb.Get(mac) == nil {
				return fmt.Errorf("%w: subject %x of epoch %d has no archive entry", ErrCorrupt, mac[:8], cur.Epoch)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.putState(tx, next); err != nil {
			return err
		}
		return tx.DeleteBucket(epochBucket(cur.Epoch))
	})
	if err != nil {
		return err
	}
	s.params = next
	s.records = s.recordSealer(next.Epoch)
	s.gen++
	s.snapshot = nil
	_ = s.testHook("reprotect-after-switch")
	return nil
}
