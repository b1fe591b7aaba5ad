package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// SeedSize is the size of a transform seed in bytes (256 bits).
const SeedSize = 32

// MinMaterialSize is the least amount of agreement key material, in bytes,
// that [DeriveSeed] accepts.
const MinMaterialSize = 32

// Seed is the 256-bit secret that keys a transform. Both parties of an
// agreement derive the same Seed with [DeriveSeed]; a new epoch gives a new,
// unrelated Seed. A Seed cannot be compared with ==; use [Seed.Equal].
// Call [Seed.Zero] when it is no longer needed.
type Seed struct {
	_ [0]func() // not comparable with ==
	b [SeedSize]byte
}

// SeedFromBytes copies a 32-byte seed, e.g. one read back from a key store.
func SeedFromBytes(b []byte) (Seed, error) {
	var s Seed
	if len(b) != SeedSize {
		return s, fmt.Errorf("%w: seed is %d bytes, want %d", ErrSeed, len(b), SeedSize)
	}
	copy(s.b[:], b)
	return s, nil
}

// Bytes returns a copy of the seed bytes, for a key store to persist. The
// caller should zero the copy when done.
func (s *Seed) Bytes() []byte { return append([]byte(nil), s.b[:]...) }

// Equal reports whether two seeds are the same, in constant time.
func (s *Seed) Equal(o *Seed) bool { return subtle.ConstantTimeCompare(s.b[:], o.b[:]) == 1 }

// Zero overwrites the seed.
func (s *Seed) Zero() { clear(s.b[:]) }

// IsZero reports whether the seed is all zero bytes (never derived, or
// zeroed), in constant time.
func (s *Seed) IsZero() bool {
	var z [SeedSize]byte
	return subtle.ConstantTimeCompare(s.b[:], z[:]) == 1
}

const redactedSeed = "protect.Seed(redacted)"

// String never shows the seed.
func (s Seed) String() string { return redactedSeed }

// GoString never shows the seed (the %#v verb).
func (s Seed) GoString() string { return redactedSeed }

// Format writes "protect.Seed(redacted)" for every verb and flag (%v, %+v,
// %#v, %x, %s, %q, %d, ...), so that no format string prints the seed's
// bytes. fmt reaches this method only through an exported value: a Seed
// held in an unexported field of another struct is printed by reflection,
// so types that hold one should format themselves.
func (s Seed) Format(f fmt.State, verb rune) { fmt.Fprint(f, redactedSeed) }

// DeriveSeed derives the transform seed of one agreement epoch with
// HKDF-SHA256 (RFC 5869). material is the per-epoch agreement secret that
// the key layer computes from both parties' contributions (at least
// [MinMaterialSize] bytes); it is the HKDF input keying material. The salt
// is the fixed label "puente/protect/v1 seed", and the info string binds the
// agreement ID, the scheme and the epoch, each length-prefixed, so that two
// agreements, two schemes or two epochs never share a seed even with the
// same material.
func DeriveSeed(material []byte, agreementID string, scheme Scheme, epoch uint64) (Seed, error) {
	var s Seed
	if len(material) < MinMaterialSize {
		return s, fmt.Errorf("%w: key material is %d bytes, need at least %d", ErrSeed, len(material), MinMaterialSize)
	}
	if agreementID == "" || len(agreementID) > 256 {
		return s, fmt.Errorf("%w: agreement ID must be 1 to 256 bytes, got %d", ErrSeed, len(agreementID))
	}
	if !scheme.valid() {
		return s, fmt.Errorf("%w: unknown scheme %d", ErrSeed, scheme)
	}
	info := make([]byte, 0, 64+len(agreementID))
	info = binary.BigEndian.AppendUint16(info, uint16(len(agreementID)))
	info = append(info, agreementID...)
	name := scheme.String()
	info = binary.BigEndian.AppendUint16(info, uint16(len(name)))
	info = append(info, name...)
	info = binary.BigEndian.AppendUint64(info, epoch)
	k, err := hkdf.Key(sha256.New, material, []byte("puente/protect/v1 seed"), string(info), SeedSize)
	if err != nil {
		return s, fmt.Errorf("%w: %v", ErrSeed, err)
	}
	copy(s.b[:], k)
	clear(k)
	return s, nil
}

// keystream is the deterministic expansion of a seed into the random
// numbers a transform is built from: HKDF-SHA256 derives a per-purpose
// AES-256 key from the seed, and AES-256 in counter mode (NIST SP 800-38A)
// with a zero IV produces the stream. It is used only while a transform is
// built and is not safe for concurrent use.
type keystream struct {
	ctr cipher.Stream
	buf [8]byte
	// spare holds the second normal deviate of a Box-Muller pair.
	spare    float64
	hasSpare bool
}

func newKeystream(seed *Seed, purpose string) *keystream {
	key, err := hkdf.Key(sha256.New, seed.b[:], []byte("puente/protect/v1 stream"), purpose, 32)
	if err != nil {
		panic("protect: hkdf: " + err.Error()) // only fails for absurd lengths
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		panic("protect: aes: " + err.Error())
	}
	return &keystream{ctr: cipher.NewCTR(block, make([]byte, aes.BlockSize))}
}

func (k *keystream) uint64() uint64 {
	clear(k.buf[:])
	k.ctr.XORKeyStream(k.buf[:], k.buf[:])
	return binary.LittleEndian.Uint64(k.buf[:])
}

// intn returns a uniform integer in [0, n) by Lemire's multiply-and-reject
// method (no modulo bias).
func (k *keystream) intn(n int) int {
	if n <= 0 {
		panic("protect: intn of non-positive bound")
	}
	bound := uint64(n)
	hi, lo := bits.Mul64(k.uint64(), bound)
	if lo < bound {
		thresh := -bound % bound
		for lo < thresh {
			hi, lo = bits.Mul64(k.uint64(), bound)
		}
	}
	return int(hi)
}

// float64 returns a uniform number in the open interval (0, 1).
func (k *keystream) float64() float64 {
	return (float64(k.uint64()>>11) + 0.5) / (1 << 53)
}

// normal returns a standard normal deviate (Box-Muller transform).
func (k *keystream) normal() float64 {
	if k.hasSpare {
		k.hasSpare = false
		return k.spare
	}
	u, v := k.float64(), k.float64()
	r := math.Sqrt(-2 * math.Log(u))
	s, c := math.Sincos(2 * math.Pi * v)
	k.spare, k.hasSpare = r*s, true
	return r * c
}

// perm returns a uniform random permutation of 0..n-1 (Fisher-Yates).
func (k *keystream) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := k.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
