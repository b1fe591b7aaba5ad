package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// The head file ("<log>.head") and the checks of a log file against it.

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
	return CheckFile(path, v, FileOptions{Expect: expect})
}

// FileOptions qualify [CheckFile].
type FileOptions struct {
	// Expect, if set, is a head noted earlier ([VerifyOptions.Noted]), checked beside the head
	// file, not instead of it.
	Expect *Head
	// AcceptPruned, Retention and Now are as in VerifyOptions.
	AcceptPruned bool
	Retention    time.Duration
	Now          time.Time
	// Witnesses are heads a partner witnessed ([Witnessed]).
	Witnesses []Expectation
	// RequireHead refuses a log with records but no head file, or a head file but no log
	// ([ErrNoHead]): a node's own log always has both, so one without the other lost records
	// or its head. A copy of a log verified elsewhere may come without its head.
	RequireHead bool
	// LastSignatureOnly and Each are as in VerifyOptions.
	LastSignatureOnly bool
	Each              func(rec *Record, hash string) error
}

// CheckFile verifies the log at path against its head file, o.Expect and o's witnesses.
func CheckFile(path string, v Verifier, o FileOptions) (Report, error) {
	head, err := ReadHead(path)
	if err != nil {
		return Report{}, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && o.RequireHead && head != nil {
		return Report{}, &BadRecordError{File: path, Line: 1, Seq: 1, Err: fmt.Errorf("%w: the log is missing but its head file names record %d", ErrNoHead, head.Seq)}
	}
	if err != nil {
		return Report{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	rep, err := Verify(f, v, VerifyOptions{Head: head, Noted: o.Expect, AcceptPruned: o.AcceptPruned, Expect: o.Witnesses, Retention: o.Retention, Now: o.Now,
		File: path, LastSignatureOnly: o.LastSignatureOnly, Each: o.Each})
	if err == nil && head == nil && o.RequireHead && rep.Records > 0 {
		return rep, &BadRecordError{File: path, Line: rep.Records + 1, Seq: rep.Last.Seq + 1,
			Err: fmt.Errorf("%w: the log has %d records but no head file %s (deleted?), so records cut off its end cannot be seen", ErrNoHead, rep.Records, headPath(path))}
	}
	return rep, err
}
