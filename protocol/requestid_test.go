//go:build puente_testparams

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

// TestRequestIDReused: the request ID is the querier's choice, and it names the responder's
// audit records and quota reservations. A partner sends a second Search under the ID of an
// answered one, with a fresh nonce and signature. Before, both were answered, and the two nodes'
// logs no longer paired query records one to one (a hostile review's finding); now the second
// is refused as a replay, and the ID has one answered record.
func TestRequestIDReused(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	r1 := newRawSearch(t, a, "beta", gal[0])
	if code := r1.send(ctx, conn(t, a, "beta")); code != codes.OK {
		t.Fatalf("first search: %v", code)
	}
	used := quotaUsed(t, b, "alpha")
	code, rid, answered := searchUnder(ctx, t, a, b, r1, gal[1])
	if code == codes.OK || answered != 1 {
		t.Fatalf("a second search under request %s: %v, and %d answered records for it; want refused and 1", rid, code, answered)
	}
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("the refused search changed the quota used from %d to %d", used, got)
	}
}

// TestRequestIDKeptByRebuild: a rebuild of the state file makes its nonces bucket anew, and its
// floor refuses only requests signed before it. Before, the request IDs kept there went with it:
// a partner's Search signed after the rebuild under the ID of one answered just before was
// answered too, and the ID named two answered queries. Now the rebuild keeps again the IDs of
// the answers the audit log proves, for as long as admitQuery would have.
func TestRequestIDKeptByRebuild(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	r1 := newRawSearch(t, a, "beta", gal[0])
	if code := r1.send(ctx, conn(t, a, "beta")); code != codes.OK {
		t.Fatalf("first search: %v", code)
	}
	b.stop(t)
	if _, err := RebuildState(ctx, loadConfig(t, b), Options{}); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	code, rid, answered := searchUnder(ctx, t, a, b, r1, gal[1]) // signed after the rebuild
	if code != codes.Unauthenticated || answered != 1 {
		t.Fatalf("after a rebuild, a search under request %s: %v, and %d answered records for it; want refused as a replay and 1", rid, code, answered)
	}
}

// TestRequestIDKept: on the state file, a query that reuses the request ID of an admitted one
// fails with errRequestSeen and reserves nothing, for as long as the longest limit's window;
// so a restart's release of a query a crash interrupted (releaseRequest, by ID) can only give
// back that query's reservations. Before, verification B of reference R2 under the ID of an
// answered verification A of R1 was admitted, and releasing B gave back A's entry in R1's
// verification limit. Once the window has passed and the entry is pruned, the ID may be used
// again.
func TestRequestIDKept(t *testing.T) {
	t.Parallel()
	_, b := newPair(t, pairOptions{verify: "2 per 24h"})
	p := b.partners["alpha"]
	rid := make([]byte, 16)
	rid[0] = 7
	lim := func(ref string) []limit {
		return []limit{{bucket: quotaBucket("alpha"), quota: *p.quota}, {bucket: verifyBucket("alpha", ref), quota: *p.verify, floor: verifyFloorBucket("alpha")}}
	}
	now := time.Now()
	nonce := func(i byte) []byte { x := make([]byte, 16); x[0] = i; return x }
	if _, err := b.state.admitQuery("alpha", nonce(1), rid, now.Add(5*time.Minute), lim("v1-r1"), now); err != nil {
		t.Fatal(err)
	}
	cnt := func(ref string, at time.Time) int {
		n, err := b.state.counted(lim(ref)[1], at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	later := now.Add(time.Hour)
	if _, err := b.state.admitQuery("alpha", nonce(2), rid, later.Add(5*time.Minute), lim("v1-r2"), later); !errors.Is(err, errRequestSeen) {
		t.Fatalf("a verification reusing the request ID an hour later: %v, want errRequestSeen", err)
	}
	if r2 := cnt("v1-r2", later); r2 != 0 {
		t.Errorf("the refused verification reserved %d of R2's limit", r2)
	}
	if _, err := b.state.releaseRequest("alpha", rid); err != nil {
		t.Fatal(err)
	}
	if r1 := cnt("v1-r1", later); r1 != 0 {
		t.Fatalf("R1's count after releasing its own query: %d, want 0", r1)
	}
	after := now.Add(24*time.Hour + time.Minute)
	if k, err := b.state.pruneNonces(after); err != nil || k == 0 {
		t.Fatalf("pruning after the window: %d entries, %v", k, err)
	}
	if _, err := b.state.admitQuery("alpha", nonce(3), rid, after.Add(5*time.Minute), lim("v1-r2"), after); err != nil {
		t.Errorf("the request ID after the longest window: %v", err)
	}
}

// searchUnder sends a's Search of probe to b under the request ID of r1, signed now, and returns
// its code, the ID in hex and how many of b's records answer a query under it.
func searchUnder(ctx context.Context, t *testing.T, a, b *testNode, r1 *rawSearch, probe []float64) (codes.Code, string, int) {
	t.Helper()
	r2 := newRawSearch(t, a, "beta", probe)
	r2.h.RequestId = append([]byte(nil), r1.h.RequestId...)
	r2.sign(t, a)
	code := r2.send(ctx, conn(t, a, "beta"))
	rid := hex.EncodeToString(r1.h.RequestId)
	answered := 0
	for _, rec := range records(t, b) {
		if rec.RequestID == rid && rec.Outcome == audit.OutcomeAnswered {
			answered++
		}
	}
	return code, rid, answered
}
