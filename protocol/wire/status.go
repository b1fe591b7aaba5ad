package wire

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/audit"
)

// Errors of this package. A refusal by either node wraps one of them, so callers test with
// errors.Is; on the client side they are recovered from the gRPC status code.
var (
	// ErrUnauthenticated: the partner's certificate, signature, timestamp or nonce did not check
	// out (gRPC Unauthenticated).
	ErrUnauthenticated = errors.New("protocol: unauthenticated")
	// ErrReplay: the request's timestamp is outside the replay window or its nonce was seen
	// before (gRPC Unauthenticated, audited as a replay).
	ErrReplay = errors.New("protocol: replayed or stale request")
	// ErrPermission: the partner may not make this request (purpose, agreement) (gRPC
	// PermissionDenied).
	ErrPermission = errors.New("protocol: permission denied")
	// ErrInvalid: a malformed message, header or HE object (gRPC InvalidArgument).
	ErrInvalid = errors.New("protocol: invalid argument")
	// ErrQuota: the partner's query quota in the key policy is spent (gRPC ResourceExhausted).
	ErrQuota = errors.New("protocol: quota exhausted")
	// ErrPrecondition: the request does not fit the node's state: wrong or revoked epoch, other
	// parameter set, empty gallery, no ceremony in progress (gRPC FailedPrecondition).
	ErrPrecondition = errors.New("protocol: failed precondition")
	// ErrNotFound: Verify named a reference the responder does not have (gRPC NotFound).
	ErrNotFound = errors.New("protocol: not found")
	// ErrDeadline: the call's deadline passed or it was cancelled (gRPC DeadlineExceeded or
	// Canceled); the work it started was stopped.
	ErrDeadline = errors.New("protocol: deadline exceeded or cancelled")
	// ErrInternal: the node failed after accepting the request (gRPC Internal or Unavailable).
	ErrInternal = errors.New("protocol: internal failure")
	// ErrDeviated: the partner's answer does not open (its garbled circuit or transfer is not
	// what an honest responder sends). An honest partner never causes it: treat it as evidence
	// that the partner deviated from the protocol.
	ErrDeviated = errors.New("protocol: the partner deviated from the protocol")
)

// Error is a refusal or failure at the gRPC edge. Safe is the short message the partner sees;
// Err is the internal cause, which is logged and never sent. Neither ever holds a template, a
// score, a ciphertext or key material.
type Error struct {
	Code    codes.Code
	Safe    string
	Refusal audit.RefusalClass // empty for a failure after acceptance
	Err     error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "protocol: " + e.Safe
	}
	return fmt.Sprintf("protocol: %s: %v", e.Safe, e.Err)
}

// Unwrap returns the sentinel of the error's code, and the internal cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{SentinelOf(e.Code)}
	}
	return []error{SentinelOf(e.Code), e.Err}
}

// GRPCStatus is what grpc-go sends for the error: the code and the safe message only.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Safe) }

// Refuse builds a refusal: code, audit class, safe message and internal cause.
func Refuse(code codes.Code, class audit.RefusalClass, safe string, cause error) *Error {
	return &Error{Code: code, Safe: safe, Refusal: class, Err: cause}
}

func Invalid(safe string, cause error) *Error {
	return Refuse(codes.InvalidArgument, audit.RefusedInvalid, safe, cause)
}

func Unauthenticated(safe string, cause error) *Error {
	return Refuse(codes.Unauthenticated, audit.RefusedUnauthenticated, safe, cause)
}

func Precondition(safe string, cause error) *Error {
	return Refuse(codes.FailedPrecondition, audit.RefusedPrecondition, safe, cause)
}

func Permission(safe string, cause error) *Error {
	return Refuse(codes.PermissionDenied, audit.RefusedPermission, safe, cause)
}

func Internal(cause error) *Error {
	return &Error{Code: codes.Internal, Safe: "internal error", Err: cause}
}

// FromContext turns a context error into the matching status; nil if ctx is live.
func FromContext(ctx context.Context) *Error {
	switch ctx.Err() {
	case nil:
		return nil
	case context.DeadlineExceeded:
		// A deadline set with an *Error as its cause (a node's own bound on a partner's call)
		// names itself.
		if c, ok := context.Cause(ctx).(*Error); ok {
			e := *c
			return &e
		}
		return &Error{Code: codes.DeadlineExceeded, Safe: "deadline exceeded", Err: ctx.Err()}
	default:
		return &Error{Code: codes.Canceled, Safe: "cancelled", Err: ctx.Err()}
	}
}

// AsError returns err as an *Error, classing an unknown error as internal (or as the context's
// own error when ctx is done).
func AsError(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ce := FromContext(ctx); ce != nil {
		ce.Err = err
		return ce
	}
	return Internal(err)
}

func SentinelOf(c codes.Code) error {
	switch c {
	case codes.Unauthenticated:
		return ErrUnauthenticated
	case codes.PermissionDenied:
		return ErrPermission
	case codes.InvalidArgument:
		return ErrInvalid
	case codes.ResourceExhausted:
		return ErrQuota
	case codes.FailedPrecondition:
		return ErrPrecondition
	case codes.NotFound:
		return ErrNotFound
	case codes.DeadlineExceeded, codes.Canceled:
		return ErrDeadline
	}
	return ErrInternal
}

// RemoteError is a refusal received from the partner: its gRPC code and safe message. It wraps
// the sentinel of the code.
type RemoteError struct {
	Partner string
	Method  string
	Code    codes.Code
	Message string
}

func (e *RemoteError) Error() string {
	switch e.Code {
	case codes.Unavailable:
		// The call did not reach the partner's handler: nothing was refused.
		return fmt.Sprintf("protocol: partner %s unreachable for %s: %s (%s)", e.Partner, e.Method, e.Message, e.Code)
	case codes.DeadlineExceeded:
		return fmt.Sprintf("protocol: partner %s did not answer %s within the deadline: %s (%s)", e.Partner, e.Method, e.Message, e.Code)
	}
	return fmt.Sprintf("protocol: partner %s refused %s: %s (%s)", e.Partner, e.Method, e.Message, e.Code)
}

func (e *RemoteError) Unwrap() error { return SentinelOf(e.Code) }

// Remote converts an error from a gRPC call into a *RemoteError (or returns it unchanged when
// it carries no status, e.g. a local *Error).
func Remote(partner, method string, err error) error {
	if err == nil {
		return nil
	}
	var le *Error
	if errors.As(err, &le) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("protocol: %s %s: %w", partner, method, err)
	}
	return &RemoteError{Partner: partner, Method: method, Code: st.Code(), Message: st.Message()}
}

// RefusalOf classes a status code for the querier's audit record of a refused query.
func RefusalOf(c codes.Code) audit.RefusalClass {
	switch c {
	case codes.ResourceExhausted:
		return audit.RefusedQuota
	case codes.Unauthenticated:
		return audit.RefusedUnauthenticated
	case codes.PermissionDenied:
		return audit.RefusedPermission
	case codes.InvalidArgument:
		return audit.RefusedInvalid
	}
	return audit.RefusedPrecondition
}

// Replayed refuses a stale or repeated request (Unauthenticated, audited as a replay).
func Replayed(safe string, cause error) *Error {
	return Refuse(codes.Unauthenticated, audit.RefusedReplay, safe, fmt.Errorf("%w: %v", ErrReplay, cause))
}
