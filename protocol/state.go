package protocol

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/puente-id/puente/keys/policy"
)

// stateDB is the responder's durable replay and quota state: the nonces it accepted (until
// their timestamps leave the replay window) and the time of every query it answered for each
// partner (for the sliding-window quota of the key policy). It is a bbolt file with one fsync'd
// transaction per change, so a restarted node neither accepts a nonce it accepted before nor
// forgets a query it answered.
type stateDB struct {
	db   *bolt.DB
	path string
	rand io.Reader
}

var (
	bucketNonces = []byte("nonces")
	quotaPrefix  = "quota/"
)

// openState opens (creating, mode 0600) the state file at path.
func openState(path string, rnd io.Reader) (*stateDB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("protocol: state %s: %w (is another puente process using this node?)", path, err)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketNonces)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("protocol: state %s: %w", path, err)
	}
	return &stateDB{db: db, path: path, rand: rnd}, nil
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

// seen reports whether the partner's nonce was accepted before (a read-only early check; admit
// decides).
func (s *stateDB) seen(partner string, nonce []byte) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketNonces).Get(nonceKey(partner, nonce)) != nil
		return nil
	})
	return found, err
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
}

// quotaBucket holds the times of a partner's answered queries (its quota).
func quotaBucket(partner string) []byte { return []byte(quotaPrefix + partner) }

// errNonceSeen and errQuotaSpent are admit's refusals; a spent limit is a *limitSpent naming
// the limit's bucket and wrapping errQuotaSpent.
var (
	errNonceSeen  = errors.New("nonce accepted before")
	errQuotaSpent = errors.New("quota spent")
)

// limitSpent says which limit admit found spent.
type limitSpent struct{ bucket []byte }

func (e *limitSpent) Error() string { return "limit spent" }
func (e *limitSpent) Unwrap() error { return errQuotaSpent }

// admit records the partner's nonce (kept until expiry) and reserves one query against each
// limit, in one durable transaction: all or nothing. It fails with errNonceSeen or a
// *limitSpent (errQuotaSpent) and then changes nothing.
func (s *stateDB) admit(partner string, nonce []byte, expiry time.Time, limits []limit, now time.Time) (ticket, error) {
	var t ticket
	if len(limits) > 0 {
		t.key = make([]byte, 16)
		binary.BigEndian.PutUint64(t.key, uint64(now.UnixNano()))
		if _, err := io.ReadFull(s.rand, t.key[8:]); err != nil {
			return ticket{}, err
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketNonces)
		nk := nonceKey(partner, nonce)
		if nb.Get(nk) != nil {
			return errNonceSeen
		}
		for _, l := range limits {
			qb, err := tx.CreateBucketIfNotExists(l.bucket)
			if err != nil {
				return err
			}
			if err := pruneBefore(qb, now.Add(-l.quota.Window)); err != nil {
				return err
			}
			if !l.quota.Allows(countKeys(qb)) {
				return &limitSpent{bucket: l.bucket}
			}
			if err := qb.Put(t.key, nil); err != nil {
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

// release gives a reserved query back (the query was not answered). The nonce stays recorded.
func (s *stateDB) release(t ticket) error {
	if t.key == nil {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
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

// used returns how many queries of the partner were answered within the window before now.
func (s *stateDB) used(partner string, window time.Duration, now time.Time) (int, error) {
	return s.counted(quotaBucket(partner), window, now)
}

// counted returns how many queries a limit's bucket holds within the window before now.
func (s *stateDB) counted(bucket []byte, window time.Duration, now time.Time) (int, error) {
	from := binary.BigEndian.AppendUint64(nil, uint64(now.Add(-window).UnixNano()))
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		qb := tx.Bucket(bucket)
		if qb == nil {
			return nil
		}
		c := qb.Cursor()
		for k, _ := c.Seek(from); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
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

// pruneNonces deletes the nonces whose timestamps have left the replay window: the window check
// refuses their requests by itself from then on.
func (s *stateDB) pruneNonces(now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
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
