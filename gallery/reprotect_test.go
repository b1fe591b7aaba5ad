package gallery

import (
	"context"
	"errors"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// bucketNames lists the top-level buckets of a closed gallery file.
func bucketNames(t *testing.T, path string) []string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	})
	return names
}

func TestReprotect(t *testing.T) {
	s := newTestStore(t)
	s.reprotectBatch = 7 // several batches
	if err := s.Enrol(newTestProtector(1), batchOf(0, 30)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Get(refFor(3))
	if err := s.Reprotect(context.Background(), newTestProtector(3)); err != nil {
		t.Fatal(err)
	}
	checkContents(t, s, 3, span(0, 30))
	after, _ := s.Get(refFor(3))
	if !after.EnrolledAt.Equal(before.EnrolledAt) {
		t.Error("re-protection changed the enrolment time")
	}
	// The new epoch takes enrolments; the old one does not.
	if err := s.Enrol(newTestProtector(1), batchOf(30, 31)); !errors.Is(err, ErrEpoch) {
		t.Errorf("enrol under the revoked epoch = %v, want ErrEpoch", err)
	}
	if err := s.Enrol(newTestProtector(3), batchOf(30, 31)); err != nil {
		t.Fatal(err)
	}
	for _, e := range []uint64{1, 3} {
		if err := s.Reprotect(context.Background(), newTestProtector(e)); !errors.Is(err, ErrEpoch) {
			t.Errorf("reprotect to epoch %d = %v, want ErrEpoch", e, err)
		}
	}
	path := s.Path()
	s.Close()
	names := bucketNames(t, path)
	if len(names) != 3 || names[0] != "archive" || names[1] != string(epochBucket(3)) || names[2] != "meta" {
		t.Errorf("buckets after re-protection: %q, want archive, epoch 3, meta", names)
	}
}

// TestReprotectFailureKeepsOldEpoch checks that a failing protector or a cancelled context
// leaves the old epoch complete and current and no partial new epoch behind.
func TestReprotectFailureKeepsOldEpoch(t *testing.T) {
	s := newTestStore(t)
	s.reprotectBatch = 5
	if err := s.Enrol(newTestProtector(1), batchOf(0, 23)); err != nil {
		t.Fatal(err)
	}
	failing := newTestProtector(2)
	failing.failAt = 12
	if err := s.Reprotect(context.Background(), failing); err == nil {
		t.Fatal("re-protection with a failing protector succeeded")
	}
	checkContents(t, s, 1, span(0, 23))

	bad := newTestProtector(2)
	bad.nan = true
	if err := s.Reprotect(context.Background(), bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("NaN templates: %v, want ErrInvalid", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.hook = func(point string) error {
		if point == "reprotect-batch" {
			cancel()
		}
		return nil
	}
	if err := s.Reprotect(ctx, newTestProtector(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled re-protection = %v, want context.Canceled", err)
	}
	s.hook = nil
	checkContents(t, s, 1, span(0, 23))
	path := s.Path()
	s.Close()
	if names := bucketNames(t, path); len(names) != 3 {
		t.Errorf("buckets after failed re-protections: %q", names)
	}
}

// TestReadersDuringReprotect checks that concurrent readers always see one whole epoch.
func TestReadersDuringReprotect(t *testing.T) {
	s := newTestStore(t)
	s.reprotectBatch = 4
	if err := s.Enrol(newTestProtector(1), batchOf(0, 40)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				snap, err := s.Snapshot()
				if err != nil {
					errs <- err
					return
				}
				for i, ref := range snap.Refs {
					want := expectedTemplate(snap.Epoch, snap.Dim, rawFor(idOf(ref), testRawDim), false)
					if !equalFloats(snap.Row(i), want) {
						errs <- errors.New("a snapshot mixes epochs")
						return
					}
				}
			}
		}()
	}
	for e := uint64(2); e <= 4; e++ {
		if err := s.Reprotect(context.Background(), newTestProtector(e)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkContents(t, s, 4, span(0, 40))
}
