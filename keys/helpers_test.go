package keys

import (
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// detRand is a deterministic byte stream for tests: SHA-256 of a seed and a
// counter. Not for production use.
type detRand struct {
	seed string
	n    uint64
	buf  []byte
}

func newDetRand(seed string) *detRand { return &detRand{seed: seed} }

func (r *detRand) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.New()
		h.Write([]byte(r.seed))
		binary.Write(h, binary.BigEndian, r.n)
		r.n++
		r.buf = h.Sum(r.buf)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// zeroRand returns only zero bytes: a broken random source.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}
