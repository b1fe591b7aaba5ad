package keys

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"filippo.io/age"
)

// AlgHKDFSHA256 is the algorithm name of agreement secrets in stores and
// policy.
const AlgHKDFSHA256 = "hkdf-sha256"

// # Transform seed agreement
//
// For each epoch of an agreement, each partner draws a 256-bit
// [Contribution]. The exchange runs in two rounds so that neither partner
// can choose its contribution after seeing the other's:
//
//  1. each sends [Contribution.Commitment] (a SHA-256 hash binding party,
//     agreement, epoch and the contribution);
//  2. once both commitments are in, each sends its contribution sealed with
//     age to the other's node recipient ([Contribution.Seal]); the receiver
//     opens it and checks it against the commitment ([OpenContribution]).
//
// Both then compute [DeriveAgreementSecret]: HKDF-SHA256 (RFC 5869) with the
// two contributions, ordered by party name, as input keying material, and
// the agreement ID, epoch and party names as context. The secret is uniform
// if either contribution is; neither party alone chooses it.

// Contribution is one party's 256-bit share of an epoch's agreement secret.
type Contribution struct {
	_         noCompare
	Party     string
	Agreement string
	Epoch     uint64
	k         key256
}

// NewContribution draws a contribution from rand for party (this node) in
// the given agreement and epoch.
func NewContribution(rand io.Reader, party, agreement string, epoch uint64) (*Contribution, error) {
	if err := checkParties(party, agreement, epoch); err != nil {
		return nil, err
	}
	c := &Contribution{Party: party, Agreement: agreement, Epoch: epoch}
	if err := c.k.read(rand, "agreement contribution"); err != nil {
		return nil, err
	}
	return c, nil
}

func checkParties(party, agreement string, epoch uint64) error {
	if !validSegment(party) || !validSegment(agreement) || epoch == 0 {
		return fmt.Errorf("keys: agreement: party %q, agreement %q and epoch %d must be valid names and a positive epoch", party, agreement, epoch)
	}
	return nil
}

// appendLP appends a u8 length-prefixed string.
func appendLP(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

func (c *Contribution) header() []byte {
	b := appendLP(nil, c.Party)
	b = appendLP(b, c.Agreement)
	return binary.BigEndian.AppendUint64(b, c.Epoch)
}

// Commitment returns SHA-256("puente/agreement/commit/v1" || 0x00 || party
// || agreement || epoch || contribution), strings u8 length-prefixed.
func (c *Contribution) Commitment() [32]byte {
	h := sha256.New()
	h.Write([]byte("puente/agreement/commit/v1\x00"))
	h.Write(c.header())
	h.Write(c.k.b[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Zero overwrites the contribution.
func (c *Contribution) Zero() { c.k.zero() }

const contributionMagic = "puente-contribution/v1\n"

// Seal encrypts the contribution with age to the partner's node recipient
// ("age1pq1..." or "age1...").
func (c *Contribution) Seal(partnerRecipient string) ([]byte, error) {
	cu, err := ParseCustodian("partner", partnerRecipient)
	if err != nil {
		return nil, fmt.Errorf("keys: seal contribution: partner recipient: %w", err)
	}
	plain := c.Marshal()
	defer clear(plain)
	var out bytes.Buffer
	w, err := age.Encrypt(&out, cu.rcpt)
	if err == nil {
		_, err = w.Write(plain)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("keys: seal contribution: %w", err)
	}
	return out.Bytes(), nil
}

// OpenContribution decrypts a partner's sealed contribution with this
// node's identity and checks that it is from party, for agreement and
// epoch, and matches the commitment the partner sent earlier. Errors wrap
// [ErrWrongIdentity] or [ErrCorrupt] and name the field that was wrong.
func OpenContribution(sealed []byte, id *Identity, party, agreement string, epoch uint64, commitment [32]byte) (*Contribution, error) {
	if err := checkParties(party, agreement, epoch); err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id.id)
	if err != nil {
		if _, ok := err.(*age.NoIdentityMatchError); ok {
			return nil, fmt.Errorf("keys: contribution from %s: %w", party, ErrWrongIdentity)
		}
		return nil, fmt.Errorf("keys: contribution from %s: %w: %v", party, ErrCorrupt, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 1024))
	if err != nil {
		return nil, fmt.Errorf("keys: contribution from %s: %w: %v", party, ErrCorrupt, err)
	}
	defer clear(plain)
	c, err := parseContribution(plain)
	if err != nil {
		return nil, fmt.Errorf("keys: contribution from %s: %w", party, err)
	}
	got := c.Commitment()
	switch {
	case c.Party != party:
		err = fmt.Errorf("party is %q", c.Party)
	case c.Agreement != agreement:
		err = fmt.Errorf("agreement is %q, want %q", c.Agreement, agreement)
	case c.Epoch != epoch:
		err = fmt.Errorf("epoch is %d, want %d", c.Epoch, epoch)
	case subtle.ConstantTimeCompare(got[:], commitment[:]) != 1:
		err = fmt.Errorf("does not match the partner's commitment")
	}
	if err != nil {
		c.Zero()
		return nil, fmt.Errorf("keys: contribution from %s: %w: %v", party, ErrCorrupt, err)
	}
	return c, nil
}

// Marshal encodes the contribution, secret included, for a [Store] (which
// seals it). Zero the result after use.
func (c *Contribution) Marshal() []byte {
	return append(append([]byte(contributionMagic), c.header()...), c.k.b[:]...)
}

// UnmarshalContribution decodes what Marshal produced; errors wrap
// [ErrCorrupt].
func UnmarshalContribution(b []byte) (*Contribution, error) { return parseContribution(b) }

// parseContribution decodes the plaintext of a sealed contribution.
func parseContribution(b []byte) (*Contribution, error) {
	r := reader{b: b}
	if string(r.next(len(contributionMagic))) != contributionMagic {
		return nil, fmt.Errorf("%w: not a Puente contribution (bad magic)", ErrCorrupt)
	}
	c := &Contribution{}
	c.Party = string(r.next(int(r.u8())))
	c.Agreement = string(r.next(int(r.u8())))
	c.Epoch = r.u64()
	copy(c.k.b[:], r.next(32))
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: contribution has the wrong length", ErrCorrupt)
	}
	if err := checkParties(c.Party, c.Agreement, c.Epoch); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if c.k.isZero() {
		return nil, fmt.Errorf("%w: contribution is all zeros", ErrCorrupt)
	}
	return c, nil
}

// AgreementSecret is an epoch's 256-bit agreement secret, from which the
// protect package derives its scheme-specific transform seed.
type AgreementSecret struct {
	_         noCompare
	Agreement string
	Epoch     uint64
	k         key256
}

// DeriveAgreementSecret combines this node's and the partner's
// contributions:
//
//	secret = HKDF-SHA256(IKM  = c_A || c_B,
//	                     salt = "puente/agreement/v1",
//	                     info = agreement || epoch || A || B, L = 32)
//
// where A < B are the two party names in byte order (strings u8
// length-prefixed, epoch u64 big-endian). Both parties get the same secret.
// It refuses contributions for different agreements or epochs, from the
// same party, or equal to each other (a partner reflecting ours back).
func DeriveAgreementSecret(mine, theirs *Contribution) (*AgreementSecret, error) {
	switch {
	case mine.Agreement != theirs.Agreement || mine.Epoch != theirs.Epoch:
		return nil, fmt.Errorf("keys: derive: contributions for %s/%d and %s/%d", mine.Agreement, mine.Epoch, theirs.Agreement, theirs.Epoch)
	case mine.Party == theirs.Party:
		return nil, fmt.Errorf("keys: derive: both contributions are from %s", mine.Party)
	case mine.k.equal(&theirs.k):
		return nil, fmt.Errorf("keys: derive: %w: the partner's contribution equals ours", ErrCorrupt)
	}
	a, b := mine, theirs
	if b.Party < a.Party {
		a, b = b, a
	}
	ikm := append(append(make([]byte, 0, 64), a.k.b[:]...), b.k.b[:]...)
	defer clear(ikm)
	info := appendLP(nil, a.Agreement)
	info = binary.BigEndian.AppendUint64(info, a.Epoch)
	info = appendLP(appendLP(info, a.Party), b.Party)
	out, err := hkdf.Key(sha256.New, ikm, []byte("puente/agreement/v1"), string(info), 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive: %w", err)
	}
	s := &AgreementSecret{Agreement: a.Agreement, Epoch: a.Epoch}
	copy(s.k.b[:], out)
	clear(out)
	return s, nil
}

// Derive returns n bytes of key material for one use of the secret, named
// by label (HKDF-Expand, RFC 5869 §2.3, with info = label), e.g.
// "puente/protect/biohash/v1". Different labels give independent keys.
func (s *AgreementSecret) Derive(label string, n int) ([]byte, error) {
	out, err := hkdf.Expand(sha256.New, s.k.b[:], label, n)
	if err != nil {
		return nil, fmt.Errorf("keys: derive %q: %w", label, err)
	}
	return out, nil
}

// Equal compares two secrets in constant time.
func (s *AgreementSecret) Equal(o *AgreementSecret) bool { return s.k.equal(&o.k) }

// Zero overwrites the secret.
func (s *AgreementSecret) Zero() { s.k.zero() }
