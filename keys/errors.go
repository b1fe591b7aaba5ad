package keys

import (
	"errors"
	"fmt"
)

// Errors returned by stores and key material. Wrapped errors carry the key
// name or file; test with errors.Is.
var (
	// ErrNotFound: no entry (or no such version) under that name.
	ErrNotFound = errors.New("keys: not found")
	// ErrCASConflict: the check-and-set version did not match the current
	// version; nothing was written.
	ErrCASConflict = errors.New("keys: check-and-set conflict")
	// ErrInvalidName: the key name does not follow the naming rule (see
	// [ValidName]).
	ErrInvalidName = errors.New("keys: invalid key name")
	// ErrCorrupt: a stored entry or received message failed to decode or to
	// authenticate.
	ErrCorrupt = errors.New("keys: corrupt key material")
	// ErrWrongIdentity: the entry is sealed, but not to this node's identity.
	ErrWrongIdentity = errors.New("keys: not sealed to this identity")
	// ErrUnavailable: the store could not be reached (Vault down, sealed,
	// network error).
	ErrUnavailable = errors.New("keys: store unavailable")
	// ErrPermission: the store refused the operation (Vault 403, file mode).
	ErrPermission = errors.New("keys: permission denied")
	// ErrRevoked: the epoch or key has been revoked.
	ErrRevoked = errors.New("keys: revoked")
	// ErrState: the operation is not allowed in the key's current state
	// (for example destroying an epoch the gallery still uses).
	ErrState = errors.New("keys: not allowed in this state")
)

// KeyError is the error for one store operation on one key. It names the
// operation, the key and, for a file store, the file; it never holds key
// material.
type KeyError struct {
	Op   string // "get", "put", "stat", "list", "destroy"
	Name string // key name
	File string // file path, if any
	Err  error
}

func (e *KeyError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("keys: %s %q (file %s): %v", e.Op, e.Name, e.File, e.Err)
	}
	return fmt.Sprintf("keys: %s %q: %v", e.Op, e.Name, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Signature errors, returned by [Keyring.Verify].
var (
	// ErrUnknownSigner: no key with that ID in the keyring.
	ErrUnknownSigner = errors.New("keys: unknown signing key")
	// ErrNotValidAt: the key exists but was not valid at the signing time
	// (before its start, after its overlap window ended, or revoked).
	ErrNotValidAt = errors.New("keys: signing key not valid at that time")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("keys: bad signature")
)
