package opening

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// A label is a wire label of the garbled circuit: 128 bits. Its least
// significant bit is the point-and-permute bit.
type label struct{ lo, hi uint64 }

func (a label) xor(b label) label { return label{a.lo ^ b.lo, a.hi ^ b.hi} }

// lsb is the point-and-permute bit.
func (a label) lsb() uint64 { return a.lo & 1 }

// mask returns a when bit is 1 and the zero label when it is 0, without a
// branch on the bit.
func (a label) mask(bit uint64) label {
	m := -(bit & 1)
	return label{a.lo & m, a.hi & m}
}

func (a label) bytes(b []byte) {
	binary.LittleEndian.PutUint64(b[:8], a.lo)
	binary.LittleEndian.PutUint64(b[8:16], a.hi)
}

func labelFrom(b []byte) label {
	return label{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:16])}
}

// randomLabel reads a uniformly random label from rand.
func randomLabel(rand io.Reader) (label, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return label{}, fmt.Errorf("opening: reading randomness: %w", err)
	}
	return labelFrom(b[:]), nil
}

// fixedKey is the public AES-128 key of the fixed-key permutation π: the
// first 16 bytes of SHA-256("puente/opening/v1 fixed-key AES").
var fixedKey = func() [16]byte {
	h := sha256.Sum256([]byte("puente/opening/v1 fixed-key AES"))
	var k [16]byte
	copy(k[:], h[:16])
	return k
}()

// hasher is the tweakable circular correlation robust hash of Guo, Katz,
// Wang and Yu ("Efficient and Secure Multiparty Computation from Fixed-Key
// Block Ciphers", IEEE S&P 2020, section 7.3):
//
//	H(x, i) = π(π(x) ⊕ i) ⊕ π(x)
//
// with π fixed-key AES-128. Half-gates garbling is secure with it.
type hasher struct{ pi cipher.Block }

func newHasher() hasher {
	b, err := aes.NewCipher(fixedKey[:])
	if err != nil {
		panic(err) // a 16-byte key is always accepted
	}
	return hasher{pi: b}
}

func (h hasher) perm(x label) label {
	var b [16]byte
	x.bytes(b[:])
	h.pi.Encrypt(b[:], b[:])
	return labelFrom(b[:])
}

// tccr is H(x, tweak).
func (h hasher) tccr(x label, tweak uint64) label {
	p := h.perm(x)
	return h.perm(p.xor(label{lo: tweak})).xor(p)
}
