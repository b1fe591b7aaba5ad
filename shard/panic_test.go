package shard

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/servetest"
	"github.com/puente-id/puente/internal/workers"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// TestPanicBecomesInternal: a panic in a shard's handler (here the
// parameter-set lookup of an Install) ends that call with Internal, logged
// with its stack, and the shard goes on serving; without ServerOptions'
// interceptors it ended the process.
func TestPanicBecomesInternal(t *testing.T) {
	var logs servetest.Log // safe to write from the server's goroutines while the test reads it
	s, err := NewServer(Config{Dir: t.TempDir(), Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Lookup: func(string) (*he.ParamSet, error) { panicInLookup(); return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(s.ServerOptions()...)
	s.Register(g)
	go g.Serve(lis)
	defer g.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewShardServiceClient(conn)
	ctx := context.Background()
	for i := range 2 {
		st, err := c.Install(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h := &pb.InstallHeader{Partition: &pb.PartitionID{Agreement: "co-us", Count: 1}, Dims: 128, ParamSet: "any"}
		if err := st.Send(&pb.InstallRequest{Header: h}); err != nil {
			t.Fatal(err)
		}
		_, err = st.CloseAndRecv()
		if status.Code(err) != codes.Internal || strings.Contains(status.Convert(err).Message(), "lookup bug") {
			t.Fatalf("install %d: %v, want Internal without the panic's text", i, err)
		}
	}
	if _, err := c.Status(ctx, &pb.StatusRequest{}); err != nil {
		t.Fatalf("the shard no longer serves: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "panic in handler") || !strings.Contains(l, "lookup bug") || !strings.Contains(l, "panicInLookup") {
		t.Errorf("log lacks the panic, its value or its stack:\n%s", l)
	}
}

func panicInLookup() { panic("lookup bug") }

// TestPanicCountedFailed: a Count that panics is counted as failed, not
// ok, and its duration is not observed. The partition here has no
// parameter set, which Count's first check dereferences.
func TestPanicCountedFailed(t *testing.T) {
	m := NewMetrics()
	s, err := NewServer(Config{Dir: t.TempDir(), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	id := &pb.PartitionID{Agreement: "co-us", Count: 1}
	s.parts[id.Agreement] = &partition{id: id}
	_, err = s.recoverUnary(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/Count"}, func(ctx context.Context, _ any) (any, error) {
		return s.Count(ctx, &pb.CountRequest{Partition: id, ParamSet: "any"})
	})
	if status.Code(err) != codes.Internal {
		t.Fatalf("count: %v, want Internal", err)
	}
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, f := range fams {
		for _, mt := range f.Metric {
			counted = counted || mt.Counter != nil
			switch {
			case mt.Counter != nil && mt.Label[1].GetValue() != "failed":
				t.Errorf("%s counted %q", f.GetName(), mt.Label[1].GetValue())
			case mt.Counter != nil && mt.Counter.GetValue() != 1:
				t.Errorf("%s: %v failed counts, want 1", f.GetName(), mt.Counter.GetValue())
			case mt.Histogram != nil && mt.Histogram.GetSampleCount() != 0:
				t.Errorf("%s observed the panicked count's duration", f.GetName())
			}
		}
	}
	if !counted {
		t.Error("the count was not counted")
	}
}

// TestPoolCountPanic: a panic on one of the goroutines a count runs per
// shard (here in the pool's observer, the node's metrics) reaches the
// goroutine that called Count, after every shard's call has ended, where the
// node's handler turns it into Internal for that query; before, it ended the
// process.
func TestPoolCountPanic(t *testing.T) {
	dead := deadAddr(t)
	pl, err := Dial([]string{dead, dead, dead}, &tls.Config{MinVersion: tls.VersionTLS13}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	var observed atomic.Int32
	pl.Observe(func(i int, name string, code codes.Code, d time.Duration) {
		observed.Add(1)
		if i == 1 {
			panicInObserver()
		}
	})
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	want := Want{Agreement: "us-co", Epoch: 1, Generations: []uint64{1, 1, 1}, ParamSet: ps}
	r := func() (r any) {
		defer func() { r = recover() }()
		pl.Count(context.Background(), want, 0.9, &he.Probe{})
		return nil
	}()
	if r == nil {
		t.Fatal("Count returned; want the observer's panic in the caller")
	}
	wp, ok := r.(*workers.Panic)
	if !ok || wp.Value != "observer bug" || !strings.Contains(string(wp.Stack), "panicInObserver") {
		t.Fatalf("recovered %#v, want a *workers.Panic with the observer's value and stack", r)
	}
	if n := observed.Load(); n != 3 {
		t.Errorf("%d of 3 shards' calls observed when the panic reached the caller", n)
	}
}

func panicInObserver() { panic("observer bug") }
