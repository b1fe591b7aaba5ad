package shard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/grpcconn"
	"github.com/puente-id/puente/internal/workers"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// An Error is a shard's failure to take part in a query or an install. Code is Unavailable
// (the shard is down, unreachable, or past the deadline) or FailedPrecondition (it holds
// another agreement, epoch, key set or partition generation, or answered for another probe).
type Error struct {
	Shard int
	Addr  string
	Code  codes.Code
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("shard %d (%s): %s: %v", e.Shard, e.Addr, e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrShard matches every *Error with errors.Is.
var ErrShard = errors.New("shard: a shard failed")

// Is reports whether target is ErrShard.
func (e *Error) Is(target error) bool { return target == ErrShard }

// Want is what the node expects of every shard for one agreement.
type Want struct {
	Agreement string
	Epoch     uint64
	KeySet    he.KeySetID
	// Generations names, per shard in placement order, the content of the partition it must hold
	// ([Partitions] derives them from the content): a change to one shard's entries changes its
	// generation alone, so only that shard receives a new partition.
	Generations []uint64
	ParamSet    *he.ParamSet
}

func (w Want) id(i, n int) *pb.PartitionID {
	return &pb.PartitionID{Agreement: w.Agreement, Epoch: w.Epoch, KeySetId: w.KeySet[:], Generation: w.Generations[i],
		Index: uint32(i), Count: uint32(n)}
}

// check reports a want that does not name one generation per shard of the pool.
func (p *Pool) check(w Want) error {
	if len(w.Generations) != p.Len() {
		return fmt.Errorf("shard: %d partition generations for %d shards", len(w.Generations), p.Len())
	}
	return nil
}

// Holds reports whether shard i, as h describes it, holds the partition w names for it.
func (p *Pool) Holds(i int, h Health, w Want) bool {
	if p.check(w) != nil || i < 0 || i >= p.Len() {
		return false
	}
	id := w.id(i, p.Len())
	for _, pt := range h.Parts {
		if sameID(pt.Partition, id) {
			return true
		}
	}
	return false
}

// Pool is the node's side of its shards: one gRPC connection per shard, in placement order.
type Pool struct {
	addrs   []string
	conns   []*grpc.ClientConn
	clients []pb.ShardServiceClient
	timeout time.Duration
	observe Observer
}

// An Observer is told of every call the node makes to a shard: the shard's index, the call
// ("count" or "install"), its outcome (the status code the pool classified it as, codes.OK when it
// succeeded) and its wall time. It must be safe for concurrent use and not block.
type Observer func(shard int, call string, code codes.Code, d time.Duration)

// Observe sets the pool's observer; call it before the pool is used.
func (p *Pool) Observe(o Observer) { p.observe = o }

func (p *Pool) observed(i int, call string, start time.Time, err *Error) {
	if p.observe == nil {
		return
	}
	code := codes.OK
	if err != nil {
		code = err.Code
	}
	p.observe(i, call, code, time.Since(start))
}

// Dial returns a pool over the shards at addrs (connections are made lazily). timeout bounds
// each shard's count: past it the query fails.
func Dial(addrs []string, tc *tls.Config, timeout time.Duration) (*Pool, error) {
	if len(addrs) == 0 || len(addrs) > maxShards {
		return nil, fmt.Errorf("shard: %d shards, want 1 to %d", len(addrs), maxShards)
	}
	p := &Pool{addrs: append([]string(nil), addrs...), timeout: timeout}
	for _, a := range addrs {
		c, err := grpc.NewClient(a, grpc.WithTransportCredentials(credentials.NewTLS(tc)),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessage), grpc.MaxCallSendMsgSize(MaxMessage)))
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("shard: %s: %w", a, err)
		}
		p.conns = append(p.conns, c)
		p.clients = append(p.clients, pb.NewShardServiceClient(c))
	}
	return p, nil
}

// Len returns the number of shards.
func (p *Pool) Len() int { return len(p.addrs) }

// Addrs returns the shards' addresses, in placement order.
func (p *Pool) Addrs() []string { return append([]string(nil), p.addrs...) }

// Close closes every connection.
func (p *Pool) Close() {
	for _, c := range p.conns {
		c.Close()
	}
}

// fail classifies a shard's error: a mismatch it reports stays FailedPrecondition, everything
// else (down, deadline, cancelled, internal) is Unavailable. Never is it an empty answer.
func (p *Pool) fail(i int, err error) *Error {
	code := codes.Unavailable
	if s, ok := status.FromError(err); ok && s.Code() == codes.FailedPrecondition {
		code = codes.FailedPrecondition
	}
	return &Error{Shard: i, Addr: p.addrs[i], Code: code, Err: err}
}

// Count sends the prepared probe to every shard and returns their partial counts, in shard
// order. It succeeds only if every shard answers within the pool's timeout for the partition
// want names, with a partial for this probe; otherwise it returns an *Error (the first seen)
// and cancels the other shards' work. A panic on one of the calls' goroutines (a bug) cancels
// the others and, once they have ended, panics in Count's caller with a *workers.Panic.
func (p *Pool) Count(ctx context.Context, want Want, tau float64, probe *he.Probe) ([]*he.Partial, error) {
	if err := p.check(want); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pbytes, _ := probe.MarshalBinary()
	out := make([]*he.Partial, len(p.clients))
	errs := make([]*Error, len(p.clients))
	first := make(chan int, len(p.clients))
	g := workers.Group{OnPanic: cancel} // a panic (a bug) reaches the caller's recover after every call ended
	for i, c := range p.clients {
		g.Go(func() {
			start := time.Now()
			out[i], errs[i] = p.count(ctx, i, c, want, tau, probe, pbytes)
			p.observed(i, "count", start, errs[i])
			if errs[i] != nil {
				first <- i
				cancel()
			}
		})
	}
	g.Wait()
	close(first)
	if i, ok := <-first; ok {
		return nil, errs[i]
	}
	return out, nil
}

func (p *Pool) count(ctx context.Context, i int, c pb.ShardServiceClient, want Want, tau float64, probe *he.Probe, pbytes []byte) (*he.Partial, *Error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	if err := p.connect(ctx, i); err != nil {
		return nil, p.fail(i, err)
	}
	id := want.id(i, len(p.clients))
	resp, err := c.Count(ctx, &pb.CountRequest{Partition: id, ParamSet: want.ParamSet.Name(), Threshold: tau, Probe: pbytes})
	if err != nil {
		return nil, p.fail(i, err)
	}
	if !sameID(resp.Partition, id) {
		return nil, &Error{Shard: i, Addr: p.addrs[i], Code: codes.FailedPrecondition, Err: errors.New("answered for another partition")}
	}
	part, err := he.ReadPartial(want.ParamSet, resp.Partial)
	if err != nil {
		return nil, &Error{Shard: i, Addr: p.addrs[i], Code: codes.Unavailable, Err: err}
	}
	if part.ProbeDigest() != probe.Digest() {
		return nil, &Error{Shard: i, Addr: p.addrs[i], Code: codes.FailedPrecondition, Err: errors.New("partial for another probe")}
	}
	return part, nil
}

func sameID(a, b *pb.PartitionID) bool {
	return a != nil && b != nil && a.Agreement == b.Agreement && a.Epoch == b.Epoch && string(a.KeySetId) == string(b.KeySetId) &&
		a.Generation == b.Generation && a.Index == b.Index && a.Count == b.Count
}

// connectWait bounds how long a count waits for a shard's connection to be made.
const connectWait = 10 * time.Second

// connect makes sure shard i's connection is ready, or fails (grpcconn.Ready): a restarted
// shard takes part in the next query.
func (p *Pool) connect(ctx context.Context, i int) error {
	return grpcconn.Ready(ctx, p.conns[i], connectWait)
}

// installChunk is the size of one Install message.
const installChunk = 1 << 20

// Install installs on shard i its partition of entries (which must all belong to it), with the
// evaluation keys' encoding keys, under want. It returns when the shard has written the
// partition durably.
func (p *Pool) Install(ctx context.Context, i int, want Want, dims int, keys []byte, entries []Entry) error {
	if err := p.check(want); err != nil {
		return err
	}
	if i < 0 || i >= p.Len() {
		return fmt.Errorf("shard: install on shard %d of %d", i, p.Len())
	}
	start := time.Now()
	err := p.install(ctx, i, want, dims, keys, entries)
	var se *Error
	if err != nil && !errors.As(err, &se) {
		se = &Error{Shard: i, Addr: p.addrs[i], Code: codes.Internal, Err: err}
	}
	p.observed(i, "install", start, se)
	return err
}

func (p *Pool) install(ctx context.Context, i int, want Want, dims int, keys []byte, entries []Entry) error {
	eb, err := EncodeEntries(entries, dims)
	if err != nil {
		return err
	}
	st, err := p.clients[i].Install(ctx)
	if err != nil {
		return p.fail(i, err)
	}
	h := &pb.InstallHeader{Partition: want.id(i, len(p.clients)), ParamSet: want.ParamSet.Name(), Dims: uint32(dims),
		KeysSize: uint64(len(keys)), Entries: uint64(len(entries))}
	send := func(m *pb.InstallRequest) error {
		if err := st.Send(m); err != nil {
			_, err = st.CloseAndRecv() // the stream's real error
			return p.fail(i, err)
		}
		return nil
	}
	if err := send(&pb.InstallRequest{Header: h}); err != nil {
		return err
	}
	for off := 0; off < len(keys); off += installChunk {
		if err := send(&pb.InstallRequest{Keys: keys[off:min(off+installChunk, len(keys))]}); err != nil {
			return err
		}
	}
	for off := 0; off < len(eb); off += installChunk {
		if err := send(&pb.InstallRequest{Entries: eb[off:min(off+installChunk, len(eb))]}); err != nil {
			return err
		}
	}
	clear(eb)
	resp, err := st.CloseAndRecv()
	if err != nil {
		return p.fail(i, err)
	}
	if !sameID(resp.Partition, h.Partition) || resp.Entries != uint64(len(entries)) {
		return &Error{Shard: i, Addr: p.addrs[i], Code: codes.FailedPrecondition, Err: errors.New("installed another partition")}
	}
	return nil
}

// InstallAll partitions entries over the pool's shards by [Owner] and installs every
// partition under the generations want names. Until every shard holds its partition, queries
// for want fail (FailedPrecondition), never answer from a mix of generations.
func (p *Pool) InstallAll(ctx context.Context, want Want, dims int, keys []byte, entries []Entry) error {
	if err := p.check(want); err != nil {
		return err
	}
	for i, part := range Split(entries, p.Len()) {
		if err := p.Install(ctx, i, want, dims, keys, part); err != nil {
			return err
		}
	}
	return nil
}

// Health is one shard's state as the node sees it.
type Health struct {
	Addr    string
	Serving bool
	Err     error // why the shard could not be asked
	Parts   []*pb.PartitionStatus
}

// Status asks every shard for its health and partitions, within the pool's timeout.
func (p *Pool) Status(ctx context.Context) []Health {
	out := make([]Health, len(p.clients))
	var g workers.Group
	for i, c := range p.clients {
		g.Go(func() {
			h := Health{Addr: p.addrs[i]}
			cctx, cancel := context.WithTimeout(ctx, max(p.timeout, time.Second))
			defer cancel()
			hr, err := healthpb.NewHealthClient(p.conns[i]).Check(cctx, &healthpb.HealthCheckRequest{Service: pb.ShardService_ServiceDesc.ServiceName})
			if err != nil {
				h.Err = err
				out[i] = h
				return
			}
			h.Serving = hr.Status == healthpb.HealthCheckResponse_SERVING
			sr, err := c.Status(cctx, &pb.StatusRequest{})
			if err != nil {
				h.Err = err
			} else {
				h.Parts = sr.Partitions
			}
			out[i] = h
		})
	}
	g.Wait()
	return out
}

// Ready waits until every shard's health service reports serving, or ctx ends. It resets the
// connections' reconnection backoff first, so that a shard restarted at the same address is
// used as soon as it serves (an operator's `puente status`, a readiness check, a test).
func (p *Pool) Ready(ctx context.Context) error {
	for i, c := range p.conns {
		c.ResetConnectBackoff()
		for {
			hr, err := healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{Service: pb.ShardService_ServiceDesc.ServiceName}, grpc.WaitForReady(true))
			if err == nil && hr.Status == healthpb.HealthCheckResponse_SERVING {
				break
			}
			if ctx.Err() != nil {
				return p.fail(i, ctx.Err())
			}
			if err != nil && status.Code(err) != codes.Unavailable {
				return p.fail(i, err)
			}
			if err == nil {
				// Connected but not serving (draining): wait for the next state change.
				c.WaitForStateChange(ctx, c.GetState())
			}
		}
	}
	return nil
}
