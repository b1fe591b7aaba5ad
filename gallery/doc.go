// Package gallery is a Puente node's local store of enrolled subjects: their protected templates
// (cancellable biometrics, ISO/IEC 24745 renewable and revocable references) under the current
// transform epoch, and the sealed enrolment archive of raw features that re-protection needs.
// The responder scores encrypted probes against a [Snapshot] of it; nothing in it leaves the node.
//
// # What it guarantees
//
//   - Atomic writes. [Store.Enrol] of a batch, [Store.Remove] and the epoch switch of
//     [Store.Reprotect] are single transactions: a crash (or SIGKILL) leaves the store as before
//     or as after, never between. Bad input (wrong dimension, NaN, empty or repeated reference,
//     wrong epoch) is refused before anything is written, with an [*InputError] naming the item.
//   - The last change kept. Each transaction of [Store.Enrol], [Store.EnrolResume] and
//     [Store.Remove] also keeps, sealed in the same file, the gallery's last change to its
//     subjects ([Store.LastChange]): its number, what it did in counts, the total after it and
//     the epoch, never a reference. A caller that records each change elsewhere after it (the
//     audit log) finds from it the change a crash left without its record. Re-protection
//     changes no subject and keeps no change.
//   - Crash-safe re-protection. The new epoch's records are written beside the current ones and
//     made current in one transaction that also deletes the old epoch's records; until then the
//     old epoch stays complete and current. Partial records of an interrupted re-protection are
//     removed by the next [Open].
//   - Encrypted at rest. Every value is sealed with AES-256-GCM (NIST SP 800-38D) under a subkey
//     derived by HKDF-SHA-256 (RFC 5869) from a caller-supplied 32-byte [Key]: records under a
//     subkey per epoch of the data key, raw features under the separate archive key. The bucket
//     and the record key are the associated data, so values cannot be swapped, moved between
//     subjects or replayed into another epoch. Subject references are stored as HMAC-SHA-256
//     under a subkey of the data key, so the file names no subject; the reference itself is
//     inside the sealed record. Listing and lookups need the data key.
//   - Clear failures. A corrupt file, a record that fails authentication or decoding, or a wrong
//     key gives [ErrCorrupt] or [ErrWrongKey] naming the file or the record (by a prefix of its
//     keyed MAC, never by reference or content); the storage engine's panics on a damaged file
//     are turned into [ErrCorrupt]. Nothing is repaired silently.
//
// # What it does not guarantee
//
//   - Not a key store: the caller (Puente's keys package) keeps the data and archive keys sealed
//     and supplies them; the store zeroes its copies on [Store.Close]. Errors and logs never
//     contain keys, templates or features, but plaintext templates live in process memory while
//     the store is open (the cached snapshot), and Go cannot guarantee every copy is zeroed.
//   - Deleted data is unlinked, not shredded: bbolt reuses freed pages but does not overwrite
//     them, so the ciphertexts of removed subjects and of a revoked epoch can stay in the file's
//     free pages until reused. They remain sealed under the data and archive keys; a node that
//     must destroy them copies the store into a fresh file (bbolt's compaction) and deletes the
//     old one.
//   - Not tamper-proof against the key holder, and no rollback protection: whoever holds the keys
//     can rewrite the file, and an old copy of the file opens as a valid (older) gallery.
//   - Durability is bbolt's: fsync on every commit. Killing the process is tested; power loss
//     relies on the disk honouring fsync.
//
// # Where the raw features live, and the threat
//
// Re-protection under a new epoch (after a revocation) needs the raw features, and the owner
// keeps its raw records at home: they never leave the node. They are archived here, in the same
// file, sealed under the archive key, which is separate from the data key so that a node can
// search (needing only the data key) without holding the key to the raw features in memory;
// [Open] without the archive key allows reading, searching and removal, not enrolment or
// re-protection. A stolen gallery file alone reveals the number of subjects and nothing else. A
// stolen file with the data key reveals the references and protected templates of the current
// epoch, which are unlinkable to other epochs and not invertible without the transform seed
// (kept by the keys package). A stolen file with the archive key reveals the raw features of every
// enrolled subject: the archive key is the gallery's most sensitive secret and belongs in the
// key policy with the custodians of the raw records.
//
// # Why bbolt
//
// bbolt (go.etcd.io/bbolt) is a pure-Go, single-file, copy-on-write B+tree with serialisable
// transactions and one fsync'd commit per transaction, which is exactly the crash-safety the
// store needs, with no SQL layer, no schema migrations and no cgo. A pure-Go SQLite
// (modernc.org/sqlite) would give the same atomicity through its journal, but it is a
// transpiled C code base of several hundred thousand lines and a new module for this project,
// for queries the gallery never makes: it reads by key and scans in key order.
//
// # The seam to encrypted search
//
// The he package defines the packed form of a gallery; this package does not import it. A
// [Snapshot] gives what packing needs: the current epoch's templates in a stable order (the
// order of the references' keyed MACs, which reveals nothing about enrolment order) with their
// count and dimension. [Derived] caches a value built from the snapshot, such as the packed
// plaintexts, and rebuilds it after any write.
package gallery
