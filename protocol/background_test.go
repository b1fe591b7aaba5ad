//go:build puente_testparams

package protocol

import (
	"context"
	"testing"
	"time"
)

// TestBackgroundPanic: a panic in the node's background work (here the
// re-protection of its gallery after the partner revoked the epoch) is
// logged and the node goes on serving; before, it ended the process. The
// next open finishes the work, and the gallery answers under the new epoch.
func TestBackgroundPanic(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(60, 12)
	if _, err := b.Enrol(ctx, "alpha", refs("b", 12), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	mated, other := near(61, gal[4], 0.1), rawVectors(62, 1)[0]
	const tau = 0.9
	panicked := make(chan struct{}, 1)
	hook := hookFunc(func(_ context.Context, p string, _ error) {
		if p == "re-protected" {
			panicked <- struct{}{}
			panic("re-protection bug")
		}
	})
	b.hook.Store(&hook)
	rep, err := a.Revoke(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	await(t, panicked, 1, "re-protected")
	for _, probe := range [][]float64{mated, other} {
		checkSearch(t, a, "beta", gal, probe, tau)
	}
	b.hook.Store(nil)
	b.restart(t) // Close waits for the background work; Open retires the old epoch
	if got := b.partners["alpha"].gallery().store.Params().Epoch; got != rep.Epoch {
		t.Fatalf("b's gallery is under epoch %d, want %d", got, rep.Epoch)
	}
	if !checkSearch(t, a, "beta", gal, mated, tau) {
		t.Error("the mated probe missed after the restart")
	}
}
