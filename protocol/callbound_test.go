//go:build puente_testparams

package protocol

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// TestStalledCallsEnd: a partner that opens a call to the node and then sends nothing, with no
// deadline of its own, held the call (and what it holds: a goroutine, a count against its
// maxPartnerCalls, after round 1 the garbled opening of its answer, in a key-share upload the
// ceremony's lock) for as long as it liked; before, none of these calls ever ended. Now each ends
// at the node's own bound on a partner's call with DeadlineExceeded, naming that bound, and the
// call is no longer counted.
func TestStalledCallsEnd(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	b.bound = 15 * time.Second // bounds the stalls below; the node's own work in them is far shorter
	b.restart(t)
	cc := dialAs(t, a.cert, b) // alpha's certificate, and no deadline of its own
	t.Run("stalls", func(t *testing.T) { stallCalls(t, a, cc, gal) })
	if k := b.partners["alpha"].calls.Load(); k != 0 {
		t.Errorf("%d of alpha's calls still counted", k)
	}
}

// TestStalledReaderEnds: a partner that sends its key share of a ceremony step and then never
// reads the node's share back, over a connection whose flow-control windows it keeps small (its
// client's settings are its own), held the node's send of that share, and with it the round's
// goroutine and the ceremony's lock, for as long as the connection lived: a send waited for the
// partner's window, whatever the node's bound on the call. Now the round ends at that bound,
// which aborts the ceremony and destroys its state, and the partner, once it reads, finds the
// call ended with DeadlineExceeded, naming the bound.
//
// A Search whose answer is never read is held the same way at the real parameters, where the
// answer fills what grpc-go queues for a stream before a send waits (64 KiB); at this test's
// parameters it does not, and the search then waits for round 2, a receive.
func TestStalledReaderEnds(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	b.bound = 15 * time.Second // bounds the stall; the node's own work in the round is far shorter
	b.restart(t)
	c := upToRound1(t, a, 1)
	defer c.destroy()
	ctx := ctxTimeout(t, 5*time.Minute)
	for {
		// The public key's shares fit one chunk; the next step's take more, and the node's send
		// of its own waits once the first is queued unread.
		d, step, ok := c.nextStep()
		if !ok || step.Kind != he.StepPublicKey {
			break
		}
		if err := a.clientShare(ctx, c.p, c, d, step); err != nil {
			t.Fatal(err)
		}
	}
	hook, signals := signalAt("share-awaited")
	b.hook.Store(&hook)
	defer b.hook.Store(nil)
	// Windows of 64 KiB that never grow (grpc-go grows them only when neither is set).
	cc := dialAs(t, a.cert, b, grpc.WithInitialWindowSize(65535), grpc.WithInitialConnWindowSize(65535))
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, own := openShare(sctx, t, a, c, pb.NewCeremonyServiceClient(cc))
	if len(own) <= wire.SendChunkSize {
		t.Fatalf("a share of %d bytes fits one chunk: the node's send of its own would not wait", len(own))
	}
	if _, err := wire.SendObjects(func(ch *pb.Chunk) error {
		return st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Chunk{Chunk: ch}})
	}, own); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	await(t, signals["share-awaited"], 1, "share-awaited") // the round holds the ceremony's lock
	if !destroyedAfterRound(responderState(b)) {
		t.Fatalf("the key-share round whose answer alpha never read still held the ceremony's lock a minute on, past the node's bound on a partner's call (%v)", b.bound)
	}
	if s := status.Convert(drain(st)); s.Code() != codes.DeadlineExceeded || !strings.Contains(s.Message(), "call_deadline") {
		t.Errorf("the key-share round whose answer alpha did not read ended with %v, want DeadlineExceeded naming the node's call_deadline", s.Err())
	}
}

// stallCalls runs, in parallel, calls of a to its partner over cc that stall, and checks how
// they end.
func stallCalls(t *testing.T, a *testNode, cc *grpc.ClientConn, gal [][]float64) {
	for _, tc := range []struct {
		name string
		// stall opens a call, sends what it sends, then nothing; it returns the status the call
		// ended with.
		stall func(ctx context.Context) error
	}{
		{"search, nothing sent", func(ctx context.Context) error {
			r := newRawSearch(t, a, "beta", near(81, gal[2], 0.1))
			st, err := pb.NewMatchServiceClient(cc).Search(withRequestID(ctx, hex.EncodeToString(r.h.RequestId)))
			if err != nil {
				return err
			}
			return drain(st)
		}},
		{"search, open without its probe", func(ctx context.Context) error {
			r := newRawSearch(t, a, "beta", near(82, gal[3], 0.1))
			st, err := pb.NewMatchServiceClient(cc).Search(withRequestID(ctx, hex.EncodeToString(r.h.RequestId)))
			if err != nil {
				return err
			}
			st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}})
			return drain(st)
		}},
		{"search, answered, no round 2", func(ctx context.Context) error {
			r := newRawSearch(t, a, "beta", near(83, gal[4], 0.1))
			st, err := pb.NewMatchServiceClient(cc).Search(withRequestID(ctx, hex.EncodeToString(r.h.RequestId)))
			if err != nil {
				return err
			}
			st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}})
			for _, c := range chunksOf(r.probe) {
				st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
			}
			return drain(st) // the answer, then the end of the call
		}},
		{"key share, nothing sent", func(ctx context.Context) error {
			st, err := pb.NewCeremonyServiceClient(cc).ExchangeKeyShare(ctx)
			if err != nil {
				return err
			}
			return drain(st)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The limit bounds a hang (the call never ends), not a timing; without a deadline,
			// the call ends Canceled when it passes.
			ctx, cancel := context.WithCancel(context.Background())
			defer time.AfterFunc(hangLimit, cancel).Stop()
			defer cancel()
			err := tc.stall(ctx)
			if s := status.Convert(err); s.Code() != codes.DeadlineExceeded || !strings.Contains(s.Message(), "call_deadline") {
				t.Errorf("the stalled call ended with %v, want DeadlineExceeded naming the node's call_deadline", err)
			}
		})
	}
}

// drain reads a stream until it ends, and returns how.
func drain(st grpc.ClientStream) error {
	for {
		var m emptypb.Empty // any message, its fields skipped: only the end of the stream counts
		if err := st.RecvMsg(&m); err != nil {
			return err
		}
	}
}
