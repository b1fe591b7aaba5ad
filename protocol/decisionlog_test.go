//go:build puente_testparams

package protocol

import (
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/internal/servetest"
)

// TestDecisionNotLogged: the querier's decision (this traveller is in the partner's records) is
// kept in its signed audit log and given to the caller, not written to the node's ordinary log,
// which is shipped and read more widely. Before, every answered query logged a "decision" line
// with its request ID and hit.
func TestDecisionNotLogged(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	var logs servetest.Log
	a.logTo = &logs
	a.restart(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(80, 8)
	if _, err := b.Enrol(ctx, "alpha", refs("b", 8), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if !checkSearch(t, a, "beta", gal, near(81, gal[2], 0.1), 0.9) {
		t.Fatal("the mated probe missed")
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"serving"`) {
		t.Fatalf("the node's log was not captured:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `"hit":`) || strings.Contains(l, `"decision"`) {
			t.Errorf("the node's log carries a decision: %s", l)
		}
	}
}
