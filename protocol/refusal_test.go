//go:build puente_testparams

package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// enrolledPair is a pair after a ceremony, with a gallery enrolled on beta for alpha's queries.
func enrolledPair(t *testing.T) (*testNode, *testNode, [][]float64) {
	t.Helper()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(10, 30)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, b, gal
}

// TestRefusalAfterReservationGivesQuotaBack refuses a query after its quota reservation (its
// epoch was revoked while it waited for the evaluation slot): the refusal is audited and the
// reservation given back, so only the query that was answered counts.
func TestRefusalAfterReservationGivesQuotaBack(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	reached, release := make(chan struct{}, 4), make(chan struct{})
	signal, signals := signalAt("reserved", "re-protected", "finished")
	hook := func(sctx context.Context, point string, err error) {
		if point == "evaluate" {
			reached <- struct{}{}
			<-release
		}
		signal(sctx, point, err)
	}
	b.hook.Store(&hook)
	defer b.hook.Store(nil)
	q1 := make(chan error, 1)
	go func() { _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); q1 <- err }()
	<-reached // query 1 holds the only evaluation slot
	r2 := newRawSearch(t, a, "beta", gal[2])
	q2 := make(chan codes.Code, 1)
	go func() { q2 <- r2.send(ctx, conn(t, a, "beta")) }()
	await(t, signals["reserved"], 2, "reserved") // query 1's, then query 2's: it waits for the slot
	if got := quotaUsed(t, b, "alpha"); got != used+2 {
		t.Fatalf("quota count %d with two queries reserved, want %d", got, used+2)
	}
	rv := make(chan error, 1)
	go func() { _, err := a.Revoke(ctx, "beta"); rv <- err }()
	await(t, signals["re-protected"], 1, "re-protected")
	if g := b.partners["alpha"].gallery(); g.store.Params().Epoch != 2 {
		t.Fatalf("gallery under epoch %d after the revocation, want 2", g.store.Params().Epoch)
	}
	close(release)
	// Query 1 was computed under the epoch revoked meanwhile: from the revocation on, that
	// epoch answers nothing, so it is refused too and gives its reservation back.
	if err := <-q1; !errors.Is(err, ErrPrecondition) {
		t.Errorf("query 1: %v, want refused (its epoch was revoked while it was computed)", err)
	}
	if c := <-q2; c != codes.FailedPrecondition {
		t.Errorf("query 2: %v, want FailedPrecondition", c)
	}
	await(t, signals["finished"], 2, "finished") // both calls recorded, their reservations given back
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("quota count %d after both refusals, want %d", got, used)
	}
	var refused int
	for _, r := range records(t, b) {
		if r.Kind == audit.KindQuery && r.RequestID == r2.requestID() && r.Outcome == audit.OutcomeRefused {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("query 2 has %d refusal records, want 1", refused)
	}
	select {
	case err := <-rv:
		if err != nil {
			t.Errorf("revoke: %v", err)
		}
	case <-time.After(hangLimit):
		t.Fatal("revoke did not finish")
	}
}

// TestStalledSearchDoesNotHoldKeys opens a Search whose probe never comes: the responder's
// revocation of the epoch still completes (the call does not hold the epoch's keys while it
// waits for bytes), and the probe sent afterwards is refused without spending quota.
func TestStalledSearchDoesNotHoldKeys(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	admitted := make(chan struct{}, 1)
	hook := func(_ context.Context, point string, _ error) {
		if point == "admitted" {
			admitted <- struct{}{}
		}
	}
	b.hook.Store(&hook)
	defer b.hook.Store(nil)
	r := newRawSearch(t, a, "beta", gal[0])
	st, err := pb.NewMatchServiceClient(conn(t, a, "beta")).Search(withRequestID(ctx, r.requestID()))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}}); err != nil {
		t.Fatal(err)
	}
	<-admitted
	done := make(chan error, 1)
	go func() { _, err := b.Revoke(ctx, "alpha"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
	case <-time.After(hangLimit):
		t.Fatal("the responder's revocation is held up by a stalled partner stream")
	}
	for _, c := range chunksOf(r.probe) {
		st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
	}
	st.CloseSend()
	_, err = st.Recv()
	if code := codeOf(err); code != codes.FailedPrecondition {
		t.Errorf("the stalled query after the revocation: %v, want FailedPrecondition", err)
	}
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("quota count %d, want %d", got, used)
	}
	if rec := lastRecord(t, b); rec.Outcome != audit.OutcomeRefused || rec.Refusal != audit.RefusedRevokedEpoch {
		t.Errorf("audit record %s/%s, want refused/%s", rec.Outcome, rec.Refusal, audit.RefusedRevokedEpoch)
	}
}

// requestID is the request's ID as audit records give it.
func (r *rawSearch) requestID() string { return hex.EncodeToString(r.h.RequestId) }

// TestOpenCallsBounded opens as many Search calls as one partner may have open and never sends
// on them: the next call is refused with ResourceExhausted at no quota, and once the open calls
// are cancelled they are closed and recorded as failed, and the partner may call again.
func TestOpenCallsBounded(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	p := b.partners["alpha"]
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := countOutcome(t, b, audit.OutcomeFailed)
	hook, signals := signalAt("opened", "finished")
	b.hook.Store(&hook)
	defer b.hook.Store(nil)
	mc := pb.NewMatchServiceClient(conn(t, a, "beta"))
	for i := range maxPartnerCalls {
		if _, err := mc.Search(withRequestID(sctx, fmt.Sprintf("%032x", i))); err != nil {
			t.Fatal(err)
		}
	}
	await(t, signals["opened"], maxPartnerCalls, "opened")
	if got := p.calls.Load(); got != maxPartnerCalls {
		t.Fatalf("%d calls counted open, want %d", got, maxPartnerCalls)
	}
	st, err := mc.Search(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); codeOf(err) != codes.ResourceExhausted {
		t.Errorf("call %d: %v, want ResourceExhausted", maxPartnerCalls+1, err)
	}
	if rec := lastRecord(t, b); rec.Outcome != audit.OutcomeRefused || rec.Refusal != audit.RefusedQuota {
		t.Errorf("audit record %s/%s, want refused/%s", rec.Outcome, rec.Refusal, audit.RefusedQuota)
	}
	if got := quotaUsed(t, b, "alpha"); got != 0 {
		t.Errorf("quota count %d, want 0", got)
	}
	await(t, signals["finished"], 1, "finished") // the refused call
	cancel()
	await(t, signals["finished"], maxPartnerCalls, "finished")
	if got := p.calls.Load(); got != 0 {
		t.Errorf("%d calls counted open after they were cancelled", got)
	}
	if got := countOutcome(t, b, audit.OutcomeFailed); got != failed+maxPartnerCalls {
		t.Errorf("%d failed records, want %d", got, failed+maxPartnerCalls)
	}
	st, err = mc.Search(withRequestID(ctx, fmt.Sprintf("%032x", maxPartnerCalls+1)))
	if err != nil {
		t.Fatal(err)
	}
	st.CloseSend()
	if _, err := st.Recv(); codeOf(err) != codes.InvalidArgument {
		t.Errorf("a call after the cancelled ones: %v, want InvalidArgument (no open message)", err)
	}
}

// TestPanicInSearchIsAuditedAndRefunded makes the responder's handler panic after the query's
// quota reservation (a stand-in for a bug in the evaluation): the partner gets Internal, the call
// is audited as failed, its reservation is given back, and the node goes on answering.
func TestPanicInSearchIsAuditedAndRefunded(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	hook := func(_ context.Context, point string, _ error) {
		if point == "evaluated" {
			panic("evaluation bug")
		}
	}
	b.hook.Store(&hook)
	_, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, "")
	b.hook.Store(nil)
	if code := codeOf(err); code != codes.Internal {
		t.Fatalf("a search whose handler panics: %v, want Internal", err)
	}
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("quota count %d after the panic, want %d", got, used)
	}
	if rec := lastRecord(t, b); rec.Outcome != audit.OutcomeFailed {
		t.Errorf("audit record of the panicking call: %s, want %s", rec.Outcome, audit.OutcomeFailed)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, ""); err != nil {
		t.Errorf("the next search after a panic: %v", err)
	}
}
