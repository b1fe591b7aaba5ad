package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/puente-id/puente/gallery"
	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// checkingOperator is an Operator that fails the test if an operation receives a request
// checkRequest should have refused, and otherwise succeeds.
type checkingOperator struct {
	t     testing.TB
	calls int
}

var _ Operator = (*checkingOperator)(nil)

func (o *checkingOperator) partner(p string) {
	o.calls++
	if p == "" || len(p) > wire.MaxNameLen {
		o.t.Errorf("operation reached with partner %q", p)
	}
}

func (o *checkingOperator) vectors(what string, vs [][]float64) {
	for i, v := range vs {
		if len(v) == 0 {
			o.t.Errorf("%s: empty vector %d reached the operation", what, i)
		}
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				o.t.Errorf("%s: vector %d with a non-finite value reached the operation", what, i)
			}
		}
	}
}

func (o *checkingOperator) probe(p protocol.Probe) {
	if (p.Raw == nil) == (p.Protected == nil) {
		o.t.Errorf("probe with raw %v and protected %v reached the operation", p.Raw != nil, p.Protected != nil)
	}
	o.vectors("probe", [][]float64{append(p.Raw, p.Protected...)})
}

func (o *checkingOperator) refs(refs []string) {
	for _, r := range refs {
		if err := gallery.CheckRef(r); err != nil {
			o.t.Errorf("reference of %d bytes reached the operation: %v", len(r), err)
		}
	}
}

func (o *checkingOperator) Ceremony(_ context.Context, p string, _ uint64) (*protocol.CeremonyReport, error) {
	o.partner(p)
	return &protocol.CeremonyReport{}, nil
}

func (o *checkingOperator) Revoke(_ context.Context, p string) (*protocol.CeremonyReport, error) {
	o.partner(p)
	return &protocol.CeremonyReport{}, nil
}

func (o *checkingOperator) Enrol(_ context.Context, p string, refs []string, raw [][]float32, _ protocol.EnrolOptions) (*protocol.EnrolReport, error) {
	o.partner(p)
	o.refs(refs)
	if len(refs) != len(raw) {
		o.t.Errorf("enrol reached with %d references for %d vectors", len(refs), len(raw))
	}
	for _, v := range raw {
		o.vectors("enrol", [][]float64{f64(v)})
	}
	return &protocol.EnrolReport{Enrolled: len(refs)}, nil
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func (o *checkingOperator) References(_ context.Context, p string, refs []string) ([]string, error) {
	o.partner(p)
	o.refs(refs)
	return refs, nil
}

func (o *checkingOperator) Protect(_ context.Context, p string, raw [][]float64) ([][]float64, uint64, error) {
	o.partner(p)
	o.vectors("protect", raw)
	return raw, 1, nil
}

func (o *checkingOperator) Search(_ context.Context, p string, probe protocol.Probe, _ string) (*protocol.Result, error) {
	o.partner(p)
	o.probe(probe)
	return &protocol.Result{}, nil
}

func (o *checkingOperator) Verify(_ context.Context, p, ref string, probe protocol.Probe, _ string) (*protocol.Result, error) {
	o.partner(p)
	o.probe(probe)
	if ref == "" || len(ref) > wire.MaxNameLen {
		o.t.Errorf("verify reached with a reference of %d bytes", len(ref))
	}
	return &protocol.Result{}, nil
}

func (o *checkingOperator) Status(context.Context) (*protocol.Status, error) {
	o.calls++
	return &protocol.Status{}, nil
}

func (o *checkingOperator) Keys(_ context.Context, req protocol.KeyRequest) (*protocol.KeyReport, error) {
	o.calls++
	if !slices.Contains(protocol.KeyActions, req.Action) {
		o.t.Errorf("key command %q reached the operation", req.Action)
	}
	return &protocol.KeyReport{}, nil
}

func (o *checkingOperator) VerifyGallery(_ context.Context, p string) (*protocol.GalleryReport, error) {
	o.partner(p)
	return &protocol.GalleryReport{}, nil
}

func (o *checkingOperator) PruneAudit(context.Context) (*protocol.PruneReport, error) {
	o.calls++
	return &protocol.PruneReport{}, nil
}

// serveBytes runs body as a request of method through a server of op as gRPC does (the generated
// handler, the codec, the interceptor) and returns the status code and the error.
func serveBytes(op Operator, method string, body []byte) (codes.Code, error) {
	s := &server{op: op, codec: new(codec)}
	for _, m := range pb.OperatorService_ServiceDesc.Methods {
		if m.MethodName == method {
			dec := func(v any) error { return s.codec.Unmarshal(body, v) }
			_, err := m.Handler(s, context.Background(), dec, s.intercept)
			return status.Code(err), err
		}
	}
	return codes.Unimplemented, fmt.Errorf("no method %q", method)
}

// serveRequest runs req through a server of op as gRPC does.
func serveRequest(op Operator, req proto.Message) (codes.Code, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	return serveBytes(op, methodOf(req), body)
}

// methodOf returns the method that takes req.
func methodOf(req proto.Message) string {
	return strings.TrimSuffix(string(req.ProtoReflect().Descriptor().Name()), "Request")
}

func vec(x ...float64) *pb.Vector     { return &pb.Vector{Values: x} }
func vec32(x ...float32) *pb.Vector32 { return &pb.Vector32{Values: x} }

// requestSeeds are requests of the operator API, good and bad, for FuzzRequest's corpus and
// TestRequests: the request, and whether a checking operator answers it (the others are refused
// with InvalidArgument before any operation).
var requestSeeds = []struct {
	req proto.Message
	ok  bool
}{
	{&pb.StatusRequest{}, true},
	{&pb.CeremonyRequest{Partner: "beta", Epoch: 3}, true},
	{&pb.RevokeRequest{Partner: "beta"}, true},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{"s1", "s2"}, Raw: []*pb.Vector32{vec32(0.5, 1), vec32(1, 2)}}, true},
	{&pb.ReferencesRequest{Partner: "beta", Refs: []string{"s1"}}, true},
	{&pb.ProtectRequest{Partner: "beta", Raw: []*pb.Vector{vec(1, 2, 3)}}, true},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec(0.1, 0.2)}, Purpose: "border-screening"}, true},
	{&pb.VerifyRequest{Partner: "beta", Reference: "v1-00", Probe: &pb.Probe{Protected: vec(1, 0)}}, true},
	{&pb.SearchRequest{Partner: "beta"}, false},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{}}, false},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec(1), Protected: vec(1)}}, false},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec()}}, false},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec(math.NaN())}}, false},
	{&pb.SearchRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec(1)}, Purpose: strings.Repeat("p", wire.MaxPurposeLen+1)}, false},
	{&pb.VerifyRequest{Partner: "beta", Probe: &pb.Probe{Raw: vec(1)}}, false},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{"s1"}}, false},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{"s1"}, Raw: []*pb.Vector32{vec32()}}, false},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{""}, Raw: []*pb.Vector32{vec32(1)}}, false},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{"s"}, Raw: []*pb.Vector32{vec32(float32(math.Inf(1)))}}, false},
	{&pb.EnrolRequest{Partner: "beta", Refs: []string{"case\x1b"}, Raw: []*pb.Vector32{vec32(1)}}, false},
	{&pb.ProtectRequest{Partner: "beta", Raw: []*pb.Vector{vec(math.Inf(-1))}}, false},
	{&pb.ProtectRequest{Partner: "beta", Raw: []*pb.Vector{{}}}, false},
	{&pb.ReferencesRequest{Partner: "beta", Refs: []string{"s1", ""}}, false},
	{&pb.ReferencesRequest{Partner: "beta", Refs: []string{"\ufffd-9"}}, false},
	{&pb.ReferencesRequest{Partner: "beta", Refs: []string{"case\t9"}}, false},
	{&pb.ReferencesRequest{Partner: "beta"}, true},
	{&pb.CeremonyRequest{}, false},
	{&pb.CeremonyRequest{Partner: strings.Repeat("b", wire.MaxNameLen+1)}, false},
	{&pb.KeysRequest{Action: "rotate", Overlap: durationpb.New(0)}, true},
	{&pb.KeysRequest{Action: "epoch-revoke", Agreement: "ab", Epoch: 1}, true},
	{&pb.KeysRequest{Action: "format-disk"}, false},
	{&pb.KeysRequest{}, false},
	{&pb.KeysRequest{Action: "rotate", Overlap: &durationpb.Duration{Seconds: 1, Nanos: -1}}, false},
	{&pb.VerifyGalleryRequest{Partner: "beta"}, true},
	{&pb.VerifyGalleryRequest{}, false},
	{&pb.PruneAuditRequest{}, true},
}

func TestRequests(t *testing.T) {
	t.Parallel()
	for _, s := range requestSeeds {
		op := &checkingOperator{t: t}
		code, err := serveRequest(op, s.req)
		if (code == codes.OK) != s.ok {
			t.Errorf("%T %v: %v (%v), want ok=%v", s.req, s.req, code, err, s.ok)
		}
		if code != codes.OK && (code != codes.InvalidArgument || op.calls != 0) {
			t.Errorf("%T %v: refused with %v (%v) after %d operations; want InvalidArgument before any", s.req, s.req, code, err, op.calls)
		}
	}
}

// TestRequestUnknownFields: a request with a field this build does not know is refused, not
// trimmed.
func TestRequestUnknownFields(t *testing.T) {
	t.Parallel()
	req := &pb.StatusRequest{}
	req.ProtoReflect().SetUnknown([]byte{0x08, 0x01}) // field 1, varint 1
	op := &checkingOperator{t: t}
	if code, err := serveRequest(op, req); code != codes.InvalidArgument || op.calls != 0 {
		t.Errorf("status with an unknown field: %v (%v) after %d operations", code, err, op.calls)
	}
}

// FuzzRequest sends arbitrary bytes to every method of the operator API: no panic, an answer or
// an InvalidArgument refusal, and an operation reached only with a request that checkRequest
// accepts (checkingOperator checks what it receives). A body that decodes as the method's
// request survives re-encoding: the deterministic encoding decodes to an equal message, encodes
// to the same bytes again, and gets the same verdict (status and message) as the body did.
func FuzzRequest(f *testing.F) {
	for _, s := range requestSeeds {
		b, err := proto.Marshal(s.req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(methodOf(s.req), b)
	}
	f.Add("Status", []byte{0x08, 0x01}) // an unknown field, kept by re-encoding and refused again
	f.Fuzz(func(t *testing.T, method string, body []byte) {
		op := &checkingOperator{t: t}
		code, err := serveBytes(op, method, body)
		switch code {
		case codes.Unimplemented:
			return // not a method of the service
		case codes.OK:
			if op.calls != 1 {
				t.Fatalf("answered after %d operations", op.calls)
			}
		case codes.InvalidArgument:
			if op.calls != 0 || !errors.Is(fromStatus("fuzz", err), protocol.ErrInvalid) {
				t.Fatalf("refused (%v) after %d operations", err, op.calls)
			}
		default:
			t.Fatalf("status %v: %v", code, err)
		}
		req := newRequest(t, method)
		if proto.Unmarshal(body, req) != nil {
			return
		}
		det := proto.MarshalOptions{Deterministic: true}
		again, err2 := det.Marshal(req)
		if err2 != nil {
			t.Fatalf("a decoded %s request does not encode: %v", method, err2)
		}
		req2 := newRequest(t, method)
		if err := proto.Unmarshal(again, req2); err != nil || !proto.Equal(req, req2) {
			t.Fatalf("re-encoded %s request decodes to %v (%v), want %v", method, req2, err, req)
		}
		if b, err := det.Marshal(req2); err != nil || !bytes.Equal(b, again) {
			t.Fatalf("the encoding of a %s request is not stable (%v)", method, err)
		}
		op2 := &checkingOperator{t: t}
		code2, err2 := serveBytes(op2, method, again)
		if code2 != code || status.Convert(err2).Message() != status.Convert(err).Message() || op2.calls != op.calls {
			t.Fatalf("re-encoded %s request: %v %v after %d operations; the body got %v %v after %d", method, code2, err2, op2.calls, code, err, op.calls)
		}
	})
}

// newRequest returns an empty request of method, of the type its generated handler decodes.
func newRequest(t *testing.T, method string) proto.Message {
	t.Helper()
	md := pb.File_puente_operator_v1_operator_proto.Services().ByName("OperatorService").Methods().ByName(protoreflect.Name(method))
	if md == nil {
		t.Fatalf("no method %q", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}
