//go:build puente_testparams

package protocol

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he/hetest"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// TestBadInput sends one bad request of each kind to a responder and checks the status code, the
// audit record, and that nothing changed: the quota count, the gallery, and a later good query.
func TestBadInput(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(10, 30)

	// Empty gallery, before anything is enrolled.
	r := newRawSearch(t, a, "beta", gal[0])
	expectRefused(t, b, "empty gallery", r.send(ctx, conn(t, a, "beta")), codes.FailedPrecondition, audit.RefusedPrecondition)

	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	good := func() *rawSearch { return newRawSearch(t, a, "beta", near(11, gal[4], 0.05)) }

	// A replayed request: answered once, refused the second time.
	r = good()
	if code := r.send(ctx, conn(t, a, "beta")); code != codes.OK {
		t.Fatalf("good request: %v", code)
	}
	used := quotaUsed(t, b, "alpha")
	expectRefused(t, b, "replayed nonce", r.send(ctx, conn(t, a, "beta")), codes.Unauthenticated, audit.RefusedReplay)

	cases := badRequests(t, a)
	for _, tc := range cases {
		r := good()
		tc.edit(r)
		expectRefused(t, b, tc.name, r.send(ctx, conn(t, a, "beta")), tc.code, tc.class)
	}
	// A stranger's refusal is counted and summarised, one record per source and interval.
	before := len(records(t, b))
	if code := good().send(ctx, strangerConn(t, b)); code != codes.Unauthenticated {
		t.Errorf("unknown partner certificate: status %v, want Unauthenticated", code)
	}
	if n := len(records(t, b)); n != before {
		t.Errorf("a stranger's refusal wrote %d records at once", n-before)
	}
	b.strangers.flush()
	if rec := lastRecord(t, b); rec.Kind != audit.KindRefusals || rec.Source != "127.0.0.1" || rec.Count != 1 || rec.Refusal != audit.RefusedUnauthenticated {
		t.Errorf("summary of the stranger's refusal: %+v", rec)
	}
	if got := quotaUsed(t, b, "alpha"); got != used {
		t.Errorf("refusals changed the quota count from %d to %d", used, got)
	}
	if n, _ := b.partners["alpha"].gallery().store.Count(); n != len(gal) {
		t.Errorf("gallery holds %d, want %d", n, len(gal))
	}
	// After all that, a good query is answered (and counted).
	if code := good().send(ctx, conn(t, a, "beta")); code != codes.OK {
		t.Errorf("good request after the bad ones: %v", code)
	}
	if got := quotaUsed(t, b, "alpha"); got != used+1 {
		t.Errorf("quota count %d after one more answer, want %d", got, used+1)
	}
	// Bytes past the probe's declared size are read where the opening (round 2) must come, after
	// the answer: the query is answered and counted, and its opening refused.
	r = good()
	r.chunks = append(chunksOf(r.probe), &pb.Chunk{ObjectIndex: 0, Offset: uint64(len(r.probe)), Data: []byte{1}})
	expectRefused(t, b, "bytes past the declared size", r.send(ctx, conn(t, a, "beta")), codes.InvalidArgument, audit.RefusedInvalid)
	if got := quotaUsed(t, b, "alpha"); got != used+2 {
		t.Errorf("quota count %d after an answered query with bytes past its probe, want %d", got, used+2)
	}
	// A restarted responder still refuses the nonce it accepted before.
	b.restart(t)
	expectRefused(t, b, "replayed nonce after a restart", r.send(ctx, conn(t, a, "beta")), codes.Unauthenticated, audit.RefusedReplay)
	if cs := tlsState(t, a, b); cs.Version != tls.VersionTLS13 || cs.CurveID != tls.X25519MLKEM768 {
		t.Errorf("TLS version %x key exchange %v, want TLS 1.3 with X25519MLKEM768", cs.Version, cs.CurveID)
	}
}

// badRequest is one way to spoil a good Search, and the refusal it must get.
type badRequest struct {
	name  string
	edit  func(r *rawSearch)
	code  codes.Code
	class audit.RefusalClass
}

// badRequests lists the spoiled requests of TestBadInput; a signs those whose edit re-signs.
func badRequests(t *testing.T, a *testNode) []badRequest {
	return []badRequest{
		{"bad signature", func(r *rawSearch) { r.sig[200] ^= 1 }, codes.Unauthenticated, audit.RefusedUnauthenticated},
		{"stale timestamp", func(r *rawSearch) {
			r.h.SentAt = timestamppb.New(time.Now().Add(-10 * time.Minute))
			r.sign(t, a)
		}, codes.Unauthenticated, audit.RefusedReplay},
		{"wrong epoch", func(r *rawSearch) { r.h.KeyEpoch = 7; r.sign(t, a) }, codes.FailedPrecondition, audit.RefusedPrecondition},
		{"other parameter set named", func(r *rawSearch) { r.h.ParamSet = "puente-ckks-n15-v2"; r.sign(t, a) }, codes.FailedPrecondition, audit.RefusedPrecondition},
		{"purpose not allowed", func(r *rawSearch) { r.h.PurposeCode = "tax-audit"; r.sign(t, a) }, codes.PermissionDenied, audit.RefusedPermission},
		{"truncated ciphertext", func(r *rawSearch) {
			r.chunks = chunksOf(r.probe[:len(r.probe)-100])
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"oversized ciphertext", func(r *rawSearch) {
			r.probe = append(r.probe, make([]byte, 64)...)
			r.payload.Probe = wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, r.h.ParamSet, r.probe)
			r.sign(t, a)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"ciphertext bytes changed", func(r *rawSearch) {
			r.chunks = chunksOf(append([]byte(nil), r.probe...))
			r.chunks[0].Data[40] ^= 1
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"ciphertext for another parameter set", func(r *rawSearch) {
			r.probe = otherSetProbe(t)
			r.payload.Probe = wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, r.h.ParamSet, r.probe)
			r.sign(t, a)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"probe described as another kind", func(r *rawSearch) {
			r.payload.Probe.Kind = pb.HEObjectKind_HE_OBJECT_KIND_GKG_SHARE
			r.sign(t, a)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"parameter-set ID changed in the ciphertext", func(r *rawSearch) {
			r.probe = append([]byte(nil), r.probe...)
			r.probe[7] ^= 1 // the object header's parameter-set ID (bytes 6-7)
			r.replaceProbe(t, a, r.probe)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"probe encrypted under another key set of the same parameter set", func(r *rawSearch) {
			k := hetest.Ceremony(t, hetest.InsecureN11(), 128, hetest.Reader(1), hetest.Reader(2))
			q, err := mustQuerier(t, k).EncryptProbe(make124(), hetest.Reader(3))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := q.MarshalBinary()
			r.replaceProbe(t, a, b)
		}, codes.InvalidArgument, audit.RefusedInvalid},
		{"probe of another dimension than the gallery's", func(r *rawSearch) {
			v := make([]float64, 64)
			v[0] = 1
			k, _ := a.partners["beta"].current()
			_, b, err := a.encryptProbe(k, Probe{Protected: v})
			if err != nil {
				t.Fatal(err)
			}
			r.replaceProbe(t, a, b)
		}, codes.InvalidArgument, audit.RefusedInvalid},
	}
}

// replaceProbe puts probe bytes b in the request, describes them and re-signs.
func (r *rawSearch) replaceProbe(t *testing.T, a *testNode, b []byte) {
	t.Helper()
	r.probe = b
	r.payload.Probe = wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, r.h.ParamSet, b)
	r.sign(t, a)
}

// expectRefused checks a refusal's code and its audit record.
func expectRefused(t *testing.T, b *testNode, name string, code, want codes.Code, class audit.RefusalClass) {
	t.Helper()
	if code != want {
		t.Errorf("%s: status %v, want %v", name, code, want)
		return
	}
	rec := lastRecord(t, b)
	if rec.Outcome != audit.OutcomeRefused || rec.Refusal != class || rec.Role != audit.RoleResponder {
		t.Errorf("%s: audit record %s/%s/%s, want refused/%s by the responder", name, rec.Outcome, rec.Refusal, rec.Role, class)
	}
}

// otherSetProbe encrypts a probe under a key set of another parameter set (N = 2^12).
func otherSetProbe(t *testing.T) []byte {
	t.Helper()
	k := hetest.Ceremony(t, hetest.InsecureN12(), 128, hetest.Reader(1), hetest.Reader(2))
	q, err := mustQuerier(t, k).EncryptProbe(make124(), hetest.Reader(3))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := q.MarshalBinary()
	return b
}

func make124() []float64 {
	v := make([]float64, 124)
	v[0] = 1
	return v
}

func TestQuotaExhausted(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{quota: "2 per 1h"})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(20, 10)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := a.Search(ctx, "beta", Probe{Raw: gal[i]}, ""); err != nil {
			t.Fatalf("query %d within the quota: %v", i, err)
		}
	}
	_, err := a.Search(ctx, "beta", Probe{Raw: gal[2]}, "")
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != codes.ResourceExhausted || !errors.Is(err, ErrQuota) {
		t.Fatalf("third query: %v, want ResourceExhausted", err)
	}
	expectRefused(t, b, "quota exhausted", re.Code, codes.ResourceExhausted, audit.RefusedQuota)
	if got := quotaUsed(t, b, "alpha"); got != 2 {
		t.Errorf("quota count %d, want 2", got)
	}
	if rec := lastRecord(t, a); rec.Role != audit.RoleQuerier || rec.Refusal != audit.RefusedQuota {
		t.Errorf("querier's record: %+v", rec.Event)
	}
	// The quota survives a restart of the responder.
	b.restart(t)
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[3]}, ""); !errors.Is(err, ErrQuota) {
		t.Errorf("after a restart: %v, want the quota still spent", err)
	}
}

// TestCancelledSearch cancels a search while the responder evaluates it: the evaluation stops
// with the cancellation instead of finishing, the call ends Canceled, the audit record says
// failed, and the quota reservation is given back.
func TestCancelledSearch(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(30, 20)
	if _, err := b.Enrol(ctx, "alpha", refs("s", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	used := quotaUsed(t, b, "alpha")
	for _, tc := range []struct {
		name string
		want codes.Code
	}{{"cancelled", codes.Canceled}, {"deadline", codes.DeadlineExceeded}} {
		failedBefore := countOutcome(t, b, audit.OutcomeFailed)
		qctx, cancel := context.WithCancel(ctx)
		if tc.want == codes.DeadlineExceeded {
			qctx, cancel = context.WithTimeout(ctx, 3*time.Second)
		}
		evalErr, finished := make(chan error, 1), make(chan struct{}, 1)
		hook := func(sctx context.Context, point string, err error) {
			switch point {
			case "evaluate":
				if tc.want == codes.Canceled {
					cancel()
				}
				<-sctx.Done() // the cancellation has reached the responder
			case "evaluated":
				evalErr <- err
			case "finished":
				finished <- struct{}{}
			}
		}
		b.hook.Store(&hook)
		_, err := a.Search(qctx, "beta", Probe{Raw: gal[1]}, "")
		cancel()
		if codeOf(err) != tc.want {
			t.Errorf("%s: client error %v, want %v", tc.name, err, tc.want)
		}
		select {
		case e := <-evalErr:
			if !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
				t.Errorf("%s: the evaluation ended with %v, not with the cancellation", tc.name, e)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the responder never evaluated (client error %v)", tc.name, err)
		}
		await(t, finished, 1, "finished") // the responder records the failure after the client has its status
		b.hook.Store(nil)
		if got := countOutcome(t, b, audit.OutcomeFailed); got != failedBefore+1 {
			t.Errorf("%s: %d failed records, want %d", tc.name, got, failedBefore+1)
		}
		if got := quotaUsed(t, b, "alpha"); got != used {
			t.Errorf("%s: quota count %d, want %d (the reservation is given back)", tc.name, got, used)
		}
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); err != nil {
		t.Errorf("a search after the cancelled ones: %v", err)
	}
}

// countOutcome counts a node's query records with the given outcome.
func countOutcome(t *testing.T, tn *testNode, o audit.Outcome) int {
	n := 0
	for _, r := range records(t, tn) {
		if r.Kind == audit.KindQuery && r.Outcome == o {
			n++
		}
	}
	return n
}
