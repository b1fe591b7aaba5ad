package operator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/protect"
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
