package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
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
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal)); err != nil {
		t.Fatal(err)
	}
	return a, b, gal
}

// hangLimit is how long the tests below wait before they call an operation hung. It bounds a
// wait for a property (the operation finishes at all), not a timing.
const hangLimit = 2 * time.Minute

// TestRefusalAfterReservationGivesQuotaBack refuses a query after its quota reservation (its
// epoch was revoked while it waited for the evaluation slot): the refusal is audited and the
// reservation given back, so only the query that was answered counts.
func TestRefusalAfterReservationGivesQuotaBack(t *testing.T) {
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	reached, release := make(chan struct{}, 4), make(chan struct{})
	hook := func(sctx context.Context, point string, err error) {
		if point == "evaluate" {
			reached <- struct{}{}
			<-release
		}
	}
	testHookFn.Store(&hook)
	defer testHookFn.Store(nil)
	q1 := make(chan error, 1)
	go func() { _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); q1 <- err }()
	<-reached // query 1 holds the only evaluation slot
	r2 := newRawSearch(t, a, "beta", gal[2])
	q2 := make(chan codes.Code, 1)
	go func() { q2 <- r2.send(ctx, conn(t, a, "beta")) }()
	waitFor(t, func() bool { return quotaUsed(t, b, "alpha") == used+2 }) // query 2 reserved, waiting
	rv := make(chan error, 1)
	go func() { _, err := a.Revoke(ctx, "beta"); rv <- err }()
	waitFor(t, func() bool { g := b.partners["alpha"].gallery(); return g.store.Params().Epoch == 2 })
	close(release)
	// Query 1 was answered; alpha decides it only if its revocation has not destroyed the
	// revoked epoch's keys by then.
	if err := <-q1; err != nil && !errors.Is(err, ErrPrecondition) {
		t.Errorf("query 1: %v", err)
	}
	if c := <-q2; c != codes.FailedPrecondition {
		t.Errorf("query 2: %v, want FailedPrecondition", c)
	}
	waitFor(t, func() bool { return quotaUsed(t, b, "alpha") == used+1 })
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

// requestID is the request's ID as audit records give it.
func (r *rawSearch) requestID() string { return hex.EncodeToString(r.h.RequestId) }
