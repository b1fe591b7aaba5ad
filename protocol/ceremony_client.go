package protocol

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// CeremonyReport says what a key ceremony did and what it cost.
type CeremonyReport struct {
	Partner   string
	Agreement string
	Epoch     uint64
	ParamSet  string
	Exchanges int   // key-share exchanges (both directions)
	BytesSent int64 // HE share bytes sent
	BytesRecv int64 // HE share bytes received
	Elapsed   time.Duration
}

// Ceremony runs the key ceremony with a partner as the initiator and makes the new epoch current
// on both nodes (epoch 0: the one after every epoch the agreement has had). On any failure it
// aborts the ceremony on the partner too; a new ceremony starts afresh with new shares. When an
// older epoch existed, this node's gallery is re-protected under the new one and the old
// epoch's keys are retired and destroyed before Ceremony returns.
func (n *Node) Ceremony(ctx context.Context, partnerName string, epoch uint64) (rep *CeremonyReport, err error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	if epoch == 0 {
		if epoch, err = n.nextEpoch(ctx, p); err != nil {
			return nil, err
		}
	}
	start := n.now()
	c, err := n.clientHello(ctx, p, epoch)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			n.abortRemote(p, c, err)
			c.destroy()
			n.auditCeremony(ctx, p, "ceremony-aborted", epoch)
		}
	}()
	if err = n.clientSeed(ctx, p, c); err != nil {
		return nil, err
	}
	for {
		d, step, ok := c.nextStep()
		if !ok {
			break
		}
		if err = n.clientShare(ctx, p, c, d, step); err != nil {
			return nil, err
		}
	}
	if err = n.clientConfirm(ctx, p, c); err != nil {
		return nil, err
	}
	if err = n.activate(ctx, c, false); err != nil {
		return nil, err
	}
	n.auditCeremony(ctx, p, "ceremony-confirmed", epoch)
	return &CeremonyReport{Partner: p.name, Agreement: p.cfg.Agreement, Epoch: epoch, ParamSet: p.ps.Name(),
		Exchanges: c.pos, BytesSent: c.bytesOut, BytesRecv: c.bytesIn, Elapsed: n.now().Sub(start)}, nil
}

// signedResponse is what every unary ceremony response has.
type signedResponse interface {
	GetHeader() *pb.ResponseHeader
	GetSignature() []byte
}

// callRound signs payload into a request header for method, calls the partner, and checks the
// signed response against the request.
func callRound[R signedResponse](ctx context.Context, n *Node, p *partner, method string, epoch uint64, payload proto.Message,
	call func(*pb.RequestHeader, []byte) (R, error), respPayload func(R) proto.Message) (R, error) {
	var zero R
	h, err := newRequestHeader(n.rand, n.now(), n.name, p.name, p.cfg.Agreement, method)
	if err != nil {
		return zero, err
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = epoch, p.ps.Name(), ceremonyPurpose
	sig, err := signRequest(h, payload, n.signer)
	if err != nil {
		return zero, err
	}
	resp, err := call(h, sig)
	if err != nil {
		return zero, remote(p.name, methodName(method), err)
	}
	if err := verifyResponse(resp.GetHeader(), respPayload(resp), resp.GetSignature(), responseCheck{req: h, partner: p.name, ring: p.card.Keyring}); err != nil {
		return zero, fmt.Errorf("protocol: partner %s, %s: %w", p.name, methodName(method), err)
	}
	return resp, nil
}

func (n *Node) ceremonyClient(p *partner) (pb.CeremonyServiceClient, error) {
	conn, err := n.client(p)
	if err != nil {
		return nil, err
	}
	return pb.NewCeremonyServiceClient(conn), nil
}

// clientHello proposes the ceremony and starts its state from both CRS contributions.
func (n *Node) clientHello(ctx context.Context, p *partner, epoch uint64) (*ceremonyState, error) {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return nil, err
	}
	crs := make([]byte, crsContribLen)
	if _, err := io.ReadFull(n.rand, crs); err != nil {
		return nil, err
	}
	pl, err := helloPayload(p, epoch, crs)
	if err != nil {
		return nil, err
	}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_Hello_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.HelloResponse, error) {
			return cc.Hello(ctx, &pb.HelloRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.HelloResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return nil, err
	}
	out := orEmpty(resp.Payload)
	if len(out.CeremonyId) != ceremonyIDLen || len(out.CrsContribution) != crsContribLen {
		return nil, fmt.Errorf("protocol: partner %s: Hello answer has a ceremony ID or CRS contribution of the wrong size", p.name)
	}
	c, err := newCeremonyState(p, true, out.CeremonyId, epoch, crs, out.CrsContribution, n.rand, n.now())
	if err != nil {
		return nil, err
	}
	c.record(pl, out)
	return c, nil
}

func orEmpty[T any, P interface{ *T }](m P) P {
	if m == nil {
		return new(T)
	}
	return m
}

// clientSeed runs CommitSeed and RevealSeed: commit, open the partner's contribution, reveal
// ours, and check the partner's proof that it derived the same secret.
func (n *Node) clientSeed(ctx context.Context, p *partner, c *ceremonyState) error {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return err
	}
	sealed, err := n.sealContribution(c) // draws c.mine
	if err != nil {
		return err
	}
	commit := &pb.CommitSeedPayload{CeremonyId: c.id, Commitment: sealed.Commitment}
	cr, err := callRound(ctx, n, p, pb.CeremonyService_CommitSeed_FullMethodName, c.epoch, commit,
		func(h *pb.RequestHeader, sig []byte) (*pb.CommitSeedResponse, error) {
			return cc.CommitSeed(ctx, &pb.CommitSeedRequest{Header: h, Payload: commit, Signature: sig})
		}, func(r *pb.CommitSeedResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	theirs := orEmpty(cr.Payload)
	c.record(commit, theirs)
	var tc [32]byte
	if len(theirs.Commitment) != commitmentLen || !sameCeremony(theirs.CeremonyId, c.id) {
		return fmt.Errorf("protocol: partner %s: CommitSeed answer has a bad commitment or ceremony ID", p.name)
	}
	copy(tc[:], theirs.Commitment)
	if err := n.openPeerContribution(c, theirs, tc); err != nil {
		return fmt.Errorf("protocol: partner %s's contribution: %w", p.name, err)
	}
	rr, err := callRound(ctx, n, p, pb.CeremonyService_RevealSeed_FullMethodName, c.epoch, sealed,
		func(h *pb.RequestHeader, sig []byte) (*pb.RevealSeedResponse, error) {
			return cc.RevealSeed(ctx, &pb.RevealSeedRequest{Header: h, Payload: sealed, Signature: sig})
		}, func(r *pb.RevealSeedResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	conf := orEmpty(rr.Payload)
	c.record(sealed, conf)
	want, err := seedConfirmation(c.secret, c.id)
	if err != nil {
		return err
	}
	if !hmac.Equal(conf.KeyConfirmation, want) {
		return fmt.Errorf("protocol: partner %s derived another agreement secret", p.name)
	}
	c.stage = stageRevealed
	return nil
}

func sameCeremony(a, b []byte) bool { return hmac.Equal(a, b) }

// clientConfirm compares transcript digests; on a match the partner makes the epoch current.
func (n *Node) clientConfirm(ctx context.Context, p *partner, c *ceremonyState) error {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return err
	}
	pl := &pb.TranscriptPayload{CeremonyId: c.id, TranscriptDigest: c.digest()}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_Confirm_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.ConfirmResponse, error) {
			return cc.Confirm(ctx, &pb.ConfirmRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.ConfirmResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	if !hmac.Equal(orEmpty(resp.Payload).TranscriptDigest, pl.TranscriptDigest) {
		return fmt.Errorf("protocol: partner %s's transcript differs", p.name)
	}
	return nil
}

// abortRemote tells the partner to end the ceremony (best effort, with its own deadline: the
// caller's context may be what ended).
func (n *Node) abortRemote(p *partner, c *ceremonyState, cause error) {
	cc, err := n.ceremonyClient(p)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reason := "initiator failed"
	var re *RemoteError
	if errors.As(cause, &re) {
		reason = "refused: " + re.Code.String()
	}
	pl := &pb.AbortPayload{CeremonyId: c.id, Reason: reason}
	_, err = callRound(ctx, n, p, pb.CeremonyService_Abort_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.AbortResponse, error) {
			return cc.Abort(ctx, &pb.AbortRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.AbortResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		n.log.Info("abort not acknowledged", "partner", p.name, "err", err)
	}
}
