package protocol

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/internal/workers"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// defaultShutdownGrace is Options.ShutdownGrace's default.
const defaultShutdownGrace = 30 * time.Second

// unidentified is the partner name audit records give a caller whose certificate is no
// configured partner's.
const unidentified = "unidentified"

type partnerKey struct{}

// partnerFrom returns the partner the call's interceptor identified.
func partnerFrom(ctx context.Context) *partner {
	p, _ := ctx.Value(partnerKey{}).(*partner)
	return p
}

// NewGRPCServer returns the node's gRPC server: mutual TLS 1.3, the Ceremony, Match and health
// services, and interceptors that identify the partner from its certificate (an unknown one is
// refused with Unauthenticated and audited), track calls for a graceful shutdown and turn a
// panic into an Internal status.
func (n *Node) NewGRPCServer() *grpc.Server {
	s := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(n.serverTLS())),
		grpc.MaxConcurrentStreams(64),
		grpc.ConnectionTimeout(30*time.Second),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(n.unaryInterceptor),
		grpc.ChainStreamInterceptor(n.streamInterceptor),
	)
	pb.RegisterMatchServiceServer(s, &matchServer{n: n})
	pb.RegisterCeremonyServiceServer(s, &ceremonyServer{n: n})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	return s
}

// Serve serves partners on lis until ctx ends, then stops gracefully: no new calls, calls in
// flight get Options.ShutdownGrace to finish and are then cancelled; every call records its audit
// record before Serve returns. Close the node afterwards.
func (n *Node) Serve(ctx context.Context, lis net.Listener) error {
	s := n.NewGRPCServer()
	errc := make(chan error, 1)
	strangers := make(chan struct{})
	go func() { errc <- s.Serve(n.strangers.listener(lis)) }()
	go n.pruneLoop(ctx)
	go func() { n.strangers.run(ctx); close(strangers) }()
	defer func() { <-strangers }()
	n.log.Info("serving", "node", n.name, "address", lis.Addr().String(), "partners", len(n.partners))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	n.log.Info("shutting down", "grace", n.grace)
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	n.testHook(ctx, "stopping", nil)
	select {
	case <-done:
	case <-time.After(n.grace):
		s.Stop()
		<-done
	}
	n.mu.Lock()
	n.draining = true
	n.mu.Unlock()
	n.inflight.Wait()
	return nil
}

// pruneLoop drops expired nonces and abandoned ceremonies every n.pruneEvery (a minute).
func (n *Node) pruneLoop(ctx context.Context) {
	t := time.NewTicker(n.pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.prune(ctx)
		}
	}
}

// prune is one round of pruneLoop. A panic in it (a bug) is logged with its stack, and the next
// round runs as usual: the rounds are what keeps the state file's nonces from growing.
func (n *Node) prune(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			n.logPanic("pruning", r)
		}
	}()
	n.testHook(ctx, "pruning", nil)
	n.dropExpiredCeremonies()
	if k, err := n.state.pruneNonces(n.now()); err != nil {
		n.log.Error("pruning nonces", "err", err)
	} else if k > 0 {
		n.log.Debug("pruned nonces", "count", k)
	}
}

func isHealth(method string) bool { return strings.HasPrefix(method, "/grpc.health.v1.Health/") }

func (n *Node) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if isHealth(info.FullMethod) {
		return handler(ctx, req)
	}
	ctx, err = n.admitCall(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	defer n.inflight.Done()
	ctx, cancel := n.boundCall(ctx)
	defer cancel()
	defer recoverInternal(n, info.FullMethod, &err)
	return handler(ctx, req)
}

func (n *Node) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	if isHealth(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx, err := n.admitCall(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	defer n.inflight.Done()
	ctx, cancel := n.boundCall(ctx)
	defer cancel()
	defer recoverInternal(n, info.FullMethod, &err)
	return handler(srv, &boundedStream{ServerStream: ss, ctx: ctx})
}

// admitCall registers the call and identifies the partner from its TLS certificate. An unknown
// certificate is refused and audited.
func (n *Node) admitCall(ctx context.Context, method string) (context.Context, error) {
	if err := n.enter(); err != nil {
		return nil, status.Error(codes.Unavailable, "node is shutting down")
	}
	p, err := n.identifyPeer(ctx)
	if err != nil {
		// Counted, and audited once per source and interval (strangers.go), not one by one.
		e := wire.Unauthenticated("client certificate is not a partner's", err)
		src := audit.OtherSource
		if pr, ok := peer.FromContext(ctx); ok {
			src = sourceOf(pr.Addr)
		}
		if isMatch(method) {
			n.met.query(unidentified, methodName(method), "responder", "refused", 0)
		}
		if n.strangers.refused(src) {
			n.log.Warn("refused", "method", method, "partner", unidentified, "source", src, "code", e.Code.String(), "reason", e.Error())
		}
		n.inflight.Done()
		return nil, e
	}
	return context.WithValue(ctx, partnerKey{}, p), nil
}

func (n *Node) identifyPeer(ctx context.Context) (*partner, error) {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil, errors.New("no peer")
	}
	ti, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, errors.New("not a TLS connection")
	}
	name, err := identify(n.partnerRules(), ti.State.PeerCertificates, n.now(), x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	return n.partners[name], nil
}

// recoverInternal turns a panic in a handler into an Internal status: a bug must not take the
// node down for every partner. The stack goes to the log, not to the partner.
func recoverInternal(n *Node, method string, err *error) {
	if r := recover(); r != nil {
		n.log.Error("panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(workers.Stack(r)))
		*err = wire.Internal(fmt.Errorf("panic: %v", r))
	}
}

// goBackground runs f on a goroutine Close waits for (n.bg). A panic in f (a bug) is logged
// with its stack instead of ending the process, which serves every other partner too.
func (n *Node) goBackground(what string, f func()) {
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer func() {
			if r := recover(); r != nil {
				n.logPanic(what, r)
			}
		}()
		f()
	}()
}

// logPanic logs a panic recovered from the node's background work, with its stack.
func (n *Node) logPanic(what string, r any) {
	n.log.Error("panic in background work", "work", what, "panic", fmt.Sprint(r), "stack", string(workers.Stack(r)))
}

// requestIDOf renders a header's request ID for logs and audit records, or draws a fresh one
// (audit.NewRequestID) when the header has none worth recording.
func (n *Node) requestIDOf(id []byte) string {
	if len(id) == wire.RequestIDLen {
		return hex.EncodeToString(id)
	}
	rid, err := audit.NewRequestID(n.rand)
	if err != nil {
		return strings.Repeat("0", 2*wire.RequestIDLen)
	}
	return rid
}

// auditRefusal records a refused request: a query record for Search and Verify, a key record
// for a ceremony round. Unknown fields are recorded as such, never guessed.
func (n *Node) auditRefusal(ctx context.Context, p *partner, method string, h *pb.RequestHeader, e *Error) {
	name := unidentified
	if p != nil {
		name = p.name
	}
	rid, purpose := n.requestIDOf(headerID(h)), purposeOf(h)
	var epoch uint64
	if h != nil {
		epoch = h.KeyEpoch
	}
	var err error
	if isMatch(method) {
		if e.Code == codes.ResourceExhausted {
			n.met.quotaRefuse.WithLabelValues(name).Inc()
		}
		n.met.query(name, methodName(method), "responder", "refused", 0)
		_, err = n.audit.Append(context.WithoutCancel(ctx), audit.KindQuery, audit.Event{Partner: name, Role: audit.RoleResponder,
			Purpose: purpose, RequestID: rid, Outcome: audit.OutcomeRefused, Refusal: e.Refusal, Epoch: epoch})
	} else {
		_, err = n.audit.Append(context.WithoutCancel(ctx), audit.KindKey, audit.Event{Partner: name, Action: "ceremony-refused", Epoch: epoch})
	}
	if err != nil {
		n.log.Error("audit record not written", "err", err)
	}
}

func isMatch(method string) bool { return strings.HasPrefix(method, "/puente.v1.MatchService/") }

// methodName is the last element of a full method name ("Search").
func methodName(full string) string { return full[strings.LastIndexByte(full, '/')+1:] }
