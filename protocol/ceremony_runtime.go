package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// ceremonyRuntime is the node's ceremony bookkeeping besides the responder's table n.cers: the
// ceremonies this node initiates and has not decided, the background work that resolves
// prepared epochs, and, in tests, the hooks that play a cheating partner or a crash.
type ceremonyRuntime struct {
	mu       sync.Mutex
	outgoing map[string]*ceremonyState // by partner: ceremonies this node initiates, until decided
	resolves map[string]bool           // partners whose prepared epoch a goroutine is resolving
	prepared map[string]*epochKeys     // by partner: the keys of the epoch this run prepared

	pendingMu sync.Mutex // serialises commitEpoch and abortPrepared

	ctx    context.Context // ends when the node closes
	cancel context.CancelFunc

	hooks *ceremonyHooks // nil outside tests
}

// ceremonyHooks let tests in this package play a cheating responder and stop a node at any step.
// Each field may be nil.
type ceremonyHooks struct {
	// crs replaces the CRS contribution the responder sends in Hello, knowing the initiator's
	// commitment.
	crs func(commitment, crs []byte) []byte
	// commit replaces the responder's share commitments of a round.
	commit func(c *ceremonyState, r he.Round, own [][]byte) [][]byte
	// reveal replaces the share the responder reveals for direction d's step s; peer is the
	// initiator's share of the step, which the responder has just absorbed.
	reveal func(c *ceremonyState, d int, s he.Step, own, peer []byte) []byte
	// at is called at every crash point (see crashPoint).
	at func(point string)
}

// envCrash, when set (test builds only: ceremony_crash_testparams.go), is called at every crash
// point as well.
var envCrash func(point string)

// crashPoint marks a step of the ceremony at which tests stop a node, e.g. "responder:Prepare"
// or "initiator:committed". It does nothing in production.
func (n *Node) crashPoint(point string) {
	if h := n.cer.hooks; h != nil && h.at != nil {
		h.at(point)
	}
	if envCrash != nil {
		envCrash(point)
	}
}

// startCeremonies prepares the runtime and resolves every prepared epoch a crash left behind
// (see pendingEpoch): what can be decided locally is decided before Open returns; what needs the
// partner goes on in the background until the node closes.
func (n *Node) startCeremonies(ctx context.Context) error {
	n.cer.outgoing = map[string]*ceremonyState{}
	n.cer.resolves = map[string]bool{}
	n.cer.prepared = map[string]*epochKeys{}
	n.cer.ctx, n.cer.cancel = context.WithCancel(context.Background())
	for _, p := range n.partners {
		pes, err := n.pendingOf(ctx, p.cfg.Agreement)
		if err != nil {
			return err
		}
		for _, pe := range pes {
			if err := n.recoverPending(ctx, p, pe); err != nil {
				pe.zero()
				return fmt.Errorf("protocol: resolving the prepared epoch %d with %s: %w", pe.epoch, p.name, err)
			}
		}
	}
	return nil
}

// stopCeremonies ends the background resolution (the node is closing).
func (n *Node) stopCeremonies() {
	if n.cer.cancel != nil {
		n.cer.cancel()
	}
	n.cer.mu.Lock()
	held := n.cer.prepared
	n.cer.prepared = map[string]*epochKeys{}
	n.cer.mu.Unlock()
	for _, k := range held {
		k.destroy()
	}
}

// recoverPending resolves one prepared epoch found when the node opens.
func (n *Node) recoverPending(ctx context.Context, p *partner, pe *pendingEpoch) error {
	begun, err := n.epochBegun(ctx, p, pe.epoch)
	if err != nil {
		return err
	}
	switch {
	case pe.initiator && !begun: // never decided: abort, and tell the partner
		n.log.Warn("aborting a ceremony prepared before a restart", "partner", p.name, "epoch", pe.epoch)
		err := n.abortPrepared(ctx, p, pe, "ceremony-aborted-after-restart")
		pe.zero()
		if err != nil {
			return err
		}
		n.resolveInBackground(p, func(ctx context.Context) bool {
			err := n.sendAbort(ctx, p, pe.id, pe.epoch, "initiator restarted")
			var re *RemoteError
			return err == nil || (errors.As(err, &re) && re.Code == codes.FailedPrecondition) // already gone
		})
	case pe.initiator: // committed: tell the partner until it acknowledges
		n.resolveInBackground(p, func(ctx context.Context) bool { return n.sendCommitUntilAcked(ctx, p, pe) })
	case begun: // the responder committed before it stopped
		pe.zero()
		return n.destroyPending(ctx, p.cfg.Agreement, pe.epoch)
	default: // the responder must ask the initiator
		n.resolveInBackground(p, func(ctx context.Context) bool { return n.askOutcome(ctx, p, pe) })
	}
	return nil
}

// resolveInBackground runs try until it reports the matter settled or the node closes, with a
// growing pause between attempts (0.2 s to 10 s). One goroutine per partner at a time.
func (n *Node) resolveInBackground(p *partner, try func(context.Context) bool) {
	n.cer.mu.Lock()
	if n.cer.resolves[p.name] {
		n.cer.mu.Unlock()
		return
	}
	n.cer.resolves[p.name] = true
	n.cer.mu.Unlock()
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer func() {
			n.cer.mu.Lock()
			delete(n.cer.resolves, p.name)
			n.cer.mu.Unlock()
		}()
		ctx := n.cer.ctx
		wait := 200 * time.Millisecond
		for !try(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 10*time.Second)
		}
	}()
}

// sendCommitUntilAcked sends Commit once and reports whether the partner acknowledged; on
// acknowledgment the initiator's pending record is destroyed.
func (n *Node) sendCommitUntilAcked(ctx context.Context, p *partner, pe *pendingEpoch) bool {
	if err := n.sendCommit(ctx, p, pe.id, pe.epoch); err != nil {
		n.log.Info("partner has not acknowledged the new epoch yet", "partner", p.name, "epoch", pe.epoch, "err", err)
		return false
	}
	n.crashPoint("initiator:commit-acked")
	if err := n.destroyPending(ctx, p.cfg.Agreement, pe.epoch); err != nil {
		n.log.Error("dropping the record of an acknowledged epoch", "partner", p.name, "err", err)
		return false
	}
	pe.zero()
	return true
}

// askOutcome asks the initiator what became of a prepared epoch and acts on the answer; it
// reports whether the epoch is resolved.
func (n *Node) askOutcome(ctx context.Context, p *partner, pe *pendingEpoch) bool {
	if pes, err := n.pendingOf(ctx, p.cfg.Agreement); err == nil && !hasPending(pes, pe.epoch) {
		pe.zero() // resolved meanwhile (a Commit or Abort from the initiator)
		return true
	}
	out, err := n.queryOutcome(ctx, p, pe.id, pe.epoch)
	if err != nil {
		n.log.Info("outcome of a prepared epoch not known yet", "partner", p.name, "epoch", pe.epoch, "err", err)
		return false
	}
	switch out {
	case pb.CeremonyOutcome_CEREMONY_OUTCOME_COMMITTED:
		if err = n.commitEpoch(ctx, p, pe, false); err == nil {
			n.retireInBackground(ctx, p)
		}
	case pb.CeremonyOutcome_CEREMONY_OUTCOME_ABORTED:
		err = n.abortPrepared(ctx, p, pe, "ceremony-aborted-by-initiator")
	default:
		return false
	}
	if err != nil {
		n.log.Error("resolving a prepared epoch", "partner", p.name, "epoch", pe.epoch, "err", err)
		return false
	}
	pe.zero()
	return true
}

func hasPending(pes []*pendingEpoch, epoch uint64) bool {
	found := false
	for _, pe := range pes {
		found = found || pe.epoch == epoch
		pe.zero()
	}
	return found
}

// outcomeOf answers Outcome for this node as the initiator of ceremony id for epoch: pending
// while the ceremony is still running here, committed if the agreement state names the epoch,
// aborted otherwise (this node never makes an epoch current after it stopped running its
// ceremony: a restart aborts what it had not decided).
func (n *Node) outcomeOf(ctx context.Context, p *partner, id []byte, epoch uint64) (pb.CeremonyOutcome, error) {
	n.cer.mu.Lock()
	c := n.cer.outgoing[p.name]
	n.cer.mu.Unlock()
	if c != nil && sameCeremony(c.id, id) {
		return pb.CeremonyOutcome_CEREMONY_OUTCOME_PENDING, nil
	}
	begun, err := n.epochBegun(ctx, p, epoch)
	if err != nil {
		return 0, err
	}
	if begun {
		return pb.CeremonyOutcome_CEREMONY_OUTCOME_COMMITTED, nil
	}
	return pb.CeremonyOutcome_CEREMONY_OUTCOME_ABORTED, nil
}

// sendCommit sends Commit for a prepared epoch to the partner.
func (n *Node) sendCommit(ctx context.Context, p *partner, id []byte, epoch uint64) error {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pl := &pb.CommitPayload{CeremonyId: id, Epoch: epoch}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_Commit_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.CommitResponse, error) {
			return cc.Commit(ctx, &pb.CommitRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.CommitResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	if out := orEmpty(resp.Payload); !sameCeremony(out.CeremonyId, id) || out.Epoch != epoch {
		return fmt.Errorf("protocol: partner %s acknowledged another ceremony", p.name)
	}
	return nil
}

// queryOutcome asks the partner, the initiator of ceremony id, what became of it.
func (n *Node) queryOutcome(ctx context.Context, p *partner, id []byte, epoch uint64) (pb.CeremonyOutcome, error) {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pl := &pb.CommitPayload{CeremonyId: id, Epoch: epoch}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_Outcome_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.OutcomeResponse, error) {
			return cc.Outcome(ctx, &pb.OutcomeRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.OutcomeResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return 0, err
	}
	out := orEmpty(resp.Payload)
	if !sameCeremony(out.CeremonyId, id) || out.Epoch != epoch {
		return 0, errors.New("protocol: the outcome names another ceremony")
	}
	return out.Outcome, nil
}
