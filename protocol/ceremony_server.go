package protocol

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/keys"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// ceremonyServer answers the rounds of a key ceremony a partner initiates.
type ceremonyServer struct {
	pb.UnimplementedCeremonyServiceServer
	n *Node
}

// round is one ceremony request being served.
type round struct {
	method  string
	h       *pb.RequestHeader
	payload proto.Message
	sig     []byte
	p       *partner
	c       *ceremonyState // nil for Hello
	// live is the partner's ceremony in progress that the round names, once admitRound has
	// found it, even if the round is then refused: the refusals of its rounds are counted on it
	// (failRound).
	live *ceremonyState
	// quiet, set by a round's work, is the class under which an answered call is counted for
	// the partner's summary instead of being audited by itself (ceremony_summary.go).
	quiet audit.RefusalClass
}

// admitRound checks a ceremony request: the signed header, purpose and nonce; then, except for
// Hello, that it names the partner's ceremony in progress, its epoch and parameter set. It
// returns with the ceremony's lock held (release with r.unlock). Nothing changes on refusal.
func (n *Node) admitRound(ctx context.Context, r *round, id []byte) *Error {
	r.p = partnerFrom(ctx)
	p, h := r.p, r.h
	if e := wire.VerifyRequest(h, r.payload, r.sig, wire.RequestCheck{Partner: p.name, Self: n.name, Method: r.method,
		Agreement: p.cfg.Agreement, Ring: p.card.Keyring, Now: n.now(), Window: n.cfg.ReplayWindow}); e != nil {
		return e
	}
	if h.PurposeCode != ceremonyPurpose {
		return wire.Permission("ceremony requests carry the purpose "+ceremonyPurpose, nil)
	}
	if seen, err := n.state.seen(p.name, h.Nonce); err != nil {
		return wire.Internal(err)
	} else if seen {
		return wire.Replayed("nonce was used before", errNonceSeen)
	}
	switch r.method {
	case pb.CeremonyService_Hello_FullMethodName, pb.CeremonyService_Commit_FullMethodName, pb.CeremonyService_Outcome_FullMethodName:
		return nil // no ceremony in progress needed
	}
	n.mu.Lock()
	c := n.cers[p.name]
	n.mu.Unlock()
	if c == nil || !bytes.Equal(c.id, id) {
		if r.method == pb.CeremonyService_Abort_FullMethodName {
			return nil // it may be prepared: see the Abort handler
		}
		return refuseUnknown("no such ceremony in progress (it may have been aborted: start again with Hello)")
	}
	n.testHook(ctx, "ceremony-lock", nil) // found in the table; the ceremony's lock next
	c.mu.Lock()
	r.live = c
	n.mu.Lock()
	current := n.cers[p.name] == c
	n.mu.Unlock()
	switch {
	case c.aborted:
		c.mu.Unlock()
		return refuseUnknown("the ceremony was aborted: start again with Hello")
	case !current: // prepared while this round waited for its lock: its state is destroyed
		c.mu.Unlock()
		if r.method == pb.CeremonyService_Abort_FullMethodName {
			return nil // the prepared epoch: see the Abort handler
		}
		return refuseUnknown("no such ceremony in progress (it may have been prepared or aborted)")
	case c.expired(n.now()):
		n.dropCeremony(p, c)
		c.mu.Unlock()
		return wire.Precondition("the ceremony expired: start again with Hello", nil)
	case h.KeyEpoch != c.epoch || h.ParamSet != c.ps.Name():
		c.mu.Unlock()
		return wire.Precondition("epoch or parameter set differs from the ceremony's", nil)
	}
	c.setExpiry(n.now().Add(ceremonyTTL)) // the initiator is still there
	r.c = c
	return nil
}

// commitNonce records the round's nonce just before the round changes any state.
func (n *Node) commitNonce(r *round) *Error {
	if h := n.cer.hooks; h != nil && h.nonce != nil {
		if err := h.nonce(r.method); err != nil {
			return wire.Internal(err)
		}
	}
	_, err := n.state.admit(r.p.name, r.h.Nonce, r.h.SentAt.AsTime().Add(n.cfg.ReplayWindow), nil, n.now())
	if errors.Is(err, errNonceSeen) {
		return wire.Replayed("nonce was used before", err)
	}
	if err != nil {
		return wire.Internal(err)
	}
	return nil
}

func (r *round) unlock() {
	if r.c != nil {
		r.c.mu.Unlock()
	}
}

// fail ends the round: a refusal (nothing changed) is audited as such, or counted if it concerns
// no ceremony this node holds or is past the first few refusals of its ceremony's rounds
// (ceremony_summary.go) or of the partner's in the interval (refusals.go); any other failure
// aborts the partner's ceremony, because a step is never run twice with the same share. The
// round still holds the lock of its ceremony r.c, if set (admitRound took it; the caller
// releases it after), so that the ceremony is aborted and destroyed by the holder of its lock
// (dropCeremony).
func (n *Node) failRound(ctx context.Context, r *round, e *Error) error {
	if e.Refusal == audit.RefusedCeremonyUnknown {
		n.summarise(r.p, r.method, e.Refusal)
		return e
	}
	if e.Refusal != "" && r.live != nil && !r.live.refusalAudited() {
		n.summarise(r.p, r.method, audit.RefusedCeremonyRefusedRepeated)
		return e
	}
	if e.Refusal != "" {
		if n.refusalRecorded(r.p, r.method, e, false) {
			n.auditRefusal(ctx, r.p, r.method, r.h, e)
			n.log.Info("refused", "partner", r.p.name, "method", methodName(r.method), "code", e.Code.String(), "reason", e.Error())
		}
		return e
	}
	if r.c != nil {
		n.testHook(ctx, "ceremony-aborting", nil)
		n.dropCeremony(r.p, r.c)
		n.auditCeremony(ctx, r.p, abortAction(e.Err), r.c.epoch)
	}
	n.log.Warn("ceremony round failed", "partner", r.p.name, "method", methodName(r.method), "code", e.Code.String(), "reason", e.Error())
	return e
}

// dropCeremony ends c: it marks it aborted, removes it from the table (if it is still the
// partner's) and destroys it. The caller holds c.mu: no round uses c's secrets while they are
// zeroed, and a round that takes the lock after finds the ceremony aborted (admitRound). (The
// lock order is c.mu, then n.mu.)
func (n *Node) dropCeremony(p *partner, c *ceremonyState) {
	c.aborted = true
	n.mu.Lock()
	if n.cers[p.name] == c {
		delete(n.cers, p.name)
	}
	n.mu.Unlock()
	c.destroy()
}

// dropExpiredCeremonies destroys the ceremonies whose initiators have gone quiet for
// ceremonyTTL. A ceremony being served (its lock held) past its expiry is a round waiting on a
// partner that stopped sending (an upload's chunks): it is interrupted, and the round aborts
// the ceremony and destroys it as it returns. The others are marked aborted and destroyed with
// their locks held, as by dropCeremony.
func (n *Node) dropExpiredCeremonies() {
	now := n.now()
	n.mu.Lock()
	var old []*ceremonyState
	for name, c := range n.cers {
		if !c.expired(now) {
			continue
		}
		if !c.mu.TryLock() {
			c.interrupt()
			continue
		}
		c.aborted = true
		delete(n.cers, name)
		old = append(old, c) // locked until destroyed
	}
	n.mu.Unlock()
	for _, c := range old {
		c.destroy()
		c.mu.Unlock()
	}
}

func (n *Node) auditCeremony(ctx context.Context, p *partner, action string, epoch uint64) {
	if _, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindKey, audit.Event{Partner: p.name, Action: action, Epoch: epoch}); err != nil {
		n.log.Error("audit record not written", "action", action, "err", err)
	}
}

func (s *ceremonyServer) Hello(ctx context.Context, req *pb.HelloRequest) (*pb.HelloResponse, error) {
	n := s.n
	if req.Payload == nil {
		req.Payload = &pb.HelloPayload{}
	}
	r := &round{method: pb.CeremonyService_Hello_FullMethodName, h: req.Header, payload: req.Payload, sig: req.Signature, p: partnerFrom(ctx)}
	if e := n.chargeHello(r.p); e != nil {
		if e.Refusal == audit.RefusedCeremonyLimit {
			return nil, e // counted for the interval's summary, not audited one by one
		}
		return nil, n.failRound(ctx, r, e)
	}
	if e := n.admitRound(ctx, r, nil); e != nil {
		return nil, n.failRound(ctx, r, e)
	}
	resp, e := n.hello(ctx, r, req.Payload)
	if e != nil {
		return nil, n.failRound(ctx, r, e)
	}
	return resp, nil
}

func (n *Node) hello(ctx context.Context, r *round, pl *pb.HelloPayload) (*pb.HelloResponse, *Error) {
	p := r.p
	want, err := helloPayload(p, pl.Epoch, pl.CrsCommitment)
	if err != nil {
		return nil, wire.Internal(err)
	}
	if err := checkHello(pl, want); err != nil {
		return nil, wire.Precondition("proposal differs from this node's view of the agreement", err)
	}
	next, err := n.nextEpoch(ctx, p)
	if err != nil {
		return nil, wire.Internal(err)
	}
	if pl.Epoch != r.h.KeyEpoch {
		return nil, wire.Invalid("the proposal's epoch differs from its header's", fmt.Errorf("payload %d, header %d", pl.Epoch, r.h.KeyEpoch))
	}
	if err := checkEpochProposal(pl.Epoch, next); err != nil {
		return nil, wire.Precondition(err.Error(), nil)
	}
	if pes, err := n.pendingOf(ctx, p.cfg.Agreement); err != nil {
		return nil, wire.Internal(err)
	} else if len(pes) > 0 {
		hasPending(pes, 0)
		return nil, wire.Precondition("a ceremony of this agreement is prepared and its outcome not yet settled", nil)
	}
	// The claim check and the new ceremony's entry in n.cers are one step under n.cer.mu, as in
	// claimOutgoing: of two ceremonies the nodes start with each other at once, one runs.
	n.cer.mu.Lock()
	c, old, out, e := n.answerHello(r, pl)
	n.cer.mu.Unlock()
	if e != nil {
		return nil, e
	}
	if old != nil { // a partner restarting its ceremony ends the one before
		old.interrupt() // a round of it waiting on the partner gives it up
		old.mu.Lock()
		n.dropCeremony(p, old) // no longer in the table: answerHello replaced it
		old.mu.Unlock()
	}
	n.auditCeremony(ctx, p, "ceremony-hello", c.epoch)
	n.crashPoint("responder:Hello")
	return out, nil
}

// answerHello makes the responder's side of a ceremony for an admitted Hello, signs the answer
// and puts the ceremony in n.cers, returning the one it replaces, unless this node's own
// ceremony with the partner is out (yields). The caller holds n.cer.mu.
func (n *Node) answerHello(r *round, pl *pb.HelloPayload) (c, old *ceremonyState, _ *pb.HelloResponse, _ *Error) {
	p := r.p
	if out := n.cer.outgoing[p.name]; out != nil && !yields(out, n.name, p.name) {
		return nil, nil, nil, wire.Precondition("this node is running a ceremony with you", nil)
	}
	if e := n.commitNonce(r); e != nil {
		return nil, nil, nil, e
	}
	id := make([]byte, ceremonyIDLen)
	crs := make([]byte, crsContribLen)
	if _, err := io.ReadFull(n.rand, id); err != nil {
		return nil, nil, nil, wire.Internal(err)
	}
	if _, err := io.ReadFull(n.rand, crs); err != nil {
		return nil, nil, nil, wire.Internal(err)
	}
	if h := n.cer.hooks; h != nil && h.crs != nil {
		crs = h.crs(pl.CrsCommitment, crs)
	}
	c = newCeremonyState(p, false, id, pl.Epoch, n.now())
	copy(c.crsCommit[:], pl.CrsCommitment)
	c.crsMine = crs
	out := &pb.HelloResponsePayload{CeremonyId: id, CrsContribution: crs}
	c.record(pl, out)
	rh, sig, err := wire.SignResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return nil, nil, nil, wire.Internal(err)
	}
	n.mu.Lock()
	old = n.cers[p.name]
	n.cers[p.name] = c
	n.mu.Unlock()
	return c, old, &pb.HelloResponse{Header: rh, Payload: out, Signature: sig}, nil
}

// yields reports whether this node (self), whose ceremony with partner is out, answers the
// partner's Hello anyway: only while its own Hello is unanswered (out is still the claim's
// placeholder) and the partner's name sorts first. Two nodes that start ceremonies with each
// other at once both hold a claim when the other's Hello comes; the one whose name sorts first
// refuses the other's Hello and runs its own, the other answers it and its own Hello is refused.
// Without a rule both refused, or both answered and each then dropped its own ceremony, leaving
// the other an abandoned one that blocked every ceremony for 30 minutes.
func yields(out *ceremonyState, self, partner string) bool {
	return out.id == nil && partner < self
}

// serveRound runs one unary round of a partner's ceremony: admission (the ceremony's lock held
// while do runs), do, then the signed answer and the audit record (or, if do set r.quiet, the
// count for the partner's summary). A refusal changes nothing; a failure inside do aborts the
// ceremony.
func (n *Node) serveRound(ctx context.Context, method string, h *pb.RequestHeader, payload proto.Message, sig, id []byte,
	action string, do func(r *round) (proto.Message, *Error)) (*pb.ResponseHeader, proto.Message, []byte, error) {
	r := &round{method: method, h: h, payload: payload, sig: sig}
	if e := n.admitRound(ctx, r, id); e != nil {
		return nil, nil, nil, n.failRound(ctx, r, e)
	}
	defer r.unlock()
	out, e := do(r)
	if e != nil {
		return nil, nil, nil, n.failRound(ctx, r, e)
	}
	rh, rsig, err := wire.SignResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return nil, nil, nil, n.failRound(ctx, r, wire.Internal(err))
	}
	var epoch uint64
	if r.c != nil {
		epoch = r.c.epoch
	} else {
		epoch = r.h.KeyEpoch
	}
	if r.quiet != "" {
		n.summarise(r.p, method, r.quiet)
	} else {
		n.auditCeremony(ctx, r.p, action, epoch)
	}
	n.crashPoint("responder:" + methodName(method))
	return rh, out, rsig, nil
}

// aborting is the failure of a round that ends the ceremony (not a refusal): the partner broke
// a commitment or sent something no honest party sends.
func aborting(safe string, err error) *Error {
	return &Error{Code: codes.InvalidArgument, Safe: safe, Err: err}
}

func (s *ceremonyServer) CommitSeed(ctx context.Context, req *pb.CommitSeedRequest) (*pb.CommitSeedResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_CommitSeed_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-commit-seed", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageHello {
				return nil, wire.Precondition("CommitSeed is not the ceremony's next round", nil)
			}
			if len(pl.Commitment) != commitmentLen || len(pl.CrsContribution) != crsContribLen {
				return nil, wire.Invalid("commitment and crs_contribution must be 32 bytes", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			init, resp := c.parties(n.name)
			if cm := crsCommitment(c.p.cfg.Agreement, c.epoch, init, resp, pl.CrsContribution); !hmac.Equal(cm[:], c.crsCommit[:]) {
				// Not a refusal: the initiator is bound to the contribution it committed to in Hello.
				return nil, aborting("CRS contribution does not open the commitment of Hello", errCRSNotOpened)
			}
			if err := c.startHE(pl.CrsContribution, c.crsMine, n.rand); err != nil {
				return nil, wire.Internal(err)
			}
			copy(c.peerCommit[:], pl.Commitment)
			out, err := n.sealContribution(c)
			if err != nil {
				return nil, wire.Internal(err)
			}
			c.record(pl, out)
			c.stage = stageCommitted
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.CommitSeedResponse{Header: rh, Payload: out.(*pb.SealedSeedPayload), Signature: sig}, nil
}

// sealContribution draws this node's contribution and seals it to the partner.
func (n *Node) sealContribution(c *ceremonyState) (*pb.SealedSeedPayload, error) {
	mine, err := keys.NewContribution(n.rand, n.name, c.p.cfg.Agreement, c.epoch)
	if err != nil {
		return nil, err
	}
	sealed, err := mine.Seal(c.p.card.Recipient)
	if err != nil {
		mine.Zero()
		return nil, err
	}
	c.mine = mine
	cm := mine.Commitment()
	return &pb.SealedSeedPayload{CeremonyId: c.id, SealedContribution: sealed, Commitment: cm[:]}, nil
}

// openPeerContribution opens the partner's sealed contribution against its commitment and
// derives the agreement secret; the contribution is kept for the epoch's pending record.
func (n *Node) openPeerContribution(c *ceremonyState, pl *pb.SealedSeedPayload, commitment [32]byte) error {
	if len(pl.SealedContribution) == 0 || len(pl.SealedContribution) > maxSealedSize {
		return fmt.Errorf("sealed contribution of %d bytes outside [1, %d]", len(pl.SealedContribution), maxSealedSize)
	}
	if !hmac.Equal(pl.Commitment, commitment[:]) {
		return errors.New("commitment differs from the one committed to")
	}
	theirs, err := keys.OpenContribution(pl.SealedContribution, n.id, c.p.name, c.p.cfg.Agreement, c.epoch, commitment)
	if err != nil {
		return err
	}
	if c.secret, err = keys.DeriveAgreementSecret(c.mine, theirs); err != nil {
		theirs.Zero()
		return err
	}
	c.theirs = theirs
	return nil
}

func (s *ceremonyServer) RevealSeed(ctx context.Context, req *pb.RevealSeedRequest) (*pb.RevealSeedResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_RevealSeed_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-reveal-seed", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageCommitted {
				return nil, wire.Precondition("RevealSeed is not the ceremony's next round", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			if err := n.openPeerContribution(c, pl, c.peerCommit); err != nil {
				// Not a refusal: the initiator is bound to the contribution it committed to, so
				// one that does not open ends the ceremony.
				return nil, aborting("contribution does not open against the commitment", err)
			}
			conf, err := seedConfirmation(c.secret, c.id)
			if err != nil {
				return nil, wire.Internal(err)
			}
			out := &pb.SeedConfirmationPayload{CeremonyId: c.id, KeyConfirmation: conf}
			c.record(pl, out)
			c.stage = stageRevealed
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.RevealSeedResponse{Header: rh, Payload: out.(*pb.SeedConfirmationPayload), Signature: sig}, nil
}

// CommitShares records the initiator's commitments of a round and answers with this node's,
// which it makes only now: before it has seen any share of the round.
func (s *ceremonyServer) CommitShares(ctx context.Context, req *pb.CommitSharesRequest) (*pb.CommitSharesResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_CommitShares_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-commit-shares", func(r *round) (proto.Message, *Error) {
			c := r.c
			rd := he.Round(pl.Round)
			switch {
			case c.stage != stageRevealed || (rd != he.Round1 && rd != he.Round2):
				return nil, wire.Precondition("CommitShares is not the ceremony's next round", nil)
			case c.committed[rd] || (rd == he.Round2 && (!c.committed[he.Round1] || !c.roundDone(he.Round1))):
				return nil, wire.Precondition(fmt.Sprintf("round %d of commitments is not the ceremony's next round", rd), nil)
			}
			if err := c.checkCommitmentList(pl, rd); err != nil {
				return nil, wire.Invalid("commitments refused", err)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			own, err := c.commitRound(rd, pl.Commitments)
			if err != nil {
				return nil, wire.Internal(err)
			}
			if h := n.cer.hooks; h != nil && h.commit != nil {
				own = h.commit(c, rd, own)
			}
			out := &pb.ShareCommitmentsPayload{CeremonyId: c.id, Round: pl.Round, Commitments: own}
			if rd == he.Round1 {
				c.checkTranscript = c.digest()
				copy(c.checkPeerCommit[:], pl.CheckCommitment)
				if _, err := io.ReadFull(n.rand, c.checkMine[:]); err != nil {
					return nil, wire.Internal(err)
				}
				cm := c.checkCommitment(false, c.checkTranscript, c.checkMine[:])
				out.CheckCommitment = cm[:]
			}
			c.committed[rd] = true
			c.record(pl, out)
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.CommitSharesResponse{Header: rh, Payload: out.(*pb.ShareCommitmentsPayload), Signature: sig}, nil
}

// CheckKeys opens both key-check contributions and answers with this node's half of the joint
// key check of both key sets.
func (s *ceremonyServer) CheckKeys(ctx context.Context, req *pb.CheckKeysRequest) (*pb.CheckKeysResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_CheckKeys_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-check-keys", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageRevealed || !c.sharesDone() {
				return nil, wire.Precondition("CheckKeys is not the ceremony's next round", nil)
			}
			if len(pl.CheckContribution) != checkLen || len(pl.Digests) != 0 {
				return nil, wire.Invalid("check_contribution must be 32 bytes and digests empty", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			if cm := c.checkCommitment(true, c.checkTranscript, pl.CheckContribution); !hmac.Equal(cm[:], c.checkPeerCommit[:]) {
				return nil, aborting("key-check contribution does not open its commitment", he.ErrCommitment)
			}
			if err := c.runKeyChecks(c.checkSeed(c.digest(), pl.CheckContribution, c.checkMine[:])); err != nil {
				return nil, wire.Internal(err)
			}
			out := &pb.KeyCheckPayload{CeremonyId: c.id, CheckContribution: append([]byte(nil), c.checkMine[:]...), Digests: c.checkDigests()}
			c.record(pl, out)
			c.stage = stageChecked
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.CheckKeysResponse{Header: rh, Payload: out.(*pb.KeyCheckPayload), Signature: sig}, nil
}

// Prepare checks the transcript and the initiator's key-check digests and prepares the epoch:
// its keys are stored, not current. The ceremony then lives on in the pending record only.
func (s *ceremonyServer) Prepare(ctx context.Context, req *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_Prepare_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-prepare", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageChecked {
				return nil, wire.Precondition("the ceremony has rounds left before Prepare", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			mine := c.digest()
			if !hmac.Equal(mine, pl.TranscriptDigest) {
				// Not a refusal: the two sides saw different rounds, so the ceremony is over.
				return nil, aborting("transcript digests differ", nil)
			}
			if err := c.verifyCheck(pl.CheckDigests); err != nil {
				return nil, aborting("joint key check failed", err)
			}
			if err := n.prepareEpoch(ctx, c); err != nil {
				return nil, wire.Internal(err)
			}
			n.mu.Lock()
			if n.cers[r.p.name] == c {
				delete(n.cers, r.p.name)
			}
			n.mu.Unlock()
			// The initiator commits next; if its Commit has not come within a few seconds (it
			// normally comes at once and the first look finds the record gone), ask it.
			c.destroy()
			n.resolveInBackground(c.p, 2*time.Second)
			return &pb.TranscriptPayload{CeremonyId: c.id, TranscriptDigest: mine}, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.PrepareResponse{Header: rh, Payload: out.(*pb.TranscriptPayload), Signature: sig}, nil
}

// Commit makes a prepared epoch current. It needs no ceremony in progress: the pending record
// carries it, across restarts.
func (s *ceremonyServer) Commit(ctx context.Context, req *pb.CommitRequest) (*pb.CommitResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_Commit_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-commit", func(r *round) (proto.Message, *Error) {
			p := r.p
			if len(pl.CeremonyId) != ceremonyIDLen || pl.Epoch != r.h.KeyEpoch {
				return nil, wire.Invalid("ceremony_id must be 16 bytes and epoch the header's key_epoch", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			pes, err := n.pendingOf(ctx, p.cfg.Agreement)
			if err != nil {
				return nil, wire.Internal(err)
			}
			var pe *pendingEpoch
			for _, x := range pes {
				if x.epoch == pl.Epoch && !x.initiator && sameCeremony(x.id, pl.CeremonyId) {
					pe = x
				} else {
					x.zero()
				}
			}
			if pe == nil {
				begun, err := n.epochBegun(ctx, p, pl.Epoch)
				if err != nil {
					return nil, wire.Internal(err)
				}
				if !begun {
					return nil, refuseUnknown("no such prepared ceremony")
				}
				r.quiet = audit.RefusedCeremonyUnknown // committed before: acknowledge again
				return &pb.CommitPayload{CeremonyId: pl.CeremonyId, Epoch: pl.Epoch}, nil
			}
			defer pe.zero()
			if err := n.commitEpoch(ctx, p, pe, false); err != nil {
				return nil, wire.Internal(err)
			}
			n.retireInBackground(ctx, p)
			return &pb.CommitPayload{CeremonyId: pl.CeremonyId, Epoch: pl.Epoch}, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.CommitResponse{Header: rh, Payload: out.(*pb.CommitPayload), Signature: sig}, nil
}

// Outcome answers, as the initiator, what became of one of its ceremonies.
func (s *ceremonyServer) Outcome(ctx context.Context, req *pb.OutcomeRequest) (*pb.OutcomeResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_Outcome_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-outcome", func(r *round) (proto.Message, *Error) {
			if len(pl.CeremonyId) != ceremonyIDLen || pl.Epoch != r.h.KeyEpoch {
				return nil, wire.Invalid("ceremony_id must be 16 bytes and epoch the header's key_epoch", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			o, held, err := n.outcomeOf(ctx, r.p, pl.CeremonyId, pl.Epoch)
			if err != nil {
				return nil, wire.Internal(err)
			}
			switch {
			case !held:
				r.quiet = audit.RefusedCeremonyUnknown
			case n.outcomeRecorded(r.p, pl.CeremonyId, o):
				r.quiet = audit.RefusedCeremonyRepeated
			}
			return &pb.OutcomePayload{CeremonyId: pl.CeremonyId, Epoch: pl.Epoch, Outcome: o}, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.OutcomeResponse{Header: rh, Payload: out.(*pb.OutcomePayload), Signature: sig}, nil
}

func (s *ceremonyServer) Abort(ctx context.Context, req *pb.AbortRequest) (*pb.AbortResponse, error) {
	n := s.n
	if req.Payload == nil {
		req.Payload = &pb.AbortPayload{}
	}
	r := &round{method: pb.CeremonyService_Abort_FullMethodName, h: req.Header, payload: req.Payload, sig: req.Signature}
	if e := n.admitRound(ctx, r, req.Payload.CeremonyId); e != nil {
		return nil, n.failRound(ctx, r, e)
	}
	// The lock of the ceremony in progress, if any, is held to the end: a failure here (the
	// nonce not recorded) aborts it in failRound, and neither that nor the Abort itself may
	// zero its secrets under a round that took the lock meanwhile.
	defer r.unlock()
	c := r.c
	if len(req.Payload.Reason) > maxAbortReason {
		return nil, n.failRound(ctx, r, wire.Invalid("reason longer than 256 bytes", nil))
	}
	if e := n.commitNonce(r); e != nil {
		return nil, n.failRound(ctx, r, e)
	}
	epoch := r.h.KeyEpoch
	if c != nil {
		n.dropCeremony(r.p, c)
		epoch = c.epoch
	} else if e := n.abortPreparedByPartner(ctx, r.p, req.Payload.CeremonyId); e != nil {
		return nil, n.failRound(ctx, r, e)
	}
	out := &pb.AbortPayload{CeremonyId: req.Payload.CeremonyId, Reason: req.Payload.Reason}
	rh, sig, err := wire.SignResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return nil, wire.Internal(err)
	}
	n.auditCeremony(ctx, r.p, "ceremony-aborted-by-initiator", epoch)
	return &pb.AbortResponse{Header: rh, Payload: out, Signature: sig}, nil
}

// abortPreparedByPartner discards this node's prepared epoch of ceremony id, which the
// initiator aborted; a ceremony this node does not know is refused.
func (n *Node) abortPreparedByPartner(ctx context.Context, p *partner, id []byte) *Error {
	pes, err := n.pendingOf(ctx, p.cfg.Agreement)
	if err != nil {
		return wire.Internal(err)
	}
	var found *pendingEpoch
	for _, pe := range pes {
		if !pe.initiator && sameCeremony(pe.id, id) {
			found = pe
		} else {
			pe.zero()
		}
	}
	if found == nil {
		return refuseUnknown("no such ceremony in progress (it may have been aborted: start again with Hello)")
	}
	defer found.zero()
	if err := n.abortPrepared(ctx, p, found, "ceremony-prepared-discarded"); err != nil {
		return wire.Precondition("the prepared epoch was already made current", err)
	}
	return nil
}
