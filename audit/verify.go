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
	"os"
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
	// Head, if set, must be reached by the log: its record must be present
	// with that hash (or be the checkpoint's anchor).
	Head *Head
	// File names the log in errors.
	File string
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
}

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
	next    uint64
	prev    string
	last    time.Time
	head    *Head
	reached bool
	revoked map[string]uint64 // signing key ID -> seq of the record of its revocation
	rep     Report
}

// Verify reads a log from r and checks every record: form, fields, seq,
// prev, time order and signature. It returns the report and, at the first
// bad record, a [*BadRecordError]. A failure to read r is returned as is.
func Verify(r io.Reader, v Verifier, opts VerifyOptions) (Report, error) {
	c := &chain{v: v, next: 1, prev: zeroHash, head: opts.Head, revoked: map[string]uint64{}, rep: Report{Kinds: map[Kind]int{}}}
	lastLine := 0
	var lastOff int64
	err := lines(r, func(n int, off int64, line []byte, complete bool) error {
		lastLine, lastOff = n, off
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
			return c.check(n, rec)
		}()
		if err != nil {
			return &BadRecordError{File: opts.File, Line: n, Offset: off, Seq: seq, Err: err}
		}
		return nil
	})
	if err != nil {
		return c.rep, err
	}
	if c.head != nil && !c.reached {
		return c.rep, &BadRecordError{File: opts.File, Line: lastLine + 1, Offset: lastOff, Seq: c.next,
			Err: fmt.Errorf("%w: the log ends at record %d but the head is record %d", ErrTruncated, c.next-1, c.head.Seq)}
	}
	return c.rep, nil
}

// tornTail classifies a final line without its newline. A crash can leave
// one, but never with the head past the last complete record: the writer
// updates the head only after the records are durable. If the head has not
// been reached, records were cut off and the partial line hides it.
func (c *chain) tornTail() error {
	if c.head != nil && !c.reached {
		return fmt.Errorf("%w: the log ends in a partial record after record %d, but the head is record %d; records were cut off (a crash does not do this)",
			ErrTruncated, c.next-1, c.head.Seq)
	}
	return ErrTornTail
}

// check verifies one parsed record against the chain and advances it.
func (c *chain) check(n int, rec *Record) error {
	if rec.Format != recordFormat {
		return fmt.Errorf("%w: format %d, want %d", ErrMalformed, rec.Format, recordFormat)
	}
	if !ValidNodeName(rec.Node) {
		return fmt.Errorf("%w: node name not valid", ErrMalformed)
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
	sig, err := base64.StdEncoding.DecodeString(rec.Sig)
	if err != nil || !validKeyID(rec.Signer) || len(rec.Prev) != 64 || !charset(rec.Prev, 64, hexDigit, hexDigit) {
		return fmt.Errorf("%w: prev, signer or sig not well formed", ErrMalformed)
	}
	if rec.Kind == KindCheckpoint {
		if n != 1 {
			return fmt.Errorf("%w: checkpoint record after the first line", ErrBrokenChain)
		}
	} else {
		if rec.Seq != c.next {
			return fmt.Errorf("%w: record %d where record %d should be (records missing or reordered)", ErrBrokenChain, rec.Seq, c.next)
		}
		if rec.Prev != c.prev {
			return fmt.Errorf("%w: prev does not match the hash of record %d", ErrBrokenChain, c.next-1)
		}
	}
	if t.Before(c.last) {
		return fmt.Errorf("%w: time %s is before the previous record's", ErrBrokenChain, rec.Time)
	}
	body, err := rec.body()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if at, ok := c.revoked[rec.Signer]; ok {
		// The time a record claims is the signer's choice; the position
		// after the revocation record is not.
		return fmt.Errorf("%w: signed by key %s after record %d revoked it", ErrBadSignature, rec.Signer[:16], at)
	}
	h := recordHash(body)
	if err := c.v.Verify(rec.Signer, t, Domain, h[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
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
		// A head older than the checkpoint names a pruned record; it
		// cannot be checked any more.
		c.reached = c.reached || (c.head != nil && c.head.Seq < rec.Seq)
	} else if c.rep.First == 0 {
		c.rep.First, c.rep.FirstTime = rec.Seq, t
	}
	if c.head != nil && rec.Seq == c.head.Seq {
		if anchor != c.head.Hash {
			return fmt.Errorf("%w: record %d differs from the head's record %d", ErrBrokenChain, rec.Seq, c.head.Seq)
		}
		c.reached = true
	}
	c.next, c.prev = rec.Seq+1, anchor
	if rec.Kind != KindCheckpoint {
		// A checkpoint is dated when the log was pruned, after the records
		// it precedes; it does not take part in the time order.
		c.last = t
	}
	c.rep.Records++
	c.rep.Kinds[rec.Kind]++
	c.rep.Last = Head{Seq: rec.Seq, Hash: anchor}
	c.rep.LastTime = t
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

// headPath returns the head file of a log.
func headPath(log string) string { return log + ".head" }

const headMagic = "puente-audit-head/v1"

// ReadHead reads a log's head file; it returns nil and no error if there
// is none.
func ReadHead(log string) (*Head, error) {
	b, err := os.ReadFile(headPath(log))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: head file: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] != headMagic || !strings.HasSuffix(string(b), "\n") {
		return nil, fmt.Errorf("audit: head file %s: %w: not %q followed by SEQ:HASH", headPath(log), ErrMalformed, headMagic)
	}
	h, err := ParseHead(f[1])
	if err != nil {
		return nil, fmt.Errorf("audit: head file %s: %w: %v", headPath(log), ErrMalformed, err)
	}
	return &h, nil
}

// VerifyFile verifies the log at path against its head file, if it has
// one, and against expect, if not nil (a head noted earlier).
func VerifyFile(path string, v Verifier, expect *Head) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	head, err := ReadHead(path)
	if err != nil {
		return Report{}, err
	}
	if expect != nil {
		head = expect
	}
	return Verify(f, v, VerifyOptions{Head: head, File: path})
}
