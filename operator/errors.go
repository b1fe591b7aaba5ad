package operator

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// sentinels are the protocol package's errors, by the names the operator API sends them under.
var sentinels = []struct {
	name pb.Sentinel
	err  error
}{
	{pb.Sentinel_SENTINEL_UNAUTHENTICATED, protocol.ErrUnauthenticated},
	{pb.Sentinel_SENTINEL_REPLAY, protocol.ErrReplay},
	{pb.Sentinel_SENTINEL_PERMISSION, protocol.ErrPermission},
	{pb.Sentinel_SENTINEL_INVALID, protocol.ErrInvalid},
	{pb.Sentinel_SENTINEL_QUOTA, protocol.ErrQuota},
	{pb.Sentinel_SENTINEL_PRECONDITION, protocol.ErrPrecondition},
	{pb.Sentinel_SENTINEL_NOT_FOUND, protocol.ErrNotFound},
	{pb.Sentinel_SENTINEL_DEADLINE, protocol.ErrDeadline},
	{pb.Sentinel_SENTINEL_INTERNAL, protocol.ErrInternal},
	{pb.Sentinel_SENTINEL_DEVIATED, protocol.ErrDeviated},
	{pb.Sentinel_SENTINEL_HALTED, protocol.ErrHalted},
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s.err {
			return true
		}
	}
	return false
}

// requestError is a request the operator API refuses before any operation (InvalidArgument).
type requestError struct {
	method string
	err    error
}

func (e *requestError) Error() string { return "operator: " + e.method + ": " + e.err.Error() }

// Unwrap returns protocol.ErrInvalid and the reason.
func (e *requestError) Unwrap() []error { return []error{protocol.ErrInvalid, e.err} }

// codeOf is the status code of an operation's error: the code of the refusal it wraps, or of the
// first of the protocol package's sentinels it wraps, or of the context error; Unknown
// otherwise.
func codeOf(err error) codes.Code {
	var e *protocol.Error
	if errors.As(err, &e) {
		return e.Code
	}
	var re *protocol.RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	for _, c := range []codes.Code{codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied,
		codes.ResourceExhausted, codes.FailedPrecondition, codes.NotFound, codes.DeadlineExceeded, codes.Internal} {
		if errors.Is(err, wire.SentinelOf(c)) {
			return c
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}

// statusOf is the status the operator API answers err with: its code, its whole message, and a
// Failure detail with its cause chain and the sentinels it wraps.
func statusOf(err error) error {
	st := status.New(codeOf(err), err.Error())
	f := &pb.Failure{Causes: Causes(err)}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			f.Sentinels = append(f.Sentinels, s.name)
		}
	}
	if d, derr := st.WithDetails(f); derr == nil {
		st = d
	}
	return st.Err()
}

// maxCauses bounds the cause chain sent and printed.
const maxCauses = 32

// Causes returns the messages of err's causes, outermost first, without err's own and without the
// protocol package's sentinels (which the status code carries). Where an error wraps several (a
// protocol.Error wraps its code's sentinel and its cause), the chain follows the last that is not
// a sentinel. An error from a Client has the same causes as the node's error had in process.
func Causes(err error) []string {
	var out []string
	for e := nextCause(err); e != nil && len(out) < maxCauses; e = nextCause(e) {
		if !isSentinel(e) {
			out = append(out, e.Error())
		}
	}
	return out
}

func nextCause(err error) error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		es := u.Unwrap()
		for i := len(es) - 1; i >= 0; i-- {
			if es[i] != nil && !isSentinel(es[i]) {
				return es[i]
			}
		}
		if len(es) > 0 {
			return es[0]
		}
	}
	return nil
}

// Error is an operation's failure as a Client receives it from the running node: the message the
// node's error had, its cause chain (Unwrap, one message per link), and the protocol package's
// sentinels it wrapped (Is), so that errors.Is(err, protocol.ErrInvalid) holds over the socket as
// in process. A failure on the way (the socket, the transport) is an Error too, with the sentinel
// of its code.
type Error struct {
	Code codes.Code
	Msg  string
	is   []error
	next error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the first cause.
func (e *Error) Unwrap() error { return e.next }

// Is reports whether the node's error wrapped target, one of the protocol package's sentinels.
func (e *Error) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// causeLink is one link of an Error's chain.
type causeLink struct {
	msg  string
	next error
}

func (l *causeLink) Error() string { return l.msg }
func (l *causeLink) Unwrap() error { return l.next }

// fromStatus rebuilds the error of a failed call to the node at path.
func fromStatus(path string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("operator: node at %s: %w", path, err)
	}
	var f *pb.Failure
	for _, d := range st.Details() {
		if d, ok := d.(*pb.Failure); ok {
			f = d
		}
	}
	if f == nil {
		// The call failed on its way (the socket, the transport), not in the node's operation.
		return &Error{Code: st.Code(), Msg: fmt.Sprintf("operator: node at %s: %s (%s)", path, st.Message(), st.Code()),
			is: []error{wire.SentinelOf(st.Code())}}
	}
	var is []error
	for _, name := range f.Sentinels {
		for _, s := range sentinels {
			if s.name == name {
				is = append(is, s.err)
			}
		}
	}
	var next error
	for i := len(f.Causes) - 1; i >= 0; i-- {
		next = &causeLink{msg: f.Causes[i], next: next}
	}
	return &Error{Code: st.Code(), Msg: st.Message(), is: is, next: next}
}
