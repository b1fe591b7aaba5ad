//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// rawOpening is round 2 of a raw Search: the querier's opening message and its transfer
// request, which a test may spoil before they are sent.
type rawOpening struct {
	h       *pb.RequestHeader
	payload *pb.OpeningPayload
	sig     []byte
	req     []byte
}

// sendTwoRounds sends the Search of r, reads the answer, builds round 2 from it as a correct
// querier would, lets edit spoil it, sends it and reads the transfer answer. It returns the
// call's status and, when the call succeeded, the decision.
func (r *rawSearch) sendTwoRounds(ctx context.Context, t *testing.T, a *testNode, partner string, conn *grpc.ClientConn, edit func(*rawOpening)) (codes.Code, bool) {
	t.Helper()
	p := a.partners[partner]
	k, err := p.current()
	if err != nil {
		t.Fatal(err)
	}
	st, err := pb.NewMatchServiceClient(conn).Search(withRequestID(ctx, r.requestID()))
	if err != nil {
		return status.Code(err), false
	}
	st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}})
	for _, c := range chunksOf(r.probe) {
		st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
	}
	c := &queryCall{p: p, keys: k, stream: searchClient{st, r.payload}}
	objs, _, err := a.receiveObjects(c, r.h, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_ANSWER, pb.HEObjectKind_HE_OBJECT_KIND_GARBLED_CIRCUIT})
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) {
			return re.Code, false
		}
		return status.Code(err), false
	}
	q, err := he.ReadQuery(k.ps, r.probe)
	if err != nil {
		t.Fatal(err)
	}
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
	h2, err := wire.NewRequestHeader(a.rand, a.now(), a.name, partner, p.cfg.Agreement, r.h.Method)
	if err != nil {
		t.Fatal(err)
	}
	h2.RequestId, h2.KeyEpoch, h2.ParamSet, h2.PurposeCode = r.h.RequestId, r.h.KeyEpoch, r.h.ParamSet, r.h.PurposeCode
	o := &rawOpening{h: h2, payload: &pb.OpeningPayload{TransferRequest: wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST, k.ps.Name(), req)}, req: req}
	if o.sig, err = wire.SignRequest(o.h, o.payload, a.signer); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(o)
	}
	st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Opening{Opening: &pb.OpeningOpen{Header: o.h, Payload: o.payload, Signature: o.sig}}})
	for _, c := range chunksOf(o.req) {
		st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
	}
	st.CloseSend()
	objs, _, err = a.receiveObjects(c, o.h, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER})
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) {
			return re.Code, false
		}
		return status.Code(err), false
	}
	hit, err := ev.Finish(objs[0])
	if err != nil {
		t.Fatalf("the transfer answer does not open: %v", err)
	}
	return codes.OK, hit
}

// TestOpeningRounds runs round 2 as a querier would, then spoiled: the answer is counted when
// round 1 leaves, whatever round 2 does; a round 2 that is not the querier's, not this query's,
// replayed or malformed is refused and audited; one never sent costs the query and yields
// nothing.
func TestOpeningRounds(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(20, 30)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	match := func() *rawSearch { return newRawSearch(t, a, "beta", near(21, gal[4], 0.05)) }
	code, hit := match().sendTwoRounds(ctx, t, a, "beta", conn(t, a, "beta"), nil)
	if code != codes.OK || !hit {
		t.Fatalf("a correct two-round query: %v, hit %v", code, hit)
	}
	used := quotaUsed(t, b, "alpha")

	r := match()
	var firstNonce []byte
	cases := []struct {
		name  string
		edit  func(o *rawOpening)
		code  codes.Code
		class audit.RefusalClass
	}{
		{"another request's ID", func(o *rawOpening) {
			o.h.RequestId = append([]byte(nil), o.h.RequestId...)
			o.h.RequestId[0] ^= 1 // a changed ID whatever the first byte was
			o.sig = sign(t, a, o)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"the round-1 nonce again", func(o *rawOpening) { o.h.Nonce = firstNonce; o.sig = sign(t, a, o) }, codes.Unauthenticated, audit.RefusedReplay},
		{"a bad signature", func(o *rawOpening) { o.sig[100] ^= 1 }, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"another purpose", func(o *rawOpening) { o.h.PurposeCode = "asylum"; o.sig = sign(t, a, o) }, codes.InvalidArgument, audit.RefusedInvalid},
		{"a short transfer request", func(o *rawOpening) {
			o.req = o.req[:len(o.req)-1]
			o.payload.TransferRequest = wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_REQUEST, o.h.ParamSet, o.req)
			o.sig = sign(t, a, o)
		}, codes.InvalidArgument, audit.RefusedInvalid},
	}
	for i, tc := range cases {
		r = match()
		firstNonce = r.h.Nonce
		code, _ := r.sendTwoRounds(ctx, t, a, "beta", conn(t, a, "beta"), tc.edit)
		expectRefused(t, b, tc.name, code, tc.code, tc.class)
		if got := quotaUsed(t, b, "alpha"); got != used+i+1 {
			t.Errorf("%s: quota %d, want %d: the answer left, so the query counts", tc.name, got, used+i+1)
		}
	}
	// A querier that never sends round 2: answered and counted, nothing more.
	n0 := quotaUsed(t, b, "alpha")
	if code := match().send(ctx, conn(t, a, "beta")); code != codes.OK {
		t.Fatalf("round 1 only: %v", code)
	}
	if rec := lastRecord(t, b); rec.Outcome != audit.OutcomeAnswered || rec.Decision != audit.DecisionNotKnown {
		t.Errorf("round 1 only: audit record %s/%s, want answered/not known", rec.Outcome, rec.Decision)
	}
	if got := quotaUsed(t, b, "alpha"); got != n0+1 {
		t.Errorf("round 1 only: quota %d, want %d", got, n0+1)
	}
}

func sign(t *testing.T, a *testNode, o *rawOpening) []byte {
	t.Helper()
	sig, err := wire.SignRequest(o.h, o.payload, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

var _ = io.EOF
var _ context.Context
