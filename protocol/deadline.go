package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/protocol/wire"
)

// Every call this node makes to a partner has a deadline: the operator's, if shorter, or the
// key policy's limits { call_deadline } (keys/policy.Limits), so that a partner that stops
// answering (a hung process, a dead link the kernel still holds open) ends the call with
// DeadlineExceeded rather than holding it forever. The connection also sends keepalive pings
// after limits { keepalive } of silence and drops a partner that does not answer one within
// keepaliveTimeout.

//
// A partner's call to this node is bounded by this node alone, whatever deadline the partner set
// or left out: it ends at this node's limits { call_deadline } (boundCall), and every wait for
// the partner's next message, or for the partner to read what the node sends, ends with it
// (boundedStream), so that a partner that opens a call and then sends nothing, or stops before
// round 2, or in a key-share upload, or never reads the answer, cannot hold what the call holds
// (a goroutine, a count against maxPartnerCalls, the garbled opening of an answer, a ceremony's
// lock) for longer. The call then ends with DeadlineExceeded, and a message that names the bound.

// keepaliveTimeout is how long a keepalive ping may go unanswered.
const keepaliveTimeout = 20 * time.Second

// withDeadline gives ctx the call deadline d unless it has an earlier one; cancel must be
// called.
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func deadlineUnary(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, cancel := withDeadline(ctx, d)
		defer cancel()
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

func deadlineStream(d time.Duration) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, cancel := withDeadline(ctx, d)
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			cancel()
			return nil, err
		}
		return &deadlineClientStream{ClientStream: cs, cancel: cancel}, nil
	}
}

// deadlineClientStream releases its deadline's timer once the stream has ended (or when the
// caller cancels the stream's context).
type deadlineClientStream struct {
	grpc.ClientStream
	cancel context.CancelFunc
}

func (s *deadlineClientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.cancel()
	}
	return err
}

// boundCall gives a partner's call to this node the node's bound (n.callBound), unless the
// partner's own deadline is earlier; cancel must be called.
func (n *Node) boundCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, n.callBound, &wire.Error{Code: codes.DeadlineExceeded,
		Safe: fmt.Sprintf("the call passed the node's bound on a partner's call (limits { call_deadline } %s)", n.callBound), Err: context.DeadlineExceeded})
}

// boundedStream is a partner's stream whose receives and sends end with its context
// (boundCall): a receive of grpc-go waits for the partner alone, and so does a send once what
// grpc-go queues for the stream (64 KiB) is unread, since it follows the partner's flow control.
type boundedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *boundedStream) Context() context.Context { return s.ctx }

// RecvMsg receives the partner's next message, or fails with the context's error once it ends;
// the handler then ends the call, which ends the receive left waiting (waitOrStop).
func (s *boundedStream) RecvMsg(m any) error {
	return s.orStop(func() error { return s.ServerStream.RecvMsg(m) })
}

// SendMsg sends m to the partner, or fails with the context's error once it ends; the handler
// then ends the call, which ends the send left waiting (waitOrStop). Until then that send may
// still read m, and it is the stream's last: the handler sends nothing more.
func (s *boundedStream) SendMsg(m any) error {
	return s.orStop(func() error { return s.ServerStream.SendMsg(m) })
}

// orStop waits for wait, a receive or a send, unless the stream's context ends first.
func (s *boundedStream) orStop(wait func() error) error {
	_, err := waitOrStop(s.ctx.Done(), func() (struct{}, error) { return struct{}{}, wait() })
	if errors.Is(err, errInterrupted) {
		return wire.FromContext(s.ctx)
	}
	return err
}
