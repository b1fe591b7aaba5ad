//go:build puente_testparams

package protocol

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
)

// TestVerifyLimit probes one reference past the key policy's verify_limit: the verifications
// within it are answered, the next is refused ResourceExhausted and audited as
// verify-limit-exceeded, and costs no quota; another reference is still answered (the limit is
// per reference, on top of the quota), and the count survives a restart of the responder.
func TestVerifyLimit(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{verify: "2 per 1h"})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(30, 5)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	labels, err := b.References(ctx, "alpha", []string{"s-1", "s-2"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res, err := a.Verify(ctx, "beta", labels[0], Probe{Raw: gal[1]}, "")
		if err != nil || !res.Hit {
			t.Fatalf("verification %d within the limit: %+v %v", i, res, err)
		}
	}
	used := quotaUsed(t, b, "alpha")
	_, err = a.Verify(ctx, "beta", labels[0], Probe{Raw: gal[1]}, "")
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("third verification of one reference: %v, want a refusal", err)
	}
	expectRefused(t, b, "verify limit", re.Code, codes.ResourceExhausted, audit.RefusedVerifyLimit)
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("the refused verification spent quota: %d, want %d", got, used)
	}
	// Another reference has its own count; Search is not limited by it.
	if res, err := a.Verify(ctx, "beta", labels[1], Probe{Raw: gal[2]}, ""); err != nil || !res.Hit {
		t.Errorf("verification of another reference: %+v %v", res, err)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); err != nil {
		t.Errorf("search after the reference's limit is spent: %v", err)
	}
	b.restart(t)
	if _, err := a.Verify(ctx, "beta", labels[0], Probe{Raw: gal[1]}, ""); !errors.As(err, &re) || re.Code != codes.ResourceExhausted {
		t.Errorf("after a restart: %v, want the reference's limit still spent", err)
	}
}

// TestVerifyLimitAbsent: a partner whose policy block has no verify_limit may search but not
// verify.
func TestVerifyLimitAbsent(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{verify: "none"})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(31, 3)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	labels, err := b.References(ctx, "alpha", []string{"s-0"})
	if err != nil {
		t.Fatal(err)
	}
	used := quotaUsed(t, b, "alpha")
	_, err = a.Verify(ctx, "beta", labels[0], Probe{Raw: gal[0]}, "")
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("verification without a limit in the policy: %v, want a refusal", err)
	}
	expectRefused(t, b, "no verify limit", re.Code, codes.PermissionDenied, audit.RefusedVerifyLimit)
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("the refused verification spent quota: %d, want %d", got, used)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, ""); err != nil {
		t.Errorf("search without a verify limit: %v", err)
	}
}
