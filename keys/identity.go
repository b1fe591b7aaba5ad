package keys

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"
)

// Identity is a node's age identity: the key every [FileStore] entry and
// every agreement contribution addressed to the node is sealed to. It is
// either hybrid post-quantum (ML-KEM-768 + X25519, "AGE-SECRET-KEY-PQ-1...")
// or classical X25519 ("AGE-SECRET-KEY-1...").
type Identity struct {
	id   age.Identity
	rcpt age.Recipient
	pq   bool
}

// GenerateIdentity makes a new node identity, hybrid post-quantum unless
// classical is set (for custodians whose tools cannot yet use ML-KEM
// recipients). age draws the key from crypto/rand.
func GenerateIdentity(classical bool) (*Identity, error) {
	if classical {
		k, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, fmt.Errorf("keys: generating identity: %w", err)
		}
		return &Identity{id: k, rcpt: k.Recipient()}, nil
	}
	k, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("keys: generating identity: %w", err)
	}
	return &Identity{id: k, rcpt: k.Recipient(), pq: true}, nil
}

// ParseIdentity reads one age identity in the age-keygen file format
// (comment lines starting with '#' allowed). what names the source in
// errors.
func ParseIdentity(r io.Reader, what string) (*Identity, error) {
	ids, err := age.ParseIdentities(io.LimitReader(r, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("keys: identity %s: %w", what, stripSecret(err))
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("keys: identity %s: want exactly one identity, found %d", what, len(ids))
	}
	switch k := ids[0].(type) {
	case *age.HybridIdentity:
		return &Identity{id: k, rcpt: k.Recipient(), pq: true}, nil
	case *age.X25519Identity:
		return &Identity{id: k, rcpt: k.Recipient()}, nil
	default:
		return nil, fmt.Errorf("keys: identity %s: unsupported identity type %T", what, k)
	}
}

// stripSecret drops any quoted text from an age parse error, which may echo
// part of the input line.
func stripSecret(err error) error {
	msg := err.Error()
	if i := strings.IndexAny(msg, "\"'"); i >= 0 {
		msg = strings.TrimSpace(msg[:i]) + " (input not shown)"
	}
	return errors.New(msg)
}

// LoadIdentity reads the identity file at path. The file must not be
// readable or writable by group or others (like ssh private keys).
func LoadIdentity(path string) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: identity file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keys: identity file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: identity file %s has mode %#o; it must be readable by its owner only (chmod 600): %w", path, st.Mode().Perm(), ErrPermission)
	}
	return ParseIdentity(f, path)
}

// Save writes the identity to a new file at path with mode 0600, atomically;
// it refuses to overwrite an existing file.
func (id *Identity) Save(path string, now time.Time) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Puente node identity, created %s\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# public key: %s\n", id.Recipient())
	fmt.Fprintf(&b, "%s\n", id.id)
	err := writeFileAtomic(path, b.Bytes(), false, nil)
	clear(b.Bytes())
	if err != nil {
		return fmt.Errorf("keys: saving identity: %w", err)
	}
	return nil
}

// Recipient returns the public recipient string ("age1pq1..." or "age1...")
// that partners and custodians seal to.
func (id *Identity) Recipient() string { return fmt.Sprint(id.rcpt) }

// PostQuantum reports whether the identity is hybrid ML-KEM-768 + X25519.
func (id *Identity) PostQuantum() bool { return id.pq }

// Custodian is a named person or office that can recover the entries of a
// [FileStore] with their own age identity.
type Custodian struct {
	Name      string
	Recipient string // age recipient, "age1pq1..." or "age1..."
	rcpt      age.Recipient
	pq        bool
}

// ParseCustodian checks a custodian's name and age recipient.
func ParseCustodian(name, recipient string) (Custodian, error) {
	if !validSegment(name) {
		return Custodian{}, fmt.Errorf("keys: custodian %q: invalid name (lower-case letters, digits, '.', '_', '-')", name)
	}
	c := Custodian{Name: name, Recipient: recipient}
	switch {
	case strings.HasPrefix(recipient, "age1pq1"):
		r, err := age.ParseHybridRecipient(recipient)
		if err != nil {
			return Custodian{}, fmt.Errorf("keys: custodian %q: bad recipient: %w", name, err)
		}
		c.rcpt, c.pq = r, true
	case strings.HasPrefix(recipient, "age1"):
		r, err := age.ParseX25519Recipient(recipient)
		if err != nil {
			return Custodian{}, fmt.Errorf("keys: custodian %q: bad recipient: %w", name, err)
		}
		c.rcpt = r
	default:
		return Custodian{}, fmt.Errorf("keys: custodian %q: recipient must start with age1pq1 or age1", name)
	}
	return c, nil
}

// recipients returns the node's recipient followed by the custodians',
// refusing to mix post-quantum and classical recipients: age forbids it,
// because the classical stanza would let a quantum attacker recover the
// file key and so void the post-quantum one.
func recipients(id *Identity, cs []Custodian) ([]age.Recipient, error) {
	rs := []age.Recipient{id.rcpt}
	for _, c := range cs {
		if c.pq != id.pq {
			kind := map[bool]string{true: "post-quantum (age1pq1)", false: "classical (age1)"}
			return nil, fmt.Errorf("keys: custodian %q has a %s recipient but the node identity is %s; age does not mix them, give every custodian a recipient of the node's kind", c.Name, kind[c.pq], kind[id.pq])
		}
		rs = append(rs, c.rcpt)
	}
	return rs, nil
}
