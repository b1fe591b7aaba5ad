package gallery

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Snapshot is the current epoch's gallery in the stable order packing needs: row i is the
// protected template of subject Refs[i]. A snapshot is shared by every caller until the next
// write and must be treated as read-only.
type Snapshot struct {
	// Epoch and Scheme of every template in the snapshot.
	Epoch  uint64
	Scheme string
	// Dim is the template dimension m.
	Dim int
	// Refs are the subject references in order. They never leave the node.
	Refs []string
	// Templates holds Count() rows of Dim values, row-major.
	Templates []float64
	// Generation increases with every committed write to the store; a value derived from a
	// snapshot is current while the store's generation is unchanged.
	Generation uint64
}

// Count returns the number of templates.
func (s *Snapshot) Count() int { return len(s.Refs) }

// Row returns template i (a view into Templates).
func (s *Snapshot) Row(i int) []float64 { return s.Templates[i*s.Dim : (i+1)*s.Dim : (i+1)*s.Dim] }

// Snapshot returns the current epoch's protected templates, decrypted and checked, in the
// store's stable order. It is cached in memory until the next write, so repeated searches
// decrypt the gallery once. A record that fails to open or decode fails the call with ErrCorrupt
// naming the record's position.
func (s *Store) Snapshot() (*Snapshot, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	if snap := s.snapshot; snap != nil {
		s.mu.RUnlock()
		return snap, nil
	}
	cur, gen := s.params, s.gen
	snap := &Snapshot{Epoch: cur.Epoch, Scheme: cur.Scheme, Dim: cur.Dim, Generation: gen}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(epochBucket(cur.Epoch))
		n := b.Stats().KeyN
		snap.Refs = make([]string, 0, n)
		snap.Templates = make([]float64, 0, n*cur.Dim)
		return b.ForEach(func(mac, sealed []byte) error {
			r, err := s.openRecord(cur, mac, sealed)
			if err != nil {
				return err
			}
			snap.Refs = append(snap.Refs, r.Ref)
			snap.Templates = append(snap.Templates, r.Template...)
			return nil
		})
	})
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen && !s.closed {
		s.snapshot = snap
	}
	s.mu.Unlock()
	return snap, nil
}

// Generation returns the store's write generation (see Snapshot.Generation).
func (s *Store) Generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// Derived caches a value computed from the store's snapshot, such as the he package's packed
// gallery plaintexts, and rebuilds it after any write. It is the seam between the gallery and
// the encrypted search: the builder is the only code that needs to know the packed form.
type Derived[T any] struct {
	store *Store
	build func(*Snapshot) (T, error)

	mu    sync.Mutex
	gen   uint64
	valid bool
	value T
}

// NewDerived returns a cache of build(snapshot) for s. build must not modify the snapshot.
func NewDerived[T any](s *Store, build func(*Snapshot) (T, error)) *Derived[T] {
	return &Derived[T]{store: s, build: build}
}

// Get returns the value for the current snapshot, building it if the store changed since the
// last build. Concurrent callers wait for one build. A build error is returned and not cached.
func (d *Derived[T]) Get() (T, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	snap, err := d.store.Snapshot()
	if err != nil {
		var zero T
		return zero, err
	}
	if d.valid && d.gen == snap.Generation {
		return d.value, nil
	}
	v, err := d.build(snap)
	if err != nil {
		var zero T
		return zero, err
	}
	d.value, d.gen, d.valid = v, snap.Generation, true
	return v, nil
}
