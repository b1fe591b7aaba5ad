package audit

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// charset tests: each returns whether s is non-empty, at most max bytes,
// starts with a character from first and continues with rest.
func charset(s string, max int, first, rest func(byte) bool) bool {
	if s == "" || len(s) > max || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !rest(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) bool      { return c >= 'a' && c <= 'z' }
func lowerDigit(c byte) bool { return lower(c) || c >= '0' && c <= '9' }
func lowerDash(c byte) bool  { return lower(c) || c == '-' }
func actionRest(c byte) bool { return lowerDigit(c) || c == '-' }
func nameRest(c byte) bool   { return lowerDigit(c) || c == '.' || c == '_' || c == '-' }
func hexDigit(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// ValidNodeName: a node or partner name, [a-z0-9][a-z0-9._-]*, at most 64 bytes.
func ValidNodeName(s string) bool { return charset(s, 64, lowerDigit, nameRest) }

// ValidPurpose: a purpose code, words of lower-case letters joined by '-'
// ([a-z][a-z-]*), at most 32 bytes, e.g. "border-screening". No digits, so
// a number cannot pass as a purpose.
func ValidPurpose(s string) bool { return charset(s, 32, lower, lowerDash) }

// RequestIDLen is the length in bytes of a request ID; its text form in a
// record is twice as many lower-case hex digits.
const RequestIDLen = 16

// ValidRequestID: exactly 32 lower-case hex digits, the form of a 16-byte
// random request ID ([NewRequestID]; the protocol's request_id). One fixed
// form leaves no room for a score, a vector or an encoding of one.
func ValidRequestID(s string) bool {
	return len(s) == 2*RequestIDLen && charset(s, 2*RequestIDLen, hexDigit, hexDigit)
}

// NewRequestID draws a request ID from rand, for a request that arrived
// without a well-formed one.
func NewRequestID(rand io.Reader) (string, error) {
	var b [RequestIDLen]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("audit: request ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func validAction(s string) bool { return charset(s, 40, lowerDigit, actionRest) }

func validKeyID(s string) bool { return len(s) == 64 && charset(s, 64, hexDigit, hexDigit) }

// validKeyName follows the key store's naming rule: '/'-separated segments
// like node names, at most 200 bytes.
func validKeyName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for seg := range strings.SplitSeq(s, "/") {
		if !charset(seg, 200, lowerDigit, nameRest) {
			return false
		}
	}
	return true
}

// Validate checks that the event has exactly the fields its kind uses,
// each in its alphabet:
//
//   - query: partner, role, purpose, request ID and outcome; an answered
//     query has a decision (hit or no-hit for the querier,
//     not-known-to-this-side for the responder); a refused one has a
//     refusal class and no decision; a failed one has neither. Epoch is
//     optional (0: not known when refused).
//     A pending query has neither (its final record follows). Only a querier's answered query
//     may carry the responder's witnessed head.
//   - key: an action; optionally partner, epoch, key name, key ID and the recovered mark.
//   - log: an action only.
//   - gallery: a partner, one of the gallery actions and the counts; the epoch (at least 1) and
//     a change number (at least 1) unless the action is gallery-forgotten, whose change number
//     is 0; optionally the recovered mark. An enrolment removes nothing, a removal enrols and
//     skips nothing, a forgotten gallery holds nothing after, and gallery-changed is only
//     recovered and gives no per-change counts.
//   - refusals: a source or a partner, and a refusal class only (the count is the writer's). A
//     partner's may carry any class: besides the classes only ever summarised
//     (ceremony-limit-exceeded, ceremony-unknown, ceremony-repeated, ceremony-refused-repeated),
//     a partner's refusals of any class past the first few of an interval are counted, not
//     recorded one by one.
func (e *Event) Validate(k Kind) error {
	if err := e.validate(k); err != nil {
		switch k {
		case KindQuery, KindKey, KindLog, KindRefusals, KindCheckpoint, KindGallery:
			return fmt.Errorf("%w: %s record: %v", ErrInvalidEvent, k, err)
		}
		return fmt.Errorf("%w: %v", ErrInvalidEvent, err) // an unknown kind is not quoted either
	}
	return nil
}

func (e *Event) validate(k Kind) error {
	if e.Partner != "" && !ValidNodeName(e.Partner) {
		return fmt.Errorf("partner name not in [a-z0-9._-] (at most 64)")
	}
	if e.Key != "" && !validKeyName(e.Key) {
		return fmt.Errorf("key name not valid")
	}
	if e.KeyID != "" && !validKeyID(e.KeyID) {
		return fmt.Errorf("key ID is not 64 lower-case hex digits")
	}
	if e.Action != "" && !validAction(e.Action) {
		return fmt.Errorf("action not in [a-z0-9-] (at most 40)")
	}
	if e.Source != "" && k != KindRefusals {
		return fmt.Errorf("source set on a %s record", k)
	}
	if e.Shard != "" && (k != KindKey || !strings.HasPrefix(e.Action, "shards-install") || !validShardAddress(e.Shard)) {
		return fmt.Errorf("shard set on a record other than a shard install, or not a host:port address")
	}
	if e.Witness != nil && k != KindQuery {
		return fmt.Errorf("witness set on a %s record", k)
	}
	if e.Recovered && k != KindKey && k != KindGallery {
		return fmt.Errorf("recovered set on a %s record", k)
	}
	if e.Gallery != nil && k != KindGallery {
		return fmt.Errorf("gallery counts set on a %s record", k)
	}
	switch k {
	case KindQuery:
		return e.validateQuery()
	case KindRefusals:
		if (e.Partner == "") == (e.Source == "") || e.Source != "" && !ValidSource(e.Source) || !validRefusal(e.Refusal) {
			return fmt.Errorf("a refusals record needs a source (an IP address or %q) or a partner, and a refusal class", OtherSource)
		}
		if *e != (Event{Source: e.Source, Partner: e.Partner, Refusal: e.Refusal}) {
			return fmt.Errorf("only the source or partner and the refusal class may be set")
		}
	case KindKey:
		if e.Action == "" {
			return fmt.Errorf("no action")
		}
		halting := e.Action == ActionPartnerHalted || e.Action == ActionPartnerHaltedUnresolved
		if (halting || e.Action == ActionPartnerResumed) && e.Partner == "" {
			return fmt.Errorf("a %s record names no partner", e.Action)
		}
		if halting && !ValidRequestID(e.RequestID) {
			return fmt.Errorf("a %s record's request ID is not 32 lower-case hex digits", e.Action)
		}
		if e.Action == ActionPartnerResumed && e.RequestID != "" && !ValidRequestID(e.RequestID) {
			return fmt.Errorf("a %s record's request ID is not 32 lower-case hex digits", e.Action)
		}
		if halting && *e != (Event{Partner: e.Partner, Action: e.Action, RequestID: e.RequestID, Epoch: e.Epoch}) {
			return fmt.Errorf("a %s record carries only the partner, the request ID and the epoch", e.Action)
		}
		if e.Action == ActionPartnerResumed && *e != (Event{Partner: e.Partner, Action: e.Action, RequestID: e.RequestID}) {
			return fmt.Errorf("a %s record carries only the partner and the request ID of the halt it lifts", e.Action)
		}
		if e.Role != "" || e.Purpose != "" || (e.RequestID != "" && !halting && e.Action != ActionPartnerResumed) ||
			e.Outcome != "" || e.Decision != "" || e.Refusal != "" {
			return fmt.Errorf("query fields set on a key record")
		}
	case KindGallery:
		return e.validateGallery()
	case KindLog, KindCheckpoint:
		if (k == KindLog) != (e.Action != "") || *e != (Event{Action: e.Action}) {
			return fmt.Errorf("only the action may be set")
		}
	default:
		return fmt.Errorf("kind is not one of %v", []Kind{KindQuery, KindKey, KindLog, KindRefusals, KindGallery})
	}
	return nil
}

func (e *Event) validateGallery() error {
	c := e.Gallery
	switch {
	case e.Partner == "":
		return fmt.Errorf("no partner")
	case !slices.Contains(galleryActions, e.Action):
		return fmt.Errorf("action is not one of %v", galleryActions)
	case c == nil:
		return fmt.Errorf("no gallery counts")
	case *e != (Event{Partner: e.Partner, Epoch: e.Epoch, Action: e.Action, Recovered: e.Recovered, Gallery: c}):
		return fmt.Errorf("only the partner, the action, the epoch, the counts and the recovered mark may be set")
	}
	forgotten := e.Action == ActionGalleryForgotten
	switch {
	case !forgotten && (e.Epoch == 0 || c.Change == 0):
		return fmt.Errorf("a %s record needs an epoch and a change number", e.Action)
	case forgotten && (c.Change != 0 || c.Total != 0 || c.Enrolled != 0 || c.Skipped != 0):
		return fmt.Errorf("a %s record carries only what was removed", e.Action)
	case e.Action == ActionGalleryEnrolled && c.Removed != 0:
		return fmt.Errorf("a %s record removes nothing", e.Action)
	case e.Action == ActionGalleryRemoved && (c.Enrolled != 0 || c.Skipped != 0):
		return fmt.Errorf("a %s record enrols nothing", e.Action)
	case e.Action == ActionGalleryChanged && (!e.Recovered || c.Enrolled != 0 || c.Skipped != 0 || c.Removed != 0):
		return fmt.Errorf("a %s record is only recovered and gives only the total and the change number", e.Action)
	}
	return nil
}

func (e *Event) validateQuery() error {
	switch {
	case e.Partner == "":
		return fmt.Errorf("no partner")
	case e.Role != RoleQuerier && e.Role != RoleResponder:
		return fmt.Errorf("role is not %s or %s", RoleQuerier, RoleResponder)
	case !ValidPurpose(e.Purpose):
		return fmt.Errorf("purpose code not in [a-z-] (at most 32)")
	case !ValidRequestID(e.RequestID):
		return fmt.Errorf("request ID is not 32 lower-case hex digits")
	case e.Action != "" || e.Key != "" || e.KeyID != "":
		return fmt.Errorf("key fields set on a query record")
	}
	switch e.Outcome {
	case OutcomeAnswered:
		want := map[Role][]Decision{RoleQuerier: {DecisionHit, DecisionNoHit}, RoleResponder: {DecisionNotKnown}}[e.Role]
		if e.Decision != want[0] && (len(want) < 2 || e.Decision != want[1]) {
			return fmt.Errorf("decision not allowed for the %s (want one of %v)", e.Role, want)
		}
		if e.Refusal != "" {
			return fmt.Errorf("refusal class on an answered query")
		}
	case OutcomeRefused:
		if !validRefusal(e.Refusal) {
			return fmt.Errorf("refusal class is not one of %v", refusalClasses)
		}
		if e.Decision != "" {
			return fmt.Errorf("decision on a refused query")
		}
	case OutcomeFailed, OutcomePending, OutcomeDeviated:
		if e.Decision != "" || e.Refusal != "" {
			return fmt.Errorf("decision or refusal class on a %s query", e.Outcome)
		}
		if e.Outcome == OutcomeDeviated && e.Role != RoleQuerier {
			return fmt.Errorf("a deviated outcome belongs only on a querier's query")
		}
	default:
		return fmt.Errorf("outcome is not one of %v", []Outcome{OutcomeAnswered, OutcomeRefused, OutcomeFailed, OutcomePending, OutcomeDeviated})
	}
	if e.Witness != nil {
		if e.Role != RoleQuerier || e.Outcome != OutcomeAnswered {
			return fmt.Errorf("a witness belongs only on a querier's answered query")
		}
		return e.Witness.validate()
	}
	return nil
}

// validate checks a witness's fields, each in its one form.
func (w *Witness) validate() error {
	h, err := ParseHead(w.Head)
	if err != nil || h.String() != w.Head {
		return fmt.Errorf("witness head is not SEQ:HASH")
	}
	if t, err := time.Parse(timeLayout, w.Time); err != nil || FormatTime(t) != w.Time {
		return fmt.Errorf("witness time is not in the form %s", timeLayout)
	}
	if !validKeyID(w.Signer) {
		return fmt.Errorf("witness signer is not 64 lower-case hex digits")
	}
	if sig, err := base64.StdEncoding.DecodeString(w.Sig); err != nil || len(sig) != SignatureSize {
		return fmt.Errorf("witness signature is not %d bytes of standard base64", SignatureSize)
	}
	return nil
}

// SignatureSize is the size of an ML-DSA-65 signature (FIPS 204, Table 2).
const SignatureSize = 3309

// OtherSource is the source of a refusals record that counts the sources beyond the ones a
// node tracks one by one.
const OtherSource = "other"

// ValidSource: an IP address in its canonical text form (netip), or [OtherSource].
func ValidSource(s string) bool {
	if s == OtherSource {
		return true
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.String() == s && a.Zone() == ""
}

// refusalClasses are the refusal classes a record may carry.
var refusalClasses = []RefusalClass{RefusedQuota, RefusedVerifyLimit, RefusedUnauthenticated, RefusedPermission, RefusedInvalid,
	RefusedReplay, RefusedRevokedEpoch, RefusedPrecondition, RefusedCeremonyLimit, RefusedCeremonyUnknown, RefusedCeremonyRepeated,
	RefusedCeremonyRefusedRepeated}

func validRefusal(c RefusalClass) bool {
	for _, r := range refusalClasses {
		if c == r {
			return true
		}
	}
	return false
}

// validShardAddress: a shard's host:port as the node's configuration names it (printable ASCII,
// no spaces, at most 255 bytes).
func validShardAddress(s string) bool {
	if len(s) > 255 || !strings.Contains(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
