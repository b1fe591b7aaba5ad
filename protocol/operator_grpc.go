package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/puente-id/puente/protocol/wire"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// The operator API is a gRPC service over the node's unix socket: one unary method per
// operation of Operator, whose request and reply are JSON objects (adminRequest, adminReply)
// carried by a JSON codec. A failure is a gRPC status with the partner API's codes (Error,
// sentinelOf), the whole message and, in a errdetails.DebugInfo, the messages of its cause
// chain (Causes), so that the operator's client rebuilds an error that errors.Is finds the
// same sentinel in and whose causes `puente -v` prints, as when the node runs in process.
// The socket is the node's user's alone (mode 0600), so the operator sees the internal
// causes the partner never does.

// operatorService is the operator API's gRPC service name.
const operatorService = "puente.operator.v1.OperatorService"

// adminOps are the operations of the operator API: the name the request checks use and the
// gRPC method.
var adminOps = []struct{ name, method string }{
	{"ceremony", "Ceremony"},
	{"revoke", "Revoke"},
	{"enrol", "Enrol"},
	{"references", "References"},
	{"protect", "Protect"},
	{"search", "Search"},
	{"verify", "Verify"},
	{"status", "Status"},
	{"keys", "Keys"},
	{"gallery-verify", "GalleryVerify"},
	{"audit-prune", "AuditPrune"},
}

// adminMethod returns the full gRPC method of operation name.
func adminMethod(name string) string {
	for _, o := range adminOps {
		if o.name == name {
			return "/" + operatorService + "/" + o.method
		}
	}
	return ""
}

// adminRequest is the request of every operation; each uses the fields it needs.
type adminRequest struct {
	// TimeoutMS is the operator's deadline for the operation, in milliseconds (0: none but the
	// node's own).
	TimeoutMS int64         `json:"timeout_ms,omitempty"`
	Partner   string        `json:"partner,omitempty"`
	Epoch     uint64        `json:"epoch,omitempty"`
	Refs      []string      `json:"refs,omitempty"`
	Raw32     [][]float32   `json:"raw32,omitempty"`
	Raw       [][]float64   `json:"raw,omitempty"`
	Probe     *Probe        `json:"probe,omitempty"`
	Reference string        `json:"reference,omitempty"`
	Purpose   string        `json:"purpose,omitempty"`
	Enrol     *EnrolOptions `json:"enrol,omitempty"`
	Key       *KeyRequest   `json:"key,omitempty"`
}

// adminReply is the reply of every operation; each fills the fields it answers with.
type adminReply struct {
	Ceremony  *CeremonyReport `json:"ceremony,omitempty"`
	Enrol     *EnrolReport    `json:"enrol,omitempty"`
	Labels    []string        `json:"labels,omitempty"`
	Protected [][]float64     `json:"protected,omitempty"`
	Epoch     uint64          `json:"epoch,omitempty"`
	Result    *Result         `json:"result,omitempty"`
	Status    *Status         `json:"status,omitempty"`
	Key       *KeyReport      `json:"key,omitempty"`
	Gallery   *GalleryReport  `json:"gallery,omitempty"`
	Prune     *PruneReport    `json:"prune,omitempty"`
}

// rawMessage is a message the codec passes through as it is: the server reads a request's
// bytes itself (parseAdminRequest) so that it checks them strictly.
type rawMessage []byte

// jsonCodec is the operator API's codec: JSON, and rawMessage as it is.
type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	if r, ok := v.(*rawMessage); ok {
		return *r, nil
	}
	return json.Marshal(v)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if r, ok := v.(*rawMessage); ok {
		*r = append((*r)[:0], data...)
		return nil
	}
	return json.Unmarshal(data, v)
}

// adminGrace is how long past the operator's deadline a client waits for the node's answer.
const adminGrace = 10 * time.Second

// maxAdminRequest bounds an admin request or reply (an enrolment of a few hundred thousand
// vectors).
const maxAdminRequest = 512 << 20

// ServeAdmin serves the operator API on the unix socket at path (mode 0600 in a 0700
// directory: only this node's user may connect) until ctx ends; calls in flight then get the
// node's shutdown grace to finish.
func (n *Node) ServeAdmin(ctx context.Context, path string) error {
	lis, err := ListenAdmin(path)
	if err != nil {
		return err
	}
	return n.ServeAdminOn(ctx, lis)
}

// ListenAdmin makes the operator socket at path (mode 0600), replacing one a node that died left
// behind; once it returns, operator commands can connect (ServeAdminOn answers them).
func ListenAdmin(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	os.Remove(path) // a socket left by a node that died; the home's lock (run/node.lock) proves none runs
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("protocol: admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, err
	}
	return lis, nil
}

// ServeAdminOn is ServeAdmin on a socket ListenAdmin made; it closes lis when it returns.
func (n *Node) ServeAdminOn(ctx context.Context, lis net.Listener) error {
	srv := newAdminServer(n)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		graceful := make(chan struct{})
		go func() { srv.GracefulStop(); close(graceful) }()
		t := time.NewTimer(n.grace)
		defer t.Stop()
		select {
		case <-graceful:
		case <-t.C:
			srv.Stop()
		}
	}()
	err := srv.Serve(lis)
	if ctx.Err() != nil {
		<-stopped
		return nil
	}
	return err
}

// newAdminServer returns a gRPC server of the operator API for op.
func newAdminServer(op Operator) *grpc.Server {
	srv := grpc.NewServer(grpc.ForceServerCodec(jsonCodec{}), grpc.MaxRecvMsgSize(maxAdminRequest), grpc.MaxSendMsgSize(maxAdminRequest))
	desc := grpc.ServiceDesc{ServiceName: operatorService, HandlerType: (*any)(nil)}
	for _, o := range adminOps {
		name := o.name
		desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: o.method,
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var body rawMessage
				if err := dec(&body); err != nil {
					return nil, operatorStatus(&Error{Code: codes.InvalidArgument, Safe: "admin: " + name + ": unreadable request", Err: err})
				}
				rep, err := serveAdminCall(ctx, op, name, body)
				if err != nil {
					return nil, operatorStatus(err)
				}
				return rep, nil
			}})
	}
	srv.RegisterService(&desc, op)
	return srv
}

// serveAdminCall parses one request of operation name and runs it with op: a request that does
// not parse (parseAdminRequest) fails with InvalidArgument and reaches no operation; a panic
// fails with Internal (the node goes on serving).
func serveAdminCall(ctx context.Context, op Operator, name string, body []byte) (rep *adminReply, err error) {
	req, err := parseAdminRequest(name, body)
	if err != nil {
		return nil, &Error{Code: codes.InvalidArgument, Safe: "admin: refused", Err: err}
	}
	defer func() {
		if p := recover(); p != nil {
			rep, err = nil, &Error{Code: codes.Internal, Safe: "admin: " + name + " failed inside the node", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	if req.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	return runAdmin(ctx, op, name, req)
}

// runAdmin runs one admin operation.
func runAdmin(ctx context.Context, op Operator, name string, req *adminRequest) (*adminReply, error) {
	rep := new(adminReply)
	var err error
	switch name {
	case "ceremony":
		rep.Ceremony, err = op.Ceremony(ctx, req.Partner, req.Epoch)
	case "revoke":
		rep.Ceremony, err = op.Revoke(ctx, req.Partner)
	case "enrol":
		var o EnrolOptions
		if req.Enrol != nil {
			o = *req.Enrol
		}
		rep.Enrol, err = op.Enrol(ctx, req.Partner, req.Refs, req.Raw32, o)
	case "references":
		rep.Labels, err = op.References(ctx, req.Partner, req.Refs)
	case "protect":
		rep.Protected, rep.Epoch, err = op.Protect(ctx, req.Partner, req.Raw)
	case "search":
		rep.Result, err = op.Search(ctx, req.Partner, *req.Probe, req.Purpose)
	case "verify":
		rep.Result, err = op.Verify(ctx, req.Partner, req.Reference, *req.Probe, req.Purpose)
	case "status":
		rep.Status, err = op.Status(ctx)
	case "keys":
		rep.Key, err = op.Keys(ctx, *req.Key)
	case "gallery-verify":
		rep.Gallery, err = op.VerifyGallery(ctx, req.Partner)
	case "audit-prune":
		rep.Prune, err = op.PruneAudit(ctx)
	default:
		return nil, fmt.Errorf("protocol: admin: no operation %q", name)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// operatorCode is the status code of an operation's error: the code of the refusal it wraps, or of
// the first of the package's sentinels it wraps, or of the context error; Unknown otherwise.
func operatorCode(err error) codes.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	for _, c := range []codes.Code{codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied,
		codes.ResourceExhausted, codes.FailedPrecondition, codes.NotFound, codes.DeadlineExceeded, codes.Internal} {
		if errors.Is(err, wire.SentinelOf(c)) {
			return c
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}

// operatorStatus is the status the operator API answers err with: its code, its whole message,
// its cause chain and the package's sentinels it wraps.
func operatorStatus(err error) error {
	st := status.New(operatorCode(err), err.Error())
	var is []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			is = append(is, s.name)
		}
	}
	if d, derr := st.WithDetails(&errdetails.DebugInfo{Detail: causeChainDetail, StackEntries: Causes(err)},
		&errdetails.ErrorInfo{Reason: "OPERATION_FAILED", Domain: "puente", Metadata: map[string]string{"sentinels": strings.Join(is, ",")}}); derr == nil {
		st = d
	}
	return st.Err()
}

// causeChainDetail marks the DebugInfo of an operator API failure: a status without it did
// not come from the node's operation (the socket, the transport).
const causeChainDetail = "puente: cause chain"

// maxCauses bounds the cause chain sent and printed.
const maxCauses = 32

// Causes returns the messages of err's causes, outermost first, without err's own and without
// this package's sentinels (which the status code carries). Where an error wraps several (an
// *Error wraps its code's sentinel and its cause), the chain follows the last that is not a
// sentinel.
func Causes(err error) []string {
	var out []string
	for e := nextCause(err); e != nil && len(out) < maxCauses; e = nextCause(e) {
		if !isSentinel(e) {
			out = append(out, e.Error())
		}
	}
	return out
}

func nextCause(err error) error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		es := u.Unwrap()
		for i := len(es) - 1; i >= 0; i-- {
			if es[i] != nil && !isSentinel(es[i]) {
				return es[i]
			}
		}
		if len(es) > 0 {
			return es[0]
		}
	}
	return nil
}

// sentinels are the package's errors, by the names the operator API sends them under.
var sentinels = []struct {
	name string
	err  error
}{
	{"unauthenticated", ErrUnauthenticated}, {"replay", ErrReplay}, {"permission", ErrPermission},
	{"invalid", ErrInvalid}, {"quota", ErrQuota}, {"precondition", ErrPrecondition}, {"not-found", ErrNotFound},
	{"deadline", ErrDeadline}, {"internal", ErrInternal}, {"deviated", ErrDeviated},
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s.err {
			return true
		}
	}
	return false
}

// OperatorError is an operation's failure as the operator's client receives it from the
// running node: the message the node's error had, its cause chain (Unwrap, one message per
// link), and the package's sentinels it wrapped (Is), so that errors.Is(err, ErrInvalid) holds
// over the socket as in process.
type OperatorError struct {
	Code codes.Code
	Msg  string
	is   []error
	next error
}

func (e *OperatorError) Error() string { return e.Msg }

// Unwrap returns the first cause.
func (e *OperatorError) Unwrap() error { return e.next }

// Is reports whether the node's error wrapped target, one of the package's sentinels.
func (e *OperatorError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// causeLink is one link of an OperatorError's chain.
type causeLink struct {
	msg  string
	next error
}

func (l *causeLink) Error() string { return l.msg }
func (l *causeLink) Unwrap() error { return l.next }

// fromOperatorStatus rebuilds the error of a failed operator call.
func fromOperatorStatus(path string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("protocol: node at %s: %w", path, err)
	}
	var causes []string
	var is []error
	fromNode := false
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.DebugInfo:
			if d.Detail == causeChainDetail {
				causes, fromNode = d.StackEntries, true
			}
		case *errdetails.ErrorInfo:
			for _, name := range strings.Split(d.Metadata["sentinels"], ",") {
				for _, s := range sentinels {
					if s.name == name {
						is = append(is, s.err)
					}
				}
			}
		}
	}
	if !fromNode {
		// The call failed on its way (the socket, the transport), not in the node's operation.
		return &OperatorError{Code: st.Code(), Msg: fmt.Sprintf("protocol: node at %s: %s (%s)", path, st.Message(), st.Code()),
			is: []error{wire.SentinelOf(st.Code())}}
	}
	var next error
	for i := len(causes) - 1; i >= 0; i-- {
		next = &causeLink{msg: causes[i], next: next}
	}
	return &OperatorError{Code: st.Code(), Msg: st.Message(), is: is, next: next}
}

// AdminClient asks a running node to act, over its operator socket.
type AdminClient struct {
	path string
	conn *grpc.ClientConn
}

// DialAdmin connects to the operator socket at path; it fails when no node serves it. Close
// releases the connection.
func DialAdmin(path string) (*AdminClient, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.Close()
	conn, err := grpc.NewClient("passthrough:///puente-operator",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(jsonCodec{}), grpc.MaxCallRecvMsgSize(maxAdminRequest), grpc.MaxCallSendMsgSize(maxAdminRequest)))
	if err != nil {
		return nil, fmt.Errorf("protocol: node at %s: %w", path, err)
	}
	return &AdminClient{path: path, conn: conn}, nil
}

// Close closes the connection to the node.
func (c *AdminClient) Close() error { return c.conn.Close() }

func (c *AdminClient) call(ctx context.Context, op string, req adminRequest) (*adminReply, error) {
	if dl, ok := ctx.Deadline(); ok {
		// The node keeps the operator's deadline and answers when it passes (DeadlineExceeded
		// from the partner call it stopped); the client waits a little longer for that answer,
		// and stops at once only if the operator cancels.
		req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
		op := ctx
		hctx, cancel := context.WithDeadline(context.WithoutCancel(op), dl.Add(adminGrace))
		defer cancel()
		stop := context.AfterFunc(op, func() {
			if !errors.Is(op.Err(), context.DeadlineExceeded) {
				cancel()
			}
		})
		defer stop()
		ctx = hctx
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	in := rawMessage(body)
	rep := new(adminReply)
	if err := c.conn.Invoke(ctx, adminMethod(op), &in, rep); err != nil {
		return nil, fromOperatorStatus(c.path, err)
	}
	return rep, nil
}

// Ceremony implements Operator.
func (c *AdminClient) Ceremony(ctx context.Context, partner string, epoch uint64) (*CeremonyReport, error) {
	rep, err := c.call(ctx, "ceremony", adminRequest{Partner: partner, Epoch: epoch})
	if err != nil {
		return nil, err
	}
	return rep.Ceremony, nil
}

// Revoke implements Operator.
func (c *AdminClient) Revoke(ctx context.Context, partner string) (*CeremonyReport, error) {
	rep, err := c.call(ctx, "revoke", adminRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return rep.Ceremony, nil
}

// Enrol implements Operator.
func (c *AdminClient) Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o EnrolOptions) (*EnrolReport, error) {
	rep, err := c.call(ctx, "enrol", adminRequest{Partner: partner, Refs: refs, Raw32: raw, Enrol: &o})
	if err != nil {
		return nil, err
	}
	return rep.Enrol, nil
}

// References implements Operator.
func (c *AdminClient) References(ctx context.Context, partner string, refs []string) ([]string, error) {
	rep, err := c.call(ctx, "references", adminRequest{Partner: partner, Refs: refs})
	if err != nil {
		return nil, err
	}
	return rep.Labels, nil
}

// Protect implements Operator.
func (c *AdminClient) Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error) {
	rep, err := c.call(ctx, "protect", adminRequest{Partner: partner, Raw: raw})
	if err != nil {
		return nil, 0, err
	}
	return rep.Protected, rep.Epoch, nil
}

// Search implements Operator.
func (c *AdminClient) Search(ctx context.Context, partner string, probe Probe, purpose string) (*Result, error) {
	rep, err := c.call(ctx, "search", adminRequest{Partner: partner, Probe: &probe, Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return rep.Result, nil
}

// Verify implements Operator.
func (c *AdminClient) Verify(ctx context.Context, partner, reference string, probe Probe, purpose string) (*Result, error) {
	rep, err := c.call(ctx, "verify", adminRequest{Partner: partner, Reference: reference, Probe: &probe, Purpose: purpose})
	if err != nil {
		return nil, err
	}
	return rep.Result, nil
}

// Status implements Operator.
func (c *AdminClient) Status(ctx context.Context) (*Status, error) {
	rep, err := c.call(ctx, "status", adminRequest{})
	if err != nil {
		return nil, err
	}
	return rep.Status, nil
}

// Keys implements Operator.
func (c *AdminClient) Keys(ctx context.Context, req KeyRequest) (*KeyReport, error) {
	rep, err := c.call(ctx, "keys", adminRequest{Key: &req})
	if err != nil {
		return nil, err
	}
	return rep.Key, nil
}

// VerifyGallery implements Operator.
func (c *AdminClient) VerifyGallery(ctx context.Context, partner string) (*GalleryReport, error) {
	rep, err := c.call(ctx, "gallery-verify", adminRequest{Partner: partner})
	if err != nil {
		return nil, err
	}
	return rep.Gallery, nil
}

// PruneAudit implements Operator.
func (c *AdminClient) PruneAudit(ctx context.Context) (*PruneReport, error) {
	rep, err := c.call(ctx, "audit-prune", adminRequest{})
	if err != nil {
		return nil, err
	}
	return rep.Prune, nil
}
