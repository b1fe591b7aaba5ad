// Package grpcconn holds what Puente's gRPC clients (a node's partner connections, a node's
// shard pool) share about their connections.
package grpcconn

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// Ready makes sure c is connected, or reports why not. A connection in transient failure (the
// peer was down when it last tried) is retried at once instead of after gRPC's reconnection
// backoff, which grows to two minutes: a peer that restarted is reached by the next call, not
// by the first call after the backoff ends. Ready waits on the connection's state changes, within
// ctx and wait; it fails with codes.Unavailable once a new attempt has failed, and with ctx's
// error when ctx ends first.
func Ready(ctx context.Context, c *grpc.ClientConn, wait time.Duration) error {
	st := c.GetState()
	if st == connectivity.Ready {
		return nil
	}
	if st == connectivity.TransientFailure {
		c.ResetConnectBackoff()
	}
	c.Connect()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tried := false
	for {
		switch st = c.GetState(); st {
		case connectivity.Ready:
			return nil
		case connectivity.Connecting:
			tried = true
		case connectivity.TransientFailure:
			if tried {
				return status.Error(codes.Unavailable, "unreachable")
			}
		case connectivity.Shutdown:
			return status.Error(codes.Unavailable, "connection closed")
		}
		if !c.WaitForStateChange(ctx, st) {
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}
