package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kind is the kind of a record.
type Kind string

// Record kinds.
const (
	KindQuery      Kind = "query"      // a search or verification, either side
	KindKey        Kind = "key"        // a key-management action
	KindLog        Kind = "log"        // maintenance of the log itself (prune, repair)
	KindCheckpoint Kind = "checkpoint" // first line of a pruned log; written only by Prune
	// KindRefusals summarises calls over an interval that are not audited one by one: the
	// refusals of one unauthenticated Source, or one Partner's calls of a class that would
	// otherwise let it grow the log at will (its Hellos past the ceremonies it may start, its
	// ceremony calls about ceremonies the node does not hold, its Outcome asked again, the
	// refusals of a live ceremony's rounds past the first few, its refusals of any class past the
	// first few of the interval); the refusal class and, in Count, how many there were.
	KindRefusals Kind = "refusals"
	// KindGallery is a change to what a partner may search: subjects enrolled into, or removed
	// from, the gallery the node keeps for it, or the gallery forgotten after its file was lost.
	// It carries the partner, the action ([ActionGalleryEnrolled], [ActionGalleryRemoved],
	// [ActionGalleryForgotten], [ActionGalleryChanged]), the epoch and the counts
	// ([GalleryChange]); never a subject reference.
	KindGallery Kind = "gallery"
)

// The actions of gallery records ([KindGallery]).
const (
	// ActionGalleryEnrolled: a batch enrolled (Enrolled added, Skipped found enrolled already
	// with the same features by an enrolment run again).
	ActionGalleryEnrolled = "gallery-enrolled"
	// ActionGalleryRemoved: subjects removed (Removed).
	ActionGalleryRemoved = "gallery-removed"
	// ActionGalleryForgotten: the gallery's file was lost for good and its keys destroyed;
	// Removed is the gallery's total as its last record in the log gave it (0 if the log no
	// longer holds one), and the gallery's change numbers start again.
	ActionGalleryForgotten = "gallery-forgotten"
	// ActionGalleryChanged: written only marked recovered, when the gallery shows more than one
	// change past its last record in the log, so that what each did is not known: only the
	// total and the change number after them.
	ActionGalleryChanged = "gallery-changed"
)

// galleryActions are the actions a gallery record may carry.
var galleryActions = []string{ActionGalleryEnrolled, ActionGalleryRemoved, ActionGalleryForgotten, ActionGalleryChanged}

// ActionSigningKeyRevoked is the action of the key record a node writes
// when it revokes one of its signing keys (keys.ActSigningKeyRevoked), with
// the key's ID. The verifier refuses any later record signed by that key.
const ActionSigningKeyRevoked = "signing-key-revoked"

// ActionPartnerResumed is the action of the key record a node writes when an
// operator lets its queries to a partner go out again after an answer of
// that partner did not open ([OutcomeDeviated]); the record names the partner
// and the request ID of the query whose halt it lifts (records written before
// resumes named it carry none).
const ActionPartnerResumed = "partner-resumed"

// ActionPartnerHalted is the action of the key record that proves a halt of a
// node's queries to a partner: it names the partner, and the request ID and
// epoch of the query whose answer did not open ([OutcomeDeviated]). The node
// writes it as it halts, before the query's own record, and again before
// every prune until [ActionPartnerResumed] names that request, so that a
// prune never drops a halt's only proof.
const ActionPartnerHalted = "partner-halted"

// ActionPartnerHaltedUnresolved is the action of the key record a rebuild of a node's state
// file writes when the log leaves a query of the node to a partner pending (a crash, or a failed
// append, before its final record) and does not prove a halt of that partner: the old state file
// may have held one by that query, which the rebuild cannot read, so it halts the partner
// without knowing. It has the fields of [ActionPartnerHalted] and proves no deviation; it is
// written again before every prune until [ActionPartnerResumed] names that request.
const ActionPartnerHaltedUnresolved = "partner-halted-unresolved"

// Role is this node's side of a query.
type Role string

// Roles.
const (
	RoleQuerier   Role = "querier"
	RoleResponder Role = "responder"
)

// Outcome is how a query ended.
type Outcome string

// Outcomes.
const (
	OutcomeAnswered Outcome = "answered" // the protocol ran to the end
	OutcomeRefused  Outcome = "refused"  // refused before any computation; see Refusal
	OutcomeFailed   Outcome = "failed"   // an internal failure after the request was accepted
	// OutcomeDeviated is a querier's query whose answer did not open: proof that the responder
	// deviated from the protocol. The node halts its queries to that partner until an operator
	// resumes them (a record of kind key, action [ActionPartnerResumed]).
	OutcomeDeviated Outcome = "deviated"
	// OutcomePending is written before a query's first byte is sent (querier) or read
	// (responder); the query's final record, with the same request ID, follows. A pending
	// record without a final one is a query a crash interrupted.
	OutcomePending Outcome = "pending"
)

// Decision is what this node knows of a query's result.
type Decision string

// Decisions.
const (
	DecisionHit   Decision = "hit"
	DecisionNoHit Decision = "no-hit"
	// DecisionNotKnown is what a responder records: it computed an
	// encrypted decision and never sees it.
	DecisionNotKnown Decision = "not-known-to-this-side"
)

// RefusalClass says why a request was refused, in the classes of the
// protocol's error mapping; never more detail than the class.
type RefusalClass string

// Refusal classes.
const (
	RefusedQuota           RefusalClass = "quota-exceeded"
	RefusedVerifyLimit     RefusalClass = "verify-limit-exceeded" // the reference's verification limit
	RefusedUnauthenticated RefusalClass = "unauthenticated"
	RefusedPermission      RefusalClass = "permission-denied"
	RefusedInvalid         RefusalClass = "invalid-argument"
	RefusedReplay          RefusalClass = "replay"
	RefusedRevokedEpoch    RefusalClass = "revoked-epoch"
	RefusedPrecondition    RefusalClass = "failed-precondition"
	// RefusedCeremonyLimit: a partner's Hello past the ceremonies it may start in a window.
	RefusedCeremonyLimit RefusalClass = "ceremony-limit-exceeded"
	// RefusedCeremonyUnknown: a partner's ceremony call about a ceremony the node does not hold
	// (never issued, finished or aborted): an Outcome, an Abort or a round of it. Answered or
	// refused, it changes nothing the node holds.
	RefusedCeremonyUnknown RefusalClass = "ceremony-unknown"
	// RefusedCeremonyRepeated: a partner's Outcome asked again of a ceremony the node holds,
	// answered as before; the first answer is recorded by itself.
	RefusedCeremonyRepeated RefusalClass = "ceremony-repeated"
	// RefusedCeremonyRefusedRepeated: a partner's round of a ceremony the node holds live,
	// refused (out of order, repeated, malformed, of another epoch) after the first few
	// refusals of that ceremony's rounds, which are recorded by themselves (action
	// ceremony-refused). It is refused as before: it changes nothing and leaves the ceremony
	// live.
	RefusedCeremonyRefusedRepeated RefusalClass = "ceremony-refused-repeated"
)

// Record is one line of the log: an [Event] plus what the writer adds.
// Field order is the line's member order.
type Record struct {
	Format int    `json:"v"`
	Seq    uint64 `json:"seq"`
	Time   string `json:"time"` // RFC 3339, UTC, nanoseconds
	Node   string `json:"node"`
	Kind   Kind   `json:"kind"`
	Event
	Count uint64 `json:"count,omitempty"` // records pruned, bytes discarded
	// Head is, on a repair record, the head file's SEQ:HASH found before
	// the repair ("none" if there was no head file).
	Head   string `json:"head,omitempty"`
	Prev   string `json:"prev"`          // hex SHA-256 of the previous record
	Signer string `json:"signer"`        // hex key ID of the signing key
	Sig    string `json:"sig,omitempty"` // base64 ML-DSA-65 signature
}

// Event is what a caller records. Kind selects which fields apply (see
// Validate); unused fields stay empty.
type Event struct {
	Partner   string       `json:"partner,omitempty"`
	Role      Role         `json:"role,omitempty"`
	Purpose   string       `json:"purpose,omitempty"`
	RequestID string       `json:"request,omitempty"`
	Outcome   Outcome      `json:"outcome,omitempty"`
	Decision  Decision     `json:"decision,omitempty"`
	Refusal   RefusalClass `json:"refusal,omitempty"`
	Epoch     uint64       `json:"epoch,omitempty"`
	Action    string       `json:"action,omitempty"` // key or log action, e.g. "epoch-retired", "prune"
	Key       string       `json:"key,omitempty"`    // key name in the node's store
	KeyID     string       `json:"key_id,omitempty"` // hex signing key ID
	// Recovered marks, on a key or gallery record, an action recorded after the fact: when the
	// node next opened its home, its key store (or the partner's gallery) showed the action but
	// the log did not hold its record (a crash, or a failed append, came between the two). The
	// record's time is when it was written, not when the action took effect.
	Recovered bool `json:"recovered,omitempty"`
	// Source is, on a refusals record, the source whose refusals it counts: an IPv4 address, an
	// IPv6 /64 network named by its first address, or "other" (the sources past the count's
	// limit, together). A refusals record names a source or a partner, never both.
	Source string `json:"source,omitempty"`
	// Shard is, on a shard install record (Action "shards-installed" or
	// "shards-install-failed"), the address of the shard the partition and the evaluation keys
	// were sent to.
	Shard string `json:"shard,omitempty"`
	// Witness is, on a querier's answered query, the responder's signed audit head that came
	// with the answer ([Witness]).
	Witness *Witness `json:"witness,omitempty"`
	// Gallery is, on a gallery record ([KindGallery]), the counts of the change.
	Gallery *GalleryChange `json:"gallery,omitempty"`
}

// GalleryChange is what a change did to a partner's gallery, in counts only: subject
// references are personal data and are never recorded. Every member is always present, zeros
// included.
type GalleryChange struct {
	Enrolled uint64 `json:"enrolled"` // subjects added
	Skipped  uint64 `json:"skipped"`  // subjects found enrolled already with the same features
	Removed  uint64 `json:"removed"`  // subjects removed
	Total    uint64 `json:"total"`    // subjects in the gallery after the change
	// Change numbers the gallery's changes from 1 (0 on a forgotten gallery's record): the
	// gallery keeps the number of its last change beside its templates, so that a change a
	// crash left without its record is recorded when the node next opens its home.
	Change uint64 `json:"change"`
}

// Witness is a partner's signed audit head as the querier records it: the partner stated,
// under its signing key, that its audit log held record Seq with hash Hash when it answered.
// A log later found without that record, or with another one in its place, was cut or
// rewritten after the partner's answer ([Witnessed], [VerifyOptions.Expect]).
type Witness struct {
	Head   string `json:"head"`   // SEQ:HASH of the partner's log
	Time   string `json:"time"`   // the partner's signing time (RFC 3339, UTC, nanoseconds)
	Signer string `json:"signer"` // hex key ID of the partner's signing key
	Sig    string `json:"sig"`    // base64 ML-DSA-65 signature of the head statement (HeadStatement)
}

const (
	recordFormat = 1
	timeLayout   = "2006-01-02T15:04:05.000000000Z"
	// Domain is the hash prefix and ML-DSA context string of audit records.
	Domain = "puente/audit/v1"
)

// FormatTime renders t as records do.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParsedTime returns the record's time.
func (r *Record) ParsedTime() (time.Time, error) {
	t, err := time.Parse(timeLayout, r.Time)
	if err != nil || FormatTime(t) != r.Time {
		return time.Time{}, fmt.Errorf("time %q is not in the form %s", r.Time, timeLayout)
	}
	return t, nil
}

// Hash returns the record's chain hash h(i), in hex: what the next record's prev and a head
// name.
func (r *Record) Hash() (string, error) {
	body, err := r.body()
	if err != nil {
		return "", err
	}
	h := recordHash(body)
	return hex.EncodeToString(h[:]), nil
}

// body returns the record's line without its sig member: the bytes whose
// hash is signed.
func (r *Record) body() ([]byte, error) {
	c := *r
	c.Sig = ""
	b, err := marshal(&c)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// bodyOf returns the body of a line that parseLine accepted (so it is the canonical encoding of
// its record): the line without its final sig member, as body() would encode it again.
func bodyOf(line []byte) []byte {
	i := bytes.LastIndex(line, []byte(`,"sig":"`))
	if i < 0 {
		return line
	}
	return append(line[:i:i], '}')
}

// marshal encodes a record canonically: encoding/json with no HTML
// escaping and no trailing newline.
func marshal(r *Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// parseLine decodes one line strictly: known members only, and the line
// must be the canonical encoding of what it decodes to.
func parseLine(line []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the record", ErrMalformed)
	}
	again, err := marshal(&r)
	if err != nil || !bytes.Equal(again, line) {
		return nil, fmt.Errorf("%w: not in canonical form (edited by hand?)", ErrMalformed)
	}
	return &r, nil
}

// Errors. A verification error is a [*BadRecordError] wrapping one of them.
var (
	ErrMalformed    = errors.New("audit: malformed record")
	ErrBadSignature = errors.New("audit: signature does not verify")
	ErrBrokenChain  = errors.New("audit: hash chain broken")
	ErrTornTail     = errors.New("audit: torn last record (crash during a write); run repair")
	ErrTruncated    = errors.New("audit: log ends before its head")
	ErrInvalidEvent = errors.New("audit: invalid event")
	ErrClosed       = errors.New("audit: writer closed")
	// ErrStopped: a panic (a bug) stopped the writer; it writes nothing more, and the node
	// must be restarted (Open checks the log again).
	ErrStopped = errors.New("audit: the log writer stopped after an internal error; restart the node")
	// ErrNoHead: a log has records but no head file, or a head file but no records; a crash
	// leaves neither, so records (or the head) were deleted.
	ErrNoHead = errors.New("audit: log and head file do not go together")
	// ErrRolledBack: a record differs from one a partner witnessed or an officer noted, or a
	// checkpoint hides a witnessed record no prune under the retention dropped (the log was
	// rewritten after the partner's answer or the officer's note).
	ErrRolledBack = errors.New("audit: log differs from a head noted or witnessed earlier")
	// ErrPrunedHead: a head noted earlier names a record pruned behind the log's checkpoint, so
	// the log cannot show whether it still held it ([VerifyOptions.AcceptPruned]).
	ErrPrunedHead = errors.New("audit: a head noted earlier names a pruned record and cannot be checked")
)

// BadRecordError names the first bad record: its line number (from 1),
// byte offset, and seq if it could be read.
type BadRecordError struct {
	File   string
	Line   int
	Offset int64
	Seq    uint64
	Err    error
}

func (e *BadRecordError) Error() string {
	where := fmt.Sprintf("line %d (byte %d)", e.Line, e.Offset)
	if e.Seq != 0 {
		where += fmt.Sprintf(", record %d", e.Seq)
	}
	if e.File != "" {
		where = e.File + ": " + where
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *BadRecordError) Unwrap() error { return e.Err }
