//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protect"
)

// plainBest returns the best protected score of probe against gallery under the querier's
// current transform: the plaintext answer the encrypted decision must match.
func plainBest(t *testing.T, q *testNode, partner string, gallery [][]float64, probe []float64) float64 {
	t.Helper()
	pg, _, err := q.Protect(context.Background(), partner, gallery)
	if err != nil {
		t.Fatal(err)
	}
	pp, _, err := q.Protect(context.Background(), partner, [][]float64{probe})
	if err != nil {
		t.Fatal(err)
	}
	best := -2.0
	for _, g := range pg {
		best = max(best, protect.Dot(pp[0], g))
	}
	return best
}

// checkSearch runs a search and compares its decision with the plaintext answer; probes whose
// best score lies within 0.02 of tau are not informative and are refused by the test itself.
func checkSearch(t *testing.T, q *testNode, partner string, gallery [][]float64, probe []float64, tau float64) bool {
	t.Helper()
	best := plainBest(t, q, partner, gallery, probe)
	if best > tau-0.02 && best < tau+0.02 {
		t.Fatalf("test probe too close to tau: %.4f", best)
	}
	res, err := q.Search(context.Background(), partner, Probe{Raw: probe}, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Hit != (best >= tau) {
		t.Errorf("%s searches %s: hit %v, plaintext best score %.4f vs tau %.2f", q.name, partner, res.Hit, best, tau)
	}
	return res.Hit
}

// TestBothDirectionsRestartRevoke runs the main scenario in process: the ceremony, Search and
// Verify both ways against the plaintext answers, a restart of both nodes, and a revocation after
// which old protected probes no longer hit.
func TestBothDirectionsRestartRevoke(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{params: os.Getenv("PUENTE_TEST_PARAMS")})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := b.Ceremony(ctx, "alpha", 0); err != nil { // beta initiates this time
		t.Fatal(err)
	}
	galA, galB := rawVectors(40, 25), rawVectors(41, 25)
	if _, err := a.Enrol(ctx, "beta", refs("a", 25), f32(galA), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Enrol(ctx, "alpha", refs("b", 25), f32(galB), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	matedB, otherB := near(42, galB[3], 0.1), rawVectors(43, 1)[0]
	matedA, otherA := near(44, galA[9], 0.1), rawVectors(45, 1)[0]
	const tau = 0.9
	for _, c := range []struct {
		q       *testNode
		partner string
		gal     [][]float64
		probe   []float64
		hit     bool
	}{{a, "beta", galB, matedB, true}, {a, "beta", galB, otherB, false}, {b, "alpha", galA, matedA, true}, {b, "alpha", galA, otherA, false}} {
		if got := checkSearch(t, c.q, c.partner, c.gal, c.probe, tau); got != c.hit {
			t.Errorf("%s -> %s: hit %v, want %v", c.q.name, c.partner, got, c.hit)
		}
	}
	labels, err := a.References(ctx, "beta", []string{"a-9", "a-10"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		res, err := b.Verify(ctx, "alpha", labels[i], Probe{Raw: matedA}, "")
		if err != nil || res.Hit != want {
			t.Errorf("verify against %s: %+v %v, want hit %v", labels[i], res, err, want)
		}
	}
	if _, err := b.Verify(ctx, "alpha", "v1-00000000000000000000000000000000", Probe{Raw: matedA}, ""); codeOf(err) != codes.NotFound {
		t.Errorf("verify against an unknown reference: %v, want NotFound", err)
	}

	// State survives a restart of both nodes.
	a.restart(t)
	b.restart(t)
	checkSearch(t, a, "beta", galB, matedB, tau)
	oldProtected, oldEpoch, err := a.Protect(ctx, "beta", [][]float64{matedB})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := a.Search(ctx, "beta", Probe{Protected: oldProtected[0], Epoch: oldEpoch}, ""); err != nil || !res.Hit {
		t.Fatalf("the protected probe before revocation: %+v %v", res, err)
	}

	// Revocation: a new epoch; the old protected probe no longer hits, a fresh one does.
	hook, signals := signalAt("re-protected")
	b.hook.Store(&hook)
	rep, err := a.Revoke(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Epoch != oldEpoch+1 {
		t.Fatalf("new epoch %d, want %d", rep.Epoch, oldEpoch+1)
	}
	await(t, signals["re-protected"], 1, "re-protected") // b re-protects its gallery in the background
	b.hook.Store(nil)
	if got := b.partners["alpha"].gallery().store.Params().Epoch; got != rep.Epoch {
		t.Fatalf("b's gallery is under epoch %d, want %d", got, rep.Epoch)
	}
	// A probe protected under the revoked epoch is refused before it is sent; sent anyway (a
	// querier that lies about its epoch), it matches nothing under the new one.
	if _, err := a.Search(ctx, "beta", Probe{Protected: oldProtected[0], Epoch: oldEpoch}, ""); !errors.Is(err, ErrPrecondition) {
		t.Errorf("the old protected probe after revocation: %v, want refused as stale", err)
	}
	if res, err := a.Search(ctx, "beta", Probe{Protected: oldProtected[0], Epoch: rep.Epoch}, ""); err != nil || res.Hit {
		t.Errorf("the old protected probe sent under the new epoch: %+v %v, want no hit", res, err)
	}
	checkSearch(t, a, "beta", galB, matedB, tau)
	checkSearch(t, b, "alpha", galA, matedA, tau)
	// The old epoch is destroyed on both sides, and refused as such.
	for _, n := range []*testNode{a, b} {
		if _, err := n.agree.Secret(ctx, "ab", oldEpoch); err == nil {
			t.Errorf("%s still holds epoch %d's secret", n.name, oldEpoch)
		}
		if _, err := keys.GetShare(ctx, n.store, keys.ShareName("ab", keySetName(oldEpoch, n.name))); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("%s still holds its HE share of epoch %d: %v", n.name, oldEpoch, err)
		}
	}
	r := newRawSearch(t, a, "beta", matedB)
	r.h.KeyEpoch = oldEpoch
	r.sign(t, a)
	expectRefused(t, b, "revoked epoch", r.send(ctx, conn(t, a, "beta")), codes.FailedPrecondition, audit.RefusedRevokedEpoch)
}
