//go:build puente_testparams

package protocol

import (
	"context"
	"sync/atomic"
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

// TestPruningPanic: a panic in a round of the node's pruning (expired
// nonces, abandoned ceremonies) is logged, the next round runs, and the node
// goes on serving; before, it ended the process.
func TestPruningPanic(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	rounds := make(chan struct{}, 1)
	var round atomic.Int32
	hook := hookFunc(func(_ context.Context, p string, _ error) {
		if p != "pruning" {
			return
		}
		select {
		case rounds <- struct{}{}:
		default:
		}
		if round.Add(1) == 1 {
			panic("pruning bug")
		}
	})
	b.prune = time.Millisecond
	b.restart(t)
	b.hook.Store(&hook)
	await(t, rounds, 3, "pruning") // the round that panicked, and two after it
	if n := round.Load(); n < 3 {
		t.Fatalf("%d pruning rounds", n)
	}
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(70, 8)
	if _, err := b.Enrol(ctx, "alpha", refs("b", 8), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if !checkSearch(t, a, "beta", gal, near(71, gal[3], 0.1), 0.9) {
		t.Error("the mated probe missed")
	}
}
