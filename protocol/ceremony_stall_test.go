//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// A partner (alpha, the initiator: the real client code and a raw stream) against the
// responder (beta), on what a stalled round holds.

// clockPair is newPair with one shared, adjustable clock on both nodes.
func clockPair(t *testing.T) (*testNode, *testNode, *atomic.Int64) {
	t.Helper()
	return clockPairWith(t, pairOptions{params: hetest.InsecureN11().Name(), quota: "1000 per 24h", verify: "1000 per 24h", tau: 0.9})
}

// clockPairWith is clockPair with the pair's options o (each set: newPair's defaults are not
// applied).
func clockPairWith(t *testing.T, o pairOptions) (*testNode, *testNode, *atomic.Int64) {
	t.Helper()
	off := new(atomic.Int64)
	clock := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	a, b := initNode(t, "alpha"), initNode(t, "beta")
	link(t, a, b, o)
	link(t, b, a, o)
	a.clock, b.clock = clock, clock
	a.start(t)
	b.start(t)
	return a, b, off
}

// upToRound1 runs Hello, CommitSeed, RevealSeed and round-1 CommitShares as the initiator: the
// responder then holds every round-1 share of both key sets.
func upToRound1(t *testing.T, a *testNode, epoch uint64) *ceremonyState {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]
	c, err := a.clientHello(ctx, p, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.clientSeed(ctx, p, c); err != nil {
		t.Fatal(err)
	}
	if err := a.clientCommitShares(ctx, p, c, he.Round1); err != nil {
		t.Fatal(err)
	}
	return c
}

// stallShare opens ExchangeKeyShare for c's next step with a valid, signed open message that
// describes the honest share, and sends no chunk. It returns the stream's cancel.
func stallShare(t *testing.T, a *testNode, c *ceremonyState) context.CancelFunc {
	t.Helper()
	cc, err := a.ceremonyClient(context.Background(), c.p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, _ := openShare(ctx, t, a, c, cc)
	go func() { // drain, so that the stream ends when the server ends it
		for {
			if _, err := st.Recv(); err != nil {
				return
			}
		}
	}()
	return cancel
}

// openShare opens ExchangeKeyShare for c's next step over cc and sends a valid, signed open
// message that describes the honest share; it returns the stream and the share, whose chunks
// are the caller's to send, or not.
func openShare(ctx context.Context, t *testing.T, a *testNode, c *ceremonyState, cc pb.CeremonyServiceClient) (pb.CeremonyService_ExchangeKeyShareClient, []byte) {
	t.Helper()
	p := c.p
	d, step, ok := c.nextStep()
	if !ok {
		t.Fatal("no next step")
	}
	own, err := c.hec[d].Reveal(step)
	if err != nil {
		t.Fatal(err)
	}
	pl := &pb.KeySharePayload{CeremonyId: c.id, Direction: pb.KeySetDirection(d + 1), GaloisElement: step.GaloisElement,
		Share: wire.Describe(kindOf(step), c.ps.Name(), own)}
	h, err := wire.NewRequestHeader(a.rand, a.now(), a.name, p.name, p.cfg.Agreement, pb.CeremonyService_ExchangeKeyShare_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = c.epoch, c.ps.Name(), ceremonyPurpose
	sig, err := wire.SignRequest(h, pl, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cc.ExchangeKeyShare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Open{Open: &pb.ExchangeKeyShareOpen{Header: h, Payload: pl, Signature: sig}}}); err != nil {
		t.Fatal(err)
	}
	return st, own
}

// responderState returns beta's ceremony with alpha.
func responderState(b *testNode) *ceremonyState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cers["alpha"]
}

// destroyedAfterRound waits (up to a minute) for the round holding c's lock to end, then
// reports whether c was aborted and its HE state destroyed; false if the round did not end.
func destroyedAfterRound(c *ceremonyState) bool {
	done := make(chan bool, 1)
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		done <- c.aborted && c.hec[0] == nil && c.hec[1] == nil
	}()
	select {
	case ok := <-done:
		return ok
	case <-time.After(time.Minute):
		return false
	}
}

// TestStalledKeyShareInterrupted: a partner that opens ExchangeKeyShare with a valid open message
// and then sends nothing holds the round, and with it the responder's ceremony lock. Before, the
// expiry pass skipped a locked ceremony, so it outlived its 30 minutes with its state (hundreds of
// MB at N = 2^15); a new Hello waited on its lock and never came back; and by repeating Hello,
// round-1 commitments and a stall, one partner made the responder keep a full ceremony state per
// cycle (a hostile review measured 4, +315 MB at N = 2^11). Now the expiry pass and a new Hello
// interrupt the waiting round, which aborts the ceremony and destroys its state.
func TestStalledKeyShareInterrupted(t *testing.T) {
	a, b, off := clockPair(t)
	awaited := make(chan struct{}, 1)
	hook := hookFunc(func(_ context.Context, point string, _ error) {
		if point == "share-awaited" {
			awaited <- struct{}{}
		}
	})
	b.hook.Store(&hook)
	c1 := upToRound1(t, a, 1)
	defer c1.destroy()
	stallShare(t, a, c1)
	await(t, awaited, 1, "share-awaited") // the round holds the ceremony's lock
	v1 := responderState(b)
	off.Add(int64(ceremonyTTL + time.Minute))
	b.dropExpiredCeremonies()
	if !destroyedAfterRound(v1) {
		t.Error("past its expiry, the stalled ceremony was not aborted and destroyed")
	}
	if responderState(b) == v1 {
		t.Error("the expired ceremony is still the partner's")
	}
	off.Store(0)

	// A new Hello while an upload stalls replaces the ceremony at once, whatever the cycles.
	var states []*ceremonyState
	for range 3 {
		c := upToRound1(t, a, 1)
		stallShare(t, a, c)
		await(t, awaited, 1, "share-awaited")
		states = append(states, responderState(b))
		c.destroy()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := a.clientHello(ctx, a.partners["beta"], 1)
	if err != nil {
		t.Fatalf("a Hello while an upload stalls: %v", err)
	}
	c.destroy()
	for i, v := range states {
		if !destroyedAfterRound(v) {
			t.Errorf("cycle %d's ceremony state is still alive after the Hello that replaced it", i)
		}
	}
}

// TestCrossingHellos: both nodes start a ceremony with each other at once, so each holds its
// claim when the other's Hello comes. Before, each answered the other's Hello and then refused to
// run its own without telling the other, which was left an abandoned ceremony that blocked every
// ceremony of either node for 30 minutes (a hostile review's finding). Now alpha, whose name
// sorts first, refuses beta's Hello and beta answers alpha's, so alpha's ceremony runs.
func TestCrossingHellos(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	claimA, err := a.claimOutgoing(a.partners["beta"])
	if err != nil {
		t.Fatal(err)
	}
	claimB, err := b.claimOutgoing(b.partners["alpha"])
	if err != nil {
		t.Fatal(err)
	}
	if cb, err := b.clientHello(ctx, b.partners["alpha"], 1); err == nil {
		cb.destroy()
		t.Fatal("alpha answered beta's Hello while its own Hello was out")
	}
	ca, err := a.clientHello(ctx, a.partners["beta"], 1)
	if err != nil {
		t.Fatalf("beta refused alpha's Hello while its own was out: %v", err)
	}
	ca.destroy()
	a.releaseOutgoing(claimA)
	b.releaseOutgoing(claimB)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatalf("alpha's ceremony after the crossing: %v", err)
	}
}

// TestSimultaneousRevocations: both agencies revoke at once (each revocation runs a ceremony).
// Before, the crossing ceremonies could leave both refused for 30 minutes with no epoch current.
// Now at least one revocation completes, and the other node's ceremony right after it too; both
// end on the same current epoch.
func TestSimultaneousRevocations(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 10*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { _, err := a.Revoke(ctx, "beta"); errs <- err }()
	go func() { _, err := b.Revoke(ctx, "alpha"); errs <- err }()
	ea, eb := <-errs, <-errs
	if ea != nil && eb != nil {
		t.Fatalf("both revocations failed: %v; %v", ea, eb)
	}
	if _, err := b.Ceremony(ctx, "alpha", 0); err != nil {
		t.Fatalf("beta's ceremony after the revocations: %v", err)
	}
	if ea, eb := epochs(t, a, b); ea != eb {
		t.Errorf("current epochs differ: alpha %d, beta %d", ea, eb)
	}
}

// toPrepared runs a's ceremony c, whose Hello was answered, as the initiator up to the
// partner's Prepare: both sides then hold the prepared epoch, and nothing is decided.
func toPrepared(ctx context.Context, t *testing.T, a *testNode, c *ceremonyState) {
	t.Helper()
	if err := a.clientRounds(ctx, c.p, c); err != nil {
		t.Fatal(err)
	}
	if err := a.prepareEpoch(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := a.clientPrepare(ctx, c.p, c); err != nil {
		t.Fatal(err)
	}
}

// undecidedCeremony starts a's ceremony with p for epoch, as Node.Ceremony does, and runs it
// up to the partner's Prepare (toPrepared): a holds it running and undecided.
func undecidedCeremony(ctx context.Context, t *testing.T, a *testNode, p *partner, epoch uint64) *ceremonyState {
	t.Helper()
	claim, err := a.claimOutgoing(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.clientHello(ctx, p, epoch)
	if err != nil {
		t.Fatal(err)
	}
	a.setOutgoing(claim, c)
	toPrepared(ctx, t, a, c)
	return c
}

// TestInitiatorCommitsOnlyThePartner shows what SECURITY.md says a cheating initiator can do,
// since it coordinates the two-phase switch: run every round honestly, let the responder prepare,
// send Commit, and never commit itself. The responder makes the new epoch current; the initiator
// stays on the old one, whose queries the responder then refuses as superseded. Nothing of
// either node's secrets is exposed; the next ceremony (the responder's, or the initiator's with
// the -epoch its refusal names) brings the two together.
func TestInitiatorCommitsOnlyThePartner(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 10*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	p := a.partners["beta"]
	c, err := a.clientHello(ctx, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.destroy()
	toPrepared(ctx, t, a, c)
	if err := a.sendCommit(ctx, p, c.id, c.epoch); err != nil {
		t.Fatal(err)
	}
	if err := a.abortPrepared(ctx, p, &pendingEpoch{initiator: true, partner: p.name, id: c.id, epoch: c.epoch}, "ceremony-prepared-discarded"); err != nil {
		t.Fatal(err)
	}
	if ea, eb := epochs(t, a, b); ea != 1 || eb != 2 {
		t.Fatalf("current epochs alpha %d, beta %d; want 1 and 2", ea, eb)
	}
	if _, err := b.Ceremony(ctx, "alpha", 0); err != nil {
		t.Fatalf("beta's next ceremony: %v", err)
	}
	if ea, eb := epochs(t, a, b); ea != 3 || eb != 3 {
		t.Errorf("after beta's next ceremony: alpha %d, beta %d; want 3", ea, eb)
	}
}

// TestUndecidedPreparedEpochDiscarded: a partner that, as initiator, lets our node prepare an
// epoch and then never decides answers Outcome "pending" for as long as it likes. Before, our
// node then refused every Hello and could start no ceremony of the agreement, even after
// revoking its current epoch: it could not re-key (a hostile review's finding). Now the prepared
// epoch is discarded (audited) once the initiator has left it undecided for maxUndecided, and a
// ceremony can run again once the partner takes part.
func TestUndecidedPreparedEpochDiscarded(t *testing.T) {
	a, b, off := clockPair(t)
	ctx := ctxTimeout(t, 10*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	undecided, discarded := make(chan struct{}, 64), make(chan struct{}, 1)
	hook := hookFunc(func(_ context.Context, point string, _ error) {
		switch point {
		case "undecided":
			select {
			case undecided <- struct{}{}:
			default:
			}
		case "prepared-discarded":
			discarded <- struct{}{}
		}
	})
	b.hook.Store(&hook)
	// alpha, the initiator, runs its ceremony up to beta's Prepare and keeps it undecided.
	p := a.partners["beta"]
	c := undecidedCeremony(ctx, t, a, p, 2)
	defer c.destroy()
	await(t, undecided, 1, "undecided")
	if _, err := b.Ceremony(ctx, "alpha", 0); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("beta's ceremony while its prepared epoch is undecided: %v, want ErrPrecondition", err)
	}
	off.Add(int64(time.Hour + time.Minute)) // the documented wait, an hour
	await(t, discarded, 1, "prepared-discarded")
	found := false
	for _, rec := range records(t, b) {
		found = found || rec.Action == "ceremony-prepared-discarded-undecided" && rec.Epoch == 2
	}
	if !found {
		t.Error("beta's log has no record of the discarded epoch")
	}
	// alpha takes part again: it drops what it held open.
	a.releaseOutgoing(c)
	if err := a.abortPrepared(ctx, p, &pendingEpoch{initiator: true, partner: p.name, id: c.id, epoch: c.epoch}, "ceremony-prepared-discarded"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ceremony(ctx, "alpha", 0); err != nil {
		t.Fatalf("beta's ceremony after the discard: %v", err)
	}
	if ea, eb := epochs(t, a, b); ea != 2 || eb != 2 {
		t.Errorf("current epochs alpha %d, beta %d; want 2", ea, eb)
	}
}
