// Package keys holds a Puente node's secrets and the rules for their life:
// where they are kept (a [Store]), what they are (node identity, ML-DSA-65
// signing keys, the agreement secret both partners derive for the
// cancellable transform, opaque HE secret shares), and how they change
// (epochs, rotation with overlap, revocation).
//
// # Stores
//
// [Store] is one small interface with two implementations. [FileStore] is
// the embedded default: a directory of files, each sealed with age
// (filippo.io/age, hybrid ML-KEM-768+X25519 recipients where every
// recipient allows it) to the node's identity and to optional custodians,
// written atomically (temp file, fsync, link into place, directory fsync)
// with mode 0600. [VaultStore] keeps the same entries in HashiCorp Vault's
// KV version 2 engine, wrapped first with Vault's Transit engine.
//
// Every entry is versioned. A write names the version it expects to replace
// (check-and-set, as in Vault's KV v2 "cas" option); the zero value of
// [PutOptions] means "create only", so an accidental overwrite is refused
// with [ErrCASConflict].
//
// # Records of key actions
//
// Each action that changes the keys or the epochs is reported to an [EventSink] (the node's
// audit log) after it has taken effect in the store. A crash between the two leaves the store
// ahead of the log; [Reconcile], run when a node next opens its home, finds each such action
// from the store alone ([Shown]) and reports it marked [Event.Recovered].
//
// # Secrets in memory
//
// Fixed-size secrets ([Contribution], [AgreementSecret], the seed inside a
// [SigningKey]) live in arrays inside structs that cannot be compared with
// ==; Equal compares in constant time (crypto/subtle) and Zero overwrites
// them. [Secret] does the same for variable-length material such as HE
// secret shares. Go's garbage collector may have copied a value before it
// is zeroed, and the Go runtime gives no way to lock pages; zeroing narrows
// the window, it does not close it.
//
// Randomness is always taken from an io.Reader the caller passes, so tests
// are deterministic. The exceptions are age's own file keys and ephemeral
// shares, and ML-DSA's hedged signing nonce, which their libraries draw from
// crypto/rand.
//
// # Standards
//
//   - ML-DSA-65: FIPS 204, via github.com/cloudflare/circl/sign/mldsa/mldsa65,
//     with a context string per use (FIPS 204 §5.2).
//   - HKDF-SHA256: RFC 5869, for the agreement secret (SP 800-56C Rev. 2
//     two-step derivation with the partners' contributions as the shared
//     secret input).
//   - Cryptoperiods and key states (pre-activation, active, deactivated,
//     destroyed): NIST SP 800-57 Part 1 Rev. 5, §5.3 and §7.
//   - age v1 file format (age-encryption.org/v1), and its
//     mlkem768x25519 recipient (age-encryption.org/mlkem768x25519).
//
// # What it does not do
//
// Destroying an entry removes its files or its Vault metadata; on a
// journaling or copy-on-write file system the old ciphertext blocks may
// survive on disk until overwritten, still sealed to the node identity.
// Destruction is therefore complete only once the node identity itself is
// retired. The package does not enforce the key policy; package
// keys/policy checks the stores against it.
package keys
