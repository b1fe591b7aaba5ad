//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/protocol/wire"
)

// checkingOperator is an Operator that fails the test if an operation receives a request
// parseAdminRequest should have refused, and otherwise succeeds.
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

func (o *checkingOperator) probe(p Probe) {
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

func (o *checkingOperator) Ceremony(_ context.Context, p string, _ uint64) (*CeremonyReport, error) {
	o.partner(p)
	return &CeremonyReport{}, nil
}

func (o *checkingOperator) Revoke(_ context.Context, p string) (*CeremonyReport, error) {
	o.partner(p)
	return &CeremonyReport{}, nil
}

func (o *checkingOperator) Enrol(_ context.Context, p string, refs []string, raw [][]float32, _ EnrolOptions) (*EnrolReport, error) {
	o.partner(p)
	o.refs(refs)
	if len(refs) != len(raw) {
		o.t.Errorf("enrol reached with %d references for %d vectors", len(refs), len(raw))
	}
	for i, v := range raw {
		if len(v) == 0 {
			o.t.Errorf("enrol: empty vector %d reached the operation", i)
		}
	}
	return &EnrolReport{Enrolled: len(refs)}, nil
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

func (o *checkingOperator) Search(_ context.Context, p string, probe Probe, purpose string) (*Result, error) {
	o.partner(p)
	o.probe(probe)
	return &Result{}, nil
}

func (o *checkingOperator) Verify(_ context.Context, p, ref string, probe Probe, purpose string) (*Result, error) {
	o.partner(p)
	o.probe(probe)
	if ref == "" || len(ref) > wire.MaxNameLen {
		o.t.Errorf("verify reached with a reference of %d bytes", len(ref))
	}
	return &Result{}, nil
}

func (o *checkingOperator) Status(context.Context) (*Status, error) {
	o.calls++
	return &Status{}, nil
}

func (o *checkingOperator) Keys(_ context.Context, req KeyRequest) (*KeyReport, error) {
	o.calls++
	if !contains(KeyActions, req.Action) {
		o.t.Errorf("key command %q reached the operation", req.Action)
	}
	return &KeyReport{}, nil
}

func (o *checkingOperator) VerifyGallery(_ context.Context, p string) (*GalleryReport, error) {
	o.partner(p)
	return &GalleryReport{}, nil
}

func (o *checkingOperator) PruneAudit(context.Context) (*PruneReport, error) {
	o.calls++
	return &PruneReport{}, nil
}

// adminSeeds are requests of the operator API, good and bad, for FuzzAdminRequest's corpus
// and TestAdminRequests: operation, body, and whether a checking operator answers it (the
// others are refused with InvalidArgument before any operation).
var adminSeeds = []struct {
	op, body string
	ok       bool
}{
	{"status", `{}`, true},
	{"ceremony", `{"partner":"beta","epoch":3}`, true},
	{"revoke", `{"partner":"beta"}`, true},
	{"enrol", `{"partner":"beta","refs":["s1","s2"],"raw32":[[0.5,1],[1,2]]}`, true},
	{"references", `{"partner":"beta","refs":["s1"]}`, true},
	{"protect", `{"partner":"beta","raw":[[1,2,3]]}`, true},
	{"search", `{"partner":"beta","probe":{"Raw":[0.1,0.2]},"purpose":"border-screening"}`, true},
	{"verify", `{"partner":"beta","reference":"v1-00","probe":{"Protected":[1,0]}}`, true},
	{"search", `{"partner":"beta"}`, false},
	{"search", `{"partner":"beta","probe":{}}`, false},
	{"search", `{"partner":"beta","probe":{"Raw":[1],"Protected":[1]}}`, false},
	{"search", `{"partner":"beta","probe":{"Raw":[]}}`, false},
	{"verify", `{"partner":"beta","probe":{"Raw":[1]}}`, false},
	{"enrol", `{"partner":"beta","refs":["s1"],"raw32":[]}`, false},
	{"enrol", `{"partner":"beta","refs":["s1"],"raw32":[[]]}`, false},
	{"enrol", `{"partner":"beta","refs":[""],"raw32":[[1]]}`, false},
	{"enrol", `{"partner":"beta","refs":["s"],"raw32":[[1e39]]}`, false},
	{"protect", `{"partner":"beta","raw":[[1e400]]}`, false},
	{"protect", `{"partner":"beta","raw":[null]}`, false},
	{"references", `{"partner":"beta","refs":["s1",""]}`, false},
	{"references", `{"partner":"beta"}`, true},
	{"ceremony", `{}`, false},
	{"ceremony", `{"partner":"beta","epoch":-1}`, false},
	{"ceremony", `{"partner":"beta","color":"red"}`, false},
	{"status", `{} {}`, false},
	{"status", `[]`, false},
	{"status", ``, false},
	{"status", `null`, true},
	{"shutdown", `{}`, false},
	{"keys", `{"key":{"action":"rotate","overlap":0}}`, true},
	{"keys", `{"key":{"action":"epoch-revoke","agreement":"ab","epoch":1}}`, true},
	{"keys", `{"key":{"action":"format-disk"}}`, false},
	{"keys", `{}`, false},
	{"gallery-verify", `{"partner":"beta"}`, true},
	{"gallery-verify", `{}`, false},
	{"audit-prune", `{}`, true},
	{"status", `{"timeout_ms":-5}`, false},
	{"references", "{\"partner\":\"beta\",\"refs\":[\"\xff-9\"]}", false},
	{"references", `{"partner":"beta","refs":["\ufffd-9"]}`, false},
	{"references", `{"partner":"beta","refs":["\udcff-9"]}`, false},
	{"references", `{"partner":"beta","refs":["case\t9"]}`, false},
	{"enrol", `{"partner":"beta","refs":["case\u001b"],"raw32":[[1]]}`, false},
	{"v2/status", `{}`, false},
}

// serveAdmin runs one request of operation name with op as the operator API's server does,
// and returns the status code and the error.
func serveAdmin(op Operator, name string, body []byte) (codes.Code, error) {
	_, err := serveAdminCall(context.Background(), op, name, body)
	if err != nil {
		return operatorCode(err), err
	}
	return codes.OK, nil
}

func TestAdminRequests(t *testing.T) {
	t.Parallel()
	for _, s := range adminSeeds {
		op := &checkingOperator{t: t}
		code, err := serveAdmin(op, s.op, []byte(s.body))
		if (code == codes.OK) != s.ok {
			t.Errorf("%s %s: %v (%v), want ok=%v", s.op, s.body, code, err, s.ok)
		}
		if code != codes.OK && (code != codes.InvalidArgument || op.calls != 0 || !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s %s: refused with %v (%v) after %d operations; want InvalidArgument before any", s.op, s.body, code, err, op.calls)
		}
		if err != nil && strings.Contains(err.Error(), "1e") {
			t.Errorf("%s %s: the refusal %q echoes a value of the request", s.op, s.body, err)
		}
	}
}

// FuzzAdminRequest sends arbitrary bodies to every operation of the operator API: no panic, an
// answer or an InvalidArgument refusal, and an operation reached only with a request that
// parseAdminRequest accepts (checkingOperator checks what it receives).
func FuzzAdminRequest(f *testing.F) {
	for _, s := range adminSeeds {
		f.Add(s.op, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		op := &checkingOperator{t: t}
		code, err := serveAdmin(op, name, body)
		switch code {
		case codes.OK:
			if op.calls != 1 {
				t.Fatalf("answered after %d operations", op.calls)
			}
		case codes.InvalidArgument:
			if op.calls != 0 || err == nil {
				t.Fatalf("refused (%v) after %d operations", err, op.calls)
			}
			if _, perr := parseAdminRequest(name, body); perr == nil || !strings.HasPrefix(perr.Error(), "protocol: admin: ") {
				t.Fatalf("refused, yet parseAdminRequest says %v", perr)
			}
		default:
			t.Fatalf("status %v: %v", code, err)
		}
	})
}

// TestAdminNodeRefusals sends requests that parse but that the node must refuse to a real
// node's operator API: each is refused, and nothing is enrolled or queried.
func TestAdminNodeRefusals(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	big := strings.TrimSuffix(strings.Repeat("10,", 124), ",")
	for _, s := range []struct{ op, body string }{
		{"protect", `{"partner":"beta","raw":[[1,2,3]]}`},
		{"enrol", `{"partner":"beta","refs":["s1"],"raw32":[[1,2,3]]}`},
		{"enrol", `{"partner":"gamma","refs":["s1"],"raw32":[[1,2,3]]}`},
		{"references", `{"partner":"beta","refs":["s1"]}`},
		{"search", `{"partner":"beta","probe":{"Raw":[1,2,3]}}`},
		{"search", `{"partner":"beta","probe":{"Protected":[` + big + `]}}`},
		{"search", `{"partner":"beta","probe":{"Protected":[1]}}`},
		{"search", `{"partner":"beta","probe":{"Protected":[1]},"purpose":"tax-audit"}`},
		{"verify", `{"partner":"beta","reference":"v1-00","probe":{"Raw":[1]}}`},
		{"ceremony", `{"partner":"gamma"}`},
	} {
		code, err := serveAdmin(a.Node, s.op, []byte(s.body))
		if code == codes.OK || err == nil {
			t.Errorf("%s %.80s: answered; want a refusal", s.op, s.body)
		}
	}
	if g := a.partners["beta"].gallery(); g != nil {
		if n, _ := g.store.Count(); n != 0 {
			t.Errorf("%d subjects enrolled by refused requests", n)
		}
	}
	if got := quotaUsed(t, b, "alpha"); got != 0 {
		t.Errorf("refused requests spent %d queries of the quota", got)
	}
}
