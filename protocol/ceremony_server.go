package protocol

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	pb "github.com/puente-id/puente/proto/puente/v1"
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
}

// admitRound checks a ceremony request: the signed header, purpose and nonce; then, except for
// Hello, that it names the partner's ceremony in progress, its epoch and parameter set. It
// returns with the ceremony's lock held (release with r.unlock). Nothing changes on refusal.
func (n *Node) admitRound(ctx context.Context, r *round, id []byte) *Error {
	r.p = partnerFrom(ctx)
	p, h := r.p, r.h
	if e := verifyRequest(h, r.payload, r.sig, requestCheck{partner: p.name, self: n.name, method: r.method,
		agreement: p.cfg.Agreement, ring: p.card.Keyring, now: n.now(), window: n.cfg.ReplayWindow}); e != nil {
		return e
	}
	if h.PurposeCode != ceremonyPurpose {
		return permission("ceremony requests carry the purpose "+ceremonyPurpose, nil)
	}
	if seen, err := n.state.seen(p.name, h.Nonce); err != nil {
		return internal(err)
	} else if seen {
		return replayed("nonce was used before", errNonceSeen)
	}
	if r.method == pb.CeremonyService_Hello_FullMethodName {
		return nil
	}
	n.mu.Lock()
	c := n.cers[p.name]
	n.mu.Unlock()
	if c == nil || !bytes.Equal(c.id, id) {
		return precondition("no such ceremony in progress (it may have been aborted: start again with Hello)", nil)
	}
	c.mu.Lock()
	switch {
	case c.aborted:
		c.mu.Unlock()
		return precondition("the ceremony was aborted: start again with Hello", nil)
	case n.now().After(c.expires):
		c.mu.Unlock()
		n.dropCeremony(p, c)
		return precondition("the ceremony expired: start again with Hello", nil)
	case h.KeyEpoch != c.epoch || h.ParamSet != c.ps.Name():
		c.mu.Unlock()
		return precondition("epoch or parameter set differs from the ceremony's", nil)
	}
	c.expires = n.now().Add(ceremonyTTL) // the initiator is still there
	r.c = c
	return nil
}

// commitNonce records the round's nonce just before the round changes any state.
func (n *Node) commitNonce(r *round) *Error {
	_, err := n.state.admit(r.p.name, r.h.Nonce, r.h.SentAt.AsTime().Add(n.cfg.ReplayWindow), nil, n.now())
	if errors.Is(err, errNonceSeen) {
		return replayed("nonce was used before", err)
	}
	if err != nil {
		return internal(err)
	}
	return nil
}

func (r *round) unlock() {
	if r.c != nil {
		r.c.mu.Unlock()
	}
}

// fail ends the round: a refusal (nothing changed) is audited as such; any other failure
// aborts the partner's ceremony, because a step is never run twice with the same share.
func (n *Node) failRound(ctx context.Context, r *round, e *Error) error {
	if e.Refusal != "" {
		n.auditRefusal(ctx, r.p, r.method, r.h, e)
		n.log.Info("refused", "partner", r.p.name, "method", methodName(r.method), "code", e.Code.String(), "reason", e.Error())
		return e
	}
	if r.c != nil {
		r.c.aborted = true
		n.dropCeremony(r.p, r.c)
		n.auditCeremony(ctx, r.p, "ceremony-aborted", r.c.epoch)
	}
	n.log.Warn("ceremony round failed", "partner", r.p.name, "method", methodName(r.method), "code", e.Code.String(), "reason", e.Error())
	return e
}

// dropCeremony removes c from the table (if it is still the partner's) and destroys it.
func (n *Node) dropCeremony(p *partner, c *ceremonyState) {
	n.mu.Lock()
	if n.cers[p.name] == c {
		delete(n.cers, p.name)
	}
	n.mu.Unlock()
	c.destroy()
}

// dropExpiredCeremonies destroys the ceremonies whose initiators have gone quiet for
// ceremonyTTL. A ceremony being served (its lock held) is left for the next pass.
func (n *Node) dropExpiredCeremonies() {
	now := n.now()
	n.mu.Lock()
	var old []*ceremonyState
	for name, c := range n.cers {
		if c.mu.TryLock() {
			if now.After(c.expires) {
				c.aborted = true
				old = append(old, c)
				delete(n.cers, name)
			}
			c.mu.Unlock()
		}
	}
	n.mu.Unlock()
	for _, c := range old {
		c.destroy()
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
	r := &round{method: pb.CeremonyService_Hello_FullMethodName, h: req.Header, payload: req.Payload, sig: req.Signature}
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
	want, err := helloPayload(p, pl.Epoch, pl.CrsContribution)
	if err != nil {
		return nil, internal(err)
	}
	if err := checkHello(pl, want); err != nil {
		return nil, precondition("proposal differs from this node's view of the agreement", err)
	}
	next, err := n.nextEpoch(ctx, p)
	if err != nil {
		return nil, internal(err)
	}
	if pl.Epoch != r.h.KeyEpoch || pl.Epoch < next {
		return nil, precondition(fmt.Sprintf("epoch must be at least %d", next), fmt.Errorf("proposed %d", pl.Epoch))
	}
	if e := n.commitNonce(r); e != nil {
		return nil, e
	}
	id := make([]byte, ceremonyIDLen)
	crs := make([]byte, crsContribLen)
	if _, err := io.ReadFull(n.rand, id); err != nil {
		return nil, internal(err)
	}
	if _, err := io.ReadFull(n.rand, crs); err != nil {
		return nil, internal(err)
	}
	c, err := newCeremonyState(p, false, id, pl.Epoch, pl.CrsContribution, crs, n.rand, n.now())
	if err != nil {
		return nil, internal(err)
	}
	out := &pb.HelloResponsePayload{CeremonyId: id, CrsContribution: crs}
	c.record(pl, out)
	rh, sig, err := signResponse(r.h, out, n.signer, n.now())
	if err != nil {
		c.destroy()
		return nil, internal(err)
	}
	n.mu.Lock()
	old := n.cers[p.name]
	n.cers[p.name] = c
	n.mu.Unlock()
	if old != nil { // a partner restarting its ceremony ends the one before
		old.mu.Lock()
		old.aborted = true
		old.mu.Unlock()
		old.destroy()
	}
	n.auditCeremony(ctx, p, "ceremony-hello", c.epoch)
	return &pb.HelloResponse{Header: rh, Payload: out, Signature: sig}, nil
}

// serveRound runs one unary round of a partner's ceremony: admission (the ceremony's lock held
// while do runs), do, then the signed answer and the audit record. A refusal changes nothing;
// a failure inside do aborts the ceremony.
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
	rh, rsig, err := signResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return nil, nil, nil, n.failRound(ctx, r, internal(err))
	}
	n.auditCeremony(ctx, r.p, action, r.c.epoch)
	return rh, out, rsig, nil
}

func (s *ceremonyServer) CommitSeed(ctx context.Context, req *pb.CommitSeedRequest) (*pb.CommitSeedResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_CommitSeed_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-commit-seed", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageHello {
				return nil, precondition("CommitSeed is not the ceremony's next round", nil)
			}
			if len(pl.Commitment) != commitmentLen {
				return nil, invalid("commitment must be 32 bytes", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			copy(c.peerCommit[:], pl.Commitment)
			out, err := n.sealContribution(c)
			if err != nil {
				return nil, internal(err)
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
// derives the agreement secret.
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
	defer theirs.Zero()
	c.secret, err = keys.DeriveAgreementSecret(c.mine, theirs)
	return err
}

func (s *ceremonyServer) RevealSeed(ctx context.Context, req *pb.RevealSeedRequest) (*pb.RevealSeedResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_RevealSeed_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-reveal-seed", func(r *round) (proto.Message, *Error) {
			c := r.c
			if c.stage != stageCommitted {
				return nil, precondition("RevealSeed is not the ceremony's next round", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			if err := n.openPeerContribution(c, pl, c.peerCommit); err != nil {
				// Not a refusal: the initiator is bound to the contribution it committed to, so
				// one that does not open ends the ceremony.
				return nil, &Error{Code: codes.InvalidArgument, Safe: "contribution does not open against the commitment", Err: err}
			}
			conf, err := seedConfirmation(c.secret, c.id)
			if err != nil {
				return nil, internal(err)
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

func (s *ceremonyServer) Confirm(ctx context.Context, req *pb.ConfirmRequest) (*pb.ConfirmResponse, error) {
	n, pl := s.n, orEmpty(req.Payload)
	rh, out, sig, err := n.serveRound(ctx, pb.CeremonyService_Confirm_FullMethodName, req.Header, pl, req.Signature, pl.CeremonyId,
		"ceremony-confirmed", func(r *round) (proto.Message, *Error) {
			c := r.c
			if !c.done() {
				return nil, precondition("the ceremony has rounds left before Confirm", nil)
			}
			if e := n.commitNonce(r); e != nil {
				return nil, e
			}
			mine := c.digest()
			if !hmac.Equal(mine, pl.TranscriptDigest) {
				// Not a refusal: the two sides saw different rounds, so the ceremony is over.
				return nil, &Error{Code: codes.InvalidArgument, Safe: "transcript digests differ"}
			}
			if err := n.activate(ctx, c, true); err != nil {
				return nil, internal(err)
			}
			n.mu.Lock()
			if n.cers[r.p.name] == c {
				delete(n.cers, r.p.name)
			}
			n.mu.Unlock()
			return &pb.TranscriptPayload{CeremonyId: c.id, TranscriptDigest: mine}, nil
		})
	if err != nil {
		return nil, err
	}
	return &pb.ConfirmResponse{Header: rh, Payload: out.(*pb.TranscriptPayload), Signature: sig}, nil
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
	c := r.c
	if len(req.Payload.Reason) > maxAbortReason {
		r.unlock()
		return nil, n.failRound(ctx, r, invalid("reason longer than 256 bytes", nil))
	}
	if e := n.commitNonce(r); e != nil {
		r.unlock()
		return nil, n.failRound(ctx, r, e)
	}
	c.aborted = true
	r.unlock()
	n.dropCeremony(r.p, c)
	out := &pb.AbortPayload{CeremonyId: c.id, Reason: req.Payload.Reason}
	rh, sig, err := signResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return nil, internal(err)
	}
	n.auditCeremony(ctx, r.p, "ceremony-aborted", c.epoch)
	return &pb.AbortResponse{Header: rh, Payload: out, Signature: sig}, nil
}
