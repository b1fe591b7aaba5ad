package keys

import (
	"fmt"
	"io"
)

// Printing secrets. Every type here that holds secret material formats as a
// short description with the secret replaced by "REDACTED", for every fmt
// verb (%v, %+v, %#v, %s, %x, ...), so that a log line or an error wrapping
// one of them cannot show key material. The methods have value receivers so
// that a dereferenced copy is redacted too. Fields that are not secret
// (agreement, epoch, party, key ID, role ID) still show.

const redacted = "REDACTED"

// String describes the secret by its length only.
func (s Secret) String() string { return fmt.Sprintf("keys.Secret{%d bytes %s}", len(s.b), redacted) }

// GoString is String: %#v does not show the bytes either.
func (s Secret) GoString() string { return s.String() }

// Format writes String for every verb.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// String names the contribution without its value.
func (c Contribution) String() string {
	return fmt.Sprintf("keys.Contribution{Party:%s Agreement:%s Epoch:%d %s}", c.Party, c.Agreement, c.Epoch, redacted)
}

// GoString is String.
func (c Contribution) GoString() string { return c.String() }

// Format writes String for every verb.
func (c Contribution) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// String names the secret's agreement and epoch without its value.
func (s AgreementSecret) String() string {
	return fmt.Sprintf("keys.AgreementSecret{Agreement:%s Epoch:%d %s}", s.Agreement, s.Epoch, redacted)
}

// GoString is String.
func (s AgreementSecret) GoString() string { return s.String() }

// Format writes String for every verb.
func (s AgreementSecret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// String names the key by its ID, without its seed.
func (k SigningKey) String() string { return fmt.Sprintf("keys.SigningKey{ID:%s %s}", k.id, redacted) }

// GoString is String.
func (k SigningKey) GoString() string { return k.String() }

// Format writes String for every verb.
func (k SigningKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// String hides the token.
func (t VaultToken) String() string { return "keys.VaultToken(" + redacted + ")" }

// GoString is String.
func (t VaultToken) GoString() string { return t.String() }

// Format writes String for every verb.
func (t VaultToken) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// String shows the mount and role ID and hides the secret ID.
func (a VaultAppRole) String() string {
	return fmt.Sprintf("keys.VaultAppRole{Mount:%s RoleID:%s SecretID:%s}", a.Mount, a.RoleID, redacted)
}

// GoString is String.
func (a VaultAppRole) GoString() string { return a.String() }

// Format writes String for every verb.
func (a VaultAppRole) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

// String shows the start of the identity's public recipient, never the
// private key.
func (id Identity) String() string {
	r := ""
	if id.rcpt != nil {
		r = id.Recipient()
		if len(r) > 20 {
			r = r[:20] + "..."
		}
	}
	return fmt.Sprintf("keys.Identity{Recipient:%s %s}", r, redacted)
}

// GoString is String.
func (id Identity) GoString() string { return id.String() }

// Format writes String for every verb.
func (id Identity) Format(f fmt.State, _ rune) { io.WriteString(f, id.String()) }
