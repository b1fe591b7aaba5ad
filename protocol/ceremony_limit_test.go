//go:build puente_testparams

package protocol

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// helloFlood is how many Hellos the flooding partner sends: far more than a node ever starts
// with one partner in a day.
const helloFlood = 60

// sendHello sends one Hello of a's for epoch to partner p (a cheater's: no ceremony of its own
// follows it) and returns the answer's ceremony ID.
func sendHello(ctx context.Context, t *testing.T, a *testNode, p *partner, epoch uint64) ([]byte, error) {
	t.Helper()
	cm := crsCommitment(p.cfg.Agreement, epoch, a.name, p.name, make([]byte, crsContribLen))
	pl, err := helloPayload(p, epoch, cm[:])
	if err != nil {
		t.Fatal(err)
	}
	cc, err := a.ceremonyClient(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := callRound(ctx, a.Node, p, pb.CeremonyService_Hello_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.HelloResponse, error) {
			return cc.Hello(ctx, &pb.HelloRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.HelloResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return nil, err
	}
	return orEmpty(resp.Payload).CeremonyId, nil
}

// auditSize returns the number of records of tn's audit log and its size in bytes.
func auditSize(t *testing.T, tn *testNode) (int, int64) {
	t.Helper()
	fi, err := os.Stat(tn.cfg.Path(tn.cfg.AuditLog))
	if err != nil {
		t.Fatal(err)
	}
	return len(records(t, tn)), fi.Size()
}

// TestHelloFlood: a partner that sends Hello after Hello (each replaces its ceremony before)
// made the responder set up a ceremony and write a signed, fsynced audit record of several KB
// for every one: the partner could fill the node's disk and burn its CPU at will. Now the
// responder answers at most limits { ceremonies } Hellos of a partner in the limit's window;
// the rest are refused with ResourceExhausted, naming the limit and when to retry, before any
// work, and are not audited one by one.
func TestHelloFlood(t *testing.T) {
	t.Parallel()
	a, b, off := clockPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]
	recs0, size0 := auditSize(t, b)

	answered, refused := 0, 0
	var last []byte  // the ceremony ID of the last Hello answered
	var retry string // the refusals' time to retry
	for range helloFlood {
		id, err := sendHello(ctx, t, a, p, 1)
		switch code := codeOf(err); code {
		case codes.OK:
			answered++
			last = id
		case codes.ResourceExhausted:
			refused++
			msg := status.Convert(err).Message()
			_, after, ok := strings.Cut(msg, "ceremony limit of "+b.policy.Limits.Ceremonies.String()+" reached: retry after ")
			if !ok || retry != "" && after != retry {
				t.Fatalf("refusal %q does not name the limit and when to retry (the first said %s)", msg, retry)
			}
			retry = after
		default:
			t.Fatalf("Hello %d: %v", answered+refused, err)
		}
	}
	recs1, size1 := auditSize(t, b)
	t.Logf("%d Hellos: %d answered, %d refused; responder's log grew by %d records, %d bytes",
		helloFlood, answered, refused, recs1-recs0, size1-size0)
	if refused == 0 {
		t.Fatalf("all %d Hellos answered: nothing bounds a partner's ceremonies", helloFlood)
	}
	if want := b.policy.Limits.Ceremonies.Queries; answered != want {
		t.Errorf("%d Hellos answered, want the limit's %d", answered, want)
	}
	if recs1-recs0 > answered {
		t.Errorf("log grew by %d records for %d answered Hellos: refusals audited one by one", recs1-recs0, answered)
	}
	b.mu.Lock()
	c := b.cers["alpha"]
	b.mu.Unlock()
	if c == nil || !bytes.Equal(c.id, last) {
		t.Errorf("a refused Hello replaced the partner's ceremony")
	}

	// The refusals are summarised: one record for the partner, with their count.
	b.strangers.flush()
	var sum []audit.Record
	for _, r := range records(t, b)[recs1:] {
		if r.Kind == audit.KindRefusals {
			sum = append(sum, r)
		}
	}
	if len(sum) != 1 || sum[0].Partner != "alpha" || sum[0].Refusal != audit.RefusedCeremonyLimit || sum[0].Count != uint64(refused) {
		t.Errorf("refusal records %+v, want one of alpha's %d refused Hellos", sum, refused)
	}

	// The count is in the state file: a restart does not give the partner its ceremonies back.
	// They come back as the window passes, at the time the refusals named.
	stamp, _, _ := strings.Cut(retry, " ")
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatalf("retry time %q: %v", retry, err)
	}
	b.restart(t)
	off.Store(int64(time.Until(at.Add(-2 * time.Second))))
	if _, err := sendHello(ctx, t, a, p, 1); codeOf(err) != codes.ResourceExhausted {
		t.Errorf("Hello just before %s, after a restart: %v, want ResourceExhausted", retry, err)
	}
	off.Store(int64(time.Until(at)))
	if _, err := sendHello(ctx, t, a, p, 1); err != nil {
		t.Errorf("Hello at %s: %v", retry, err)
	}
}
