package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// matchServer answers Search and Verify.
type matchServer struct {
	pb.UnimplementedMatchServiceServer
	n *Node
}

func (m *matchServer) Search(s pb.MatchService_SearchServer) error {
	return m.n.serveMatch(searchStream{s}, pb.MatchService_Search_FullMethodName)
}

func (m *matchServer) Verify(s pb.MatchService_VerifyServer) error {
	return m.n.serveMatch(verifyStream{s}, pb.MatchService_Verify_FullMethodName)
}

// matchCall is one Search or Verify being served.
type matchCall struct {
	p      *partner
	method string
	open   *matchOpen
	keys   *epochKeys
	dims   int // the protected dimension of the gallery searched
	ticket ticket
	start  time.Time
	done   bool // finishMatch ran
	// rid is the request ID the querier named before its first message (requestIDHeader); it
	// names every audit record of the call, and the signed header must carry the same.
	rid string
	// record is the answered record (finishMatch), whose head the answer carries.
	record audit.Record
	// pending: the call is recorded as pending (recordPending), so its end is recorded too.
	pending bool
}

// maxPartnerCalls bounds the Search and Verify calls one partner may have open at once (waiting
// for its bytes, for an evaluation slot, or being evaluated): each holds buffers up to a probe's
// size, and a partner that opens calls and never finishes them must not exhaust the node's
// memory. Calls beyond it are refused with ResourceExhausted and cost no quota.
const maxPartnerCalls = 16

// serveMatch runs one Search or Verify: checks, then the encrypted evaluation, then the signed
// response. Every call ends in exactly one audit record: refused (nothing changed), failed (the
// request was accepted, or the call ended before its open message; a quota reservation is given
// back) or answered.
func (n *Node) serveMatch(s matchStream, method string) error {
	ctx := s.Context()
	c := &matchCall{p: partnerFrom(ctx), method: method, start: n.now(), rid: callRequestID(ctx)}
	defer func() {
		// A bug must not cost the partner its quota nor leave the call unaudited: finish the
		// call as failed, then let the interceptor turn the panic into Internal.
		r := recover()
		if r != nil && !c.done {
			n.finishMatch(ctx, c, wire.Internal(fmt.Errorf("panic: %v", r)))
		}
		n.testHook(ctx, "finished", nil) // recorded, reservation given back, call no longer counted
		if r != nil {
			panic(r)
		}
	}()
	if k := c.p.calls.Add(1); k > maxPartnerCalls {
		c.p.calls.Add(-1)
		e := wire.Refuse(codes.ResourceExhausted, audit.RefusedQuota, "too many queries in flight", fmt.Errorf("%d calls open, limit %d", k-1, maxPartnerCalls))
		n.finishMatch(ctx, c, e)
		return e
	}
	defer c.p.calls.Add(-1)
	n.testHook(ctx, "opened", nil)
	if c.rid == "" {
		e := wire.Invalid("the call does not name its request ID", fmt.Errorf("no %s metadata", requestIDHeader))
		n.finishMatch(ctx, c, e)
		return e
	}
	// The pending record comes before any byte of the request is read, and the querier waits for
	// its confirmation before it sends one: a crash of either side from here on leaves records
	// that name the call the same way on both. For a partner whose refusals are no longer
	// recorded one by one in this interval (refusals.go) it comes once the call has passed every
	// check, just before its quota reservation: a refusal before it is then counted, not recorded.
	if n.refusalsRecorded(c.p) {
		if e := n.recordPending(ctx, c); e != nil {
			return e
		}
	}
	confirmRequestID(ctx, c.rid)
	o, err := s.open()
	if err != nil {
		e := wire.FromContext(ctx)
		if e == nil {
			e = wire.Invalid("malformed open message", err)
		}
		n.finishMatch(ctx, c, e)
		return e
	}
	c.open = o
	if e := n.admitMatch(ctx, c); e != nil {
		n.finishMatch(ctx, c, e)
		return e
	}
	n.testHook(ctx, "admitted", nil)
	q, e := n.receiveProbe(ctx, s, c)
	if e == nil && !c.pending {
		if e := n.recordPending(ctx, c); e != nil {
			return e
		}
	}
	if e == nil {
		e = n.commitMatch(c)
	}
	if e == nil {
		crashPoint("responder-reserved")
		n.testHook(ctx, "reserved", nil)
	}
	if e != nil {
		n.finishMatch(ctx, c, e)
		return e
	}
	ans, g, gc, err := n.evaluate(ctx, c, q)
	if err != nil {
		e := wire.AsError(ctx, err)
		n.finishMatch(ctx, c, e)
		return e
	}
	if e := n.respondMatch(ctx, s, c, ans, gc); e != nil {
		g.Destroy()
		return e
	}
	if e := n.serveOpening(ctx, s, c, g); e != nil {
		return e
	}
	return nil
}

// recordPending records c as pending (its end follows in finishMatch). A call that cannot be
// recorded is not served.
func (n *Node) recordPending(ctx context.Context, c *matchCall) *Error {
	if _, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindQuery, audit.Event{Partner: c.p.name,
		Role: audit.RoleResponder, Purpose: purposeOf(nil), RequestID: c.rid, Outcome: audit.OutcomePending}); err != nil {
		n.log.Error("audit record not written", "request", c.rid, "err", err)
		return &Error{Code: codes.Unavailable, Safe: "the node cannot record the query", Err: err}
	}
	c.pending = true
	crashPoint("responder-pending")
	return nil
}

// admitMatch checks the signed header and everything that needs no probe bytes: partner,
// signature, window, nonce and request ID (early), agreement, purpose, epoch, parameter set, quota (early),
// gallery and, for Verify, the reference. It does not take the epoch's keys: a partner that
// stalls before sending its probe must not hold them (and so hold up a revocation).
func (n *Node) admitMatch(ctx context.Context, c *matchCall) *Error {
	p, h := c.p, c.open.header
	if e := wire.VerifyRequest(h, c.open.payload, c.open.sig, wire.RequestCheck{Partner: p.name, Self: n.name, Method: c.method,
		Agreement: p.cfg.Agreement, Ring: p.card.Keyring, Now: n.now(), Window: n.cfg.ReplayWindow}); e != nil {
		return e
	}
	if hex.EncodeToString(h.RequestId) != c.rid {
		return wire.Invalid("request_id differs from the one the call named", nil)
	}
	if n.state.signedBeforeRebuild(h.SentAt.AsTime()) {
		return wire.Replayed("request signed before the node's replay state was rebuilt", errNonceSeen)
	}
	if seen, err := n.state.seen(p.name, h.Nonce); err != nil {
		return wire.Internal(err)
	} else if seen {
		return wire.Replayed("nonce was used before", errNonceSeen)
	}
	if seen, err := n.state.requestSeen(p.name, h.RequestId, n.now()); err != nil {
		return wire.Internal(err)
	} else if seen {
		return wire.Replayed("request ID was used before", errRequestSeen)
	}
	if !contains(p.cfg.Purposes, h.PurposeCode) {
		return wire.Permission("purpose is not allowed by the agreement", fmt.Errorf("purpose %q", h.PurposeCode))
	}
	if _, e := callLimits(c); e != nil {
		return e
	}
	k, e := n.epochFor(p, h)
	if e != nil {
		return e
	}
	c.keys = k
	if e := n.admitGallery(c); e != nil {
		return e
	}
	ls, e := callLimits(c)
	if e != nil {
		return e
	}
	return n.checkLimits(ls)
}

// epochFor checks the header's epoch and parameter set against the agreement's current ones.
func (n *Node) epochFor(p *partner, h *pb.RequestHeader) (*epochKeys, *Error) {
	k, err := p.current()
	if err != nil {
		return nil, wire.Precondition("no keys for this agreement yet (run the key ceremony)", err)
	}
	if h.KeyEpoch != k.epoch {
		p.mu.RLock()
		old := p.retired[h.KeyEpoch]
		p.mu.RUnlock()
		if old {
			return nil, wire.Refuse(codes.FailedPrecondition, audit.RefusedRevokedEpoch, "epoch is revoked or retired", fmt.Errorf("epoch %d, current %d", h.KeyEpoch, k.epoch))
		}
		return nil, wire.Precondition("epoch is not the agreement's current one", fmt.Errorf("epoch %d, current %d", h.KeyEpoch, k.epoch))
	}
	if h.ParamSet != k.ps.Name() {
		return nil, wire.Precondition("parameter set is not the agreement's", fmt.Errorf("param set %q, want %q", h.ParamSet, k.ps.Name()))
	}
	return k, nil
}

// admitGallery checks that there is something to search under the call's epoch: a non-empty
// gallery (for Verify, the reference) protected under it.
func (n *Node) admitGallery(c *matchCall) *Error {
	g := c.p.gallery()
	if g == nil {
		return wire.Precondition("gallery is empty", nil)
	}
	cnt, err := g.store.Count()
	if err != nil {
		return wire.Internal(err)
	}
	if cnt == 0 {
		return wire.Precondition("gallery is empty", nil)
	}
	if ep := g.store.Params().Epoch; ep != c.keys.epoch {
		return wire.Precondition("gallery is not yet protected under this epoch", fmt.Errorf("gallery at epoch %d", ep))
	}
	c.dims = g.store.Params().Dim
	if c.method == pb.MatchService_Verify_FullMethodName {
		labels, err := g.labels.Get()
		if err != nil {
			return wire.Internal(err)
		}
		if len(c.open.reference) > wire.MaxNameLen {
			return wire.Invalid("reference too long", nil)
		}
		if _, ok := labels[c.open.reference]; !ok {
			return wire.Refuse(codes.NotFound, audit.RefusedInvalid, "no such reference", nil)
		}
	}
	return nil
}

// receiveProbe checks the probe's descriptor, then receives, checks and decodes its bytes, and
// checks that the probe is one the evaluation accepts: encrypted for the key set in which the
// partner queries, of the gallery's dimension.
func (n *Node) receiveProbe(ctx context.Context, s matchStream, c *matchCall) (*he.Query, *Error) {
	ps := c.keys.ps
	rule := wire.ObjectRule{Kind: pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, ParamSet: ps.Name(),
		Limit: objectLimit(ps, pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT)}
	descs := []*pb.HEObject{c.open.probe}
	if err := wire.CheckDescriptors(descs, []wire.ObjectRule{rule}); err != nil {
		return nil, wire.Invalid("probe descriptor refused", err)
	}
	// The stream goes on after the probe: the querier's opening (round 2) follows the answer.
	objs, err := wire.ReceiveObjects(ctx, s.chunk, descs, false)
	if err != nil {
		if ce := wire.FromContext(ctx); ce != nil {
			return nil, ce
		}
		return nil, wire.Invalid("probe refused", err)
	}
	n.met.traffic(c.p.name, 0, int64(len(objs[0])))
	q, err := he.ReadQuery(ps, objs[0])
	if err != nil {
		return nil, wire.Invalid("probe ciphertext refused", err)
	}
	if q.KeySetID() != c.keys.rshare.KeySetID() {
		return nil, wire.Invalid("probe is encrypted for another key set", nil)
	}
	if q.Dims() != c.dims {
		return nil, wire.Invalid("probe dimension differs from the gallery's", fmt.Errorf("probe %d, gallery %d", q.Dims(), c.dims))
	}
	return q, nil
}

// commitMatch records the nonce and reserves one query of the quota (and, for Verify, of the
// reference's verification limit), durably and together.
func (n *Node) commitMatch(c *matchCall) *Error {
	h := c.open.header
	ls, e := callLimits(c)
	if e != nil {
		return e
	}
	t, err := n.state.admitQuery(c.p.name, h.Nonce, h.RequestId, h.SentAt.AsTime().Add(n.cfg.ReplayWindow), ls, n.now())
	switch {
	case errors.Is(err, errNonceSeen):
		return wire.Replayed("nonce was used before", err)
	case errors.Is(err, errRequestSeen):
		return wire.Replayed("request ID was used before", err)
	case errors.Is(err, errQuotaSpent):
		return spentLimit(err, ls, n.now())
	case err != nil:
		return wire.Internal(err)
	}
	c.ticket = t
	return nil
}

// evaluate scores the probe against the gallery (the whole packed gallery for Search, the one
// referenced template for Verify) under encryption and garbles the opening of the answer. It
// waits for a free evaluation slot (a Search with the partner's other waiting calls, batch.go),
// then takes the epoch's keys for the evaluation only (refused if the epoch was retired or
// revoked meanwhile), and stops when the call is cancelled. It returns the encoded answer, the
// garbler (for round 2) and the garbled circuit.
func (n *Node) evaluate(ctx context.Context, c *matchCall, q *he.Query) ([]byte, *opening.Garbler, []byte, error) {
	var ans *he.Answer
	var sec *opening.Secrets
	var err error
	if n.shards == nil && c.method == pb.MatchService_Search_FullMethodName {
		ans, sec, err = n.searchTogether(ctx, c, q)
	} else {
		ans, sec, err = n.evaluateAlone(ctx, c, q)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	defer sec.Destroy()
	gb, gc, err := opening.Garble(c.keys.ps.OpeningParams(), sec, openingSession(c.open.header), n.rand)
	if err != nil {
		return nil, nil, nil, err
	}
	ab, err := ans.MarshalBinary()
	if err != nil {
		gb.Destroy()
		return nil, nil, nil, err
	}
	return ab, gb, gc, nil
}

// evaluateAlone evaluates a Verify's probe against its reference, or a Search's on the node's
// shards, in an evaluation slot of its own.
func (n *Node) evaluateAlone(ctx context.Context, c *matchCall, q *he.Query) (*he.Answer, *opening.Secrets, error) {
	select {
	case n.sem <- struct{}{}:
		defer func() { <-n.sem }()
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if err := useKeys(c); err != nil {
		return nil, nil, err
	}
	defer c.keys.release()
	var hg *he.Gallery // nil: the shards hold the packed gallery; shardedRespond checks its epoch
	if c.method == pb.MatchService_Verify_FullMethodName {
		var epoch uint64
		var err error
		if hg, epoch, err = n.packReference(c.p, c.p.gallery(), c.open.reference); err != nil {
			return nil, nil, err
		}
		if err := checkEpoch(c, epoch); err != nil {
			return nil, nil, err
		}
	}
	n.testHook(ctx, "evaluate", nil)
	var ans *he.Answer
	var sec *opening.Secrets
	var err error
	if hg == nil {
		ans, sec, err = n.shardedRespond(ctx, c, q)
	} else {
		ans, sec, err = c.keys.responder.Respond(ctx, q, hg, he.Options{Threshold: he.Threshold{Tau: c.p.cfg.Threshold}}, n.rand)
	}
	n.testHook(ctx, "evaluated", err)
	return ans, sec, err
}

// useKeys takes the call's epoch keys for an evaluation, refused if the epoch was retired or
// revoked since the call was admitted. The caller releases the keys.
func useKeys(c *matchCall) error {
	if err := c.keys.use(); err != nil {
		return wire.Refuse(codes.FailedPrecondition, audit.RefusedRevokedEpoch, "the epoch was revoked or retired during the query", err)
	}
	return nil
}

// checkEpoch refuses the call if the templates it is to be scored against are protected under
// another epoch than its own: the gallery was re-protected since the call was admitted.
func checkEpoch(c *matchCall, epoch uint64) error {
	if epoch != c.keys.epoch {
		return wire.Precondition("the gallery was re-protected under a new epoch during the query", fmt.Errorf("gallery epoch %d, query epoch %d", epoch, c.keys.epoch))
	}
	return nil
}

// hookFunc observes a named point of the node's work: a call being served ("opened", "admitted",
// "reserved", "evaluate", "evaluated", and "finished" once it is recorded and no longer counted),
// a gallery re-protected under a new epoch ("re-protected"), a querier's halt stored in the
// state file ("halted"), a round of pruning ("pruning"), a flush of the stranger gate's refusal
// counts, taken and not yet recorded ("refusals-flushing"), a ceremony round waiting for a key
// share's chunks, its ceremony's lock held ("share-awaited"), a prepared epoch its initiator has not
// decided ("undecided") or has not decided for too long, discarded ("prepared-discarded"), or
// Serve's stop ("stopping").
type hookFunc = func(ctx context.Context, point string, err error)

// testHook calls the node's hook, which only this package's tests set (Node.hook), each on its
// own node, so that tests that use it can run in parallel.
func (n *Node) testHook(ctx context.Context, point string, err error) {
	if f := n.hook.Load(); f != nil {
		(*f)(ctx, point, err)
	}
}

// packReference packs the one template a Verify compares with, and returns its epoch.
func (n *Node) packReference(p *partner, g *galleryLink, label string) (*he.Gallery, uint64, error) {
	labels, err := g.labels.Get()
	if err != nil {
		return nil, 0, err
	}
	ref, ok := labels[label]
	if !ok {
		return nil, 0, wire.Refuse(codes.NotFound, audit.RefusedInvalid, "no such reference", nil)
	}
	rec, err := g.store.Get(ref)
	if err != nil {
		return nil, 0, err
	}
	defer clear(rec.Template)
	hg, err := he.Pack(p.ps, len(rec.Template), [][]float64{rec.Template}, he.PackOptions{MemoryBudget: -1})
	return hg, rec.Epoch, err
}

// respondMatch audits the answer, then signs it with the head of the log (the answer's record)
// and sends it with the garbled circuit (round 1). An answer whose audit record cannot be written
// is not sent; nor is one whose epoch was revoked or retired while it was computed.
func (n *Node) respondMatch(ctx context.Context, s matchStream, c *matchCall, ans, gc []byte) *Error {
	if e := stillServed(c); e != nil {
		n.finishMatch(ctx, c, e)
		return e
	}
	ps := c.keys.ps.Name()
	result := &pb.MatchResult{Objects: []*pb.HEObject{
		wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_ANSWER, ps, ans),
		wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_GARBLED_CIRCUIT, ps, gc),
	}}
	if e := n.finishMatch(ctx, c, nil); e != nil {
		return e
	}
	crashPoint("responder-recorded")
	hash, err := c.record.Hash()
	if err != nil {
		return wire.Internal(err)
	}
	head := audit.Head{Seq: c.record.Seq, Hash: hash}
	rh, sig, err := wire.SignResponseWithHead(c.open.header, result, n.signer, n.now(), &head)
	if err != nil {
		// Recorded as answered, never sent: the quota stays spent, which errs on the safe side.
		n.log.Error("answer recorded but not signed", "request", c.rid, "err", err)
		return wire.Internal(err)
	}
	if err := s.sendOpen(&pb.MatchResponseOpen{Header: rh, Result: result, Signature: sig}); err != nil {
		return wire.AsError(ctx, err)
	}
	sent, err := wire.SendObjects(s.sendChunk, ans, gc)
	n.met.traffic(c.p.name, sent, 0)
	if err != nil {
		return wire.AsError(ctx, err)
	}
	return nil
}

// finishMatch writes the call's audit record, logs it and counts it. e == nil means answered. A
// refusal past the partner's refusals recorded one by one in the interval, of a call not recorded
// as pending, is counted for the partner's summary instead (refusals.go).
// A refused or failed call gives its quota reservation back (its nonce stays used). It returns an error only when an answer could
// not be audited (the answer is then withheld).
func (n *Node) finishMatch(ctx context.Context, c *matchCall, e *Error) *Error {
	c.done = true
	p := c.p
	h := (*pb.RequestHeader)(nil)
	if c.open != nil {
		h = c.open.header
	}
	method := methodName(c.method)
	if e != nil {
		// Refused or failed, the query returns nothing: give back its reservation, if it made
		// one (a refusal after commitMatch, such as a gallery re-protected in the meantime).
		if err := n.state.release(c.ticket); err != nil {
			n.log.Error("quota reservation not released", "partner", p.name, "err", err)
		}
	}
	ev := audit.Event{Partner: p.name, Role: audit.RoleResponder, Purpose: purposeOf(h)}
	if h != nil {
		ev.Epoch = h.KeyEpoch
	}
	outcome := "answered"
	switch {
	case e != nil && e.Refusal != "":
		outcome = "refused"
		ev.Outcome, ev.Refusal = audit.OutcomeRefused, e.Refusal
		if e.Code == codes.ResourceExhausted {
			n.met.quotaRefuse.WithLabelValues(p.name).Inc()
		}
	case e != nil:
		outcome = "failed"
		ev.Outcome = audit.OutcomeFailed
	default:
		ev.Outcome, ev.Decision = audit.OutcomeAnswered, audit.DecisionNotKnown
	}
	elapsed := n.now().Sub(c.start)
	n.met.query(p.name, method, "responder", outcome, elapsed)
	if outcome == "refused" && !n.refusalRecorded(p, c.method, e, c.pending) {
		return nil // counted for the partner's summary (refusals.go)
	}
	rid := c.rid
	if rid == "" {
		rid = n.requestIDOf(nil)
	}
	ev.RequestID = rid
	rec, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindQuery, ev)
	if err != nil {
		n.log.Error("audit record not written", "request", rid, "err", err)
		if e == nil {
			n.state.release(c.ticket)
			return wire.Internal(fmt.Errorf("audit: %w", err))
		}
	}
	c.record = rec
	switch outcome {
	case "refused":
		n.log.Info("refused", "partner", p.name, "method", method, "request", rid, "code", e.Code.String(), "reason", e.Error())
	case "failed":
		n.log.Warn("failed", "partner", p.name, "method", method, "request", rid, "code", e.Code.String(), "reason", e.Error())
	default:
		n.log.Info("answered", "partner", p.name, "method", method, "request", rid, "epoch", ev.Epoch, "elapsed", elapsed)
	}
	return nil
}

// purposeOf is the purpose code an audit record gives a request: the header's, or "unknown"
// when there is no header or its purpose is not one the audit log accepts.
func purposeOf(h *pb.RequestHeader) string {
	if h == nil || !audit.ValidPurpose(h.PurposeCode) {
		return "unknown"
	}
	return h.PurposeCode
}

func headerID(h *pb.RequestHeader) []byte {
	if h == nil {
		return nil
	}
	return h.RequestId
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
