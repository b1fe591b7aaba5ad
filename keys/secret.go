package keys

import (
	"crypto/subtle"
	"fmt"
	"io"
)

// noCompare makes a struct incomparable: a struct holding it cannot be used
// with == or as a map key, so secrets are compared only through Equal.
type noCompare [0]func()

// Secret is variable-length secret material, such as an HE secret share,
// which this package stores without parsing. The zero value is empty.
type Secret struct {
	_ noCompare
	b []byte
}

// NewSecret returns a Secret holding a copy of b. The caller should zero
// its own copy.
func NewSecret(b []byte) *Secret {
	return &Secret{b: append([]byte(nil), b...)}
}

// Bytes returns the secret bytes without copying. They stay valid until
// Zero; callers must not keep them longer.
func (s *Secret) Bytes() []byte { return s.b }

// Len returns the length of the secret in bytes (not secret).
func (s *Secret) Len() int { return len(s.b) }

// Equal reports whether s and o hold the same bytes, in time that depends
// only on their lengths.
func (s *Secret) Equal(o *Secret) bool {
	return subtle.ConstantTimeCompare(s.b, o.b) == 1
}

// Zero overwrites the secret and empties it.
func (s *Secret) Zero() {
	clear(s.b)
	s.b = nil
}

// key256 is a 256-bit secret in a fixed-size array.
type key256 struct {
	_ noCompare
	b [32]byte
}

func (k *key256) equal(o *key256) bool {
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

func (k *key256) zero() { clear(k.b[:]) }

func (k *key256) isZero() bool {
	var z [32]byte
	return subtle.ConstantTimeCompare(k.b[:], z[:]) == 1
}

// read fills k from rand, refusing a reader that fails or returns all
// zeros (a broken source of randomness).
func (k *key256) read(rand io.Reader, what string) error {
	if _, err := io.ReadFull(rand, k.b[:]); err != nil {
		return fmt.Errorf("keys: reading randomness for %s: %w", what, err)
	}
	if k.isZero() {
		return fmt.Errorf("keys: randomness for %s is all zeros; the random source is broken", what)
	}
	return nil
}
