//go:build puente_testparams

package protocol

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// sendShare sends one key-share exchange of ceremony c with the given share bytes and returns
// the status code.
func sendShare(t *testing.T, a *testNode, c *ceremonyState, d int, step he.Step, share []byte) codes.Code {
	t.Helper()
	p := c.p
	cc, err := a.ceremonyClient(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	pl := &pb.KeySharePayload{CeremonyId: c.id, Direction: pb.KeySetDirection(d + 1), GaloisElement: step.GaloisElement,
		Share: wire.Describe(kindOf(step), c.ps.Name(), share)}
	h, err := wire.NewRequestHeader(rand.Reader, time.Now(), a.name, p.name, p.cfg.Agreement, pb.CeremonyService_ExchangeKeyShare_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = c.epoch, c.ps.Name(), ceremonyPurpose
	sig, _ := wire.SignRequest(h, pl, a.signer)
	st, err := cc.ExchangeKeyShare(context.Background())
	if err != nil {
		return codeOf(err)
	}
	st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Open{Open: &pb.ExchangeKeyShareOpen{Header: h, Payload: pl, Signature: sig}}})
	wire.SendObjects(func(ch *pb.Chunk) error {
		return st.Send(&pb.ExchangeKeyShareRequest{Part: &pb.ExchangeKeyShareRequest_Chunk{Chunk: ch}})
	}, share)
	st.CloseSend()
	for {
		if _, err := st.Recv(); err != nil {
			return codeOf(err)
		}
	}
}

// runShares runs the key-share rounds of c after RevealSeed: both rounds of commitments and
// every exchange, then the key check.
func runShares(t *testing.T, a *testNode, c *ceremonyState) {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Minute)
	for _, r := range []he.Round{he.Round1, he.Round2} {
		if !c.committed[r] {
			if err := a.clientCommitShares(ctx, c.p, c, r); err != nil {
				t.Fatal(err)
			}
		}
		for {
			d, step, ok := c.nextStep()
			if !ok || step.Round() != r {
				break
			}
			if err := a.clientShare(ctx, c.p, c, d, step); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.clientCheck(ctx, c.p, c); err != nil {
		t.Fatal(err)
	}
}

// TestCeremonyRefusals checks the ceremony's bad inputs: a proposal that differs from the
// responder's view, a repeated step (refused, nothing changed: the ceremony still completes),
// a share that does not open its commitment (the ceremony is aborted and refuses every later
// round), transcripts that differ at Prepare, a seed contribution that does not open.
func TestCeremonyRefusals(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]

	// A proposal for other parameters.
	pl, err := helloPayload(p, 1, make([]byte, commitmentLen))
	if err != nil {
		t.Fatal(err)
	}
	pl.ParamSetDigest[0] ^= 1
	cc, _ := a.ceremonyClient(context.Background(), p)
	_, err = callRound(ctx, a.Node, p, pb.CeremonyService_Hello_FullMethodName, 1, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.HelloResponse, error) {
			return cc.Hello(ctx, &pb.HelloRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.HelloResponse) proto.Message { return orEmpty(r.Payload) })
	if codeOf(err) != codes.FailedPrecondition {
		t.Errorf("Hello with another parameter set: %v", err)
	}
	if rec := lastRecord(t, b); rec.Action != "ceremony-refused" {
		t.Errorf("refused Hello recorded as %q", rec.Action)
	}

	// A ceremony in which the initiator repeats its first step, and asks to prepare early.
	c, err := a.clientHello(ctx, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.clientSeed(ctx, p, c); err != nil {
		t.Fatal(err)
	}
	if code := sendShare(t, a, c, 0, he.Step{Kind: he.StepPublicKey}, make([]byte, 100)); code != codes.FailedPrecondition {
		t.Errorf("a share before the commitments: %v, want FailedPrecondition", code)
	}
	if err := a.clientCommitShares(ctx, p, c, he.Round1); err != nil {
		t.Fatal(err)
	}
	d, step, _ := c.nextStep()
	if err := a.clientShare(ctx, p, c, d, step); err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 100)
	if code := sendShare(t, a, c, d, step, junk); code != codes.FailedPrecondition {
		t.Errorf("repeated step: %v, want FailedPrecondition", code)
	}
	if code := prepareWith(t, a, c, c.digest()); code != codes.FailedPrecondition {
		t.Errorf("Prepare before the last share: %v, want FailedPrecondition", code)
	}
	runShares(t, a, c)
	finish(t, a, c)

	// A ceremony with a share that does not open its commitment: aborted on the responder.
	c2, err := a.clientHello(ctx, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.clientSeed(ctx, p, c2); err != nil {
		t.Fatal(err)
	}
	if err := a.clientCommitShares(ctx, p, c2, he.Round1); err != nil {
		t.Fatal(err)
	}
	d, step, _ = c2.nextStep()
	good, err := c2.hec[d].Reveal(step)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	if code := sendShare(t, a, c2, d, step, bad); code != codes.InvalidArgument {
		t.Errorf("a share that does not open its commitment: %v, want InvalidArgument", code)
	}
	if rec := lastRecord(t, b); rec.Kind != audit.KindKey || rec.Action != "ceremony-aborted-commitment-broken" {
		t.Errorf("after a broken commitment the responder recorded %s %q", rec.Kind, rec.Action)
	}
	if code := sendShare(t, a, c2, d, step, good); code != codes.FailedPrecondition {
		t.Errorf("a round of an aborted ceremony: %v, want FailedPrecondition", code)
	}
	c2.destroy()

	// A ceremony whose transcripts differ at Prepare: aborted on the responder, which keeps
	// its epoch.
	c3, err := a.clientHello(ctx, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.destroy()
	if err := a.clientSeed(ctx, p, c3); err != nil {
		t.Fatal(err)
	}
	runShares(t, a, c3)
	wrong := c3.digest()
	wrong[0] ^= 1
	if code := prepareWith(t, a, c3, wrong); code != codes.InvalidArgument {
		t.Errorf("Prepare with another transcript: %v, want InvalidArgument", code)
	}
	if rec := lastRecord(t, b); rec.Kind != audit.KindKey || rec.Action != "ceremony-aborted" {
		t.Errorf("after a transcript mismatch the responder recorded %s %q", rec.Kind, rec.Action)
	}
	if code := prepareWith(t, a, c3, c3.digest()); code != codes.FailedPrecondition {
		t.Errorf("Prepare after the mismatch: %v, want FailedPrecondition (the ceremony is over)", code)
	}
	if k, err := b.partners["alpha"].current(); err != nil || k.epoch != 1 {
		t.Errorf("the responder's epoch after the failed Prepare: %v %v, want 1", k, err)
	}

	// A ceremony whose initiator reveals a contribution that does not open against its
	// commitment: aborted on the responder, so the right contribution comes too late.
	c4, err := a.clientHello(ctx, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c4.destroy()
	sealed := commitSeed(t, a, p, c4)
	badSeal := proto.Clone(sealed).(*pb.SealedSeedPayload)
	badSeal.SealedContribution[len(badSeal.SealedContribution)/2] ^= 1
	if code := revealSeed(t, a, p, c4, badSeal); code != codes.InvalidArgument {
		t.Errorf("a contribution that does not open: %v, want InvalidArgument", code)
	}
	if rec := lastRecord(t, b); rec.Kind != audit.KindKey || rec.Action != "ceremony-aborted" {
		t.Errorf("after a contribution that does not open the responder recorded %s %q", rec.Kind, rec.Action)
	}
	if code := revealSeed(t, a, p, c4, sealed); code != codes.FailedPrecondition {
		t.Errorf("the right contribution after the abort: %v, want FailedPrecondition (the ceremony is over)", code)
	}
}

// finish prepares, commits and acknowledges a ceremony whose rounds have all run, the way
// Node.Ceremony does.
func finish(t *testing.T, a *testNode, c *ceremonyState) {
	t.Helper()
	ctx := ctxTimeout(t, time.Minute)
	if err := a.prepareEpoch(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := a.clientPrepare(ctx, c.p, c); err != nil {
		t.Fatal(err)
	}
	pe := &pendingEpoch{initiator: true, partner: c.p.name, id: c.id, epoch: c.epoch, mine: c.mine, theirs: c.theirs}
	if err := a.commitEpoch(ctx, c.p, pe, true); err != nil {
		t.Fatal(err)
	}
	if !a.sendCommitUntilAcked(ctx, c.p, pe) {
		t.Fatal("Commit not acknowledged")
	}
	c.destroy()
}

// commitSeed draws the initiator's contribution and sends its commitment; it returns the sealed
// contribution for RevealSeed.
func commitSeed(t *testing.T, a *testNode, p *partner, c *ceremonyState) *pb.SealedSeedPayload {
	t.Helper()
	ctx := ctxTimeout(t, time.Minute)
	cc, err := a.ceremonyClient(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := a.sealContribution(c)
	if err != nil {
		t.Fatal(err)
	}
	commit := &pb.CommitSeedPayload{CeremonyId: c.id, Commitment: sealed.Commitment, CrsContribution: c.crsMine}
	_, err = callRound(ctx, a.Node, p, pb.CeremonyService_CommitSeed_FullMethodName, c.epoch, commit,
		func(h *pb.RequestHeader, sig []byte) (*pb.CommitSeedResponse, error) {
			return cc.CommitSeed(ctx, &pb.CommitSeedRequest{Header: h, Payload: commit, Signature: sig})
		}, func(r *pb.CommitSeedResponse) proto.Message { return orEmpty(r.Payload) })
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// revealSeed sends RevealSeed with the given sealed contribution and returns the status code.
func revealSeed(t *testing.T, a *testNode, p *partner, c *ceremonyState, sealed *pb.SealedSeedPayload) codes.Code {
	t.Helper()
	ctx := ctxTimeout(t, time.Minute)
	cc, err := a.ceremonyClient(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = callRound(ctx, a.Node, p, pb.CeremonyService_RevealSeed_FullMethodName, c.epoch, sealed,
		func(h *pb.RequestHeader, sig []byte) (*pb.RevealSeedResponse, error) {
			return cc.RevealSeed(ctx, &pb.RevealSeedRequest{Header: h, Payload: sealed, Signature: sig})
		}, func(r *pb.RevealSeedResponse) proto.Message { return orEmpty(r.Payload) })
	return codeOf(err)
}

// prepareWith sends Prepare with the given transcript digest and the ceremony's key-check
// digests.
func prepareWith(t *testing.T, a *testNode, c *ceremonyState, digest []byte) codes.Code {
	t.Helper()
	cc, _ := a.ceremonyClient(context.Background(), c.p)
	pl := &pb.PreparePayload{CeremonyId: c.id, TranscriptDigest: digest}
	if c.check[0] != nil {
		pl.CheckDigests = c.checkDigests()
	}
	_, err := callRound(context.Background(), a.Node, c.p, pb.CeremonyService_Prepare_FullMethodName, c.epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.PrepareResponse, error) {
			return cc.Prepare(context.Background(), &pb.PrepareRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.PrepareResponse) proto.Message { return orEmpty(r.Payload) })
	return codeOf(err)
}

// TestOlderProtocolRefused: a request from a version-1 node (its header has no protocol_version)
// is refused with a message naming both versions, before anything else is checked, and a
// response of another version is refused by the client.
func TestOlderProtocolRefused(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, time.Minute)
	p := a.partners["beta"]
	pl, err := helloPayload(p, 1, make([]byte, commitmentLen))
	if err != nil {
		t.Fatal(err)
	}
	h, err := wire.NewRequestHeader(rand.Reader, time.Now(), a.name, p.name, p.cfg.Agreement, pb.CeremonyService_Hello_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = 1, p.ps.Name(), ceremonyPurpose
	h.ProtocolVersion = 0 // what a version-1 node sends
	sig, err := wire.SignRequest(h, pl, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := a.ceremonyClient(context.Background(), p)
	_, err = cc.Hello(ctx, &pb.HelloRequest{Header: h, Payload: pl, Signature: sig})
	st, _ := status.FromError(err)
	if st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "protocol version 1, this node version 2") {
		t.Errorf("a version-1 Hello: %v, want FailedPrecondition naming both versions", err)
	}
	if rec := lastRecord(t, b); rec.Action != "ceremony-refused" {
		t.Errorf("the refusal was recorded as %q", rec.Action)
	}

	h.ProtocolVersion = wire.ProtocolVersion
	rh, rsig, err := wire.SignResponse(h, pl, b.signer, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rh.ProtocolVersion = 1
	err = wire.VerifyResponse(rh, pl, rsig, wire.ResponseCheck{Req: h, Partner: p.name, Ring: p.card.Keyring})
	if err == nil || !strings.Contains(err.Error(), "protocol version 1, this node version 2") {
		t.Errorf("a version-1 response: %v, want a refusal naming both versions", err)
	}
}
