//go:build puente_testparams

package protocol

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
)

// TestOpeningAfterRevocation: the querier takes round 1 (the answer and the garbled circuit),
// holds round 2 back while the responder revokes the epoch, then sends its opening. The transfer
// answer would hand it its decision under an epoch that answers nothing from its revocation on
// (SECURITY.md); before, the responder served it and the querier decoded hit=true. The opening
// is now refused as a revoked epoch, and audited so.
func TestOpeningAfterRevocation(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	k, err := a.partners["beta"].current()
	if err != nil {
		t.Fatal(err)
	}
	r := newRawSearch(t, a, "beta", near(21, gal[4], 0.05))
	code, hit := r.sendTwoRounds(ctx, t, a, "beta", conn(t, a, "beta"), func(*rawOpening) {
		// The responder revokes the epoch while round 2 is held back.
		if _, err := b.Revoke(ctx, "alpha"); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if cur, err := b.partners["alpha"].current(); err == nil && cur.epoch == k.epoch {
			t.Fatalf("epoch %d still current on the responder", k.epoch)
		}
	})
	if code == codes.OK {
		t.Fatalf("the responder served round 2 of a query under epoch %d after revoking it: the querier decoded hit=%v", k.epoch, hit)
	}
	expectRefused(t, b, "round 2 after the revocation", code, codes.FailedPrecondition, audit.RefusedRevokedEpoch)
}
