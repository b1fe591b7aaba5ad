//go:build puente_testparams

package protocol

import (
	"context"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

// TestShutdownLosesNoAuditRecord stops the responder while it evaluates a query: the first time
// within the grace period (the query is answered), the second time past it (the query is
// cancelled). Either way the call's audit record is written before the node closes, and the log
// verifies.
func TestShutdownLosesNoAuditRecord(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(50, 10)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		grace   time.Duration
		block   bool // the evaluation waits for the call's end, so only cancellation ends it
		outcome audit.Outcome
	}{{"within the grace period", time.Minute, false, audit.OutcomeAnswered}, {"past the grace period", 300 * time.Millisecond, true, audit.OutcomeFailed}} {
		b.stop(t)
		b.grace = tc.grace
		b.start(t)
		stopped, stopping := make(chan struct{}), make(chan struct{})
		hook := func(sctx context.Context, point string, _ error) {
			switch point {
			case "stopping": // Serve's context has ended and its graceful stop has begun
				close(stopping)
			case "evaluate":
				go func() { b.stop(t); close(stopped) }()
				<-stopping
				if tc.block {
					<-sctx.Done()
				}
			}
		}
		b.hook.Store(&hook)
		res, err := a.Search(ctx, "beta", Probe{Raw: gal[2]}, "")
		<-stopped
		if tc.outcome == audit.OutcomeAnswered && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		var rid string
		if res != nil {
			rid = res.RequestID
		}
		rec := lastRecord(t, b)
		if rec.Kind != audit.KindQuery || rec.Outcome != tc.outcome || (rid != "" && rec.RequestID != rid) {
			t.Errorf("%s: last record %s %s %s, want the query %s", tc.name, rec.Kind, rec.Outcome, rec.RequestID, tc.outcome)
		}
		ring, _, err := (&keys.SigningKeys{Store: b.store, Node: b.name}).Keyring(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.VerifyFile(b.cfg.Path(b.cfg.AuditLog), ring, nil); err != nil {
			t.Errorf("%s: the audit log does not verify: %v", tc.name, err)
		}
	}
}
