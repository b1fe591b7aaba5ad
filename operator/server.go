package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// timeoutKey is the request metadata that carries the operator's deadline, in milliseconds
// (operator.proto).
const timeoutKey = "puente-timeout-ms"

// maxMessage bounds a request or response (an enrolment of a few hundred thousand vectors).
const maxMessage = 512 << 20

// Listen makes the operator socket at path (mode 0600 in a 0700 directory: only the node's user
// may connect), replacing one a node that died left behind; once it returns, operator commands
// can connect (Serve answers them). The caller proves that no node runs (the home's lock).
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	os.Remove(path) // a socket left by a node that died
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("operator: socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, err
	}
	return lis, nil
}

// Serve serves the operator API of op on lis (made by Listen) until ctx ends; calls in flight
// then get grace to finish (the node's shutdown grace). It closes lis.
func Serve(ctx context.Context, lis net.Listener, op Operator, grace time.Duration) error {
	srv := NewServer(op)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		graceful := make(chan struct{})
		go func() { srv.GracefulStop(); close(graceful) }()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-graceful:
		case <-t.C:
			srv.Stop()
		}
	}()
	err := srv.Serve(lis)
	if ctx.Err() != nil {
		<-stopped
		return nil
	}
	return err
}

// NewServer returns a gRPC server of the operator API for op. A request that does not decode
// (codec) or check out (checkRequest) fails with InvalidArgument and reaches no operation; an operation's error is
// answered with its status (statusOf); a panic fails with Internal, and the node goes on serving.
func NewServer(op Operator) *grpc.Server {
	s := &server{op: op, codec: new(codec)}
	srv := grpc.NewServer(grpc.ForceServerCodec(s.codec), grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
		grpc.UnaryInterceptor(s.intercept))
	pb.RegisterOperatorServiceServer(srv, s)
	return srv
}

// server adapts an Operator to the generated service: each method converts the request, runs
// the operation and converts its report; intercept does the rest.
type server struct {
	pb.UnimplementedOperatorServiceServer
	op    Operator
	codec *codec
}

// intercept checks the request, applies the operator's deadline, turns a panic into Internal and
// an error into its status.
func (s *server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	method := path.Base(info.FullMethod)
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, statusOf(&protocol.Error{Code: codes.Internal, Safe: "operator: " + method + " failed inside the node", Err: fmt.Errorf("panic: %v", p)})
		}
	}()
	if err := s.codec.undecodable(req); err != nil {
		return nil, statusOf(&requestError{method, err})
	}
	if m, ok := req.(proto.Message); ok && wire.HasUnknown(m.ProtoReflect()) {
		return nil, statusOf(&requestError{method, errors.New("the request has fields this node does not know")})
	}
	if err := checkRequest(req); err != nil {
		return nil, statusOf(&requestError{method, err})
	}
	timeout, err := timeoutOf(ctx)
	if err != nil {
		return nil, statusOf(&requestError{method, err})
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	resp, err = handler(ctx, req)
	if err != nil {
		return nil, statusOf(err)
	}
	return resp, nil
}

// timeoutOf returns the operator's deadline the request's metadata carries (0: none but the
// node's own).
func timeoutOf(ctx context.Context) (time.Duration, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get(timeoutKey)
	if len(v) == 0 {
		return 0, nil
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || ms < 0 || len(v) > 1 {
		return 0, fmt.Errorf("%s must be one number of milliseconds, not negative", timeoutKey)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func (s *server) Ceremony(ctx context.Context, r *pb.CeremonyRequest) (*pb.CeremonyResponse, error) {
	rep, err := s.op.Ceremony(ctx, r.Partner, r.Epoch)
	if err != nil {
		return nil, err
	}
	return &pb.CeremonyResponse{Report: ceremonyReportOf(rep)}, nil
}

func (s *server) Revoke(ctx context.Context, r *pb.RevokeRequest) (*pb.RevokeResponse, error) {
	rep, err := s.op.Revoke(ctx, r.Partner)
	if err != nil {
		return nil, err
	}
	return &pb.RevokeResponse{Report: ceremonyReportOf(rep)}, nil
}

func (s *server) Enrol(ctx context.Context, r *pb.EnrolRequest) (*pb.EnrolResponse, error) {
	rep, err := s.op.Enrol(ctx, r.Partner, r.Refs, fromVectors32(r.Raw), protocol.EnrolOptions{Resume: r.Resume})
	if err != nil {
		return nil, err
	}
	return enrolReportOf(rep), nil
}

func (s *server) References(ctx context.Context, r *pb.ReferencesRequest) (*pb.ReferencesResponse, error) {
	labels, err := s.op.References(ctx, r.Partner, r.Refs)
	if err != nil {
		return nil, err
	}
	return &pb.ReferencesResponse{Labels: labels}, nil
}

func (s *server) Protect(ctx context.Context, r *pb.ProtectRequest) (*pb.ProtectResponse, error) {
	prot, epoch, err := s.op.Protect(ctx, r.Partner, fromVectors(r.Raw))
	if err != nil {
		return nil, err
	}
	return &pb.ProtectResponse{Protected: vectorsOf(prot), Epoch: epoch}, nil
}

func (s *server) Search(ctx context.Context, r *pb.SearchRequest) (*pb.SearchResponse, error) {
	res, err := s.op.Search(ctx, r.Partner, fromProbe(r.Probe), r.Purpose)
	if err != nil {
		return nil, err
	}
	return &pb.SearchResponse{Result: resultOf(res)}, nil
}

func (s *server) Verify(ctx context.Context, r *pb.VerifyRequest) (*pb.VerifyResponse, error) {
	res, err := s.op.Verify(ctx, r.Partner, r.Reference, fromProbe(r.Probe), r.Purpose)
	if err != nil {
		return nil, err
	}
	return &pb.VerifyResponse{Result: resultOf(res)}, nil
}

func (s *server) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	st, err := s.op.Status(ctx)
	if err != nil {
		return nil, err
	}
	return statusOfNode(st), nil
}

func (s *server) Keys(ctx context.Context, r *pb.KeysRequest) (*pb.KeysResponse, error) {
	rep, err := s.op.Keys(ctx, fromKeysRequest(r))
	if err != nil {
		return nil, err
	}
	return keyReportOf(rep), nil
}

func (s *server) VerifyGallery(ctx context.Context, r *pb.VerifyGalleryRequest) (*pb.VerifyGalleryResponse, error) {
	rep, err := s.op.VerifyGallery(ctx, r.Partner)
	if err != nil {
		return nil, err
	}
	return galleryReportOf(rep), nil
}

func (s *server) PruneAudit(ctx context.Context, _ *pb.PruneAuditRequest) (*pb.PruneAuditResponse, error) {
	rep, err := s.op.PruneAudit(ctx)
	if err != nil {
		return nil, err
	}
	return pruneReportOf(rep), nil
}
