package gallery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors returned by the store, wrapped with detail; test with errors.Is.
var (
	// ErrInvalid: bad input from the caller (wrong dimension, non-finite value, bad reference,
	// bad parameters). The store is unchanged. *InputError carries the details.
	ErrInvalid = errors.New("gallery: invalid input")
	// ErrDuplicate: a subject reference is already enrolled, or repeated within a batch.
	ErrDuplicate = errors.New("gallery: subject already enrolled")
	// ErrNotFound: no such subject reference (or no such gallery file).
	ErrNotFound = errors.New("gallery: not found")
	// ErrEpoch: the epoch or scheme given is not the store's current one, or a re-protection
	// target is not newer than the current epoch.
	ErrEpoch = errors.New("gallery: wrong epoch")
	// ErrWrongKey: the data key or the archive key is not the one the gallery was created with.
	ErrWrongKey = errors.New("gallery: wrong key")
	// ErrNoArchiveKey: the store was opened without the archive key, which enrolment and
	// re-protection need.
	ErrNoArchiveKey = errors.New("gallery: archive key not supplied")
	// ErrCorrupt: the file is not a Puente gallery, or a stored value fails authentication or
	// decoding. Nothing is repaired automatically.
	ErrCorrupt = errors.New("gallery: corrupt store")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("gallery: store closed")
)

// InputError names the bad item of a call: its index in the batch (-1 when not a batch) and
// field. It never holds template or feature values.
type InputError struct {
	Index  int
	Field  string
	Reason string
	Err    error // ErrInvalid, ErrDuplicate, ErrNotFound or ErrEpoch
}

func (e *InputError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Reason)
	}
	return fmt.Sprintf("%v: item %d: %s: %s", e.Err, e.Index, e.Field, e.Reason)
}

func (e *InputError) Unwrap() error { return e.Err }

// Params fixes what a gallery holds when it is created.
type Params struct {
	// Scheme names the protect scheme and parameters of the first epoch (1..MaxSchemeLen bytes).
	Scheme string
	// Dim is the protected-template dimension m; RawDim the raw-feature dimension d (1..MaxDim).
	Dim, RawDim int
	// Epoch is the first transform epoch (at least 1).
	Epoch uint64
}

// Options are the optional settings of Create and Open. The zero value is usable.
type Options struct {
	// ArchiveKey seals the enrolment archive of raw features. Without it the store can be read,
	// searched and shrunk (Remove), but not enrolled into or re-protected. Create requires it.
	ArchiveKey *Key
	// Rand supplies AEAD nonces; crypto/rand.Reader if nil.
	Rand io.Reader
	// Now stamps enrolments; time.Now if nil.
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock on the file (default 1 s).
	LockTimeout time.Duration
}

const (
	formatID = "puente-gallery-1"
	tagState = 0x03
)

var (
	bucketMeta    = []byte("meta")
	bucketArchive = []byte("archive")
	keyFormat     = []byte("format")
	keyState      = []byte("state")
	keyDataCheck  = []byte("data-key-check")
	keyArchCheck  = []byte("archive-key-check")
	epochPrefix   = "epoch/"
)

// epochBucket names the bucket of one epoch's records.
func epochBucket(epoch uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(epochPrefix), epoch)
}

// Store is an open gallery. Its methods are safe for concurrent use; writes are serialised and
// readers see either the state before a write or after it.
type Store struct {
	db   *bolt.DB
	path string
	rand io.Reader
	now  func() time.Time

	writeMu sync.Mutex // serialises writers, including a whole re-protection

	mu       sync.RWMutex // guards the fields below
	closed   bool
	params   Params // current scheme, dims and epoch
	dataKey  *Key
	archKey  *Key // nil without the archive key
	macKey   []byte
	state    *sealer
	records  *sealer // seals the current epoch's records
	archive  *sealer // nil without the archive key
	gen      uint64  // write generation; bumped by every committed write
	snapshot *Snapshot

	// Set only by this package's tests, before the store is used:
	hook           func(point string) error // called at named points (testHook)
	reprotectBatch int                      // subjects per re-protection transaction; defaultReprotectBatch if 0
}

// Create makes a new gallery file at path (which must not exist), owner-only (0600).
func Create(path string, p Params, dataKey *Key, opts *Options) (*Store, error) {
	if err := checkParams(p); err != nil {
		return nil, err
	}
	if opts == nil || opts.ArchiveKey == nil {
		return nil, fmt.Errorf("gallery: create %s: %w", path, ErrNoArchiveKey)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("gallery: create %s: file exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("gallery: create %s: %w", path, err)
	}
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	s := newStore(db, path, dataKey, opts)
	s.params = p
	s.records = s.recordSealer(p.Epoch)
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketArchive); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(epochBucket(p.Epoch)); err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(formatID)); err != nil {
			return err
		}
		if err := meta.Put(keyDataCheck, keyCheck(s.dataKey)); err != nil {
			return err
		}
		if err := meta.Put(keyArchCheck, keyCheck(s.archKey)); err != nil {
			return err
		}
		return s.putState(tx, p)
	})
	if err != nil {
		s.Close()
		os.Remove(path)
		return nil, fmt.Errorf("gallery: create %s: %w", path, err)
	}
	return s, nil
}

// Open opens an existing gallery with its data key (and, in opts, optionally its archive key).
// It fails with ErrNotFound if the file is missing, ErrCorrupt if it is not a readable gallery,
// and ErrWrongKey if a key does not match. It removes the partial records of a re-protection
// that a crash interrupted; the current epoch is untouched.
func Open(path string, dataKey *Key, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("gallery: open %s: %w: no such file", path, ErrNotFound)
		}
		return nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	if err := checkFileSize(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	s := newStore(db, path, dataKey, opts)
	if err := s.checkPages(); err != nil {
		// The keys, not the file: bbolt's check may still be reading the mapped file
		// (checkPages), and unmapping it would fault that goroutine, a fatal error. The file
		// stays open and locked until the process exits.
		s.zeroKeys()
		return nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	return s, nil
}

// checkPages runs bbolt's consistency check of every page before anything else reads the
// tree. On a damaged file whose tree has a cycle a lookup or a cursor would descend until the
// stack overflows, which no recover catches; the check walks the pages without a lookup and
// reports a page reached twice before it would descend into it again. It returns at the first
// problem: reading on would follow the cycle. The check's goroutine then goes on reading pages
// until its next report, on which it blocks forever, so the caller must not close (unmap) the
// file after an error. Open runs it once, over the whole file.
func (s *Store) checkPages() error {
	return s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil
	})
}

func openBolt(path string, opts *Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("gallery: open %s: %w: storage engine failed: %v", path, ErrCorrupt, r)
		}
	}()
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("gallery: open %s: file is locked by another process", path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return nil, fmt.Errorf("gallery: open %s: %w: %v", path, ErrCorrupt, err)
	default:
		return nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
}

func newStore(db *bolt.DB, path string, dataKey *Key, opts *Options) *Store {
	s := &Store{db: db, path: path, rand: opts.Rand, now: opts.Now, dataKey: dataKey.clone()}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.macKey = s.dataKey.subkey(labelRefMAC, 0)
	s.state = newSealer(s.dataKey.subkey(labelState, 0), s.rand)
	if opts.ArchiveKey != nil {
		s.archKey = opts.ArchiveKey.clone()
		s.archive = newSealer(s.archKey.subkey(labelArchive, 0), s.rand)
	}
	return s
}

// recordSealer returns the sealer of one epoch's records.
func (s *Store) recordSealer(epoch uint64) *sealer {
	return newSealer(s.dataKey.subkey(labelRecords, epoch), s.rand)
}

// keyCheck is a MAC that tells whether a key is the gallery's without revealing anything of it.
func keyCheck(k *Key) []byte {
	m := hmac.New(sha256.New, k.subkey("puente/gallery v1 key check", 0))
	m.Write([]byte(formatID))
	return m.Sum(nil)
}

// load reads and checks the format, the keys and the state, then drops stale epoch buckets.
func (s *Store) load() error {
	var stale [][]byte
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || string(meta.Get(keyFormat)) != formatID {
			return fmt.Errorf("%w: not a Puente gallery (format %q)", ErrCorrupt, formatID)
		}
		if !hmac.Equal(meta.Get(keyDataCheck), keyCheck(s.dataKey)) {
			return fmt.Errorf("%w: data key does not match this gallery", ErrWrongKey)
		}
		if s.archKey != nil && !hmac.Equal(meta.Get(keyArchCheck), keyCheck(s.archKey)) {
			return fmt.Errorf("%w: archive key does not match this gallery", ErrWrongKey)
		}
		p, err := s.getState(meta)
		if err != nil {
			return err
		}
		s.params = p
		if tx.Bucket(epochBucket(p.Epoch)) == nil || tx.Bucket(bucketArchive) == nil {
			return fmt.Errorf("%w: bucket of epoch %d or archive missing", ErrCorrupt, p.Epoch)
		}
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if isEpochBucket(name) && string(name) != string(epochBucket(p.Epoch)) {
				stale = append(stale, append([]byte(nil), name...))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.records = s.recordSealer(s.params.Epoch)
	if len(stale) == 0 || s.db.IsReadOnly() {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, name := range stale {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
}

func isEpochBucket(name []byte) bool {
	return len(name) == len(epochPrefix)+8 && string(name[:len(epochPrefix)]) == epochPrefix
}

// putState seals the gallery parameters into the meta bucket.
func (s *Store) putState(tx *bolt.Tx, p Params) error {
	b := []byte{tagState}
	b = appendString(b, p.Scheme)
	b = binary.BigEndian.AppendUint64(b, p.Epoch)
	b = binary.BigEndian.AppendUint32(b, uint32(p.Dim))
	b = binary.BigEndian.AppendUint32(b, uint32(p.RawDim))
	sealed, err := s.state.seal(bucketMeta, keyState, b)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyState, sealed)
}

// getState opens and checks the sealed gallery parameters.
func (s *Store) getState(meta *bolt.Bucket) (Params, error) {
	b, err := s.state.open(bucketMeta, keyState, meta.Get(keyState))
	if err != nil {
		return Params{}, fmt.Errorf("%w: state: %v", ErrCorrupt, err)
	}
	d := decoder{b: b}
	if tag := d.byte("tag"); d.err == nil && tag != tagState {
		return Params{}, fmt.Errorf("%w: state: tag %#x", ErrCorrupt, tag)
	}
	p := Params{Scheme: d.string("scheme", MaxSchemeLen)}
	p.Epoch = d.u64("epoch")
	p.Dim = int(d.u32("dim"))
	p.RawDim = int(d.u32("raw dim"))
	if err := d.finish(); err != nil {
		return Params{}, fmt.Errorf("%w: state: %v", ErrCorrupt, err)
	}
	if err := checkParams(p); err != nil {
		return Params{}, fmt.Errorf("%w: state: %v", ErrCorrupt, err)
	}
	return p, nil
}

// checkParams checks gallery parameters.
func checkParams(p Params) error {
	bad := func(field, reason string) error {
		return &InputError{Index: -1, Field: field, Reason: reason, Err: ErrInvalid}
	}
	switch {
	case p.Scheme == "" || len(p.Scheme) > MaxSchemeLen:
		return bad("scheme", fmt.Sprintf("length %d outside 1..%d", len(p.Scheme), MaxSchemeLen))
	case p.Dim < 1 || p.Dim > MaxDim:
		return bad("dim", fmt.Sprintf("%d outside 1..%d", p.Dim, MaxDim))
	case p.RawDim < 1 || p.RawDim > MaxDim:
		return bad("raw dim", fmt.Sprintf("%d outside 1..%d", p.RawDim, MaxDim))
	case p.Epoch == 0:
		return bad("epoch", "must be at least 1")
	}
	return nil
}

// Params returns the current scheme, dimensions and epoch.
func (s *Store) Params() Params {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.params
}

// Path returns the gallery file's path.
func (s *Store) Path() string { return s.path }

// zeroKeys overwrites the keys the store holds.
func (s *Store) zeroKeys() {
	s.dataKey.Zero()
	if s.archKey != nil {
		s.archKey.Zero()
	}
	clear(s.macKey)
}

// Close closes the file and zeroes the keys the store holds. Later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.snapshot = nil
	s.zeroKeys()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("gallery: close %s: %w", s.path, err)
	}
	return nil
}
