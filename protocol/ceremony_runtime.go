package protocol

import (
	"context"
	"encoding/hex"
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
	resolves map[string]*resolver      // partners whose prepared epochs a goroutine is resolving
	prepared map[string]*epochKeys     // by partner: the keys of the epoch this run prepared
	aborted  []abortNotice             // Aborts owed to partners (ceremonies aborted on restart)
	// undecided: by prepared ceremony (hex ID), when its initiator first answered that it had
	// not decided (askOutcome).
	undecided map[string]time.Time
	// outcomes: by partner, the Outcome answers this node recorded (outcomeRecorded).
	outcomes map[string][]recordedOutcome

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
	// nonce, if it returns an error, stands for the state file failing to record a round's
	// nonce (commitNonce: a full disk, an I/O error), for the round of method (its full name).
	nonce func(method string) error
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
// (see pendingEpoch): what can be decided locally is decided before Open returns (an initiator's
// undecided epoch is aborted, a responder's committed record dropped); what needs the partner
// goes on in the background until the node closes.
func (n *Node) startCeremonies(ctx context.Context) error {
	n.cer.outgoing = map[string]*ceremonyState{}
	n.cer.resolves = map[string]*resolver{}
	n.cer.prepared = map[string]*epochKeys{}
	n.cer.undecided = map[string]time.Time{}
	n.cer.outcomes = map[string][]recordedOutcome{}
	n.cer.ctx, n.cer.cancel = context.WithCancel(context.Background())
	for _, p := range n.partners {
		pes, err := n.pendingOf(ctx, p.cfg.Agreement)
		if err != nil {
			return err
		}
		left := false
		for _, pe := range pes {
			begun, err := n.epochBegun(ctx, p, pe.epoch)
			switch {
			case err != nil:
			case pe.initiator && !begun: // never decided: abort; the partner is told in the background
				n.log.Warn("aborting a ceremony prepared before a restart", "partner", p.name, "epoch", pe.epoch)
				err = n.abortPrepared(ctx, p, pe, "ceremony-aborted-after-restart")
				n.cer.mu.Lock()
				n.cer.aborted = append(n.cer.aborted, abortNotice{p.name, pe.id, pe.epoch})
				n.cer.mu.Unlock()
				left = true
			case !pe.initiator && begun: // the responder committed before it stopped
				err = n.destroyPending(ctx, p.cfg.Agreement, pe.epoch)
			default:
				left = true
			}
			pe.zero()
			if err != nil {
				return fmt.Errorf("protocol: resolving the prepared epoch %d with %s: %w", pe.epoch, p.name, err)
			}
		}
		if left {
			n.resolveInBackground(p, 0)
		}
	}
	return nil
}

// abortNotice is an Abort this node still owes a partner for a ceremony it aborted on restart.
type abortNotice struct {
	partner string
	id      []byte
	epoch   uint64
}

// resolver is the state of one partner's background resolution.
type resolver struct{ again bool }

// stopCeremonies ends the background resolution and destroys the keys of epochs prepared but
// not committed in this run (the node is closing; the pending records remain).
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

// resolveInBackground settles, until the node closes, every prepared epoch of the partner's
// agreement that needs the partner (resolveOnce), first after delay and then with a growing
// pause between attempts (0.2 s to 10 s). One goroutine per partner runs at a time; a call while
// it runs makes it look again before it stops.
func (n *Node) resolveInBackground(p *partner, delay time.Duration) {
	n.cer.mu.Lock()
	if r := n.cer.resolves[p.name]; r != nil {
		r.again = true
		n.cer.mu.Unlock()
		return
	}
	r := &resolver{}
	n.cer.resolves[p.name] = r
	n.cer.mu.Unlock()
	n.goBackground("settling prepared epochs", func() {
		ctx := n.cer.ctx
		wait := 200 * time.Millisecond
		pause := delay
		for {
			select {
			case <-ctx.Done():
				n.cer.mu.Lock()
				delete(n.cer.resolves, p.name)
				n.cer.mu.Unlock()
				return
			case <-time.After(pause):
			}
			if n.resolveOnceSafely(ctx, p) {
				n.cer.mu.Lock()
				if !r.again {
					delete(n.cer.resolves, p.name)
					n.cer.mu.Unlock()
					return
				}
				r.again = false
				n.cer.mu.Unlock()
				pause = 0
				continue
			}
			pause = wait
			wait = min(2*wait, 10*time.Second)
		}
	})
}

// resolveOnceSafely is resolveOnce, with a panic in it (a bug) logged and taken as "not settled":
// the loop tries again after its pause, where the panic would have ended the process, or, caught
// by goBackground, left the partner's resolver registered and never run again.
func (n *Node) resolveOnceSafely(ctx context.Context, p *partner) (settled bool) {
	defer func() {
		if r := recover(); r != nil {
			n.logPanic("settling prepared epochs", r)
			settled = false
		}
	}()
	return n.resolveOnce(ctx, p)
}

// resolveOnce tries once to settle the partner's prepared epochs and the Aborts this node owes
// it, and reports whether nothing is left: an initiator's committed epoch is sent Commit until
// acknowledged; a responder's prepared epoch is resolved by asking the initiator (Outcome); an
// initiator's epoch whose ceremony is still running here is left to it.
func (n *Node) resolveOnce(ctx context.Context, p *partner) bool {
	settled := n.sendOwedAborts(ctx, p)
	pes, err := n.pendingOf(ctx, p.cfg.Agreement)
	if err != nil {
		n.log.Error("reading prepared epochs", "partner", p.name, "err", err)
		return false
	}
	for _, pe := range pes {
		ok := false
		switch {
		case pe.initiator && n.running(p, pe.id):
		case pe.initiator:
			ok = n.sendCommitUntilAcked(ctx, p, pe)
		default:
			ok = n.askOutcome(ctx, p, pe)
		}
		settled = settled && ok
		pe.zero()
	}
	return settled
}

// running reports whether ceremony id is this node's ceremony with p, still undecided.
func (n *Node) running(p *partner, id []byte) bool {
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	c := n.cer.outgoing[p.name]
	return c != nil && sameCeremony(c.id, id)
}

// sendOwedAborts sends the Aborts this node owes p; a ceremony the partner no longer knows
// counts as told.
func (n *Node) sendOwedAborts(ctx context.Context, p *partner) bool {
	n.cer.mu.Lock()
	var owed, rest []abortNotice
	for _, a := range n.cer.aborted {
		if a.partner == p.name {
			owed = append(owed, a)
		} else {
			rest = append(rest, a)
		}
	}
	n.cer.aborted = rest
	n.cer.mu.Unlock()
	var failed []abortNotice
	for _, a := range owed {
		err := n.sendAbort(ctx, p, a.id, a.epoch, "initiator restarted")
		var re *RemoteError
		if err != nil && !(errors.As(err, &re) && re.Code == codes.FailedPrecondition) {
			failed = append(failed, a)
		}
	}
	n.cer.mu.Lock()
	n.cer.aborted = append(n.cer.aborted, failed...)
	n.cer.mu.Unlock()
	return len(failed) == 0
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
	return true
}

// askOutcome asks the initiator what became of a prepared epoch and acts on the answer; it
// reports whether the epoch is resolved.
func (n *Node) askOutcome(ctx context.Context, p *partner, pe *pendingEpoch) bool {
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
	case pb.CeremonyOutcome_CEREMONY_OUTCOME_PENDING:
		if !n.undecidedTooLong(pe) {
			n.testHook(ctx, "undecided", nil)
			return false
		}
		n.log.Warn("discarding a prepared epoch the partner has not decided for too long", "partner", p.name, "epoch", pe.epoch, "after", maxUndecided)
		if err = n.abortPrepared(ctx, p, pe, "ceremony-prepared-discarded-undecided"); err == nil {
			n.testHook(ctx, "prepared-discarded", nil)
		}
	default:
		return false
	}
	n.cer.mu.Lock()
	delete(n.cer.undecided, hex.EncodeToString(pe.id))
	n.cer.mu.Unlock()
	if err != nil {
		n.log.Error("resolving a prepared epoch", "partner", p.name, "epoch", pe.epoch, "err", err)
		return false
	}
	return true
}

// maxUndecided is how long the responder waits for the initiator to decide a prepared epoch
// (its Outcome answers pending) before it discards it. An honest initiator decides within
// seconds of the Prepare (it commits, or a restart aborts what it had not decided); one that
// holds its decision open would otherwise stop this node from running any ceremony of the
// agreement (Hello and Ceremony are refused while an epoch is prepared), so from re-keying after
// a revocation. If that initiator commits the epoch later, the nodes are on different epochs
// until the next ceremony, as with any initiator that commits only on one side (SECURITY.md).
const maxUndecided = time.Hour

// undecidedTooLong records when pe's initiator first answered that it had not decided, and
// reports whether that was maxUndecided ago or more (by the node's clock; a restart starts
// the wait again).
func (n *Node) undecidedTooLong(pe *pendingEpoch) bool {
	key := hex.EncodeToString(pe.id)
	now := n.now()
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	first, ok := n.cer.undecided[key]
	if !ok {
		n.cer.undecided[key] = now
		return false
	}
	return now.Sub(first) >= maxUndecided
}

// hasPending zeroes the records and reports whether any was for epoch (0: any).
func hasPending(pes []*pendingEpoch, epoch uint64) bool {
	found := false
	for _, pe := range pes {
		found = found || epoch == 0 || pe.epoch == epoch
		pe.zero()
	}
	return found
}

// outcomeOf answers Outcome for this node as the initiator of ceremony id for epoch: pending
// while the ceremony is still running here, committed if the agreement state names the epoch,
// aborted otherwise (this node never makes an epoch current after it stopped running its
// ceremony: a restart aborts what it had not decided). It reports too whether this node holds
// the ceremony (running it, or heldAsInitiator); of one it does not, the answer depends on the
// epoch alone.
//
// That is not "unknown" on purpose. The initiator keeps no ceremony IDs (the responder draws
// them in Hello) once the responder has acknowledged Commit or the ceremony was aborted, so it
// cannot tell an ID it never ran from one it finished and forgot, and the responder's recovery
// needs an answer for both: an Outcome asked after the record is gone (its own resolver crossing
// the Commit; TestCeremonyCallFlood, "finished ceremony") and one aborted on a restart
// (startCeremonies), whose owed Abort is held in memory only. A responder that got "unknown" would ask forever, and refuse every Hello of
// the agreement while its record stays. The epoch alone is the truth for an honest pair: the
// responder holds a prepared record of at most one ceremony of the agreement and refuses Hello
// while it does, so an epoch begun here was begun by that ceremony, and an epoch not begun is
// never begun by it (a ceremony not running here is never committed). Nor does it tell a partner
// anything new: whether an epoch of their agreement has begun here, each one set up by a
// ceremony with that partner, whose own queries and Hellos are answered with this node's epochs
// anyway. An initiator that lies gains nothing from this either: it can answer what it likes.
func (n *Node) outcomeOf(ctx context.Context, p *partner, id []byte, epoch uint64) (_ pb.CeremonyOutcome, held bool, _ error) {
	if n.running(p, id) {
		return pb.CeremonyOutcome_CEREMONY_OUTCOME_PENDING, true, nil
	}
	held, err := n.heldAsInitiator(ctx, p, id)
	if err != nil {
		return 0, false, err
	}
	begun, err := n.epochBegun(ctx, p, epoch)
	if err != nil {
		return 0, false, err
	}
	if begun {
		return pb.CeremonyOutcome_CEREMONY_OUTCOME_COMMITTED, held, nil
	}
	return pb.CeremonyOutcome_CEREMONY_OUTCOME_ABORTED, held, nil
}

// sendCommit sends Commit for a prepared epoch to the partner.
func (n *Node) sendCommit(ctx context.Context, p *partner, id []byte, epoch uint64) error {
	cc, err := n.ceremonyClient(ctx, p)
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
	cc, err := n.ceremonyClient(ctx, p)
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
