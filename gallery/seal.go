package gallery

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
)

// KeySize is the size of a gallery key: the data key and the archive key.
const KeySize = 32

// Key is a 256-bit gallery key: the data key that seals protected templates, or the archive key
// that seals the enrolment archive of raw features. Keys cannot be compared with ==; use
// [Key.Equal]. The keys package keeps them sealed at rest; the gallery only borrows them.
type Key struct {
	b [KeySize]byte
	_ [0]func() // not comparable
}

// NewKey copies a 32-byte key. The caller should zero its own copy when done.
func NewKey(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("gallery: key is %d bytes, want %d", len(b), KeySize)
	}
	k := new(Key)
	copy(k.b[:], b)
	return k, nil
}

// Equal reports whether two keys are the same, in constant time.
func (k *Key) Equal(o *Key) bool {
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// Zero overwrites the key.
func (k *Key) Zero() { clear(k.b[:]) }

// clone returns a copy the store owns (and zeroes on Close).
func (k *Key) clone() *Key {
	c := new(Key)
	c.b = k.b
	return c
}

// HKDF info labels (RFC 5869). Each subkey has one purpose, so no key ever serves two.
const (
	labelRefMAC  = "puente/gallery v1 subject reference mac"
	labelState   = "puente/gallery v1 state"
	labelRecords = "puente/gallery v1 records epoch "
	labelArchive = "puente/gallery v1 archive"
)

// subkey derives a 32-byte subkey for one purpose with HKDF-SHA-256.
func (k *Key) subkey(label string, epoch uint64) []byte {
	info := []byte(label)
	if label == labelRecords {
		info = binary.BigEndian.AppendUint64(info, epoch)
	}
	out, err := hkdf.Key(sha256.New, k.b[:], nil, string(info), KeySize)
	if err != nil {
		panic("gallery: hkdf: " + err.Error()) // only for lengths HKDF-SHA-256 cannot produce
	}
	return out
}

// refMAC returns the bucket key of a subject reference: HMAC-SHA-256 under a subkey of the data
// key, so the file names no subject, and lookups and duplicate checks need no decryption.
func refMAC(macKey []byte, ref string) []byte {
	m := hmac.New(sha256.New, macKey)
	m.Write([]byte(ref))
	return m.Sum(nil)
}

// sealer is AES-256-GCM (NIST SP 800-38D) with random 96-bit nonces under one subkey. A subkey
// seals at most the records of one epoch (records) or the archive, far below SP 800-38D's 2^32
// limit for random nonces.
type sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

func newSealer(key []byte, rand io.Reader) *sealer {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("gallery: aes: " + err.Error()) // key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("gallery: gcm: " + err.Error())
	}
	clear(key)
	return &sealer{aead: aead, rand: rand}
}

// associatedData binds a sealed value to where it is stored: the bucket path and the key.
// Swapping two values, or moving one to another bucket or epoch, makes it fail to open.
func associatedData(bucket []byte, key []byte) []byte {
	ad := make([]byte, 0, 16+len(bucket)+len(key))
	ad = append(ad, "puente/gallery\x00"...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(bucket)))
	ad = append(ad, bucket...)
	return append(ad, key...)
}

// seal encrypts plaintext for (bucket, key): nonce || ciphertext || tag.
func (s *sealer) seal(bucket, key, plaintext []byte) ([]byte, error) {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := io.ReadFull(s.rand, out); err != nil {
		return nil, fmt.Errorf("gallery: reading randomness: %w", err)
	}
	return s.aead.Seal(out, out, plaintext, associatedData(bucket, key)), nil
}

// open decrypts a value sealed for (bucket, key). Any failure (truncated, tampered, moved, wrong
// key) is reported as one error: AES-GCM cannot tell them apart.
func (s *sealer) open(bucket, key, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("sealed value is %d bytes, shorter than nonce and tag", len(sealed))
	}
	pt, err := s.aead.Open(nil, sealed[:n], sealed[n:], associatedData(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("authentication failed (tampered, moved or wrong key)")
	}
	return pt, nil
}
