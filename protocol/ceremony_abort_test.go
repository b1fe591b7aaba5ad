//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"google.golang.org/protobuf/proto"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// abortOf sends one validly signed Abort of a's for ceremony id of epoch to p, bounded by ctx
// alone (sendAbort bounds it by 10 s).
func abortOf(ctx context.Context, a *testNode, p *partner, id []byte, epoch uint64) error {
	cc, err := a.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	pl := &pb.AbortPayload{CeremonyId: id, Reason: "test"}
	_, err = callRound(ctx, a.Node, p, pb.CeremonyService_Abort_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.AbortResponse, error) {
			return cc.Abort(ctx, &pb.AbortRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.AbortResponse) proto.Message { return orEmpty(r.Payload) })
	return err
}

// errStateWrite stands for the state file failing to record a nonce (a full disk).
var errStateWrite = errors.New("injected: the state file could not be written")

// TestAbortFailedStateWriteHoldsLock: the partner's Abort of a live ceremony fails to record its
// nonce (the state file cannot be written), which is not a refusal, so the round aborts the
// ceremony; meanwhile the next round of the same ceremony (a key share) has found it and waits for
// its lock. Before, the Abort handler released the lock and only then marked the ceremony aborted
// and destroyed its secrets: the waiting round took the lock, found the ceremony live and ran on
// it while the Abort zeroed it (and -race saw the flag written without the lock). Now the
// ceremony is marked aborted and destroyed by the holder of its lock, so the waiting round finds
// it aborted and is refused.
func TestAbortFailedStateWriteHoldsLock(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	c := upToRound1(t, a, 1)
	defer c.destroy()
	v := responderState(b)
	if v == nil {
		t.Fatal("beta holds no ceremony with alpha")
	}

	abortIn, release := make(chan struct{}), make(chan struct{})
	b.cer.hooks = &ceremonyHooks{nonce: func(method string) error {
		if method != pb.CeremonyService_Abort_FullMethodName {
			return nil
		}
		close(abortIn) // the Abort holds the ceremony's lock
		<-release
		return errStateWrite
	}}
	defer func() { b.cer.hooks = nil }()

	queued := make(chan struct{}, 1)  // the share round found the ceremony, its lock next
	awaited := make(chan struct{}, 1) // the share round holds the lock, past admission
	abortDone := make(chan struct{})  // the Abort's answer has come back
	observed := make(chan bool, 1)    // the share round found the HE state destroyed
	var aborting atomic.Bool
	hook := hookFunc(func(_ context.Context, point string, _ error) {
		select {
		case <-abortIn:
		default:
			return // before the Abort: the rounds of upToRound1
		}
		switch point {
		case "ceremony-lock":
			select {
			case queued <- struct{}{}:
			default:
			}
		case "ceremony-aborting":
			if !aborting.CompareAndSwap(false, true) {
				return
			}
			// If the lock is free, the aborting round does not hold it: let the waiting round
			// take it before the ceremony is marked aborted, as the scheduler may. If it is
			// held, it is the aborting round's, or the share round's already.
			if v.mu.TryLock() {
				v.mu.Unlock()
				<-awaited
				awaited <- struct{}{}
			}
		case "share-awaited":
			awaited <- struct{}{}
			<-abortDone // the Abort has done all it does
			observed <- v.hec[0] == nil || v.hec[1] == nil
		}
	})
	b.hook.Store(&hook)
	defer b.hook.Store(nil)

	p := a.partners["beta"]
	abortErr := make(chan error, 1)
	go func() { abortErr <- abortOf(ctx, a, p, c.id, c.epoch) }()
	await(t, abortIn, 1, "abort nonce")

	cc, err := a.ceremonyClient(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, _ := openShare(sctx, t, a, c, cc)
	shareErr := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				shareErr <- err
				return
			}
		}
	}()
	await(t, queued, 1, "ceremony-lock")
	close(release)

	if err := <-abortErr; codeOf(err) != codes.Internal {
		t.Errorf("Abort whose nonce was not recorded: %v, want Internal", err)
	}
	close(abortDone)
	select {
	case err := <-shareErr:
		if codeOf(err) != codes.FailedPrecondition {
			t.Errorf("the share round queued behind the failed Abort: %v, want FailedPrecondition (aborted)", err)
		}
	case <-awaited:
		t.Error("the share round queued behind the failed Abort took the ceremony's lock before the Abort marked it aborted")
		if <-observed {
			t.Error("the Abort destroyed the ceremony's HE state while the share round held its lock")
		}
		cancel()
		<-shareErr
	}

	v.mu.Lock()
	ended := v.aborted && v.hec[0] == nil && v.hec[1] == nil
	v.mu.Unlock()
	if !ended {
		t.Error("after the failed Abort the ceremony is not aborted and destroyed")
	}
	if responderState(b) != nil {
		t.Error("beta still holds the ceremony")
	}
}

// TestCeremonyPrepareQueuedBehindPrepare: two Prepares of one ceremony (an initiator's retry, or
// a partner's doing) reach the responder together, and the second waits for the ceremony's lock
// while the first prepares the epoch. The first takes the ceremony out of the table and destroys
// its state, which is not aborted: it lives on as the prepared epoch. Before, the second then
// took the lock, found the ceremony neither aborted nor expired and ran Prepare again on the
// destroyed state (a nil key check: a panic, answered Internal). Now a round that finds, once it
// holds the lock, that its ceremony is no longer the partner's in progress is refused as one of
// a ceremony the node does not hold.
func TestCeremonyPrepareQueuedBehindPrepare(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]
	c, err := a.clientHello(ctx, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.destroy()
	if err := a.clientRounds(ctx, p, c); err != nil {
		t.Fatal(err)
	}
	if err := a.prepareEpoch(ctx, c); err != nil {
		t.Fatal(err)
	}

	firstIn, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	b.cer.hooks = &ceremonyHooks{nonce: func(method string) error {
		if method == pb.CeremonyService_Prepare_FullMethodName && first.CompareAndSwap(false, true) {
			close(firstIn) // the first Prepare holds the ceremony's lock
			<-release
		}
		return nil
	}}
	defer func() { b.cer.hooks = nil }()
	queued := make(chan struct{}, 1)
	hook := hookFunc(func(_ context.Context, point string, _ error) {
		select {
		case <-firstIn:
		default:
			return
		}
		if point == "ceremony-lock" {
			select {
			case queued <- struct{}{}:
			default:
			}
		}
	})
	b.hook.Store(&hook)
	defer b.hook.Store(nil)

	errs := [2]chan error{make(chan error, 1), make(chan error, 1)}
	go func() { errs[0] <- a.clientPrepare(ctx, p, c) }()
	await(t, firstIn, 1, "first Prepare's nonce")
	go func() { errs[1] <- a.clientPrepare(ctx, p, c) }()
	await(t, queued, 1, "ceremony-lock")
	close(release)
	if err := <-errs[0]; err != nil {
		t.Fatalf("the first Prepare: %v", err)
	}
	if err := <-errs[1]; codeOf(err) != codes.FailedPrecondition {
		t.Errorf("the Prepare queued behind it: %v, want FailedPrecondition (no such ceremony in progress)", err)
	}
}
