//go:build puente_testparams

package protocol

import (
	"errors"
	"math"
	"testing"
	"time"
)

// TestEpochProposalBounded: a partner that opens a ceremony chooses its epoch, and epochs only
// go up. Before, any epoch from the next one up was accepted: a Hello at 2⁶⁴−1 (or near it)
// left this node unable to begin any later epoch, so its revocation could never complete and
// the agreement had no keys for good. The proposal must now lie within maxEpochSkip of the next
// epoch, on the responder's side (a cheating initiator's Hello) and on the initiator's (an
// operator's -epoch); the largest skip allowed still leaves the agreement able to revoke.
func TestEpochProposalBounded(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 10*time.Minute)
	top := uint64(1 + maxEpochSkip)
	if _, err := a.Ceremony(ctx, "beta", top); err != nil {
		t.Fatalf("a ceremony at the largest skip, epoch %d: %v", top, err)
	}
	// alpha plays the cheating initiator: its own bound skipped, a Hello straight to beta.
	for _, e := range []uint64{math.MaxUint64, math.MaxUint64 - 1, top + 2 + maxEpochSkip, top, 1} {
		c, err := a.clientHello(ctx, a.partners["beta"], e)
		if err == nil {
			c.destroy()
			t.Fatalf("beta accepted a ceremony proposing epoch %d after epoch %d", e, top)
		}
		if !errors.Is(err, ErrPrecondition) {
			t.Errorf("Hello at epoch %d: %v, want ErrPrecondition", e, err)
		}
	}
	if _, err := a.Ceremony(ctx, "beta", math.MaxUint64); !errors.Is(err, ErrPrecondition) {
		t.Errorf("an operator's ceremony at epoch 2^64-1: %v, want ErrPrecondition", err)
	}
	// beta can still revoke: its new epoch is the one after the last.
	rep, err := b.Revoke(ctx, "alpha")
	if err != nil {
		t.Fatalf("beta's revocation after the refused proposals: %v", err)
	}
	if rep.Epoch != top+1 {
		t.Errorf("the revocation set up epoch %d, want %d", rep.Epoch, top+1)
	}
	for name, n := range map[string]*testNode{"alpha": a, "beta": b} {
		other := map[string]string{"alpha": "beta", "beta": "alpha"}[name]
		k, err := n.partners[other].current()
		if err != nil || k.epoch != top+1 {
			t.Errorf("%s's current epoch: %v (%v), want %d", name, k, err, top+1)
		}
	}
}
