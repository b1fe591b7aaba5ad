package protocol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol/wire"
)

// failingOperator answers every Search with err (and has no other operation).
type failingOperator struct {
	Operator
	err error
}

func (o failingOperator) Search(context.Context, string, Probe, string) (*Result, error) {
	return nil, o.err
}

// serveOperatorSocket serves the operator API for op on a socket in a temporary directory until
// the test ends, and returns a client of it.
func serveOperatorSocket(t *testing.T, op Operator) *AdminClient {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := newAdminServer(op)
	done := make(chan struct{})
	go func() { srv.Serve(lis); close(done) }()
	c, err := DialAdmin(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		srv.Stop()
		<-done
	})
	return c
}

// TestOperatorSocketKeepsErrors: an operation's error reaches the operator's client over the
// socket with its message, its cause chain and every sentinel of this package it wraps, as
// the same call in process returns it.
func TestOperatorSocketKeepsErrors(t *testing.T) {
	t.Parallel()
	zero := &protect.InputError{Source: "vector", Row: -1, Col: -1, Reason: "zero vector"}
	for _, orig := range []error{
		wire.Invalid("probe", zero),
		fmt.Errorf("protocol: search: %w", wire.Invalid("probe", fmt.Errorf("transform: %w", zero))),
		&RemoteError{Partner: "beta", Method: "Verify", Code: codes.NotFound, Message: "no such reference"},
		&RemoteError{Partner: "beta", Method: "Search", Code: codes.Unavailable, Message: "connection refused"},
		wire.Replayed("stale", errors.New("timestamp 40 s old")),
		fmt.Errorf("protocol: query: %w", context.DeadlineExceeded),
		fmt.Errorf("protocol: recording: %w", errors.New("disk full")),
	} {
		c := serveOperatorSocket(t, failingOperator{err: orig})
		_, err := c.Search(context.Background(), "beta", Probe{Raw: []float64{1}}, "")
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
	}
	// The probe's own fault is ErrInvalid and has a chain: the property above is not vacuous.
	if e := wire.Invalid("probe", zero); !errors.Is(e, ErrInvalid) || len(Causes(e)) == 0 {
		t.Errorf("a bad probe's error %v: ErrInvalid %v, causes %q", e, errors.Is(e, ErrInvalid), Causes(e))
	}
}

// TestOperatorSocketRefusesBadRequests: a request the operator API does not parse is refused with
// InvalidArgument (ErrInvalid) and reaches no operation.
func TestOperatorSocketRefusesBadRequests(t *testing.T) {
	t.Parallel()
	c := serveOperatorSocket(t, failingOperator{err: errors.New("reached")})
	_, err := c.Search(context.Background(), "beta", Probe{}, "")
	var oe *OperatorError
	if !errors.As(err, &oe) || oe.Code != codes.InvalidArgument || !errors.Is(err, ErrInvalid) {
		t.Fatalf("probe with neither raw nor protected features: %v, want InvalidArgument", err)
	}
	if err.Error() == "reached" {
		t.Fatal("the bad request reached the operation")
	}
}
