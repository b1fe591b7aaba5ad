package protocol

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// The opening is the second round of a Search or Verify (match.proto): the querier asks, by
// oblivious transfer, for the labels of its shares of the answer, and evaluates the garbled
// circuit the responder sent with the answer. Its one output bit is the decision.

// openingSession binds an opening to its query: both parties derive it from the round-1 request
// header, which the querier signed.
func openingSession(h *pb.RequestHeader) []byte {
	s := sha256.New()
	s.Write([]byte("puente/v1 opening\x00"))
	s.Write(wire.Digest(h))
	return s.Sum(nil)
}

// serveOpening runs the responder's round 2: it receives the querier's signed opening message
// and transfer request and answers with the transfer. A querier that ends the call instead has
// spent its query and learns nothing. The garbler's secrets are destroyed on return.
func (n *Node) serveOpening(ctx context.Context, s matchStream, c *matchCall, g *opening.Garbler) *Error {
	defer g.Destroy()
	o, err := s.opening()
	if errors.Is(err, io.EOF) {
		n.log.Info("query ended without its opening", "partner", c.p.name, "request", n.requestIDOf(headerID(c.open.header)))
		return nil
	}
	if err != nil {
		if e := wire.FromContext(ctx); e != nil {
			return e
		}
		return n.refuseOpening(ctx, c, nil, wire.Invalid("malformed opening message", err))
	}
	if e := n.admitOpening(c, o); e != nil {
		return n.refuseOpening(ctx, c, o.header, e)
	}
	if e := stillServed(c); e != nil { // the querier may have held round 2 back across a revocation
		return n.refuseOpening(ctx, c, o.header, e)
	}
	ps := c.keys.ps
	descs := []*pb.HEObject{o.transfer}
	rule := wire.ObjectRule{Kind: pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST, ParamSet: ps.Name(),
		Limit: objectLimit(ps, pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST)}
	if err := wire.CheckDescriptors(descs, []wire.ObjectRule{rule}); err != nil {
		return n.refuseOpening(ctx, c, o.header, wire.Invalid("transfer request descriptor refused", err))
	}
	objs, err := wire.ReceiveObjects(ctx, s.chunk, descs, true)
	if err != nil {
		if e := wire.FromContext(ctx); e != nil {
			return e
		}
		return n.refuseOpening(ctx, c, o.header, wire.Invalid("transfer request refused", err))
	}
	n.met.traffic(c.p.name, 0, int64(len(objs[0])))
	if e := stillServed(c); e != nil {
		return n.refuseOpening(ctx, c, o.header, e)
	}
	tr, err := g.Transfer(objs[0], n.rand)
	if err != nil {
		return n.refuseOpening(ctx, c, o.header, wire.Invalid("transfer request refused", err))
	}
	if f := n.cheat.Load(); f != nil {
		(*f)(tr)
	}
	result := &pb.MatchResult{Objects: []*pb.HEObject{wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER, ps.Name(), tr)}}
	rh, sig, err := wire.SignResponse(o.header, result, n.signer, n.now())
	if err != nil {
		return wire.Internal(err)
	}
	if err := s.sendOpen(&pb.MatchResponseOpen{Header: rh, Result: result, Signature: sig}); err != nil {
		return wire.AsError(ctx, err)
	}
	sent, err := wire.SendObjects(s.sendChunk, tr)
	n.met.traffic(c.p.name, sent, 0)
	if err != nil {
		return wire.AsError(ctx, err)
	}
	return nil
}

// admitOpening checks the round-2 header: signed by the partner for this node and method, the
// same request ID, epoch, parameter set and purpose as round 1, and a nonce never seen, which it
// records.
func (n *Node) admitOpening(c *matchCall, o *openingOpen) *Error {
	p, h, h1 := c.p, o.header, c.open.header
	if e := wire.VerifyRequest(h, o.payload, o.sig, wire.RequestCheck{Partner: p.name, Self: n.name, Method: c.method,
		Agreement: p.cfg.Agreement, Ring: p.card.Keyring, Now: n.now(), Window: n.cfg.ReplayWindow}); e != nil {
		return e
	}
	if string(h.RequestId) != string(h1.RequestId) || h.KeyEpoch != h1.KeyEpoch || h.ParamSet != h1.ParamSet || h.PurposeCode != h1.PurposeCode {
		return wire.Invalid("the opening's header does not continue the query's", nil)
	}
	_, err := n.state.admit(p.name, h.Nonce, h.SentAt.AsTime().Add(n.cfg.ReplayWindow), nil, n.now())
	switch {
	case errors.Is(err, errNonceSeen):
		return wire.Replayed("nonce was used before", err)
	case err != nil:
		return wire.Internal(err)
	}
	return nil
}

// stillServed refuses a query whose epoch was revoked or retired since it was admitted: before
// its answer leaves (round 1) and before round 2's transfer, which hands the querier its
// decision; a revoked epoch decides nothing more.
func stillServed(c *matchCall) *Error {
	if cur, err := c.p.current(); err != nil || cur != c.keys {
		return wire.Refuse(codes.FailedPrecondition, audit.RefusedRevokedEpoch, "the epoch was revoked or retired during the query", fmt.Errorf("epoch %d", c.keys.epoch))
	}
	return nil
}

// refuseOpening audits and logs a refused round 2 (the query itself was audited as answered).
// It is recorded even past the partner's refusals recorded one by one in the interval (it
// counts among them): it ends a call recorded as pending, whose answer the quota counted.
func (n *Node) refuseOpening(ctx context.Context, c *matchCall, h *pb.RequestHeader, e *Error) *Error {
	if e.Refusal != "" && n.refusalRecorded(c.p, c.method, e, true) {
		n.auditRefusal(ctx, c.p, c.method, h, e)
	}
	n.log.Warn("opening refused", "partner", c.p.name, "request", n.requestIDOf(headerID(c.open.header)), "code", e.Code.String(), "reason", e.Error())
	return e
}

// clientOpening runs the querier's round 2: its shares of the answer, the transfer request, the
// transfer answer and the evaluation of the garbled circuit. It half-closes the stream.
func (n *Node) clientOpening(ctx context.Context, c *queryCall, answer, gc []byte) (bool, error) {
	p, k, h, cs, res := c.p, c.keys, c.header, c.stream, c.res
	a, err := he.ReadAnswer(k.ps, answer)
	if err != nil {
		return false, fmt.Errorf("protocol: partner %s sent a bad answer: %w", p.name, err)
	}
	// The keys are held for the shares only, never while waiting for the partner: a partner
	// that stalls must not hold up a revocation on this node. An epoch revoked while the query
	// was out decides nothing.
	if err := stillCurrent(p, k); err != nil {
		return false, err
	}
	if err := k.use(); err != nil {
		return false, err
	}
	x, err := k.querier.Shares(c.query, a)
	k.release()
	if err != nil {
		return false, fmt.Errorf("protocol: partner %s's answer: %w", p.name, err)
	}
	// The transfer request carries the querier's input: nothing of it goes to a partner whose
	// answer to another query has just failed to open.
	if err := checkHalt(p); err != nil {
		clear(x[:])
		return false, err
	}
	session := openingSession(h)
	ev, req, err := opening.NewEvaluator(k.ps.OpeningParams(), session, gc, x, n.rand)
	clear(x[:])
	if err != nil {
		return false, fmt.Errorf("protocol: partner %s sent a bad garbled circuit: %w", p.name, err)
	}
	h2, err := wire.NewRequestHeader(n.rand, n.now(), n.name, p.name, p.cfg.Agreement, h.Method)
	if err != nil {
		return false, err
	}
	h2.RequestId, h2.KeyEpoch, h2.ParamSet, h2.PurposeCode = h.RequestId, h.KeyEpoch, h.ParamSet, h.PurposeCode
	pl := &pb.OpeningPayload{TransferRequest: wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST, k.ps.Name(), req)}
	sig, err := wire.SignRequest(h2, pl, n.signer)
	if err != nil {
		return false, err
	}
	if err := checkHalt(p); err != nil { // checked again just before the input leaves
		return false, err
	}
	method := methodName(h.Method)
	if err := cs.sendOpening(&pb.OpeningOpen{Header: h2, Payload: pl, Signature: sig}); err != nil && err != io.EOF {
		return false, wire.Remote(p.name, method, err)
	}
	sent, err := wire.SendObjects(cs.sendChunk, req)
	res.BytesSent += sent
	if err == nil {
		err = cs.CloseSend()
	}
	if err != nil && err != io.EOF {
		return false, wire.Remote(p.name, method, err)
	}
	objs, _, err := n.receiveObjects(c, h2, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER})
	if err != nil {
		return false, err
	}
	res.BytesRecv += int64(len(objs[0]))
	if err := stillCurrent(p, k); err != nil {
		return false, err
	}
	hit, err := ev.Finish(objs[0])
	if err != nil {
		// Any answer that does not open is the partner's deviation (an honest one always
		// opens), and it may depend on this node's input: halt before anything else is sent.
		n.log.Error("partner deviated from the protocol: its answer does not open", "partner", p.name, "request", n.requestIDOf(h.RequestId))
		return false, errors.Join(fmt.Errorf("protocol: partner %s, %s: %w: %w", p.name, method, ErrDeviated, err), n.haltPartner(p, c))
	}
	return hit, nil
}

// stillCurrent fails with ErrPrecondition when k is no longer the partner's current epoch (it was
// revoked or retired while the query was out).
func stillCurrent(p *partner, k *epochKeys) error {
	if cur, err := p.current(); err != nil || cur != k {
		return fmt.Errorf("%w: epoch %d was revoked or retired while the query was out", ErrPrecondition, k.epoch)
	}
	return nil
}
