package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verifier checks a signature by the key with the given hex ID, which must
// have been valid at time at. keys.Keyring implements it. It returns nil
// only for a good signature.
type Verifier interface {
	Verify(signerID string, at time.Time, domain string, msg, sig []byte) error
}

// NodeKeys is a [Verifier] that also knows whose each key is (keys.Keyring). A keyring may
// hold several nodes' keys; with one, a log's records and a witnessed head must be signed by a
// key of the node they speak for, not by any key the keyring holds.
type NodeKeys interface {
	Verifier
	// NodeOf returns the node whose key signerID (hex) is, if the verifier holds it.
	NodeOf(signerID string) (node string, ok bool)
}

// checkSigner refuses a signature by a key that v (if a [NodeKeys]) says is another node's
// than node's.
func checkSigner(v Verifier, signerID, node string) error {
	nk, ok := v.(NodeKeys)
	if !ok {
		return nil
	}
	if owner, ok := nk.NodeOf(signerID); ok && owner != node {
		return fmt.Errorf("%w: signed by key %.16s, which is node %s's, not %s's", ErrBadSignature, signerID, owner, node)
	}
	return nil
}

// Head is the last durable record of a log: its seq and hex hash.
type Head struct {
	Seq  uint64
	Hash string
}

func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseHead parses "SEQ:HASH" as printed by Head.String.
func ParseHead(s string) (Head, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || len(hash) != 64 || !charset(hash, 64, hexDigit, hexDigit) {
		return Head{}, fmt.Errorf("audit: head %q is not SEQ:HASH (64 hex digits)", s)
	}
	return Head{Seq: n, Hash: hash}, nil
}

// VerifyOptions qualify [Verify].
type VerifyOptions struct {
	// Head, if set, is the log's head file: the log must reach it (its record must be present
	// with that hash, or be the checkpoint's anchor). A log that ends before it is
	// [ErrTruncated].
	Head *Head
	// Noted, if set, is a head noted earlier off the node (`puente audit verify -expect`),
	// checked beside Head: a record that differs from it is [ErrRolledBack], a log that ends
	// before it [ErrTruncated]. A noted head older than the log's checkpoint names a pruned
	// record and cannot be checked: [ErrPrunedHead], unless AcceptPruned.
	Noted *Head
	// AcceptPruned acknowledges that the log was pruned past Noted: a noted head older than the
	// checkpoint is then reported in [Report.NotedPruned] instead of failing.
	AcceptPruned bool
	// Expect are further heads the log must reach, each with who expects it: the heads a
	// partner witnessed ([Witnessed]). A record that differs from one is [ErrRolledBack]; a log
	// that ends before one is [ErrTruncated]. A head older than the log's checkpoint names a
	// pruned record: if its witness time is later than the checkpoint's time minus Retention
	// (and a tolerance for clock skew, [MaxClockSkew]), no prune under that retention could have
	// dropped it, and it is [ErrRolledBack]; otherwise it is counted in [Report.Unchecked].
	Expect []Expectation
	// Retention is the key policy's audit retention (zero: not known; then only a witness dated
	// after the checkpoint is caught).
	Retention time.Duration
	// Now, if set, is the time of the check: a checkpoint dated later than Now+[MaxClockSkew]
	// is refused.
	Now time.Time
	// File names the log in errors.
	File string
	// LastSignatureOnly checks every record's form, fields, seq, prev and time order, but the
	// signature of the last record only (and of a checkpoint): since each record's hash covers
	// the previous one's, the last signature covers the content of the whole chain. It is the
	// quick check a writer makes when it opens a log; a full verification checks every
	// signature.
	LastSignatureOnly bool
	// Each, if set, is called with every record that checked out and its hash, in order; an
	// error stops the verification and is returned as is.
	Each func(rec *Record, hash string) error
}

// Report summarises a verified log.
type Report struct {
	Records    int    // lines verified, checkpoint included
	First      uint64 // seq of the first record after any checkpoint
	Last       Head   // the last record
	Checkpoint *Record
	FirstTime  time.Time
	LastTime   time.Time
	Kinds      map[Kind]int
	// Witnessed counts the expected heads (VerifyOptions.Expect) the log reached; Unchecked
	// those that name records pruned behind the checkpoint (and could have been pruned).
	Witnessed, Unchecked int
	// NotedPruned: the noted head (VerifyOptions.Noted) names a record pruned behind the
	// checkpoint, so it was not checked (only with AcceptPruned).
	NotedPruned bool
	// Node is the node whose log it is (every record names it).
	Node string
	// Recovered are the key and gallery records marked recovered ([Event.Recovered]), in order.
	Recovered []Record
}

// MaxClockSkew is the tolerance of the checks that compare times from different clocks or
// moments: a checkpoint's time with the time of the check, and a hidden witness's time with
// the checkpoint's.
const MaxClockSkew = 15 * time.Minute

const maxLine = 16 << 10

var zeroHash = strings.Repeat("0", 64)

// recordHash computes h = SHA-256(Domain || 0x00 || body).
func recordHash(body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(Domain))
	h.Write([]byte{0})
	h.Write(body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// lines calls f for each line of r with its number (from 1), byte offset,
// content without the newline, and whether it ended with a newline. A line
// longer than maxLine is passed truncated with complete set, and f should
// reject it.
func lines(r io.Reader, f func(n int, off int64, line []byte, complete bool) error) error {
	br := bufio.NewReaderSize(r, maxLine+1)
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return f(n, off, line, true)
		}
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			if ferr := f(n, off, bytes.TrimSuffix(line, []byte("\n")), complete); ferr != nil {
				return ferr
			}
			off += int64(len(line))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// chain is the verifier's state between records.
type chain struct {
	v       Verifier
	opts    VerifyOptions
	next    uint64
	prev    string
	last    time.Time
	expect  map[uint64][]Expectation // expected heads by seq, the head file's first
	reached map[uint64]bool
	// cpTime is the checkpoint's time; cpOpen: its prune record (the "prune" log record that
	// names the checkpoint's anchor, dated no earlier) is still to come.
	cpTime   time.Time
	cpOpen   bool
	cpAnchor string
	// notedPruned is the noted head older than the checkpoint, if any.
	notedPruned *Head
	revoked     map[string]uint64 // signing key ID -> seq of the record of its revocation
	rep         Report
	// The last record, whose signature LastSignatureOnly checks at the end.
	lastRec            *Record
	lastLine           int
	lastOff            int64
	lastHash, lastBody []byte
}

// headBy is who expects the head of VerifyOptions.Head, notedBy who expects VerifyOptions.Noted.
const (
	headBy  = "the head file"
	notedBy = "the head noted earlier"
)

// Verify reads a log from r and checks every record: form, fields, seq,
// prev, time order and signature. It returns the report and, at the first
// bad record, a [*BadRecordError]. A failure to read r is returned as is.
func Verify(r io.Reader, v Verifier, opts VerifyOptions) (Report, error) {
	c := &chain{v: v, opts: opts, next: 1, prev: zeroHash, expect: map[uint64][]Expectation{}, reached: map[uint64]bool{},
		revoked: map[string]uint64{}, rep: Report{Kinds: map[Kind]int{}}}
	if opts.Head != nil {
		c.expect[opts.Head.Seq] = append(c.expect[opts.Head.Seq], Expectation{Head: *opts.Head, By: headBy})
	}
	if opts.Noted != nil {
		c.expect[opts.Noted.Seq] = append(c.expect[opts.Noted.Seq], Expectation{Head: *opts.Noted, By: notedBy})
	}
	for _, e := range opts.Expect {
		c.expect[e.Head.Seq] = append(c.expect[e.Head.Seq], e)
	}
	lastLine := 0
	var end int64 // the offset after the last complete line
	err := lines(r, func(n int, off int64, line []byte, complete bool) error {
		lastLine, end = n, off+int64(len(line))+1
		var seq uint64
		err := func() error {
			if !complete {
				return c.tornTail()
			}
			if len(line) > maxLine {
				return fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLine)
			}
			rec, err := parseLine(line)
			if err != nil {
				return err
			}
			seq = rec.Seq
			return c.check(n, off, rec, line)
		}()
		var bad *BadRecordError
		if ee, ok := err.(eachError); ok {
			return ee.err
		} else if errors.As(err, &bad) {
			return err
		}
		if err != nil {
			return &BadRecordError{File: opts.File, Line: n, Offset: off, Seq: seq, Err: err}
		}
		return nil
	})
	if err != nil {
		return c.rep, err
	}
	if err := c.checkLastSignature(); err != nil {
		return c.rep, err
	}
	if e, ok := c.unreached(); ok {
		var err error
		switch e.By {
		case headBy:
			err = fmt.Errorf("%w: the log ends at record %d but the head file names record %d: records were cut off its end", ErrTruncated, c.next-1, e.Head.Seq)
		case notedBy:
			err = fmt.Errorf("%w: the log ends at record %d but the head noted earlier is record %d: records were cut off after it was noted (the log and its head file rolled back)",
				ErrTruncated, c.next-1, e.Head.Seq)
		default:
			err = fmt.Errorf("%w: the log ends at record %d, but %s saw record %d: the log was cut after the partner saw it", ErrTruncated, c.next-1, e.By, e.Head.Seq)
		}
		return c.rep, &BadRecordError{File: opts.File, Line: lastLine + 1, Offset: end, Seq: c.next, Err: err}
	}
	if h := c.notedPruned; h != nil {
		c.rep.NotedPruned = true
		if !opts.AcceptPruned {
			cp := c.rep.Checkpoint
			return c.rep, &BadRecordError{File: opts.File, Line: 1, Seq: cp.Seq, Err: fmt.Errorf(
				"%w: the head noted earlier is record %d, but the log starts with a checkpoint at record %d (dated %s): the records up to it were pruned, "+
					"so the log cannot show whether it still held the noted record", ErrPrunedHead, h.Seq, cp.Seq, cp.Time)}
		}
	}
	return c.rep, nil
}

// eachError marks an error of VerifyOptions.Each, returned as is.
type eachError struct{ err error }

func (e eachError) Error() string { return e.err.Error() }

// unreached returns the highest expected head past the end of the log, if any; of those at one
// seq, the head file's or the noted head's first (they were added first).
func (c *chain) unreached() (Expectation, bool) {
	var worst Expectation
	found := false
	for seq, es := range c.expect {
		if !c.reached[seq] && (!found || seq > worst.Head.Seq) {
			worst, found = es[0], true
		}
	}
	return worst, found
}

// tornTail classifies a final line without its newline. A crash can leave
// one, but never with the head past the last complete record: the writer
// updates the head only after the records are durable. If the head has not
// been reached, records were cut off and the partial line hides it.
func (c *chain) tornTail() error {
	if e, ok := c.unreached(); ok {
		return fmt.Errorf("%w: the log ends in a partial record after record %d, but %s names record %d; records were cut off (a crash does not do this)",
			ErrTruncated, c.next-1, e.By, e.Head.Seq)
	}
	return ErrTornTail
}

// check verifies one parsed record against the chain and advances it.
func (c *chain) check(n int, off int64, rec *Record, line []byte) error {
	if rec.Format != recordFormat {
		return fmt.Errorf("%w: format %d, want %d", ErrMalformed, rec.Format, recordFormat)
	}
	if !ValidNodeName(rec.Node) {
		return fmt.Errorf("%w: node name not valid", ErrMalformed)
	}
	if c.rep.Node == "" {
		c.rep.Node = rec.Node
	} else if rec.Node != c.rep.Node {
		return fmt.Errorf("%w: a record of node %s in node %s's log", ErrMalformed, rec.Node, c.rep.Node)
	}
	if err := rec.Event.Validate(rec.Kind); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	t, err := rec.ParsedTime()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkHeadField(rec); err != nil {
		return err
	}
	if rec.Kind == KindRefusals && rec.Count == 0 {
		return fmt.Errorf("%w: refusals record without a count", ErrMalformed)
	}
	sig, err := base64.StdEncoding.DecodeString(rec.Sig)
	if err != nil || !validKeyID(rec.Signer) || len(rec.Prev) != 64 || !charset(rec.Prev, 64, hexDigit, hexDigit) {
		return fmt.Errorf("%w: prev, signer or sig not well formed", ErrMalformed)
	}
	if rec.Kind == KindCheckpoint {
		if n != 1 {
			return fmt.Errorf("%w: checkpoint record after the first line", ErrBrokenChain)
		}
		// A prune drops every record up to its checkpoint, so the total dropped is its seq.
		if rec.Seq == 0 || rec.Count != rec.Seq {
			return fmt.Errorf("%w: a checkpoint at record %d says %d records were pruned (a prune drops every record up to its checkpoint)", ErrBrokenChain, rec.Seq, rec.Count)
		}
		if !c.opts.Now.IsZero() && t.After(c.opts.Now.Add(MaxClockSkew)) {
			return fmt.Errorf("%w: checkpoint dated %s, in the future (the check runs at %s)", ErrBrokenChain, rec.Time, FormatTime(c.opts.Now))
		}
	} else {
		if rec.Seq != c.next {
			return fmt.Errorf("%w: record %d where record %d should be (records missing or reordered)", ErrBrokenChain, rec.Seq, c.next)
		}
		if rec.Prev != c.prev {
			if err := c.checkLastSignature(); err != nil {
				return err // the record before was edited: name it
			}
			return fmt.Errorf("%w: prev does not match the hash of record %d", ErrBrokenChain, c.next-1)
		}
	}
	if t.Before(c.last) {
		return fmt.Errorf("%w: time %s is before the previous record's", ErrBrokenChain, rec.Time)
	}
	if c.cpOpen && rec.Kind == KindLog && rec.Action == actionPrune && rec.Head == c.cpAnchor {
		// The prune record is appended after the checkpoint is written: it, and so every later
		// record, is dated no earlier than the checkpoint.
		if t.Before(c.cpTime) {
			return fmt.Errorf("%w: the prune record, dated %s, is before its checkpoint (%s)", ErrBrokenChain, rec.Time, FormatTime(c.cpTime))
		}
		c.cpOpen = false
	}
	body := bodyOf(line)
	if err := checkSigner(c.v, rec.Signer, rec.Node); err != nil {
		return err
	}
	if at, ok := c.revoked[rec.Signer]; ok {
		// The time a record claims is the signer's choice; the position
		// after the revocation record is not.
		return fmt.Errorf("%w: signed by key %s after record %d revoked it", ErrBadSignature, rec.Signer[:16], at)
	}
	h := recordHash(body)
	if !c.opts.LastSignatureOnly || rec.Kind == KindCheckpoint {
		// A checkpoint's own hash is in no later record's prev (they chain to its anchor), so
		// its signature is always checked.
		if err := c.v.Verify(rec.Signer, t, Domain, h[:], sig); err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
	} else {
		c.lastRec, c.lastLine, c.lastOff, c.lastHash, c.lastBody = rec, n, off, h[:], sig
	}
	if rec.Kind == KindKey && rec.Action == ActionSigningKeyRevoked && rec.KeyID != "" {
		c.revoked[rec.KeyID] = rec.Seq
	}
	hash := hex.EncodeToString(h[:])
	// A checkpoint stands for the last pruned record: its seq and prev are
	// that record's seq and hash.
	anchor := hash
	if rec.Kind == KindCheckpoint {
		anchor = rec.Prev
		cp := *rec
		c.rep.Checkpoint = &cp
		c.cpTime, c.cpOpen, c.cpAnchor = t, true, Head{Seq: rec.Seq, Hash: rec.Prev}.String()
		// A head older than the checkpoint names a pruned record; it cannot be compared any
		// more.
		if err := c.hidden(rec.Seq, t); err != nil {
			return err
		}
	} else if c.rep.First == 0 {
		c.rep.First, c.rep.FirstTime = rec.Seq, t
	}
	if err := c.reach(rec.Seq, anchor); err != nil {
		return err
	}
	c.next, c.prev = rec.Seq+1, anchor
	if rec.Kind != KindCheckpoint {
		// A checkpoint is dated when the log was pruned, after the records
		// it precedes; it does not take part in the time order.
		c.last = t
	}
	c.rep.Records++
	c.rep.Kinds[rec.Kind]++
	if rec.Recovered {
		c.rep.Recovered = append(c.rep.Recovered, *rec)
	}
	c.rep.Last = Head{Seq: rec.Seq, Hash: anchor}
	c.rep.LastTime = t
	if c.opts.Each != nil {
		if err := c.opts.Each(rec, hash); err != nil {
			return eachError{err}
		}
	}
	return nil
}

// hidden deals with the expected heads older than a checkpoint at seq, dated t. The head file's
// is passed (the checkpoint stands for the records up to it). The noted head's cannot be
// checked: Verify reports it at the end. A witnessed head s < seq was followed by record s+1,
// written after the witness and pruned, so before the prune's cutoff, the checkpoint's time
// minus the retention: a witness dated later than that was not pruned by a prune under the
// retention, and the checkpoint hides a rewritten log.
func (c *chain) hidden(seq uint64, t time.Time) error {
	var seqs []uint64
	for s := range c.expect {
		if s < seq && !c.reached[s] {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		for _, e := range c.expect[s] {
			switch {
			case e.By == headBy:
			case e.By == notedBy:
				h := e.Head
				c.notedPruned = &h
			case !e.Time.IsZero() && e.Time.Add(c.opts.Retention).After(t.Add(MaxClockSkew)):
				what := "is dated after it"
				if c.opts.Retention > 0 {
					what = fmt.Sprintf("is within the audit retention (%s) of it", c.opts.Retention)
				}
				return fmt.Errorf("%w: the checkpoint (dated %s) hides record %d, which %s saw at %s: that witness %s, so no prune under the retention "+
					"dropped the record; the log was rewritten behind the checkpoint", ErrRolledBack, FormatTime(t), s, e.By, FormatTime(e.Time), what)
			default:
				c.rep.Unchecked++
			}
		}
		c.reached[s] = true
	}
	return nil
}

// reach compares record seq (its chain hash anchor) with the heads expected at seq.
func (c *chain) reach(seq uint64, anchor string) error {
	es := c.expect[seq]
	if len(es) == 0 || c.reached[seq] {
		return nil
	}
	for _, e := range es {
		if anchor == e.Head.Hash {
			continue
		}
		switch e.By {
		case headBy:
			return fmt.Errorf("%w: record %d differs from the record the head file names", ErrBrokenChain, seq)
		case notedBy:
			return fmt.Errorf("%w: record %d differs from the head noted earlier (hash %s...): the log was rewritten after it was noted", ErrRolledBack, seq, e.Head.Hash[:16])
		}
		return fmt.Errorf("%w: record %d differs from the record %s saw (hash %s...): the log was rewritten after that", ErrRolledBack, seq, e.By, e.Head.Hash[:16])
	}
	c.reached[seq] = true
	c.rep.Witnessed += countWitnesses(es)
	return nil
}

// countWitnesses counts the expectations that are not the head file's or the noted head.
func countWitnesses(es []Expectation) int {
	n := 0
	for _, e := range es {
		if e.By != headBy && e.By != notedBy {
			n++
		}
	}
	return n
}

// checkLastSignature checks, under LastSignatureOnly, the signature of the last record, which
// covers the chain before it.
func (c *chain) checkLastSignature() error {
	r := c.lastRec
	if r == nil {
		return nil
	}
	t, _ := r.ParsedTime()
	if err := c.v.Verify(r.Signer, t, Domain, c.lastHash, c.lastBody); err != nil {
		return &BadRecordError{File: c.opts.File, Line: c.lastLine, Offset: c.lastOff, Seq: r.Seq, Err: fmt.Errorf("%w: %v", ErrBadSignature, err)}
	}
	return nil
}

// noHead is the Head field of a repair record when the log had no head
// file.
const noHead = "none"

// checkHeadField allows the Head field only on a log record, as "none" or
// a head in its canonical form.
func checkHeadField(rec *Record) error {
	if rec.Head == "" {
		return nil
	}
	if rec.Kind != KindLog {
		return fmt.Errorf("%w: head field on a %s record", ErrMalformed, rec.Kind)
	}
	if rec.Head == noHead {
		return nil
	}
	if h, err := ParseHead(rec.Head); err != nil || h.String() != rec.Head {
		return fmt.Errorf("%w: head field is not SEQ:HASH", ErrMalformed)
	}
	return nil
}
