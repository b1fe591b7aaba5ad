package protocol

import (
	"context"
	"time"

	"google.golang.org/grpc"
)

// Every call this node makes to a partner has a deadline: the operator's, if shorter, or the
// key policy's limits { call_deadline } (keys/policy.Limits), so that a partner that stops
// answering (a hung process, a dead link the kernel still holds open) ends the call with
// DeadlineExceeded rather than holding it forever. The connection also sends keepalive pings
// after limits { keepalive } of silence and drops a partner that does not answer one within
// keepaliveTimeout.

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
