package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// Keyring is the public record of the signing keys of one or more nodes
// and when each was valid. Rotation gives the new key a start time and the
// old key an end time a little later (the overlap window), so messages
// signed just before a rotation still verify; a revoked key's window ends
// at its revocation. It is safe to share with partners; it holds no secret.
//
// A Keyring is not safe for concurrent mutation; Verify may run
// concurrently with other Verify calls.
type Keyring struct {
	entries []KeyringEntry
}

// KeyringEntry is one public key and its validity window [NotBefore,
// NotAfter); a zero NotAfter means "until rotated".
type KeyringEntry struct {
	ID        KeyID
	Node      string
	PublicKey []byte
	NotBefore time.Time
	NotAfter  time.Time
	Revoked   bool
}

// ValidAt reports whether the entry's window contains t.
func (e *KeyringEntry) ValidAt(t time.Time) bool {
	return !t.Before(e.NotBefore) && (e.NotAfter.IsZero() || t.Before(e.NotAfter))
}

// Entries returns a copy of the keyring's entries in the order added.
func (r *Keyring) Entries() []KeyringEntry { return slices.Clone(r.entries) }

// Lookup returns the entry for id.
func (r *Keyring) Lookup(id KeyID) (KeyringEntry, bool) {
	for _, e := range r.entries {
		if e.ID == id {
			return e, true
		}
	}
	return KeyringEntry{}, false
}

// Current returns the node's newest key valid at t.
func (r *Keyring) Current(node string, t time.Time) (KeyringEntry, bool) {
	var best KeyringEntry
	found := false
	for _, e := range r.entries {
		if e.Node == node && e.ValidAt(t) && (!found || e.NotBefore.After(best.NotBefore)) {
			best, found = e, true
		}
	}
	return best, found
}

// Rotate adds pub as node's key from at on, and ends the node's other open
// keys at at+overlap.
func (r *Keyring) Rotate(node string, pub []byte, at time.Time, overlap time.Duration) error {
	if !validSegment(node) {
		return fmt.Errorf("keys: keyring: invalid node name %q", node)
	}
	if len(pub) != mldsa65.PublicKeySize {
		return fmt.Errorf("keys: keyring: public key is %d bytes, want %d", len(pub), mldsa65.PublicKeySize)
	}
	if overlap < 0 {
		return fmt.Errorf("keys: keyring: negative overlap %v", overlap)
	}
	id := keyIDOf(pub)
	if _, dup := r.Lookup(id); dup {
		return fmt.Errorf("keys: keyring: key %s is already in the keyring", id)
	}
	for i := range r.entries {
		e := &r.entries[i]
		if e.Node == node && (e.NotAfter.IsZero() || e.NotAfter.After(at.Add(overlap))) {
			e.NotAfter = at.Add(overlap).UTC()
		}
	}
	r.entries = append(r.entries, KeyringEntry{ID: id, Node: node, PublicKey: bytes.Clone(pub), NotBefore: at.UTC()})
	return nil
}

// Revoke ends key id's validity at at (if it was later) and marks it
// revoked: signatures dated from at on no longer verify.
func (r *Keyring) Revoke(id KeyID, at time.Time) error {
	for i := range r.entries {
		e := &r.entries[i]
		if e.ID == id {
			if e.NotAfter.IsZero() || e.NotAfter.After(at) {
				e.NotAfter = at.UTC()
			}
			e.Revoked = true
			return nil
		}
	}
	return fmt.Errorf("keys: revoke %s: %w", id, ErrUnknownSigner)
}

// Verify checks that sig is a signature of msg under domain by the key
// with hex ID signerID, and that the key was valid at time at (the signing
// time the message claims). Errors wrap [ErrUnknownSigner],
// [ErrNotValidAt] or [ErrBadSignature].
//
// A revoked key's window ends at its revocation, so it verifies only
// signatures dated earlier. The date is the signer's claim: a thief of the
// key can date a forgery before the revocation and it verifies here. The
// audit log refuses records signed by a key after the record of its
// revocation; elsewhere, bind signatures to something the signer cannot
// backdate (a peer's nonce, a head noted earlier).
func (r *Keyring) Verify(signerID string, at time.Time, domain string, msg, sig []byte) error {
	id, err := ParseKeyID(signerID)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnknownSigner, err)
	}
	e, ok := r.Lookup(id)
	if !ok {
		return fmt.Errorf("keys: key %s: %w", id, ErrUnknownSigner)
	}
	if !e.ValidAt(at) {
		return fmt.Errorf("keys: key %s (node %s) at %s: %w", id, e.Node, at.UTC().Format(time.RFC3339), ErrNotValidAt)
	}
	if err := verifySig(e.PublicKey, domain, msg, sig); err != nil {
		return fmt.Errorf("keys: key %s: %w", id, err)
	}
	return nil
}

// NodeOf returns the node whose key has hex ID signerID, if the keyring holds it (it implements
// audit.NodeKeys: a keyring of several nodes' keys checks that each signature is by the key of
// the node it speaks for).
func (r *Keyring) NodeOf(signerID string) (string, bool) {
	id, err := ParseKeyID(signerID)
	if err != nil {
		return "", false
	}
	e, ok := r.Lookup(id)
	return e.Node, ok
}

// keyringJSON is the file form of a keyring.
type keyringJSON struct {
	Format string      `json:"format"`
	Keys   []entryJSON `json:"keys"`
}

type entryJSON struct {
	ID        string `json:"id"`
	Node      string `json:"node"`
	PublicKey string `json:"public_key"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after,omitempty"`
	Revoked   bool   `json:"revoked,omitempty"`
}

const keyringFormat = "puente-keyring/v1"

// MarshalJSON encodes the keyring as indented JSON.
func (r *Keyring) MarshalJSON() ([]byte, error) {
	k := keyringJSON{Format: keyringFormat, Keys: []entryJSON{}}
	for _, e := range r.entries {
		j := entryJSON{ID: e.ID.String(), Node: e.Node, PublicKey: base64.StdEncoding.EncodeToString(e.PublicKey),
			NotBefore: e.NotBefore.UTC().Format(time.RFC3339Nano), Revoked: e.Revoked}
		if !e.NotAfter.IsZero() {
			j.NotAfter = e.NotAfter.UTC().Format(time.RFC3339Nano)
		}
		k.Keys = append(k.Keys, j)
	}
	return json.MarshalIndent(k, "", "  ")
}

// ParseKeyring decodes and checks a keyring: known fields only, each ID the
// hash of its public key, no duplicates, each window well ordered. what
// names the source in errors.
func ParseKeyring(data []byte, what string) (*Keyring, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var k keyringJSON
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("keys: keyring %s: %w: %v", what, ErrCorrupt, err)
	}
	if k.Format != keyringFormat {
		return nil, fmt.Errorf("keys: keyring %s: %w: format %q, want %q", what, ErrCorrupt, k.Format, keyringFormat)
	}
	r := &Keyring{}
	for i, j := range k.Keys {
		e, err := j.decode()
		if err != nil {
			return nil, fmt.Errorf("keys: keyring %s: key %d: %w: %v", what, i+1, ErrCorrupt, err)
		}
		if _, dup := r.Lookup(e.ID); dup {
			return nil, fmt.Errorf("keys: keyring %s: key %d: %w: duplicate key %s", what, i+1, ErrCorrupt, e.ID)
		}
		r.entries = append(r.entries, e)
	}
	return r, nil
}

func (j *entryJSON) decode() (KeyringEntry, error) {
	var e KeyringEntry
	id, err := ParseKeyID(j.ID)
	if err != nil {
		return e, err
	}
	pub, err := base64.StdEncoding.DecodeString(j.PublicKey)
	if err != nil || len(pub) != mldsa65.PublicKeySize {
		return e, fmt.Errorf("public_key is not a base64 ML-DSA-65 public key")
	}
	if keyIDOf(pub) != id {
		return e, fmt.Errorf("id %s is not the hash of its public key", j.ID)
	}
	if !validSegment(j.Node) {
		return e, fmt.Errorf("invalid node name %q", j.Node)
	}
	e = KeyringEntry{ID: id, Node: j.Node, PublicKey: pub, Revoked: j.Revoked}
	if e.NotBefore, err = time.Parse(time.RFC3339Nano, j.NotBefore); err != nil {
		return e, fmt.Errorf("not_before: %v", err)
	}
	if j.NotAfter != "" {
		if e.NotAfter, err = time.Parse(time.RFC3339Nano, j.NotAfter); err != nil {
			return e, fmt.Errorf("not_after: %v", err)
		}
		if e.NotAfter.Before(e.NotBefore) {
			return e, fmt.Errorf("not_after is before not_before")
		}
	}
	// MarshalJSON writes times in UTC, and RFC 3339 has four-digit years: a time read at
	// another offset could otherwise be written as a year RFC 3339 cannot hold.
	for _, t := range []time.Time{e.NotBefore, e.NotAfter} {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return e, fmt.Errorf("a time in UTC is outside the years 0000 to 9999")
		}
	}
	return e, nil
}
