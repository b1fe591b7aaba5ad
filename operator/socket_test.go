package operator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/puente-id/puente/protect"
	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// failingOperator answers every Search with err (and has no other operation).
type failingOperator struct {
	Operator
	err error
}

func (o failingOperator) Search(context.Context, string, protocol.Probe, string) (*protocol.Result, error) {
	return nil, o.err
}

// serveSocket serves the operator API for op on a socket in a temporary directory (as `puente
// serve` does: Listen, then Serve) until the test ends, and returns a client of it.
func serveSocket(t *testing.T, op Operator) *Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "admin.sock")
	lis, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lis, op, 0) }()
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return c
}

// TestOperatorSocketKeepsErrors: an operation's error reaches the operator's client over the
// socket with its message, its cause chain and every sentinel of package protocol it wraps, as
// the same call in process returns it.
func TestOperatorSocketKeepsErrors(t *testing.T) {
	t.Parallel()
	zero := &protect.InputError{Source: "vector", Row: -1, Col: -1, Reason: "zero vector"}
	for _, orig := range []error{
		wire.Invalid("probe", zero),
		fmt.Errorf("protocol: search: %w", wire.Invalid("probe", fmt.Errorf("transform: %w", zero))),
		&protocol.RemoteError{Partner: "beta", Method: "Verify", Code: codes.NotFound, Message: "no such reference"},
		&protocol.RemoteError{Partner: "beta", Method: "Search", Code: codes.Unavailable, Message: "connection refused"},
		wire.Replayed("stale", errors.New("timestamp 40 s old")),
		fmt.Errorf("protocol: query: %w", context.DeadlineExceeded),
		fmt.Errorf("protocol: recording: %w", errors.New("disk full")),
		fmt.Errorf("%w: %w: beta's answer to query 0123 did not open", protocol.ErrPrecondition, protocol.ErrHalted),
	} {
		c := serveSocket(t, failingOperator{err: orig})
		_, err := c.Search(context.Background(), "beta", protocol.Probe{Raw: []float64{1}}, "")
		if err == nil {
			t.Fatalf("%v: no error over the socket", orig)
		}
		if err.Error() != orig.Error() {
			t.Errorf("message over the socket %q, in process %q", err, orig)
		}
		if got, want := Causes(err), Causes(orig); !slices.Equal(got, want) {
			t.Errorf("%v: causes over the socket %q, in process %q", orig, got, want)
		}
		for _, s := range sentinels {
			if got, want := errors.Is(err, s.err), errors.Is(orig, s.err); got != want {
				t.Errorf("%v: errors.Is(err, %v) is %v over the socket, %v in process", orig, s.err, got, want)
			}
		}
		if errors.Is(orig, protocol.ErrHalted) && !errors.Is(err, protocol.ErrHalted) {
			t.Errorf("%v: ErrHalted lost over the socket", orig)
		}
		var oe *Error
		if !errors.As(err, &oe) || oe.Code != codeOf(orig) {
			t.Errorf("%v: over the socket %#v, want an *Error with code %v", orig, err, codeOf(orig))
		}
	}
	// The probe's own fault is ErrInvalid and has a chain: the property above is not vacuous.
	if e := wire.Invalid("probe", zero); !errors.Is(e, protocol.ErrInvalid) || len(Causes(e)) == 0 {
		t.Errorf("a bad probe's error %v: ErrInvalid %v, causes %q", e, errors.Is(e, protocol.ErrInvalid), Causes(e))
	}
}

// TestOperatorSocketRefusesBadRequests: a request the operator API does not accept is refused
// with InvalidArgument (ErrInvalid) and reaches no operation.
func TestOperatorSocketRefusesBadRequests(t *testing.T) {
	t.Parallel()
	c := serveSocket(t, failingOperator{err: errors.New("reached")})
	_, err := c.Search(context.Background(), "beta", protocol.Probe{}, "")
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != codes.InvalidArgument || !errors.Is(err, protocol.ErrInvalid) {
		t.Fatalf("probe with neither raw nor protected features: %v, want InvalidArgument", err)
	}
	if err.Error() == "reached" {
		t.Fatal("the bad request reached the operation")
	}
	if len(Causes(err)) == 0 {
		t.Errorf("the refusal %q has no cause naming what was wrong", err)
	}
}

// TestOperatorSocketTransportFailure: a call that fails on its way (no node behind the socket any
// more) is an *Error with no cause chain and the sentinel of its code.
func TestOperatorSocketTransportFailure(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "admin.sock")
	lis, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lis.Close()
	_, err = c.Status(context.Background())
	var oe *Error
	if !errors.As(err, &oe) || len(Causes(err)) != 0 || !errors.Is(err, wire.SentinelOf(oe.Code)) {
		t.Fatalf("status with no node: %#v", err)
	}
}

// TestOperatorSocketRefusesBadBytes: a request that is not a message of operator.proto (here a
// reference that is not UTF-8, which a lenient reader would take as U+FFFD) is refused with
// InvalidArgument naming why, as a bad request is, and reaches no operation.
func TestOperatorSocketRefusesBadBytes(t *testing.T) {
	t.Parallel()
	op := &checkingOperator{t: t}
	c := serveSocket(t, op)
	// The bad reference goes as an unknown field, which Marshal copies as it is, numbered as refs.
	req := &pb.ReferencesRequest{Partner: "beta"}
	req.ProtoReflect().SetUnknown(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "\xff-9"))
	_, err := c.rpc.References(context.Background(), req)
	if code := status.Code(err); code != codes.InvalidArgument || !strings.Contains(err.Error(), "UTF-8") || op.calls != 0 {
		t.Errorf("a reference that is not UTF-8: %v (%v) after %d operations, want InvalidArgument naming UTF-8", code, err, op.calls)
	}
	if err := fromStatus("admin.sock", err); !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("the refusal %v is not ErrInvalid", err)
	}
}
