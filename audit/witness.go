package audit

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// HeadDomain is the ML-DSA context string of a signed audit head (FIPS 204 §5.2).
const HeadDomain = "puente/audit/head/v1"

// HeadStatement is what a node signs when it tells a partner its audit head: "node's audit log
// holds record h.Seq with hash h.Hash". It is HeadDomain, 0x00, the node name's length (one
// byte) and bytes, the seq (8 bytes, big-endian) and the 32 bytes of the hash.
func HeadStatement(node string, h Head) ([]byte, error) {
	hash, err := hex.DecodeString(h.Hash)
	if err != nil || len(hash) != 32 || !ValidNodeName(node) {
		return nil, fmt.Errorf("audit: head statement: a node name and a head of 64 hex digits are required")
	}
	b := append([]byte(HeadDomain), 0, byte(len(node)))
	b = append(b, node...)
	b = binary.BigEndian.AppendUint64(b, h.Seq)
	return append(b, hash...), nil
}

// SignHead signs node's head h with s, for a partner to witness.
func SignHead(s Signer, node string, h Head) ([]byte, error) {
	msg, err := HeadStatement(node, h)
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(HeadDomain, msg)
	if err != nil {
		return nil, fmt.Errorf("audit: signing the head: %w", err)
	}
	return sig, nil
}

// NewWitness checks a partner's signed head with v (the partner's keyring; at is the
// partner's signing time) and returns it in the form a querier records.
func NewWitness(v Verifier, node string, h Head, at time.Time, signer string, sig []byte) (*Witness, error) {
	w := &Witness{Head: h.String(), Time: FormatTime(at), Signer: signer, Sig: base64.StdEncoding.EncodeToString(sig)}
	if err := w.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if err := w.Verify(v, node); err != nil {
		return nil, err
	}
	return w, nil
}

// Verify checks that node signed the witnessed head, with a key v holds valid at the
// witness's time.
func (w *Witness) Verify(v Verifier, node string) error {
	if err := w.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h, _ := ParseHead(w.Head)
	t, _ := time.Parse(timeLayout, w.Time)
	sig, _ := base64.StdEncoding.DecodeString(w.Sig)
	msg, err := HeadStatement(node, h)
	if err != nil {
		return err
	}
	if err := checkSigner(v, w.Signer, node); err != nil {
		return fmt.Errorf("witnessed head %s: %w", w.Head, err)
	}
	if err := v.Verify(w.Signer, t, HeadDomain, msg, sig); err != nil {
		return fmt.Errorf("%w: witnessed head %s is not signed by %s: %v", ErrBadSignature, w.Head, node, err)
	}
	return nil
}

// Expectation is a head a log must reach, and who says so (for the error that names it).
type Expectation struct {
	Head Head
	By   string
	// Time is when the node stated the head (the witness's time); zero if not known. It tells
	// whether a prune could have dropped the head's record ([VerifyOptions.Retention]).
	Time time.Time
}

// Witnessed reads a partner's log from r (file names it) and returns every head of node's log
// that the partner witnessed: the witnesses of the partner's query records about node, each
// checked against node's keyring v. The partner's own records are read strictly but their
// chain and signatures are not checked here (verify that log with the partner's keyring); a
// witness does not depend on them, since node's own signature proves it. A witness that does
// not verify is an error naming its line: someone forged a head node never stated.
func Witnessed(r io.Reader, file, node string, v Verifier) ([]Expectation, error) {
	var out []Expectation
	err := lines(r, func(n int, off int64, line []byte, complete bool) error {
		if !complete {
			return nil // a torn last line holds no witness anyone can rely on
		}
		rec, err := parseLine(line)
		if err != nil {
			return &BadRecordError{File: file, Line: n, Offset: off, Err: err}
		}
		w := rec.Witness
		if w == nil || rec.Partner != node {
			return nil
		}
		if err := w.Verify(v, node); err != nil {
			return &BadRecordError{File: file, Line: n, Offset: off, Seq: rec.Seq, Err: err}
		}
		h, _ := ParseHead(w.Head)
		at, _ := time.Parse(timeLayout, w.Time)
		by := fmt.Sprintf("%s's record %d (%s, request %s)", rec.Node, rec.Seq, w.Time, rec.RequestID)
		if file != "" {
			by = fmt.Sprintf("%s line %d: %s", file, n, by)
		}
		out = append(out, Expectation{Head: h, By: by, Time: at})
		return nil
	})
	return out, err
}
