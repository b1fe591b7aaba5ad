package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// KeyID names a signing key: the SHA-256 of its encoded ML-DSA-65 public
// key (FIPS 204 pkEncode). It is public.
type KeyID [32]byte

// String returns the key ID in lower-case hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// ParseKeyID parses the hex form of a key ID.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("keys: key ID must be %d hex digits, got %d characters", 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("keys: key ID is not hex: %w", err)
	}
	return id, nil
}

func keyIDOf(pub []byte) KeyID { return sha256.Sum256(pub) }

// AlgMLDSA65 is the algorithm name of signing keys in stores and policy.
const AlgMLDSA65 = "ml-dsa-65"

// SigningKey is an ML-DSA-65 private key (FIPS 204, security category 3).
// Only its 32-byte seed is stored (FIPS 204 ML-DSA.KeyGen_internal expands
// it); the expanded key is rebuilt on load.
type SigningKey struct {
	_    noCompare
	seed key256
	sk   *mldsa65.PrivateKey
	pub  []byte
	id   KeyID
}

// GenerateSigningKey draws a new seed from rand.
func GenerateSigningKey(rand io.Reader) (*SigningKey, error) {
	k := &SigningKey{}
	if err := k.seed.read(rand, "signing key"); err != nil {
		return nil, err
	}
	k.expand()
	return k, nil
}

// SigningKeyFromSeed rebuilds a key from its 32-byte seed (as stored).
func SigningKeyFromSeed(seed []byte) (*SigningKey, error) {
	k := &SigningKey{}
	if len(seed) != len(k.seed.b) {
		return nil, fmt.Errorf("%w: signing key seed is %d bytes, want %d", ErrCorrupt, len(seed), len(k.seed.b))
	}
	copy(k.seed.b[:], seed)
	k.expand()
	return k, nil
}

func (k *SigningKey) expand() {
	pk, sk := mldsa65.NewKeyFromSeed(&k.seed.b)
	k.sk = sk
	k.pub = pk.Bytes()
	k.id = keyIDOf(k.pub)
}

// ID returns the key's ID.
func (k *SigningKey) ID() KeyID { return k.id }

// SignerID returns the key ID in hex; it lets a SigningKey serve as the
// signer of an audit log.
func (k *SigningKey) SignerID() string { return k.id.String() }

// PublicKey returns the encoded public key (1952 bytes).
func (k *SigningKey) PublicKey() []byte { return append([]byte(nil), k.pub...) }

// Sign signs msg under the context string domain (FIPS 204 §5.2: at most
// 255 bytes; each use in Puente has its own, e.g. "puente/audit/v1"). The
// signature is hedged: ML-DSA mixes fresh randomness from crypto/rand into
// the nonce, so two signatures of one message differ.
func (k *SigningKey) Sign(domain string, msg []byte) ([]byte, error) {
	if k.sk == nil {
		return nil, fmt.Errorf("keys: sign with a zeroed key: %w", ErrState)
	}
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(k.sk, msg, []byte(domain), true, sig); err != nil {
		return nil, fmt.Errorf("keys: sign: %w", err)
	}
	return sig, nil
}

// Seed returns a copy of the 32-byte seed, to be stored. Zero it after use.
func (k *SigningKey) Seed() []byte { return append([]byte(nil), k.seed.b[:]...) }

// Equal compares two keys' seeds in constant time.
func (k *SigningKey) Equal(o *SigningKey) bool { return k.seed.equal(&o.seed) }

// Zero overwrites the seed and the expanded private key; the key can no
// longer sign.
func (k *SigningKey) Zero() {
	k.seed.zero()
	if k.sk != nil {
		*k.sk = mldsa65.PrivateKey{}
		k.sk = nil
	}
}

// verifySig checks an ML-DSA-65 signature under domain.
func verifySig(pub []byte, domain string, msg, sig []byte) error {
	var pk mldsa65.PublicKey
	if err := pk.UnmarshalBinary(pub); err != nil {
		return fmt.Errorf("%w: bad public key: %v", ErrCorrupt, err)
	}
	if len(sig) != mldsa65.SignatureSize || !mldsa65.Verify(&pk, msg, []byte(domain), sig) {
		return ErrBadSignature
	}
	return nil
}
