package main

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serveHealth serves the gRPC health service alone, in plaintext, on addr: what Kubernetes'
// gRPC readiness and liveness probes call (they speak no TLS). Nothing else is served there.
// The services are marked serving; the returned server is marked not serving when ctx ends, and
// the listener closes with it.
func serveHealth(ctx context.Context, addr string, services ...string) (*health.Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health listen %s: %w", addr, err)
	}
	hs := health.NewServer()
	for _, s := range append([]string{""}, services...) {
		hs.SetServingStatus(s, healthpb.HealthCheckResponse_SERVING)
	}
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, hs)
	go func() {
		<-ctx.Done()
		hs.Shutdown()
		g.Stop()
	}()
	go g.Serve(lis)
	return hs, nil
}
