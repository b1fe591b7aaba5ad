package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protocol/wire"
)

// stateDB is the responder's durable replay and quota state: the nonces it accepted (until
// their timestamps leave the replay window) and the time and request ID of every query it
// answered for each partner (for the sliding-window quota of the key policy). It is a bbolt file
// with one fsync'd transaction per change, so a restarted node neither accepts a nonce it
// accepted before nor forgets a query it answered.
//
// The file is made with the node (home.InitHome, through CreateState) and checked whenever it
// is opened: a missing or damaged one is refused, never made anew, since a new one would forget
// the quota used and the nonces seen; RebuildState makes it again, explicitly and audited, from
// what the audit log proves. A storage-engine panic on a damaged page is turned into an error.
type stateDB struct {
	db   *bolt.DB
	path string
	rand io.Reader
	// rebuilt is when the file was last rebuilt (zero: never). Nonces accepted before it are
	// not in the file, so a request signed before it may be a replay and is refused.
	rebuilt time.Time
	// expiryFloor is rebuilt plus the replay window: a nonce's expiry is its request's time
	// plus the window, so one that expires by then was signed before the rebuild.
	expiryFloor time.Time
}

// rebuiltWindow sets the replay window the node's requests are signed within.
func (s *stateDB) rebuiltWindow(window time.Duration) {
	if !s.rebuilt.IsZero() {
		s.expiryFloor = s.rebuilt.Add(window)
	}
}

var (
	bucketNonces = []byte("nonces")
	bucketMeta   = []byte("meta")
	keyFormat    = []byte("format")
	keyRebuilt   = []byte("rebuilt")
	quotaPrefix  = "quota/"
	// ceremonyPrefix starts the buckets of the ceremonies each partner started (ceremonyBucket).
	ceremonyPrefix = "ceremony/"
)

// stateFormat identifies a state file.
const stateFormat = "puente-state/v1"

// Errors of openState.
var (
	// ErrStateMissing: the node's state file is not there.
	ErrStateMissing = errors.New("protocol: state file missing")
	// ErrStateCorrupt: the node's state file does not check out.
	ErrStateCorrupt = errors.New("protocol: state file damaged")
)

// openState opens the state file at path and checks it (checkPages, then check). With create,
// a missing file is made (mode 0600) for a new node; otherwise it is ErrStateMissing.
func openState(path string, rnd io.Reader, create bool) (*stateDB, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !create {
		return nil, fmt.Errorf("%w: %s", ErrStateMissing, path)
	}
	db, err := openBoltState(path)
	if err != nil {
		return nil, err
	}
	s := &stateDB{db: db, path: path, rand: rnd}
	// The pages first: a lookup (init's) walks the tree, and on a damaged file whose tree
	// has a cycle it would recurse until the stack overflows, which no recover catches.
	if err := s.checkPages(); err != nil {
		// Not closed: bbolt's check may still be reading the mapped file (checkPages), and
		// unmapping it would fault that goroutine, a fatal error. The file stays open and
		// locked until the process exits, which it does on this error.
		return nil, err
	}
	if err := s.update(func(tx *bolt.Tx) error { return s.init(tx, create) }); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// CreateState makes the replay and quota state file of a new node at path (mode 0600), as
// home.InitHome asks it to (InitOptions.NewState).
func CreateState(path string) error {
	st, err := openState(path, nil, true)
	if err != nil {
		return err
	}
	return st.close()
}

// openBoltState opens the bbolt file, turning the engine's panics and refusals of a damaged
// file into ErrStateCorrupt. (After such a panic the engine keeps the file open and locked in
// this process, which refuses to start anyway.)
func openBoltState(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: the storage engine failed on it: %v", ErrStateCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("protocol: state %s: %w", path, err)
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("protocol: state %s is locked by another process: %w", path, err)
	}
	return nil, fmt.Errorf("%w: %s: %v", ErrStateCorrupt, path, err)
}

// init makes the buckets of a new file (create) and marks a file of an older build, which had
// no meta bucket, with the format.
func (s *stateDB) init(tx *bolt.Tx, create bool) error {
	if tx.Bucket(bucketNonces) == nil {
		if !create {
			return fmt.Errorf("%w: %s has no nonces bucket", ErrStateCorrupt, s.path)
		}
		if _, err := tx.CreateBucket(bucketNonces); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketMeta) != nil {
		return nil
	}
	meta, err := tx.CreateBucket(bucketMeta)
	if err != nil {
		return err
	}
	return meta.Put(keyFormat, []byte(stateFormat))
}

// checkPages runs bbolt's own consistency check of every page, which walks the tree without
// a lookup and reports a page reached twice (a cycle) before it would descend into it again.
// It returns at the first problem: reading on would follow a cycle down until the stack
// overflows. The check's goroutine then goes on reading pages until its next report, on which
// it blocks forever, so the caller must not close (unmap) the file after an error.
func (s *stateDB) checkPages() error {
	err := s.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrStateCorrupt) {
		return fmt.Errorf("%w: %s: %v", ErrStateCorrupt, s.path, err)
	}
	return err
}

// check reads the form of every entry, on a file whose pages checkPages passed. It fails with
// ErrStateCorrupt naming what is wrong.
func (s *stateDB) check() error {
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || string(meta.Get(keyFormat)) != stateFormat {
			return fmt.Errorf("no %s format mark", stateFormat)
		}
		if v := meta.Get(keyRebuilt); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("rebuilt time of %d bytes", len(v))
			}
			s.rebuilt = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			switch {
			case bytes.Equal(name, bucketNonces):
				return b.ForEach(func(k, v []byte) error {
					if len(k) != sha256.Size || len(v) != 8 {
						return fmt.Errorf("nonce entry of %d and %d bytes", len(k), len(v))
					}
					return nil
				})
			case bytes.HasPrefix(name, []byte(quotaPrefix)), bytes.HasPrefix(name, []byte(verifyPrefix)),
				bytes.HasPrefix(name, []byte(verifyFloorPrefix)), bytes.HasPrefix(name, []byte(ceremonyPrefix)):
				return b.ForEach(func(k, v []byte) error {
					if (len(k) != 16 && len(k) != 8+wire.RequestIDLen) || len(v) != 0 {
						return fmt.Errorf("limit entry of %d bytes in %q", len(k), name)
					}
					return nil
				})
			case bytes.Equal(name, bucketHalted):
				return b.ForEach(func(k, v []byte) error {
					_, err := parseHalt(k, v)
					return err
				})
			case bytes.Equal(name, bucketMeta):
				return nil
			}
			return fmt.Errorf("unknown bucket %q", name)
		})
	})
	if err != nil && !errors.Is(err, ErrStateCorrupt) {
		return fmt.Errorf("%w: %s: %v", ErrStateCorrupt, s.path, err)
	}
	return err
}

// view and update run a transaction; a panic of the storage engine on a damaged page (or a
// fault on a page past the end of a truncated file) becomes ErrStateCorrupt, not a crash.
func (s *stateDB) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverCorrupt(&err)
	return s.db.View(fn)
}

func (s *stateDB) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverCorrupt(&err)
	return s.db.Update(fn)
}

func (s *stateDB) recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: the storage engine failed on it: %v", ErrStateCorrupt, s.path, r)
	}
}

func (s *stateDB) close() error { return s.db.Close() }

// nonceKey binds a nonce to the partner that sent it.
func nonceKey(partner string, nonce []byte) []byte {
	h := sha256.New()
	h.Write([]byte("puente/v1 nonce\x00"))
	h.Write([]byte(partner))
	h.Write([]byte{0})
	h.Write(nonce)
	return h.Sum(nil)
}

// requestKey is the nonces bucket's key of a query's request ID (admitQuery): as a nonce's, a
// SHA-256, separated from the nonces' by its label.
func requestKey(partner string, requestID []byte) []byte {
	h := sha256.New()
	h.Write([]byte("puente/v1 request\x00"))
	h.Write([]byte(partner))
	h.Write([]byte{0})
	h.Write(requestID)
	return h.Sum(nil)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// seen reports whether the partner's nonce was accepted before (a read-only early check; admit
// decides).
func (s *stateDB) seen(partner string, nonce []byte) (bool, error) {
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketNonces).Get(nonceKey(partner, nonce)) != nil
		return nil
	})
	return found, err
}

// requestSeen reports whether the partner's request ID is kept as used by a query before (a
// read-only early check; admitQuery decides).
func (s *stateDB) requestSeen(partner string, requestID []byte, now time.Time) (bool, error) {
	var found bool
	err := s.view(func(tx *bolt.Tx) error {
		found = requestKept(tx.Bucket(bucketNonces), requestKey(partner, requestID), now)
		return nil
	})
	return found, err
}

// requestKept reports whether nb keeps request key rk as used at now.
func requestKept(nb *bolt.Bucket, rk []byte, now time.Time) bool {
	v := nb.Get(rk)
	return len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= now.UnixNano()
}

// signedBeforeRebuild reports whether a request signed at sentAt predates the last rebuild of
// the file: its nonce may have been accepted and forgotten, so it is treated as a replay.
func (s *stateDB) signedBeforeRebuild(sentAt time.Time) bool {
	return !s.rebuilt.IsZero() && !sentAt.After(s.rebuilt)
}

// ticket is a reserved query: one entry, under one key, in each limit's bucket; release gives
// it back.
type ticket struct {
	key     []byte   // nil when no limit applies (ceremony requests)
	buckets [][]byte // the limits' buckets
}

// limit is a sliding-window limit admit reserves against: the bucket that holds the times of
// the queries counted (quotaBucket, verifyBucket) and the policy's "N per PERIOD".
type limit struct {
	bucket []byte
	quota  policy.Quota
	// floor, if set, is a bucket of queries counted against the limit too but never written
	// by admit: after a rebuild of the state, the answers the audit log proves, which may have
	// been verifications of any reference (verifyFloorBucket).
	floor []byte
}

// quotaBucket holds the times of a partner's answered queries (its quota).
func quotaBucket(partner string) []byte { return []byte(quotaPrefix + partner) }

// errNonceSeen, errRequestSeen and errQuotaSpent are admit's refusals; a spent limit is a
// *limitSpent naming the limit's bucket and wrapping errQuotaSpent.
var (
	errNonceSeen   = errors.New("nonce accepted before")
	errRequestSeen = errors.New("request ID accepted before")
	errQuotaSpent  = errors.New("quota spent")
)

// limitSpent says which limit admit found spent, and from when it allows one more (zero: not
// known).
type limitSpent struct {
	bucket []byte
	free   time.Time
}

func (e *limitSpent) Error() string { return "limit spent" }
func (e *limitSpent) Unwrap() error { return errQuotaSpent }

// admit records the partner's nonce (kept until expiry) and reserves one query against each
// limit, in one durable transaction: all or nothing. It fails with errNonceSeen or a
// *limitSpent (errQuotaSpent) and then changes nothing. A request whose expiry shows it was
// signed before the file was last rebuilt counts as seen.
func (s *stateDB) admit(partner string, nonce []byte, expiry time.Time, limits []limit, now time.Time) (ticket, error) {
	return s.admitQuery(partner, nonce, nil, expiry, limits, now)
}

// admitQuery is admit for a query with its request ID, which names its reservations so that a
// restart can give back those of a query a crash interrupted (releaseRequest). The request ID
// must be new: it is kept with the nonces until the longest of the limits' windows (at least
// the nonce's expiry) has passed, and a query that uses it again within that time fails with
// errRequestSeen. Otherwise the querier's choice of ID could make two answered queries share
// one, which breaks the one-to-one pairing of the two nodes' audit records, and a restart's
// release of one could give back the other's reservation.
func (s *stateDB) admitQuery(partner string, nonce, requestID []byte, expiry time.Time, limits []limit, now time.Time) (ticket, error) {
	var t ticket
	if len(limits) > 0 {
		var err error
		if t.key, err = s.limitKey(now, requestID); err != nil {
			return ticket{}, err
		}
	}
	err := s.update(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNonces)
		nk := nonceKey(partner, nonce)
		if nb.Get(nk) != nil || !s.expiryFloor.IsZero() && !expiry.After(s.expiryFloor) {
			return errNonceSeen
		}
		if len(requestID) == wire.RequestIDLen {
			rk := requestKey(partner, requestID)
			if requestKept(nb, rk, now) {
				return errRequestSeen
			}
			keep := expiry
			for _, l := range limits {
				keep = later(keep, now.Add(l.quota.Window))
			}
			if err := nb.Put(rk, binary.BigEndian.AppendUint64(nil, uint64(keep.UnixNano()))); err != nil {
				return err
			}
		}
		for _, l := range limits {
			if err := reserve(tx, l, t.key, now); err != nil {
				return err
			}
			t.buckets = append(t.buckets, l.bucket)
		}
		return nb.Put(nk, binary.BigEndian.AppendUint64(nil, uint64(expiry.UnixNano())))
	})
	if err != nil {
		return ticket{}, err
	}
	return t, nil
}

// limitKey is the key of an entry made now in a limit's bucket: the time, then the request ID
// or, without one, 8 random bytes.
func (s *stateDB) limitKey(now time.Time, requestID []byte) ([]byte, error) {
	key := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	if len(requestID) == wire.RequestIDLen {
		return append(key, requestID...), nil
	}
	key = append(key, make([]byte, 8)...)
	if _, err := io.ReadFull(s.rand, key[8:]); err != nil {
		return nil, err
	}
	return key, nil
}

// reserve puts key in l's bucket, after dropping the entries that have left the window, or fails
// with a *limitSpent if the limit counts its quota already.
func reserve(tx *bolt.Tx, l limit, key []byte, now time.Time) error {
	qb, err := tx.CreateBucketIfNotExists(l.bucket)
	if err != nil {
		return err
	}
	from := now.Add(-l.quota.Window)
	if err := pruneBefore(qb, from); err != nil {
		return err
	}
	if !l.quota.Allows(countKeys(qb) + countSince(tx.Bucket(l.floor), from)) {
		return &limitSpent{bucket: l.bucket, free: freedAt(tx, l, now)}
	}
	return qb.Put(key, nil)
}

// freedAt is the time from which l, spent at now, allows one more: when the entries it counts
// (its bucket's and its floor's) have left its window, oldest first, until it counts fewer than
// its quota. An entry made later leaves later, and a reservation given back only frees one
// sooner. Zero: l is not spent, or allows none.
func freedAt(tx *bolt.Tx, l limit, now time.Time) time.Time {
	from := now.Add(-l.quota.Window)
	ts := append(entriesSince(tx.Bucket(l.bucket), from), entriesSince(tx.Bucket(l.floor), from)...)
	k := len(ts) - l.quota.Queries // the entry whose leaving brings the count below the quota
	if k < 0 || k >= len(ts) {
		return time.Time{} // not spent, or a quota of none
	}
	slices.SortFunc(ts, time.Time.Compare)
	return ts[k].Add(l.quota.Window)
}

// entriesSince returns the times of the entries of a limit's bucket (nil: none) made at or
// after from.
func entriesSince(b *bolt.Bucket, from time.Time) []time.Time {
	if b == nil {
		return nil
	}
	var ts []time.Time
	c := b.Cursor()
	for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, uint64(from.UnixNano()))); len(k) >= 8; k, _ = c.Next() {
		ts = append(ts, time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))))
	}
	return ts
}

// charge counts one event now against l, a limit of events that carry no nonce of their own
// (the ceremonies a partner starts: ceremonyBucket), in one durable transaction. Past the limit
// it fails with a *limitSpent, and writes nothing.
func (s *stateDB) charge(l limit, now time.Time) error {
	key, err := s.limitKey(now, nil)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return reserve(tx, l, key, now) })
}

// release gives a reserved query back (the query was not answered). The nonce stays recorded.
func (s *stateDB) release(t ticket) error {
	if t.key == nil {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, b := range t.buckets {
			if qb := tx.Bucket(b); qb != nil {
				if err := qb.Delete(t.key); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// releaseRequest gives back the reservations of the partner's query with requestID (in its
// quota and, for a Verify, in the reference's verification limit), if it made them, and reports
// whether it did.
func (s *stateDB) releaseRequest(partner string, requestID []byte) (bool, error) {
	found := false
	err := s.update(func(tx *bolt.Tx) error {
		var buckets [][]byte
		c := tx.Cursor()
		vp := []byte(verifyPrefix + partner + "/")
		for name, _ := c.Seek(vp); name != nil && bytes.HasPrefix(name, vp); name, _ = c.Next() {
			buckets = append(buckets, bytes.Clone(name))
		}
		buckets = append(buckets, quotaBucket(partner))
		for _, name := range buckets {
			qb := tx.Bucket(name)
			if qb == nil {
				continue
			}
			qc := qb.Cursor()
			for k, _ := qc.First(); k != nil; k, _ = qc.Next() {
				if len(k) == 8+wire.RequestIDLen && bytes.Equal(k[8:], requestID) {
					found = true
					if err := qc.Delete(); err != nil {
						return err
					}
					break
				}
			}
		}
		return nil
	})
	return found, err
}

// used returns how many queries of the partner were answered within the window before now.
func (s *stateDB) used(partner string, window time.Duration, now time.Time) (int, error) {
	return s.counted(limit{bucket: quotaBucket(partner), quota: policy.Quota{Window: window}}, now)
}

// spent returns how many queries l counts within its window before now and, if that is its
// quota or more, from when it allows one more (freedAt).
func (s *stateDB) spent(l limit, now time.Time) (used int, free time.Time, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		from := now.Add(-l.quota.Window)
		used = countSince(tx.Bucket(l.bucket), from) + countSince(tx.Bucket(l.floor), from)
		if !l.quota.Allows(used) {
			free = freedAt(tx, l, now)
		}
		return nil
	})
	return used, free, err
}

// counted returns how many queries a limit counts within its window before now.
func (s *stateDB) counted(l limit, now time.Time) (int, error) {
	n, _, err := s.spent(l, now)
	return n, err
}

// countSince counts the entries of a limit's bucket (nil: none) made at or after from.
func countSince(b *bolt.Bucket, from time.Time) int {
	if b == nil {
		return 0
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, uint64(from.UnixNano()))); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// countKeys counts a bucket's keys with a cursor (Bucket.Stats does not see the writes of the
// transaction it runs in).
func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// pruneBefore deletes the quota entries older than cutoff.
func pruneBefore(qb *bolt.Bucket, cutoff time.Time) error {
	end := binary.BigEndian.AppendUint64(nil, uint64(cutoff.UnixNano()))
	c := qb.Cursor()
	for k, _ := c.First(); k != nil && string(k[:8]) < string(end); k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// pruneNonces deletes the nonces whose timestamps have left the replay window (the window check
// refuses their requests by itself from then on) and the request IDs kept past their time
// (admitQuery).
func (s *stateDB) pruneNonces(now time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNonces)
		var old [][]byte
		err := nb.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < now.UnixNano() {
				old = append(old, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := nb.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
