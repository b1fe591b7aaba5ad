package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/protect"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// Probe is what a query searches for: raw features, which the node protects with the agreement's
// current transform, or an already protected template (from Protect) with the epoch it was
// protected under. Exactly one of Raw and Protected is set. A protected template of another
// epoch than the agreement's current one (revoked, or superseded) is refused before anything is
// sent or counted: under the current epoch it could match nothing.
type Probe struct {
	Raw       []float64
	Protected []float64
	Epoch     uint64 `json:",omitempty"` // the epoch Protected was protected under
}

// Result is what this node learns from one Search or Verify: the decision and nothing else about
// the partner's gallery, plus what the query cost.
type Result struct {
	Hit       bool
	RequestID string
	Epoch     uint64
	Elapsed   time.Duration
	BytesSent int64 // HE object bytes sent (the probe and the transfer request)
	BytesRecv int64 // HE object bytes received (the answer, the garbled circuit and the transfer)
}

// Search asks the partner whether the probe's subject is in its gallery (1:N).
func (n *Node) Search(ctx context.Context, partnerName string, probe Probe, purpose string) (*Result, error) {
	return n.query(ctx, partnerName, pb.MatchService_Search_FullMethodName, "", probe, purpose)
}

// Verify asks the partner whether the probe's subject is the one it enrolled under reference
// (1:1), a label the partner gave this agency.
func (n *Node) Verify(ctx context.Context, partnerName, reference string, probe Probe, purpose string) (*Result, error) {
	if reference == "" || len(reference) > wire.MaxNameLen {
		return nil, fmt.Errorf("protocol: verify: reference must be 1 to %d bytes", wire.MaxNameLen)
	}
	return n.query(ctx, partnerName, pb.MatchService_Verify_FullMethodName, reference, probe, purpose)
}

// clientStream is the part of a Search or Verify client stream the querier uses.
type clientStream interface {
	sendOpen(h *pb.RequestHeader, sig []byte) error
	sendChunk(*pb.Chunk) error
	sendOpening(*pb.OpeningOpen) error
	CloseSend() error
	recv() (*pb.MatchResponseOpen, *pb.Chunk, error)
}

type searchClient struct {
	pb.MatchService_SearchClient
	payload *pb.SearchPayload
}

func (s searchClient) sendOpen(h *pb.RequestHeader, sig []byte) error {
	return s.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: h, Payload: s.payload, Signature: sig}}})
}

func (s searchClient) sendChunk(c *pb.Chunk) error {
	return s.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}})
}

func (s searchClient) sendOpening(o *pb.OpeningOpen) error {
	return s.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Opening{Opening: o}})
}

func (s searchClient) recv() (*pb.MatchResponseOpen, *pb.Chunk, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, nil, err
	}
	return m.GetOpen(), m.GetChunk(), nil
}

type verifyClient struct {
	pb.MatchService_VerifyClient
	payload *pb.VerifyPayload
}

func (s verifyClient) sendOpen(h *pb.RequestHeader, sig []byte) error {
	return s.Send(&pb.VerifyRequest{Part: &pb.VerifyRequest_Open{Open: &pb.VerifyOpen{Header: h, Payload: s.payload, Signature: sig}}})
}

func (s verifyClient) sendChunk(c *pb.Chunk) error {
	return s.Send(&pb.VerifyRequest{Part: &pb.VerifyRequest_Chunk{Chunk: c}})
}

func (s verifyClient) sendOpening(o *pb.OpeningOpen) error {
	return s.Send(&pb.VerifyRequest{Part: &pb.VerifyRequest_Opening{Opening: o}})
}

func (s verifyClient) recv() (*pb.MatchResponseOpen, *pb.Chunk, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, nil, err
	}
	return m.GetOpen(), m.GetChunk(), nil
}

// queryCall is one Search or Verify on the querier's side, from its checks to its audit record:
// what the steps of the call share (the responder's side is matchCall).
type queryCall struct {
	p         *partner
	keys      *epochKeys
	method    string            // the full gRPC method
	reference string            // Verify's reference to the enrolled subject
	header    *pb.RequestHeader // round 1's signed header: its request ID names the call
	query     *he.Query         // the encrypted probe
	probe     []byte            // its bytes, as sent
	stream    clientStream      // set once the call is open
	res       *Result           // what the operator is told: sizes, request ID, epoch
	hit       bool              // the decision, once the opening has run
	witness   *audit.Witness    // the responder's signed audit head from round 1
}

// query runs one Search or Verify as the querier and audits it with the decision.
func (n *Node) query(ctx context.Context, partnerName, method, reference string, probe Probe, purpose string) (*Result, error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := checkHalt(p); err != nil {
		return nil, err
	}
	if purpose == "" {
		purpose = p.cfg.Purposes[0]
	}
	if !contains(p.cfg.Purposes, purpose) {
		return nil, fmt.Errorf("protocol: purpose %q is not one of the agreement's %v", purpose, p.cfg.Purposes)
	}
	k, err := p.current()
	if err != nil {
		return nil, err
	}
	if probe.Protected != nil && probe.Epoch != k.epoch {
		return nil, staleProbe(p, probe.Epoch, k.epoch)
	}
	start := n.now()
	res := &Result{Epoch: k.epoch}
	c := &queryCall{p: p, keys: k, method: method, reference: reference, res: res}
	if c.query, c.probe, err = n.encryptProbe(k, probe); err != nil {
		return nil, err
	}
	h, err := wire.NewRequestHeader(n.rand, n.now(), n.name, p.name, p.cfg.Agreement, method)
	if err != nil {
		return nil, err
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = k.epoch, k.ps.Name(), purpose
	c.header = h
	res.RequestID = hex.EncodeToString(h.RequestId)
	// The request ID is fixed and recorded as pending before the first byte is sent.
	if _, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindQuery, audit.Event{Partner: p.name, Role: audit.RoleQuerier,
		Purpose: purpose, RequestID: res.RequestID, Outcome: audit.OutcomePending, Epoch: k.epoch}); err != nil {
		return nil, fmt.Errorf("protocol: query %s not recorded, not sent: %w", res.RequestID, err)
	}
	err = n.exchange(ctx, c)
	res.Elapsed = n.now().Sub(start)
	n.met.traffic(p.name, res.BytesSent, res.BytesRecv)
	if aerr := n.auditQuery(ctx, c, err); aerr != nil {
		return nil, errors.Join(aerr, err) // the query's own error too: ErrDeviated, ErrHalted
	}
	crashPoint("querier-recorded")
	if err != nil {
		return nil, err
	}
	res.Hit = c.hit
	n.met.decision(p.name, methodName(method), c.hit)
	n.met.query(p.name, methodName(method), "querier", "answered", res.Elapsed)
	// The decision goes to the caller and the signed audit log only: the ordinary log is shipped
	// and read more widely (TestDecisionNotLogged).
	n.log.Info("answered", "partner", p.name, "method", methodName(method), "request", res.RequestID, "elapsed", res.Elapsed)
	return res, nil
}

// staleProbe refuses a protected probe of another epoch than the current one.
func staleProbe(p *partner, made, cur uint64) error {
	if made == 0 {
		return fmt.Errorf("%w: the protected probe names no epoch; the agreement with %s is at epoch %d: protect the raw features again (puente protect)", ErrPrecondition, p.name, cur)
	}
	return fmt.Errorf("%w: the protected probe was made under epoch %d, and the agreement with %s is at epoch %d (epoch %d was revoked or superseded): protect the raw features again (puente protect)",
		ErrPrecondition, made, p.name, cur, made)
}

// encryptProbe protects (unless already protected) and encrypts the probe, holding the epoch's
// keys for that computation only.
func (n *Node) encryptProbe(k *epochKeys, probe Probe) (*he.Query, []byte, error) {
	v := probe.Protected
	if (probe.Raw == nil) == (probe.Protected == nil) {
		return nil, nil, wire.Invalid("give either raw features or a protected template", nil)
	}
	if err := k.use(); err != nil {
		return nil, nil, err
	}
	defer k.release()
	if probe.Raw != nil {
		v = make([]float64, k.transform.OutputDim())
		if err := k.transform.Apply(v, probe.Raw); err != nil {
			// The probe's own fault (a zero vector, a wrong dimension): ErrInvalid, so that a
			// batch skips this probe and goes on with the next.
			if errors.Is(err, protect.ErrInput) {
				return nil, nil, wire.Invalid("probe", err)
			}
			return nil, nil, fmt.Errorf("protocol: probe: %w", err)
		}
		defer clear(v)
	}
	q, err := k.querier.EncryptProbe(v, n.rand)
	if err != nil {
		if errors.Is(err, he.ErrBadTemplate) {
			return nil, nil, wire.Invalid("probe", err)
		}
		return nil, nil, fmt.Errorf("protocol: probe: %w", err)
	}
	qb, err := q.MarshalBinary()
	return q, qb, err
}

// exchange sends the signed request and the probe, receives and checks the answer, and runs
// the opening (the second round) that turns it into the decision: c.hit, with the responder's
// witnessed audit head in c.witness.
func (n *Node) exchange(ctx context.Context, c *queryCall) error {
	p, k := c.p, c.keys
	method := methodName(c.method)
	conn, err := n.client(ctx, p)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(withRequestID(ctx, c.res.RequestID))
	defer cancel()
	probe := wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, k.ps.Name(), c.probe)
	var payload proto.Message
	var st grpc.ClientStream
	mc := pb.NewMatchServiceClient(conn)
	if c.method == pb.MatchService_Search_FullMethodName {
		pl := &pb.SearchPayload{Probe: probe}
		sc, err := mc.Search(cctx)
		if err != nil {
			return wire.Remote(p.name, method, err)
		}
		c.stream, payload, st = searchClient{sc, pl}, pl, sc
	} else {
		pl := &pb.VerifyPayload{Reference: c.reference, Probe: probe}
		vc, err := mc.Verify(cctx)
		if err != nil {
			return wire.Remote(p.name, method, err)
		}
		c.stream, payload, st = verifyClient{vc, pl}, pl, vc
	}
	// The responder confirms the request ID once it has recorded the call as pending; nothing
	// is sent before. (Headers without it: the call was refused; recv gives the status.)
	if _, err := st.Header(); err != nil {
		return wire.Remote(p.name, method, err)
	}
	crashPoint("querier-stream-opened")
	sig, err := wire.SignRequest(c.header, payload, n.signer)
	if err != nil {
		return err
	}
	if err := checkHalt(p); err != nil { // another query's answer did not open meanwhile
		return err
	}
	if err := c.stream.sendOpen(c.header, sig); err != nil && err != io.EOF {
		return wire.Remote(p.name, method, err)
	}
	// A send fails with io.EOF when the server has ended the call; its status comes with recv.
	c.res.BytesSent, err = wire.SendObjects(c.stream.sendChunk, c.probe)
	if err != nil && err != io.EOF {
		return wire.Remote(p.name, method, err)
	}
	crashPoint("querier-sent")
	objs, open, err := n.receiveObjects(c, c.header, []pb.HEObjectKind{pb.HEObjectKind_HE_OBJECT_KIND_ANSWER, pb.HEObjectKind_HE_OBJECT_KIND_GARBLED_CIRCUIT})
	if err != nil {
		return err
	}
	if c.witness, err = witnessOf(open.Header, p.name, p.card.Keyring); err != nil {
		return fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	c.res.BytesRecv = int64(len(objs[0]) + len(objs[1]))
	c.hit, err = n.clientOpening(cctx, c, objs[0], objs[1])
	return err
}

// receiveObjects receives the partner's signed open message of one round of c, answering the
// request h, and the bytes of the objects it describes, which must be of the given kinds in
// order.
func (n *Node) receiveObjects(c *queryCall, h *pb.RequestHeader, kinds []pb.HEObjectKind) ([][]byte, *pb.MatchResponseOpen, error) {
	p, k, cs := c.p, c.keys, c.stream
	method := methodName(h.Method)
	open, _, err := cs.recv()
	if err != nil {
		return nil, nil, wire.Remote(p.name, method, err)
	}
	if open == nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: the answer does not start with an open message", p.name)
	}
	if open.Result == nil {
		open.Result = &pb.MatchResult{}
	}
	if err := wire.VerifyResponse(open.Header, open.Result, open.Signature, wire.ResponseCheck{Req: h, Partner: p.name, Ring: p.card.Keyring}); err != nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	rules := make([]wire.ObjectRule, len(kinds))
	for i, kind := range kinds {
		rules[i] = wire.ObjectRule{Kind: kind, ParamSet: k.ps.Name(), Limit: objectLimit(k.ps, kind)}
	}
	if err := wire.CheckDescriptors(open.Result.Objects, rules); err != nil {
		return nil, nil, fmt.Errorf("protocol: partner %s: %w", p.name, err)
	}
	next := func() (*pb.Chunk, error) {
		_, c, err := cs.recv()
		return c, err
	}
	last := kinds[len(kinds)-1] == pb.HEObjectKind_HE_OBJECT_KIND_TRANSFER_ANSWER
	objs, err := wire.ReceiveObjects(context.Background(), next, open.Result.Objects, last)
	if err != nil {
		return nil, nil, wire.Remote(p.name, method, err)
	}
	return objs, open, nil
}

// auditQuery records the querier's side of a query: the decision, or the refusal or failure.
func (n *Node) auditQuery(ctx context.Context, c *queryCall, qerr error) error {
	p, method, h := c.p, c.method, c.header
	ev := audit.Event{Partner: p.name, Role: audit.RoleQuerier, Purpose: h.PurposeCode, RequestID: hex.EncodeToString(h.RequestId), Epoch: h.KeyEpoch}
	var re *RemoteError
	switch {
	case qerr == nil:
		ev.Outcome, ev.Decision, ev.Witness = audit.OutcomeAnswered, audit.DecisionNoHit, c.witness
		if c.hit {
			ev.Decision = audit.DecisionHit
		}
	case errors.Is(qerr, ErrDeviated):
		ev.Outcome = audit.OutcomeDeviated
		n.met.query(p.name, methodName(method), "querier", "deviated", 0)
	case errors.As(qerr, &re) && refusalCode(re):
		ev.Outcome, ev.Refusal = audit.OutcomeRefused, wire.RefusalOf(re.Code)
		n.met.query(p.name, methodName(method), "querier", "refused", 0)
	default:
		ev.Outcome = audit.OutcomeFailed
		n.met.query(p.name, methodName(method), "querier", "failed", 0)
	}
	if _, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindQuery, ev); err != nil {
		return fmt.Errorf("protocol: query %s not audited: %w", ev.RequestID, err)
	}
	return nil
}

// refusalCode reports whether the partner's status is a refusal (rather than a failure).
func refusalCode(re *RemoteError) bool {
	switch re.Code {
	case codes.InvalidArgument, codes.NotFound, codes.PermissionDenied, codes.ResourceExhausted,
		codes.FailedPrecondition, codes.Unauthenticated:
		return true
	}
	return false
}
