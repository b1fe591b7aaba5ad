package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// ExchangeKeyShare swaps one HE key-generation share of each party: the initiator's open message
// and share chunks, then the responder's. The steps run round by round, each round in the
// canonical order of the he package, direction INITIATOR_QUERIES first; both parties committed
// to their shares of the round before (CommitShares). A step out of order or repeated is refused
// (FailedPrecondition) and changes nothing; a share that does not open its commitment or fails
// validation aborts the ceremony, since no step is ever run again with the same share.
func (s *ceremonyServer) ExchangeKeyShare(stream pb.CeremonyService_ExchangeKeyShareServer) error {
	n := s.n
	ctx := stream.Context()
	r := &round{method: pb.CeremonyService_ExchangeKeyShare_FullMethodName, p: partnerFrom(ctx)}
	first, err := stream.Recv()
	if err != nil {
		if e := wire.FromContext(ctx); e != nil { // the node's bound on the call, or the partner's end
			return n.failRound(ctx, r, e)
		}
		return n.failRound(ctx, r, wire.Invalid("no open message", err))
	}
	o := first.GetOpen()
	if o == nil {
		return n.failRound(ctx, r, wire.Invalid("first message is not an open message", nil))
	}
	if o.Payload == nil {
		o.Payload = &pb.KeySharePayload{}
	}
	r.h, r.payload, r.sig = o.Header, o.Payload, o.Signature
	if e := n.admitRound(ctx, r, o.Payload.CeremonyId); e != nil {
		return n.failRound(ctx, r, e)
	}
	defer r.unlock()
	out, own, e := n.absorbShare(ctx, r, o.Payload, stream)
	if e != nil {
		return n.failRound(ctx, r, e)
	}
	rh, sig, err := wire.SignResponse(r.h, out, n.signer, n.now())
	if err != nil {
		return n.failRound(ctx, r, wire.Internal(err))
	}
	err = stream.Send(&pb.ExchangeKeyShareResponse{Part: &pb.ExchangeKeyShareResponse_Open{Open: &pb.ExchangeKeyShareResponseOpen{Header: rh, Payload: out, Signature: sig}}})
	if err == nil {
		_, err = wire.SendObjects(func(c *pb.Chunk) error {
			return stream.Send(&pb.ExchangeKeyShareResponse{Part: &pb.ExchangeKeyShareResponse_Chunk{Chunk: c}})
		}, own)
	}
	if err != nil {
		return n.failRound(ctx, r, wire.AsError(ctx, err))
	}
	r.c.bytesOut += int64(len(own))
	n.auditCeremony(ctx, r.p, "ceremony-key-share", r.c.epoch)
	n.crashPoint("responder:ExchangeKeyShare")
	return nil
}

// errInterrupted: the ceremony was interrupted (ceremonyState.interrupt) while a round waited
// on the partner.
var errInterrupted = errors.New("protocol: ceremony interrupted while waiting on the partner")

// waitOrStop waits for wait, a receive from the partner or a send to it, unless stop is closed
// first: a round holds its ceremony's lock while it waits for an upload's chunks, and a partner
// that stops sending must not keep the ceremony (and its state, hundreds of MB at N = 2^15) past
// its expiry, or block the Hello that replaces it; nor may any call of a partner outlast the
// node's bound on it (boundedStream). On errInterrupted the caller ends the call, which ends the
// wait left behind.
func waitOrStop[M any](stop <-chan struct{}, wait func() (M, error)) (M, error) {
	type got struct {
		m   M
		err error
	}
	ch := make(chan got, 1)
	go func() {
		m, err := wait()
		ch <- got{m, err}
	}()
	select {
	case g := <-ch:
		return g.m, g.err
	case <-stop:
		var zero M
		return zero, errInterrupted
	}
}

// absorbShare checks that the payload is the ceremony's next step, receives and absorbs the
// partner's share, and makes this node's share of the same step.
func (n *Node) absorbShare(ctx context.Context, r *round, pl *pb.KeySharePayload, stream pb.CeremonyService_ExchangeKeyShareServer) (*pb.KeySharePayload, []byte, *Error) {
	c := r.c
	if c.stage != stageRevealed {
		return nil, nil, wire.Precondition("key shares come after RevealSeed", nil)
	}
	d, step, ok := c.nextStep()
	if !ok {
		return nil, nil, wire.Precondition("every key share has been exchanged", nil)
	}
	if !c.committed[step.Round()] {
		return nil, nil, wire.Precondition(fmt.Sprintf("the shares of round %d come after their commitments (CommitShares)", step.Round()), nil)
	}
	got, okStep := stepOf(shareKind(pl), pl.GaloisElement)
	if !okStep || pl.Direction != pb.KeySetDirection(d+1) || got != step {
		return nil, nil, wire.Precondition(fmt.Sprintf("the next share is %v of direction %v", step, pb.KeySetDirection(d+1)), nil)
	}
	descs := []*pb.HEObject{pl.Share}
	rule := wire.ObjectRule{Kind: kindOf(step), ParamSet: c.ps.Name(), Limit: objectLimit(c.ps, kindOf(step))}
	if err := wire.CheckDescriptors(descs, []wire.ObjectRule{rule}); err != nil {
		return nil, nil, wire.Invalid("key share descriptor refused", err)
	}
	if e := n.commitNonce(r); e != nil {
		return nil, nil, e
	}
	n.testHook(ctx, "share-awaited", nil)
	next := func() (*pb.Chunk, error) {
		m, err := waitOrStop(c.stop, stream.Recv)
		if err != nil {
			return nil, err
		}
		return m.GetChunk(), nil
	}
	objs, err := wire.ReceiveObjects(ctx, next, descs, true)
	if err != nil {
		if ce := wire.FromContext(ctx); ce != nil {
			return nil, nil, ce
		}
		if errors.Is(err, errInterrupted) {
			return nil, nil, &Error{Code: codes.Aborted, Safe: "the ceremony expired while its key share was awaited, or a new Hello replaced it", Err: err}
		}
		return nil, nil, &Error{Code: codes.InvalidArgument, Safe: "key share refused", Err: err}
	}
	c.bytesIn += int64(len(objs[0]))
	c.pos++
	if err := c.hec[d].Absorb(step, objs[0]); err != nil {
		return nil, nil, aborting("key share refused", err)
	}
	own, err := c.hec[d].Reveal(step)
	if err != nil {
		return nil, nil, wire.Internal(err)
	}
	if h := n.cer.hooks; h != nil && h.reveal != nil {
		own = h.reveal(c, d, step, own, objs[0])
	}
	out := &pb.KeySharePayload{CeremonyId: c.id, Direction: pl.Direction, GaloisElement: pl.GaloisElement,
		Share: wire.Describe(kindOf(step), c.ps.Name(), own)}
	c.record(pl, out)
	return out, own, nil
}

// shareKind returns the kind of the share a payload describes.
func shareKind(pl *pb.KeySharePayload) pb.HEObjectKind {
	if pl.Share == nil {
		return pb.HEObjectKind_HE_OBJECT_KIND_UNSPECIFIED
	}
	return pl.Share.Kind
}

// clientShare runs one key-share exchange as the initiator: make and send this node's share of
// the step, receive and absorb the partner's.
func (n *Node) clientShare(ctx context.Context, p *partner, c *ceremonyState, d int, step he.Step) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	own, err := c.hec[d].Reveal(step)
	if err != nil {
		return err
	}
	pl := &pb.KeySharePayload{CeremonyId: c.id, Direction: pb.KeySetDirection(d + 1), GaloisElement: step.GaloisElement,
		Share: wire.Describe(kindOf(step), c.ps.Name(), own)}
	h, err := wire.NewRequestHeader(n.rand, n.now(), n.name, p.name, p.cfg.Agreement, pb.CeremonyService_ExchangeKeyShare_FullMethodName)
	if err != nil {
		return err
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = c.epoch, c.ps.Name(), ceremonyPurpose
	sig, err := wire.SignRequest(h, pl, n.signer)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := cc.ExchangeKeyShare(sctx)
	if err != nil {
		return wire.Remote(p.name, "ExchangeKeyShare", err)
	}
	err = st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Open{Open: &pb.ExchangeKeyShareOpen{Header: h, Payload: pl, Signature: sig}}})
	if err == nil {
		_, err = wire.SendObjects(func(ch *pb.Chunk) error {
			return st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Chunk{Chunk: ch}})
		}, own)
	}
	if err == nil {
		err = st.CloseSend()
	}
	if err != nil && err != io.EOF {
		return wire.Remote(p.name, "ExchangeKeyShare", err)
	}
	c.bytesOut += int64(len(own))
	peer, out, err := receivePeerShare(st, p, c, h, pl.Direction, step)
	if err != nil {
		return err
	}
	c.bytesIn += int64(len(peer))
	if err := c.hec[d].Absorb(step, peer); err != nil {
		return fmt.Errorf("protocol: partner %s's %v: %w", p.name, step, err)
	}
	c.record(pl, out)
	c.pos++
	n.crashPoint("initiator:ExchangeKeyShare")
	return nil
}

// receivePeerShare receives the partner's signed answer to a key-share exchange and its share.
func receivePeerShare(st pb.CeremonyService_ExchangeKeyShareClient, p *partner, c *ceremonyState, h *pb.RequestHeader, dir pb.KeySetDirection, step he.Step) ([]byte, *pb.KeySharePayload, error) {
	m, err := st.Recv()
	if err != nil {
		return nil, nil, wire.Remote(p.name, "ExchangeKeyShare", err)
	}
	o := m.GetOpen()
	if o == nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: key-share answer does not start with an open message", p.name)
	}
	out := orEmpty(o.Payload)
	if err := wire.VerifyResponse(o.Header, out, o.Signature, wire.ResponseCheck{Req: h, Partner: p.name, Ring: p.card.Keyring}); err != nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	got, ok := stepOf(shareKind(out), out.GaloisElement)
	if !ok || got != step || !sameCeremony(out.CeremonyId, c.id) || out.Direction != dir {
		return nil, nil, fmt.Errorf("protocol: partner %s answered with another step", p.name)
	}
	descs := []*pb.HEObject{out.Share}
	if err := wire.CheckDescriptors(descs, []wire.ObjectRule{{Kind: kindOf(step), ParamSet: c.ps.Name(), Limit: objectLimit(c.ps, kindOf(step))}}); err != nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	objs, err := wire.ReceiveObjects(context.Background(), func() (*pb.Chunk, error) {
		m, err := st.Recv()
		if err != nil {
			return nil, err
		}
		return m.GetChunk(), nil
	}, descs, true)
	if err != nil {
		return nil, nil, wire.Remote(p.name, "ExchangeKeyShare", err)
	}
	return objs[0], out, nil
}
