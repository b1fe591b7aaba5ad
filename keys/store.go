package keys

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Store keeps versioned secret entries under hierarchical names.
//
// Names follow [ValidName]. Versions count from 1; version 0 in Get means
// "the current version" and a negative version is never found.
// Implementations are safe for concurrent use.
//
// Each version is sealed together with its name and version number, so a
// stored version copied to another name, or written again as a newer
// version, is refused on read with [ErrCorrupt]. How many old versions are
// kept depends on the store: a [FileStore] keeps every version until
// Destroy; a [VaultStore] keeps what the KV v2 mount's max_versions allows
// (10 by default), so Get of an older version returns ErrNotFound once
// Vault has dropped it, and Info.Versions lists only the versions held.
//
// Error contract: every error wraps one of the package sentinels
// ([ErrNotFound], [ErrCASConflict], [ErrInvalidName], [ErrCorrupt],
// [ErrWrongIdentity], [ErrUnavailable], [ErrPermission]) inside a
// [*KeyError] naming the key; a failed Put or Destroy leaves the store as it
// was (in particular the previous version stays readable).
type Store interface {
	// Get returns one version of an entry (0: the current one). The caller
	// owns the returned Entry and should Zero it when done.
	Get(ctx context.Context, name string, version int) (*Entry, error)
	// Put writes data as a new version and returns its number. It fails
	// with ErrCASConflict unless the current version equals opts.CAS
	// (0: the entry must not exist), or opts.CAS is NoCAS.
	Put(ctx context.Context, name string, data []byte, opts PutOptions) (int, error)
	// Stat describes an entry without returning its data.
	Stat(ctx context.Context, name string) (Info, error)
	// List returns the names of all entries under prefix ("" for all,
	// otherwise a name or a name followed by "/"), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Destroy permanently removes every version of an entry. Destroying an
	// entry that does not exist returns ErrNotFound.
	Destroy(ctx context.Context, name string) error
}

// NoCAS in [PutOptions.CAS] writes whatever the current version is.
const NoCAS = -1

// PutOptions qualify a write.
type PutOptions struct {
	// CAS is the version the write expects to replace: 0 means the entry
	// must not exist yet, NoCAS disables the check.
	CAS int
	// Algorithm names what the material is for the key policy, e.g.
	// "ml-dsa-65", "hkdf-sha256", "ckks-secret-share". Required.
	Algorithm string
}

// Info describes an entry. Nothing in it is secret.
type Info struct {
	Name       string
	Version    int       // the current version (for an Entry: its own version)
	Versions   []int     // every version still held, ascending (Stat fills it; Get may not)
	Created    time.Time // when the current version was written
	Algorithm  string    // as given to Put for the current version
	Custodians []string  // custodians the current version is recoverable by
}

// Entry is one version of a stored entry with its data.
type Entry struct {
	Info
	Data *Secret
}

// Zero overwrites the entry's data.
func (e *Entry) Zero() {
	if e != nil && e.Data != nil {
		e.Data.Zero()
	}
}

// MaxNameLen bounds a key name.
const MaxNameLen = 200

// ValidName reports whether name is a valid key name: one or more
// segments separated by "/", each starting with a lower-case letter or
// digit and continuing with lower-case letters, digits, '.', '_' or '-',
// at most MaxNameLen bytes in all. Names never hold key material; they
// appear in errors, audit records and file paths.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}

func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func checkName(op, name string) error {
	if !ValidName(name) {
		return &KeyError{Op: op, Name: name, Err: fmt.Errorf("%w (want lower-case segments separated by '/')", ErrInvalidName)}
	}
	return nil
}

// checkPrefix validates a List prefix: empty, a valid name, or a valid name
// followed by "/".
func checkPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if prefix == "" || ValidName(p) {
		return nil
	}
	return &KeyError{Op: "list", Name: prefix, Err: ErrInvalidName}
}

// matchPrefix reports whether name lies under prefix as checkPrefix accepts it.
func matchPrefix(name, prefix string) bool {
	if prefix == "" {
		return true
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(name, prefix)
	}
	return name == prefix || strings.HasPrefix(name, prefix+"/")
}
