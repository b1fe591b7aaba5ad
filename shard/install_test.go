package shard

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// TestCountLabelNotFromRequest: before, the agreement of a Count request became a metric label
// before it was checked, so every refused Count with a new name added a series, whatever its
// length (a hostile review: 2,000 series, a label of 1 MiB). A count for an agreement the shard
// does not hold is now labelled "unknown".
func TestCountLabelNotFromRequest(t *testing.T) {
	m := NewMetrics()
	s, err := NewServer(Config{Dir: t.TempDir(), Metrics: m, Lookup: func(string) (*he.ParamSet, error) { return nil, fmt.Errorf("none") }})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1<<20) // a 1 MiB agreement name
	const n = 2000
	for i := range n {
		name := fmt.Sprintf("no-such-%d", i)
		if i == 0 {
			name = long
		}
		if _, err := s.Count(context.Background(), &pb.CountRequest{Partition: &pb.PartitionID{Agreement: name}}); err == nil {
			t.Fatal("a count for an unknown agreement succeeded")
		}
	}
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series, longest := 0, 0
	for _, f := range fams {
		if f.GetName() != "puente_shard_counts_total" {
			continue
		}
		for _, mt := range f.Metric {
			series++
			for _, l := range mt.Label {
				longest = max(longest, len(l.GetValue()))
			}
		}
	}
	if series != 1 || longest > len("unknown") {
		t.Errorf("%d refused counts with made-up agreements: %d series, longest label %d bytes; want 1 series labelled unknown", n, series, longest)
	}
}

// TestInstallsOneAtATime: each Install buffers its partition (up to 8 GiB) before it is checked,
// and before, nothing bounded how many ran at once (a hostile review held four 32 MiB streams,
// +149 MiB of heap). One runs at a time now: while another holds the slot, an Install reads its
// header and nothing more, and ends when its caller gives up.
func TestInstallsOneAtATime(t *testing.T) {
	s, err := NewServer(Config{Dir: t.TempDir(), Lookup: func(string) (*he.ParamSet, error) { return nil, fmt.Errorf("none") }})
	if err != nil {
		t.Fatal(err)
	}
	s.installing <- struct{}{} // another install runs
	ctx, cancel := context.WithCancel(context.Background())
	st := &installStream{ctx: ctx, msgs: installMsgs(4)}
	done := make(chan error, 1)
	go func() { done <- s.Install(st) }()
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("an install waiting for the slot, given up: %v, want Canceled", err)
	}
	if st.read != 1 {
		t.Errorf("an install waiting for the slot read %d messages, want its header only", st.read)
	}
	<-s.installing // the other install ends
	st = &installStream{ctx: context.Background(), msgs: installMsgs(4)}
	if err := s.Install(st); status.Code(err) != codes.InvalidArgument || st.read != 5+1 {
		t.Errorf("an install with the slot free: %v after %d reads, want InvalidArgument (an unknown set) after reading all 5 and EOF", err, st.read)
	}
}

// installMsgs is an Install of a header and n chunks of keys (1 KiB each).
func installMsgs(n int) []*pb.InstallRequest {
	h := &pb.InstallHeader{Partition: &pb.PartitionID{Agreement: "a1", Count: 1}, Dims: 64, ParamSet: "x", KeysSize: uint64(n) << 10}
	msgs := []*pb.InstallRequest{{Header: h}}
	for range n {
		msgs = append(msgs, &pb.InstallRequest{Keys: make([]byte, 1<<10)})
	}
	return msgs
}

// installStream is the server side of an Install stream that hands out msgs, then EOF.
type installStream struct {
	grpc.ServerStream
	ctx  context.Context
	msgs []*pb.InstallRequest
	read int
}

func (s *installStream) Context() context.Context { return s.ctx }

func (s *installStream) Recv() (*pb.InstallRequest, error) {
	s.read++
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

func (s *installStream) SendAndClose(*pb.InstallResponse) error { return nil }

// TestDecodeEntriesAllocation: before, DecodeEntries reserved n entries (40 bytes each) for any n
// up to len(b)/4 before it read one, ten times the bytes it was given (a hostile review: 80 MiB
// for 8 MiB of input). It reserves at most 2^16 now, and the claim is bounded by the smallest
// entry.
func TestDecodeEntriesAllocation(t *testing.T) {
	b := make([]byte, 8<<20)
	n := uint64(len(b) / 4)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := DecodeEntries(b, n, 64)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if err == nil {
		t.Fatal("8 MiB of zeros decoded as entries")
	}
	if alloc > uint64(len(b)/2) {
		t.Errorf("decoding %d MiB allocated %d MiB before failing", len(b)>>20, alloc>>20)
	}
}
