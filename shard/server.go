package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/workers"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// Config configures a shard.
type Config struct {
	// Dir holds the shard's partitions, one file per agreement (a persistent volume).
	Dir string
	// Lookup resolves a parameter set's name (the node's own lookup).
	Lookup func(name string) (*he.ParamSet, error)
	// Workers bounds the goroutines of one count; 0 means GOMAXPROCS.
	Workers int
	// MemoryBudget bounds the bytes of NTT plaintexts kept ready per partition (he.PackOptions).
	MemoryBudget int64
	// Log receives the shard's events; nil discards them.
	Log *slog.Logger
	// Metrics receives the shard's metrics; nil records none.
	Metrics *Metrics
}

// MaxMessage bounds a message of the shard protocol: a prepared probe at N = 2^15 is about
// 5.5 MB, a partial about 0.5 MB.
const MaxMessage = 16 << 20

// maxInstall bounds the bytes of one Install (keys and entries): 8 GiB.
const maxInstall = 8 << 30

// Server is a shard: it serves ShardService over the partitions in its directory.
type Server struct {
	pb.UnimplementedShardServiceServer
	cfg   Config
	mu    sync.RWMutex
	parts map[string]*partition
	sem   chan struct{} // one count at a time: a count uses every core
	// installing admits one Install at a time: each buffers its partition (up to maxInstall)
	// before it is checked, so concurrent ones would multiply that.
	installing chan struct{}
	health     *health.Server
}

// NewServer loads every partition of cfg.Dir. A partition file that does not load is an error:
// a shard that silently dropped its partition would answer counts of zero.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	s := &Server{cfg: cfg, parts: map[string]*partition{}, sem: make(chan struct{}, 1), installing: make(chan struct{}, 1), health: health.NewServer()}
	files, err := filepath.Glob(filepath.Join(cfg.Dir, "*.partition"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		h, keys, entries, err := readPartition(f)
		if err != nil {
			return nil, err
		}
		p, err := build(cfg.Lookup, h, keys, entries, cfg.MemoryBudget, cfg.Workers)
		if err != nil {
			return nil, fmt.Errorf("shard: %s: %w", f, err)
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".partition"); want != p.id.Agreement {
			return nil, fmt.Errorf("shard: %s holds agreement %q", f, p.id.Agreement)
		}
		s.parts[p.id.Agreement] = p
		cfg.Metrics.held(p.id.Agreement, p.entries)
		cfg.Log.Info("partition loaded", "agreement", p.id.Agreement, "epoch", p.id.Epoch, "generation", p.id.Generation,
			"shard", p.id.Index, "of", p.id.Count, "entries", p.entries)
	}
	return s, nil
}

// ServerOptions are the options the shard's gRPC server needs besides its credentials and
// message limits: interceptors that turn a panic in a handler (a bug) into an Internal status
// for that call, logged with its stack, where it would otherwise end the process and every
// count it serves.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.recoverUnary), grpc.ChainStreamInterceptor(s.recoverStream)}
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer s.recoverPanic(info.FullMethod, &err)
	return h(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer s.recoverPanic(info.FullMethod, &err)
	return h(srv, ss)
}

// recoverPanic, deferred by an interceptor, turns a panic into Internal.
func (s *Server) recoverPanic(method string, err *error) {
	if r := recover(); r != nil {
		s.cfg.Log.Error("panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(workers.Stack(r)))
		*err = status.Error(codes.Internal, "shard: internal error")
	}
}

// Register registers the shard protocol and the gRPC health service (serving) on g.
func (s *Server) Register(g *grpc.Server) {
	pb.RegisterShardServiceServer(g, s)
	healthpb.RegisterHealthServer(g, s.health)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(pb.ShardService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
}

// Shutdown marks the shard as not serving (readiness probes fail while it drains).
func (s *Server) Shutdown() { s.health.Shutdown() }

func (s *Server) partition(id *pb.PartitionID, paramSet string) (*partition, error) {
	if id == nil {
		return nil, status.Error(codes.InvalidArgument, "no partition named")
	}
	s.mu.RLock()
	p := s.parts[id.Agreement]
	s.mu.RUnlock()
	switch {
	case p == nil:
		return nil, status.Errorf(codes.FailedPrecondition, "no partition of agreement %q", id.Agreement)
	case !proto.Equal(p.id, id):
		return nil, status.Errorf(codes.FailedPrecondition, "partition differs: shard holds epoch %d generation %d (shard %d of %d), node wants epoch %d generation %d (shard %d of %d)",
			p.id.Epoch, p.id.Generation, p.id.Index, p.id.Count, id.Epoch, id.Generation, id.Index, id.Count)
	case p.ps.Name() != paramSet:
		return nil, status.Errorf(codes.FailedPrecondition, "parameter set %q, shard holds %q", paramSet, p.ps.Name())
	}
	return p, nil
}

// agreementLabel is the metrics label of a count's agreement: its name if the shard holds a
// partition of it, else "unknown", so that a caller cannot add label values (each a time series,
// as long as a message) with made-up names.
func (s *Server) agreementLabel(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.parts[name]; ok {
		return name
	}
	return "unknown"
}

// Count computes the shard's partial count for a prepared probe.
func (s *Server) Count(ctx context.Context, req *pb.CountRequest) (*pb.CountResponse, error) {
	start := time.Now()
	outcome := "failed" // unless count returns: a panic in it (a bug) leaves this
	defer func() {
		s.cfg.Metrics.count(s.agreementLabel(req.GetPartition().GetAgreement()), outcome, time.Since(start))
	}()
	resp, err := s.count(ctx, req)
	switch status.Code(err) {
	case codes.OK:
		outcome = "ok"
	case codes.FailedPrecondition, codes.InvalidArgument:
		outcome = "refused"
	}
	return resp, err
}

func (s *Server) count(ctx context.Context, req *pb.CountRequest) (*pb.CountResponse, error) {
	p, err := s.partition(req.GetPartition(), req.GetParamSet())
	if err != nil {
		return nil, err
	}
	probe, err := he.ReadProbe(p.ps, req.Probe)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "probe refused: %v", err)
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	s.cfg.Log.Debug("counting", "agreement", p.id.Agreement, "generation", p.id.Generation)
	part, err := p.eval.Count(ctx, probe, p.g, he.Options{Threshold: he.Threshold{Tau: req.Threshold}, Workers: s.cfg.Workers})
	switch {
	case ctx.Err() != nil:
		return nil, status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, he.ErrMismatch) || errors.Is(err, he.ErrMalformed):
		return nil, status.Errorf(codes.InvalidArgument, "probe refused: %v", err)
	case err != nil:
		s.cfg.Log.Error("count failed", "agreement", p.id.Agreement, "err", err)
		return nil, status.Error(codes.Internal, "count failed")
	}
	b, _ := part.MarshalBinary()
	return &pb.CountResponse{Partition: p.id, Partial: b}, nil
}

// Install replaces the shard's partition of one agreement.
func (s *Server) Install(st grpc.ClientStreamingServer[pb.InstallRequest, pb.InstallResponse]) error {
	first, err := st.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil || h.Partition == nil {
		return status.Error(codes.InvalidArgument, "an install starts with its header")
	}
	path, err := partitionPath(s.cfg.Dir, h.Partition.Agreement)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if h.KeysSize > maxInstall {
		return status.Errorf(codes.InvalidArgument, "keys of %d bytes", h.KeysSize)
	}
	select {
	case s.installing <- struct{}{}:
		defer func() { <-s.installing }()
	case <-st.Context().Done():
		return status.FromContextError(st.Context().Err()).Err()
	}
	var keys, entries bytes.Buffer
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if m.Header != nil {
			return status.Error(codes.InvalidArgument, "a second header")
		}
		if uint64(keys.Len()+len(m.Keys)) > h.KeysSize || keys.Len()+entries.Len()+len(m.Keys)+len(m.Entries) > maxInstall {
			return status.Error(codes.InvalidArgument, "install larger than its header says")
		}
		keys.Write(m.Keys)
		entries.Write(m.Entries)
	}
	if uint64(keys.Len()) != h.KeysSize {
		return status.Errorf(codes.InvalidArgument, "keys of %d bytes, header says %d", keys.Len(), h.KeysSize)
	}
	p, err := build(s.cfg.Lookup, h, keys.Bytes(), entries.Bytes(), s.cfg.MemoryBudget, s.cfg.Workers)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "partition refused: %v", err)
	}
	if err := writePartition(path, h, keys.Bytes(), entries.Bytes()); err != nil {
		s.cfg.Log.Error("partition not written", "agreement", p.id.Agreement, "err", err)
		return status.Error(codes.Internal, "partition not written")
	}
	s.mu.Lock()
	s.parts[p.id.Agreement] = p
	s.mu.Unlock()
	s.cfg.Metrics.held(p.id.Agreement, p.entries)
	s.cfg.Log.Info("partition installed", "agreement", p.id.Agreement, "epoch", p.id.Epoch, "generation", p.id.Generation,
		"shard", p.id.Index, "of", p.id.Count, "entries", p.entries)
	return st.SendAndClose(&pb.InstallResponse{Partition: p.id, Entries: uint64(p.entries)})
}

// Status reports every partition the shard holds.
func (s *Server) Status(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := &pb.StatusResponse{}
	for _, p := range s.parts {
		ps := &pb.PartitionStatus{Partition: p.id, ParamSet: p.ps.Name(), Entries: uint64(p.entries)}
		if p.g != nil {
			ps.Blocks, ps.MemoryBytes = uint32(p.g.Blocks()), uint64(p.g.MemoryBytes())
		}
		out.Partitions = append(out.Partitions, ps)
	}
	return out, nil
}
