//go:build puente_testparams

package protocol

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// TestOpeningAfterRevocation: the querier takes round 1 (the answer and the garbled circuit),
// holds round 2 back while the responder revokes the epoch, then sends its opening. The transfer
// answer would hand it its decision under an epoch that answers nothing from its revocation on
// (SECURITY.md); before, the responder served it and the querier decoded hit=true. The opening
// is now refused as a revoked epoch, and audited so.
func TestOpeningAfterRevocation(t *testing.T) {
	t.Parallel()
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]
	k, err := p.current()
	if err != nil {
		t.Fatal(err)
	}
	r := newRawSearch(t, a, "beta", near(21, gal[4], 0.05))
	st, err := pb.NewMatchServiceClient(conn(t, a, "beta")).Search(withRequestID(ctx, r.requestID()))
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}})
	for _, c := range chunksOf(r.probe) {
		st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
	}
	c := &queryCall{p: p, keys: k, stream: searchClient{st, r.payload}}
	objs, _, err := a.receiveObjects(c, r.h, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_ANSWER, pb.HEObjectKind_HE_OBJECT_KIND_GARBLED_CIRCUIT})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := he.ReadQuery(k.ps, r.probe)
	ans, err := he.ReadAnswer(k.ps, objs[0])
	if err != nil {
		t.Fatal(err)
	}
	x, err := k.querier.Shares(q, ans)
	if err != nil {
		t.Fatal(err)
	}
	ev, req, err := opening.NewEvaluator(k.ps.OpeningParams(), openingSession(r.h), objs[1], x, a.rand)
	if err != nil {
		t.Fatal(err)
	}
	oldEpoch := k.epoch

	// The responder revokes the epoch while round 2 is held back.
	if _, err := b.Revoke(ctx, "alpha"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if cur, err := b.partners["alpha"].current(); err == nil && cur.epoch == oldEpoch {
		t.Fatalf("epoch %d still current on the responder", oldEpoch)
	}

	h2, err := wire.NewRequestHeader(a.rand, a.now(), a.name, "beta", p.cfg.Agreement, r.h.Method)
	if err != nil {
		t.Fatal(err)
	}
	h2.RequestId, h2.KeyEpoch, h2.ParamSet, h2.PurposeCode = r.h.RequestId, r.h.KeyEpoch, r.h.ParamSet, r.h.PurposeCode
	pl := &pb.OpeningPayload{TransferRequest: wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST, k.ps.Name(), req)}
	sig, err := wire.SignRequest(h2, pl, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Opening{Opening: &pb.OpeningOpen{Header: h2, Payload: pl, Signature: sig}}})
	for _, ch := range chunksOf(req) {
		st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: ch}})
	}
	st.CloseSend()
	objs, _, err = a.receiveObjects(c, h2, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER})
	if err == nil {
		hit, ferr := ev.Finish(objs[0])
		t.Fatalf("the responder served round 2 of a query under epoch %d after revoking it: the querier decoded hit=%v (%v)", oldEpoch, hit, ferr)
	}
	expectRefused(t, b, "round 2 after the revocation", codeOf(err), codes.FailedPrecondition, audit.RefusedRevokedEpoch)
}
