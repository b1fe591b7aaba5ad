// Package audit keeps a Puente node's audit log: an append-only file of
// records, one JSON object per line, each hash-chained to the one before
// and signed with ML-DSA-65 (FIPS 204) by the node's signing key, so that a
// privacy officer can check that no record was edited, removed, reordered
// or cut off.
//
// # What a record holds
//
// Who (the node), the partner, the purpose code, the request ID, the
// outcome and, for a query, the decision; the key epoch; the time; for a
// refusal its class; for a key-management action the action, key name and
// key ID; for a change to a partner's gallery ([KindGallery]) the action, the
// epoch and the counts ([GalleryChange]: enrolled, skipped, removed, total
// after, change number), never a subject reference. There is no field for a template, a score, a ciphertext or a key,
// and every field is typed ([Event.Validate]): an enumeration (kind, role,
// outcome, decision, refusal class), a number (epoch, seq), a request ID of
// one fixed form (16 random bytes as 32 lower-case hex digits), a key ID
// (64 hex digits), or a short name from a restricted alphabet (node,
// partner, purpose code of letters and '-', action, key name). A score, a
// vector or base64 does not fit any of them, so they cannot be logged by
// mistake. The names are still free text within their alphabet: a caller
// set on hiding data could spell a few bytes into them, and the request ID
// carries 16 bytes of the caller's choosing; the restriction prevents
// accidents, it does not make a deliberate leak impossible.
//
// A responder never learns the decision of the query it answered (it
// computes an encrypted one), so it records [DecisionNotKnown]; only the
// querier records hit or no-hit.
//
// # Chain and signatures
//
// Record i carries seq = i, prev = h(i-1) (32 zero bytes for the first
// record of a log), the signer's key ID and sig. Its hash is
//
//	h(i) = SHA-256("puente/audit/v1" || 0x00 || body(i))
//
// where body(i) is the record's line without its final `,"sig":"..."`
// member, and sig is the ML-DSA-65 signature of h(i) under the context
// string "puente/audit/v1" (FIPS 204 §5.2), in standard base64. The line
// must be exactly the canonical encoding the writer produces; any other
// byte is an edit. Times never decrease along the chain.
//
// The signing time is the signer's claim, so a key revoked after being
// stolen could still sign records dated before its revocation. Once the
// log holds the record of a key's revocation ([ActionSigningKeyRevoked]),
// [Verify] refuses every later record signed by that key, whatever time it
// claims; forging earlier records means rewriting the log and its head
// from that point, which a head noted earlier catches.
//
// A key record marked recovered ([Event.Recovered]) was written after the fact: when the node
// next opened its home, its key store showed the action and the log did not hold its record (a
// crash came between the two; package keys, Reconcile). Its time is when it was written.
// A gallery record marked recovered is the same for a change to a partner's gallery: the
// gallery's change number, kept beside its templates, was past the last gallery record of that
// partner. [Verify] lists such records in [Report.Recovered].
//
// A query is recorded twice on each side: as pending ([OutcomePending]) before its first byte is
// sent or read, then with its end; a pending record without an end is a query a crash
// interrupted. A querier's query whose answer did not open ends [OutcomeDeviated]: the node
// halts its queries to that partner, proved by a key record [ActionPartnerHalted] (written as it
// halts and again before each prune), until a key record [ActionPartnerResumed] names it; a
// rebuild of its state file that finds a query left pending halts its partner without proof
// ([ActionPartnerHaltedUnresolved]). A
// querier's answered query carries the responder's signed audit head
// ([Witness]), so each partner's log holds evidence of the other's. The refusals of an
// unauthenticated source, and a partner's Hellos past its ceremony limit, its ceremony calls about
// a ceremony the node does not hold ([RefusedCeremonyUnknown]), its Outcome asked again
// ([RefusedCeremonyRepeated]) and the refusals of a live ceremony's rounds past the first few
// ([RefusedCeremonyRefusedRepeated]), are summarised in one [KindRefusals] record per source, or
// partner and class, and interval, with a count.
//
// [Verify] checks every line and stops at the first bad one, naming it
// ([*BadRecordError]): an edit breaks the record's signature, a deletion or
// a reordering breaks seq and prev, a torn final line (a crash during a
// write) is reported as [ErrTornTail] and repaired only by an explicit
// [Repair]. Cutting records off the end at a line boundary cannot be seen
// in the file alone: the writer also keeps a head file ("<log>.head") with
// the last durable seq and hash, written only after the records are
// fsynced, and [VerifyFile] checks the log reaches it ([ErrTruncated]). A
// final partial line with the head past the last complete record is
// therefore a truncation, not a crash: it is reported as [ErrTruncated]
// and [Repair] refuses it. Someone who can rewrite both the log and its head can
// still roll both back to an earlier state; to detect that, keep a copy of
// the head elsewhere (for example the privacy officer's notes of
// `puente audit verify` output) and pass it with [VerifyOptions.Noted] (checked
// beside the head file, not instead of it), and
// check the heads the partner witnessed ([Witnessed], [VerifyOptions.Expect]):
// a log without a witnessed record ([ErrTruncated]), or with another one in
// its place ([ErrRolledBack]), was cut or rewritten after the partner saw it.
//
// [Open] checks the log against its head before it writes: every record's
// form, fields and chain, and the signature of the last record, which covers
// the whole chain before it (each record's hash includes the previous one's).
// It refuses a torn tail ([ErrTornTail], for [Repair]), a log cut before its
// head ([ErrTruncated]), an edited, removed or reordered record, and a log
// without its head file or a head file without its log ([ErrNoHead]).
// [AcceptLoss] is the explicit way past the last three: it sets aside what
// does not check out and appends a signed record of the loss.
//
// # Durability
//
// [Writer.Append] returns only after its record is written and fsynced.
// Concurrent appends are grouped: one goroutine writes every record waiting
// (at most [Options.MaxBatch]) with one write and one fsync, then answers
// each caller; so a record is durable before Append returns, and at most
// MaxBatch records share an fsync. The head file is updated after each
// batch is durable; if that update fails the records stay acknowledged,
// the head lags behind the log until a later update succeeds, and
// [Writer.Close] reports a head it could not bring up to date. A failed
// write, or a panic on the writing goroutine (a bug, logged with its stack to
// [Options.Logger]), stops the writer for good: every append waiting and
// every later one fails ([ErrStopped] after a panic), so that the node refuses
// the work it cannot record rather than record it out of order or not at all;
// Open checks the log again.
// [Writer.Close] finishes every accepted append before it returns. One writer per file: Open takes an exclusive
// lock (flock) on the log. [Writer.SetSigner] switches the signing key (after a rotation) between
// records.
//
// # Retention
//
// [Writer.Prune] drops the records older than a cutoff after verifying the
// whole log, and starts the new file with a signed checkpoint record that
// carries the seq and hash of the last dropped record, so the retained
// chain still verifies from the checkpoint on. Its count (records dropped in
// all) equals its seq; it is dated no earlier than the records it keeps, and
// the "prune" record appended after it names its anchor and is dated no
// earlier than it; [Verify] checks all three, and with [VerifyOptions.Now]
// refuses a checkpoint dated in the future. A head older than the checkpoint
// cannot be compared: a noted head is [ErrPrunedHead] unless
// [VerifyOptions.AcceptPruned]; a witnessed head is [ErrRolledBack] if its
// witness is later than the checkpoint's time minus [VerifyOptions.Retention]
// (no prune under that retention dropped it), and is otherwise counted in
// [Report.Unchecked]. A signer who writes a new log behind a checkpoint dated
// now still hides the witnessed heads older than the retention.
package audit
