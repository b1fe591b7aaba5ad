//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he/hetest"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// quotaPair is a pair on a clock the test moves (off), after a ceremony, with a gallery enrolled
// on beta for alpha's queries and a quota of quota; it returns the gallery.
func quotaPair(t *testing.T, quota string) (*testNode, *testNode, *atomic.Int64, [][]float64) {
	t.Helper()
	a, b, off := clockPairWith(t, pairOptions{params: hetest.InsecureN11().Name(), quota: quota, verify: "1000 per 24h", tau: 0.9})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(30, 10)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, b, off, gal
}

// again returns r with a fresh signed header (nonce, request ID, time), edited by edit before
// it is signed; the probe is r's.
func (r *rawSearch) again(t *testing.T, a *testNode, edit func(h *pb.RequestHeader)) *rawSearch {
	t.Helper()
	p := a.partners[r.h.Recipient]
	h, err := wire.NewRequestHeader(a.rand, a.now(), a.name, p.name, p.cfg.Agreement, r.h.Method)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = r.h.KeyEpoch, r.h.ParamSet, r.h.PurposeCode
	if edit != nil {
		edit(h)
	}
	s := &rawSearch{h: h, payload: r.payload, probe: r.probe}
	s.sign(t, a)
	return s
}

// outcomeCall is one Outcome request of a's to p, signed (after edit changed its header) and
// ready to send again as it is.
type outcomeCall struct {
	req *pb.OutcomeRequest
	cc  pb.CeremonyServiceClient
}

func newOutcomeCall(ctx context.Context, t *testing.T, a *testNode, p *partner, id []byte, edit func(h *pb.RequestHeader)) outcomeCall {
	t.Helper()
	pl := &pb.CommitPayload{CeremonyId: id, Epoch: 1}
	h, err := wire.NewRequestHeader(a.rand, a.now(), a.name, p.name, p.cfg.Agreement, pb.CeremonyService_Outcome_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = 1, p.ps.Name(), ceremonyPurpose
	if edit != nil {
		edit(h)
	}
	sig, err := wire.SignRequest(h, pl, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := a.ceremonyClient(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return outcomeCall{req: &pb.OutcomeRequest{Header: h, Payload: pl, Signature: sig}, cc: cc}
}

// send sends the call and returns its status.
func (c outcomeCall) send(ctx context.Context) *status.Status {
	_, err := c.cc.Outcome(ctx, c.req)
	return status.Convert(err)
}

// refusalKind is one way a partner's call is refused before anything is looked up.
type refusalKind struct {
	name  string
	class audit.RefusalClass
	code  codes.Code
	send  func(i int) *status.Status // the i-th call of the kind
}

// refusedIndividually counts the refusals recorded one by one in recs, by class: refused queries
// (a Search's, its pending record aside) and refused ceremony calls (ceremony-refused, whose
// class the record does not carry: counted under ceremony).
func refusedIndividually(recs []audit.Record) (queries map[audit.RefusalClass]int, ceremony int) {
	queries = map[audit.RefusalClass]int{}
	for _, r := range recs {
		switch {
		case r.Kind == audit.KindQuery && r.Outcome == audit.OutcomeRefused:
			queries[r.Refusal]++
		case r.Kind == audit.KindKey && r.Action == "ceremony-refused":
			ceremony++
		}
	}
	return queries, ceremony
}

// summaries flushes tn's refusal counts and returns the counts of partner's summaries by class,
// failing the test if the flush wrote more than one summary of a class.
func summaries(t *testing.T, tn *testNode, partner string) map[audit.RefusalClass]uint64 {
	t.Helper()
	from := len(records(t, tn))
	tn.strangers.flush()
	sums := map[audit.RefusalClass]uint64{}
	for _, r := range records(t, tn)[from:] {
		if r.Kind != audit.KindRefusals || r.Partner != partner {
			continue
		}
		if _, dup := sums[r.Refusal]; dup {
			t.Errorf("two summaries of %s's %s calls in one interval", partner, r.Refusal)
		}
		sums[r.Refusal] += r.Count
	}
	return sums
}

// TestPreLookupRefusalFlood: an authenticated partner's calls refused before anything is looked
// up (a bad signature, a stale time, a replayed nonce, a malformed ceremony ID on a ceremony
// call; a Search with a bad signature, replayed, stale, or past the quota) each wrote a signed,
// fsynced record of several KB, a refused Search two (its pending record and its refusal): the
// partner could grow the node's log at will. Now the first maxRecordedRefusals refusals of a
// partner in a refusal_interval are recorded one by one, and the rest are answered the same way
// and counted by class in the partner's refusals records.
func TestPreLookupRefusalFlood(t *testing.T) {
	t.Parallel()
	a, b, _, gal := quotaPair(t, "1 per 1h")
	ctx := ctxTimeout(t, 5*time.Minute)
	toBeta := a.partners["beta"]
	c := conn(t, a, "beta")

	// One Search answered: the quota is spent, and its request is the one replayed below.
	answered := newRawSearch(t, a, "beta", gal[0])
	if code := answered.send(ctx, c); code != codes.OK {
		t.Fatalf("the search within the quota: %v", code)
	}
	// One Outcome answered (of a ceremony beta never issued: counted, not recorded), whose
	// request is replayed below.
	replayed := newOutcomeCall(ctx, t, a, toBeta, strayCeremonyID(0), nil)
	if st := replayed.send(ctx); st.Code() != codes.OK {
		t.Fatalf("the Outcome replayed below: %v", st.Err())
	}
	stale := func(h *pb.RequestHeader) { h.SentAt = timestamppb.New(a.now().Add(-2 * time.Hour)) }
	search := func(r *rawSearch) *status.Status { return r.sendStatus(ctx, c) }
	kinds := []refusalKind{
		{"Outcome calls with a bad signature", audit.RefusedUnauthenticated, codes.Unauthenticated, func(i int) *status.Status {
			oc := newOutcomeCall(ctx, t, a, toBeta, strayCeremonyID(i), nil)
			oc.req.Signature[100] ^= 1
			return oc.send(ctx)
		}},
		{"Outcome calls signed 2h ago", audit.RefusedReplay, codes.Unauthenticated, func(i int) *status.Status {
			return newOutcomeCall(ctx, t, a, toBeta, strayCeremonyID(i), stale).send(ctx)
		}},
		{"Outcome calls replayed", audit.RefusedReplay, codes.Unauthenticated, func(int) *status.Status {
			return replayed.send(ctx)
		}},
		{"Outcome calls with a 15-byte ceremony ID", audit.RefusedInvalid, codes.InvalidArgument, func(i int) *status.Status {
			return newOutcomeCall(ctx, t, a, toBeta, strayCeremonyID(i)[:ceremonyIDLen-1], nil).send(ctx)
		}},
		{"Searches with a bad signature", audit.RefusedUnauthenticated, codes.Unauthenticated, func(int) *status.Status {
			r := answered.again(t, a, nil)
			r.sig[100] ^= 1
			return search(r)
		}},
		{"Searches replayed", audit.RefusedReplay, codes.Unauthenticated, func(int) *status.Status {
			return search(answered)
		}},
		{"Searches signed 2h ago", audit.RefusedReplay, codes.Unauthenticated, func(int) *status.Status {
			return search(answered.again(t, a, stale))
		}},
		{"Searches past the quota", audit.RefusedQuota, codes.ResourceExhausted, func(int) *status.Status {
			return search(answered.again(t, a, nil))
		}},
	}

	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { refusalFlood(t, b, k) })
	}

	// The bound is the partner's, over every kind: past maxRecordedRefusals refusals of the
	// interval, a refusal of another kind is counted too (a Search's with no pending record).
	b.strangers.flush()
	before := len(records(t, b))
	for i := range maxRecordedRefusals {
		kinds[0].send(i)
	}
	if st := kinds[len(kinds)-1].send(0); st.Code() != codes.ResourceExhausted {
		t.Fatalf("a search past the quota: %v", st.Err())
	}
	if n := len(records(t, b)) - before; n != maxRecordedRefusals {
		t.Errorf("%d refusals of one kind and one of another: %d records, want %d", maxRecordedRefusals, n, maxRecordedRefusals)
	}
	if sums := summaries(t, b, "alpha"); sums[audit.RefusedQuota] != 1 {
		t.Errorf("the search past the partner's bound counted %d times, want once", sums[audit.RefusedQuota])
	}

	// A new interval: the partner's next refusal is recorded by itself again.
	before = len(records(t, b))
	if st := kinds[0].send(0); st.Code() != codes.Unauthenticated {
		t.Fatalf("the refusal in a new interval: %v", st.Err())
	}
	if _, n := refusedIndividually(records(t, b)[before:]); n != 1 {
		t.Errorf("the first refusal of a new interval: %d records, want it recorded", n)
	}
}

// refusalFlood sends callFlood calls of kind k, all refused, in an interval of their own, and
// checks that they were answered alike, that at most maxRecordedRefusals of them were recorded
// one by one, and that the rest were counted in one summary of their class.
func refusalFlood(t *testing.T, b *testNode, k refusalKind) {
	b.strangers.flush() // a new interval: the refusals below are the partner's first in it
	from := len(records(t, b))
	recs0, size0 := auditSize(t, b)
	var first *status.Status
	for i := range callFlood {
		st := k.send(i)
		if st.Code() != k.code {
			t.Fatalf("call %d: %v, want %v", i+1, st.Code(), k.code)
		}
		if first == nil {
			first = st
		} else if st.Message() != first.Message() {
			t.Fatalf("call %d answered %q, the first %q", i+1, st.Message(), first.Message())
		}
	}
	recs1, size1 := auditSize(t, b)
	t.Logf("%d %s: log grew by %d records, %d bytes", callFlood, k.name, recs1-recs0, size1-size0)

	// At most maxRecordedRefusals refusals recorded by themselves (a Search's with its pending
	// record: two records each), and nothing else.
	queries, ceremony := refusedIndividually(records(t, b)[from:])
	individual := ceremony + queries[k.class]
	delete(queries, k.class)
	if individual > maxRecordedRefusals || recs1-recs0 > 2*individual || len(queries) > 0 {
		t.Errorf("%d refusals recorded one by one (and of other classes: %v), the log grew by %d records (%d bytes) for %d refused calls; want at most %d refusals, of class %s",
			individual, queries, recs1-recs0, size1-size0, callFlood, maxRecordedRefusals, k.class)
	}
	// The rest are counted in one summary of their class.
	sums := summaries(t, b, "alpha")
	if individual+int(sums[k.class]) != callFlood || len(sums) != 1 {
		t.Errorf("%d refused calls: %d recorded one by one, summaries %v; want the other %d counted as %s",
			callFlood, individual, sums, callFlood-individual, k.class)
	}
	recs2, size2 := auditSize(t, b)
	t.Logf("the summary: %d record, %d bytes", recs2-recs1, size2-size1)
}

// TestQuotaRefusalNamesRetry: a Search past the partner's quota is refused naming the quota and
// the time from which the next is answered (as a Hello past the ceremony limit is), which is
// when the oldest answer it counts leaves the window: refused just before, answered then.
func TestQuotaRefusalNamesRetry(t *testing.T) {
	t.Parallel()
	a, b, off, gal := quotaPair(t, "2 per 1h")
	ctx := ctxTimeout(t, 5*time.Minute)
	t0 := b.now()
	for i := range 2 {
		if _, err := a.Search(ctx, "beta", Probe{Raw: gal[i]}, ""); err != nil {
			t.Fatalf("search %d within the quota: %v", i+1, err)
		}
	}
	t1 := b.now()
	retry := func() time.Time {
		t.Helper()
		_, err := a.Search(ctx, "beta", Probe{Raw: gal[2]}, "")
		var re *RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("a search past the quota: %v, want refused", err)
		}
		_, after, ok := strings.Cut(re.Message, "query quota of 2 per 1h exhausted: retry after ")
		at, perr := time.Parse(time.RFC3339, after)
		if codeOf(err) != codes.ResourceExhausted || !ok || perr != nil {
			t.Fatalf("a search past the quota: %v, want ResourceExhausted naming the quota and when to retry", err)
		}
		return at
	}
	at := retry()
	if at.Before(t0.Add(time.Hour)) || at.After(t1.Add(time.Hour+time.Second)) {
		t.Errorf("retry after %s, want when the first answer (between %s and %s) leaves the hour's window", at, t0, t1)
	}
	off.Store(int64(time.Until(at.Add(-2 * time.Second))))
	if again := retry(); !again.Equal(at) {
		t.Errorf("just before %s the refusal names %s", at, again)
	}
	off.Store(int64(time.Until(at)))
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[3]}, ""); err != nil {
		t.Errorf("a search at %s: %v", at, err)
	}
}
