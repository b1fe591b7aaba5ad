package protocol

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
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
	// Acknowledged is false when the partner has not yet acknowledged the new epoch (its Commit
	// answer was lost); this node keeps telling it in the background.
	Acknowledged bool
}

// Ceremony runs the key ceremony with a partner as the initiator and makes the new epoch current
// on both nodes (epoch 0: the one after every epoch the agreement has had). On any failure
// before this node commits the epoch it aborts the ceremony on the partner too and the current
// epoch stays; a new ceremony starts afresh with new shares. Once committed here, the epoch is
// committed on the partner as soon as it answers (in the background if it does not at once).
// When an older epoch existed, this node's gallery is re-protected under the new one and the
// old epoch's keys are retired and destroyed before Ceremony returns.
func (n *Node) Ceremony(ctx context.Context, partnerName string, epoch uint64) (rep *CeremonyReport, err error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	if pes, err := n.pendingOf(ctx, p.cfg.Agreement); err != nil {
		return nil, err
	} else if len(pes) > 0 {
		hasPending(pes, 0)
		return nil, fmt.Errorf("%w: a ceremony with %s is prepared and its outcome not yet settled (the nodes resolve it in the background)", ErrPrecondition, p.name)
	}
	next, err := n.nextEpoch(ctx, p)
	if err != nil {
		return nil, err
	}
	if epoch == 0 {
		epoch = next
	} else if err := checkEpochProposal(epoch, next); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPrecondition, err)
	}
	claim, err := n.claimOutgoing(p)
	if err != nil {
		return nil, err
	}
	start := n.now()
	c, err := n.clientHello(ctx, p, epoch)
	if err != nil {
		n.releaseOutgoing(claim)
		return nil, helloHint(p, err)
	}
	n.setOutgoing(claim, c)
	prepared, committed := false, false
	defer func() {
		if !committed {
			n.abortOutgoing(ctx, c, prepared, err)
		}
	}()
	if err = n.clientRounds(ctx, p, c); err != nil {
		return nil, err
	}
	if err = n.prepareEpoch(ctx, c); err != nil {
		return nil, err
	}
	prepared = true
	n.crashPoint("initiator:prepared")
	if err = n.clientPrepare(ctx, p, c); err != nil {
		return nil, err
	}
	n.crashPoint("initiator:prepare-acked")
	pe := &pendingEpoch{initiator: true, partner: p.name, id: c.id, epoch: c.epoch, mine: c.mine, theirs: c.theirs}
	if err = n.commitEpoch(ctx, p, pe, true); err != nil {
		return nil, err
	}
	committed = true
	n.releaseOutgoing(c)
	n.crashPoint("initiator:committed")
	rep = &CeremonyReport{Partner: p.name, Agreement: p.cfg.Agreement, Epoch: epoch, ParamSet: p.ps.Name(),
		Exchanges: c.pos, BytesSent: c.bytesOut, BytesRecv: c.bytesIn}
	pe.mine, pe.theirs = nil, nil
	c.destroy()
	if rep.Acknowledged = n.sendCommitUntilAcked(ctx, p, pe); !rep.Acknowledged {
		n.log.Warn("partner did not acknowledge the new epoch; retrying in the background", "partner", p.name, "epoch", epoch)
		n.resolveInBackground(p, 0)
	}
	if err := n.retireEpochs(ctx, p); err != nil {
		return rep, err
	}
	rep.Elapsed = n.now().Sub(start)
	return rep, nil
}

// clientRounds runs every round from CommitSeed to CheckKeys.
func (n *Node) clientRounds(ctx context.Context, p *partner, c *ceremonyState) error {
	if err := n.clientSeed(ctx, p, c); err != nil {
		return err
	}
	for _, r := range []he.Round{he.Round1, he.Round2} {
		if err := n.clientCommitShares(ctx, p, c, r); err != nil {
			return err
		}
		for {
			d, step, ok := c.nextStep()
			if !ok || step.Round() != r {
				break
			}
			if err := n.clientShare(ctx, p, c, d, step); err != nil {
				return err
			}
		}
	}
	return n.clientCheck(ctx, p, c)
}

// claimOutgoing registers a ceremony this node starts with p, before its Hello goes out: only
// one runs at a time, and none while the partner runs one with this node. It returns the claim,
// a placeholder (no ceremony ID) that setOutgoing replaces once the Hello is answered. The
// check of the partner's ceremonies and the claim are one step under n.cer.mu, as the Hello
// handler's check of the claim and its entry in n.cers are (yields).
func (n *Node) claimOutgoing(p *partner) (*ceremonyState, error) {
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	n.mu.Lock()
	incoming := n.cers[p.name]
	n.mu.Unlock()
	if incoming != nil {
		return nil, fmt.Errorf("%w: partner %s is running a ceremony with this node", ErrPrecondition, p.name)
	}
	if n.cer.outgoing[p.name] != nil {
		return nil, fmt.Errorf("%w: a ceremony with %s is already running", ErrPrecondition, p.name)
	}
	claim := &ceremonyState{p: p, initiator: true}
	n.cer.outgoing[p.name] = claim
	return claim, nil
}

// setOutgoing puts c, the ceremony whose Hello was answered, in the place of its claim.
func (n *Node) setOutgoing(claim, c *ceremonyState) {
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	if n.cer.outgoing[c.p.name] == claim {
		n.cer.outgoing[c.p.name] = c
	}
}

// releaseOutgoing ends c's registration: the ceremony is decided.
func (n *Node) releaseOutgoing(c *ceremonyState) {
	n.cer.mu.Lock()
	if n.cer.outgoing[c.p.name] == c {
		delete(n.cer.outgoing, c.p.name)
	}
	n.cer.mu.Unlock()
}

// abortOutgoing ends a ceremony this node decided not to commit: it discards what it prepared,
// tells the partner (best effort) and records why.
func (n *Node) abortOutgoing(ctx context.Context, c *ceremonyState, prepared bool, cause error) {
	p := c.p
	reason := "initiator failed"
	var re *RemoteError
	if errors.As(cause, &re) {
		reason = "refused: " + re.Code.String()
	}
	if prepared {
		pe := &pendingEpoch{initiator: true, partner: p.name, id: c.id, epoch: c.epoch}
		if err := n.abortPrepared(context.WithoutCancel(ctx), p, pe, "ceremony-prepared-discarded"); err != nil {
			n.log.Error("discarding a prepared epoch", "partner", p.name, "epoch", c.epoch, "err", err)
		}
	}
	n.releaseOutgoing(c)
	c.destroy()
	if err := n.sendAbort(context.Background(), p, c.id, c.epoch, reason); err != nil {
		n.log.Info("abort not acknowledged", "partner", p.name, "err", err)
	}
	n.auditCeremony(ctx, p, abortAction(cause), c.epoch)
}

// abortAction names, for the audit log, why a ceremony ended.
func abortAction(cause error) string {
	switch {
	case errors.Is(cause, he.ErrCommitment):
		return "ceremony-aborted-commitment-broken"
	case errors.Is(cause, he.ErrRejectedShare), errors.Is(cause, he.ErrMalformed), errors.Is(cause, he.ErrMismatch):
		return "ceremony-aborted-share-refused"
	case errors.Is(cause, he.ErrKeyCheck):
		return "ceremony-aborted-key-check-failed"
	case errors.Is(cause, errCRSNotOpened):
		return "ceremony-aborted-crs-not-opened"
	}
	return "ceremony-aborted"
}

var errCRSNotOpened = errors.New("protocol: the CRS contribution does not open its commitment")

// helloHint adds to a refused Hello what an operator most likely needs to know: a partner
// running an older protocol refuses the version-2 header as carrying unknown fields.
func helloHint(p *partner, err error) error {
	var re *RemoteError
	if errors.As(err, &re) && re.Code == codes.InvalidArgument && strings.Contains(re.Message, "fields this node does not know") {
		return fmt.Errorf("%w (partner %s probably runs an older Puente protocol; this node speaks version %d: upgrade it)", err, p.name, wire.ProtocolVersion)
	}
	return err
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
	h, err := wire.NewRequestHeader(n.rand, n.now(), n.name, p.name, p.cfg.Agreement, method)
	if err != nil {
		return zero, err
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = epoch, p.ps.Name(), ceremonyPurpose
	sig, err := wire.SignRequest(h, payload, n.signer)
	if err != nil {
		return zero, err
	}
	resp, err := call(h, sig)
	if err != nil {
		return zero, wire.Remote(p.name, methodName(method), err)
	}
	if err := wire.VerifyResponse(resp.GetHeader(), respPayload(resp), resp.GetSignature(), wire.ResponseCheck{Req: h, Partner: p.name, Ring: p.card.Keyring}); err != nil {
		return zero, fmt.Errorf("protocol: partner %s, %s: %w", p.name, methodName(method), err)
	}
	return resp, nil
}

func (n *Node) ceremonyClient(ctx context.Context, p *partner) (pb.CeremonyServiceClient, error) {
	conn, err := n.client(ctx, p)
	if err != nil {
		return nil, err
	}
	return pb.NewCeremonyServiceClient(conn), nil
}

// clientHello proposes the ceremony with a commitment to this node's CRS contribution.
func (n *Node) clientHello(ctx context.Context, p *partner, epoch uint64) (*ceremonyState, error) {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return nil, err
	}
	crs := make([]byte, crsContribLen)
	if _, err := io.ReadFull(n.rand, crs); err != nil {
		return nil, err
	}
	cm := crsCommitment(p.cfg.Agreement, epoch, n.name, p.name, crs)
	pl, err := helloPayload(p, epoch, cm[:])
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
	c := newCeremonyState(p, true, out.CeremonyId, epoch, n.now())
	c.crsMine = crs
	if err := c.startHE(crs, out.CrsContribution, n.rand); err != nil {
		c.destroy()
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

// clientSeed runs CommitSeed and RevealSeed: open the CRS contribution and commit to the seed
// contribution, open the partner's, reveal ours, and check the partner's proof that it derived
// the same secret.
func (n *Node) clientSeed(ctx context.Context, p *partner, c *ceremonyState) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	sealed, err := n.sealContribution(c) // draws c.mine
	if err != nil {
		return err
	}
	commit := &pb.CommitSeedPayload{CeremonyId: c.id, Commitment: sealed.Commitment, CrsContribution: c.crsMine}
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

// clientCommitShares runs CommitShares for round r: this node's commitments (and, in round 1,
// the commitment to its key-check contribution) first; the partner's come back.
func (n *Node) clientCommitShares(ctx context.Context, p *partner, c *ceremonyState, r he.Round) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	own, err := c.commitRound(r, nil)
	if err != nil {
		return err
	}
	pl := &pb.ShareCommitmentsPayload{CeremonyId: c.id, Round: uint32(r), Commitments: own}
	if r == he.Round1 {
		if _, err := io.ReadFull(n.rand, c.checkMine[:]); err != nil {
			return err
		}
		c.checkTranscript = c.digest()
		cm := c.checkCommitment(true, c.checkTranscript, c.checkMine[:])
		pl.CheckCommitment = cm[:]
	}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_CommitShares_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.CommitSharesResponse, error) {
			return cc.CommitShares(ctx, &pb.CommitSharesRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.CommitSharesResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	out := orEmpty(resp.Payload)
	if !sameCeremony(out.CeremonyId, c.id) {
		return fmt.Errorf("protocol: partner %s answered CommitShares for another ceremony", p.name)
	}
	if err := c.checkCommitmentList(out, r); err != nil {
		return fmt.Errorf("protocol: partner %s's commitments: %w", p.name, err)
	}
	if err := c.recordPeerCommitments(r, out.Commitments); err != nil {
		return err
	}
	if r == he.Round1 {
		copy(c.checkPeerCommit[:], out.CheckCommitment)
	}
	c.committed[r] = true
	c.record(pl, out)
	n.crashPoint("initiator:CommitShares")
	return nil
}

// clientCheck runs CheckKeys: both key-check contributions are opened, this node computes its
// half of the joint key check of both key sets and checks the partner's digests.
func (n *Node) clientCheck(ctx context.Context, p *partner, c *ceremonyState) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	if !c.sharesDone() {
		return fmt.Errorf("%w: key shares left before the key check", he.ErrState)
	}
	before := c.digest()
	pl := &pb.KeyCheckPayload{CeremonyId: c.id, CheckContribution: c.checkMine[:]}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_CheckKeys_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.CheckKeysResponse, error) {
			return cc.CheckKeys(ctx, &pb.CheckKeysRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.CheckKeysResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	out := orEmpty(resp.Payload)
	if !sameCeremony(out.CeremonyId, c.id) || len(out.CheckContribution) != checkLen {
		return fmt.Errorf("protocol: partner %s: CheckKeys answer has a bad ceremony ID or contribution", p.name)
	}
	if cm := c.checkCommitment(false, c.checkTranscript, out.CheckContribution); !hmac.Equal(cm[:], c.checkPeerCommit[:]) {
		return fmt.Errorf("protocol: partner %s's key-check contribution does not open its commitment: %w", p.name, he.ErrCommitment)
	}
	if err := c.runKeyChecks(c.checkSeed(before, c.checkMine[:], out.CheckContribution)); err != nil {
		return err
	}
	if err := c.verifyCheck(out.Digests); err != nil {
		return fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	c.record(pl, out)
	c.stage = stageChecked
	n.crashPoint("initiator:CheckKeys")
	return nil
}

// clientPrepare runs Prepare: the partner compares transcripts, checks this node's key-check
// digests and prepares the epoch.
func (n *Node) clientPrepare(ctx context.Context, p *partner, c *ceremonyState) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	pl := &pb.PreparePayload{CeremonyId: c.id, TranscriptDigest: c.digest(), CheckDigests: c.checkDigests()}
	resp, err := callRound(ctx, n, p, pb.CeremonyService_Prepare_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.PrepareResponse, error) {
			return cc.Prepare(ctx, &pb.PrepareRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.PrepareResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		return err
	}
	if !hmac.Equal(orEmpty(resp.Payload).TranscriptDigest, pl.TranscriptDigest) {
		return fmt.Errorf("protocol: partner %s's transcript differs", p.name)
	}
	return nil
}

// sendAbort tells the partner to end a ceremony (best effort, with its own deadline: the
// caller's context may be what ended).
func (n *Node) sendAbort(ctx context.Context, p *partner, id []byte, epoch uint64, reason string) error {
	cc, err := n.ceremonyClient(ctx, p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pl := &pb.AbortPayload{CeremonyId: id, Reason: reason}
	_, err = callRound(ctx, n, p, pb.CeremonyService_Abort_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.AbortResponse, error) {
			return cc.Abort(ctx, &pb.AbortRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.AbortResponse) proto.Message { return orEmpty(r.Payload) })
	return err
}
