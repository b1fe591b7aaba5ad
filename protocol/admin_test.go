//go:build puente_testparams

package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/gallery"
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
	if p == "" || len(p) > maxNameLen {
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
	if ref == "" || len(ref) > maxNameLen {
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

// adminSeeds are requests of the admin protocol, good and bad, for FuzzAdminRequest's corpus
// and TestAdminRequests: path, body, and the status a checking operator gets.
var adminSeeds = []struct {
	path, body string
	status     int
}{
	{"/v1/status", `{}`, http.StatusOK},
	{"/v1/ceremony", `{"partner":"beta","epoch":3}`, http.StatusOK},
	{"/v1/revoke", `{"partner":"beta"}`, http.StatusOK},
	{"/v1/enrol", `{"partner":"beta","refs":["s1","s2"],"raw32":[[0.5,1],[1,2]]}`, http.StatusOK},
	{"/v1/references", `{"partner":"beta","refs":["s1"]}`, http.StatusOK},
	{"/v1/protect", `{"partner":"beta","raw":[[1,2,3]]}`, http.StatusOK},
	{"/v1/search", `{"partner":"beta","probe":{"Raw":[0.1,0.2]},"purpose":"border-screening"}`, http.StatusOK},
	{"/v1/verify", `{"partner":"beta","reference":"v1-00","probe":{"Protected":[1,0]}}`, http.StatusOK},
	{"/v1/search", `{"partner":"beta"}`, http.StatusBadRequest},
	{"/v1/search", `{"partner":"beta","probe":{}}`, http.StatusBadRequest},
	{"/v1/search", `{"partner":"beta","probe":{"Raw":[1],"Protected":[1]}}`, http.StatusBadRequest},
	{"/v1/search", `{"partner":"beta","probe":{"Raw":[]}}`, http.StatusBadRequest},
	{"/v1/verify", `{"partner":"beta","probe":{"Raw":[1]}}`, http.StatusBadRequest},
	{"/v1/enrol", `{"partner":"beta","refs":["s1"],"raw32":[]}`, http.StatusBadRequest},
	{"/v1/enrol", `{"partner":"beta","refs":["s1"],"raw32":[[]]}`, http.StatusBadRequest},
	{"/v1/enrol", `{"partner":"beta","refs":[""],"raw32":[[1]]}`, http.StatusBadRequest},
	{"/v1/enrol", `{"partner":"beta","refs":["s"],"raw32":[[1e39]]}`, http.StatusBadRequest},
	{"/v1/protect", `{"partner":"beta","raw":[[1e400]]}`, http.StatusBadRequest},
	{"/v1/protect", `{"partner":"beta","raw":[null]}`, http.StatusBadRequest},
	{"/v1/references", `{"partner":"beta","refs":["s1",""]}`, http.StatusBadRequest},
	{"/v1/references", `{"partner":"beta"}`, http.StatusOK},
	{"/v1/ceremony", `{}`, http.StatusBadRequest},
	{"/v1/ceremony", `{"partner":"beta","epoch":-1}`, http.StatusBadRequest},
	{"/v1/ceremony", `{"partner":"beta","color":"red"}`, http.StatusBadRequest},
	{"/v1/status", `{} {}`, http.StatusBadRequest},
	{"/v1/status", `[]`, http.StatusBadRequest},
	{"/v1/status", ``, http.StatusBadRequest},
	{"/v1/status", `null`, http.StatusOK},
	{"/v1/shutdown", `{}`, http.StatusBadRequest},
	{"/v1/keys", `{"key":{"action":"rotate","overlap":0}}`, http.StatusOK},
	{"/v1/keys", `{"key":{"action":"epoch-revoke","agreement":"ab","epoch":1}}`, http.StatusOK},
	{"/v1/keys", `{"key":{"action":"format-disk"}}`, http.StatusBadRequest},
	{"/v1/keys", `{}`, http.StatusBadRequest},
	{"/v1/gallery-verify", `{"partner":"beta"}`, http.StatusOK},
	{"/v1/gallery-verify", `{}`, http.StatusBadRequest},
	{"/v1/audit-prune", `{}`, http.StatusOK},
	{"/v1/status", `{"timeout_ms":-5}`, http.StatusBadRequest},
	{"/v1/references", "{\"partner\":\"beta\",\"refs\":[\"\xff-9\"]}", http.StatusBadRequest},
	{"/v1/references", `{"partner":"beta","refs":["\ufffd-9"]}`, http.StatusBadRequest},
	{"/v1/references", `{"partner":"beta","refs":["\udcff-9"]}`, http.StatusBadRequest},
	{"/v1/references", `{"partner":"beta","refs":["case\t9"]}`, http.StatusBadRequest},
	{"/v1/enrol", `{"partner":"beta","refs":["case\u001b"],"raw32":[[1]]}`, http.StatusBadRequest},
	{"/v2/status", `{}`, http.StatusBadRequest},
}

// serveAdmin sends one request to an admin handler for op and returns the status and reply.
func serveAdmin(t testing.TB, op Operator, method, path string, body []byte) (int, adminReply) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, "http://puente"+"/", bytes.NewReader(body))
	req.URL.Path = path
	adminHandler(op).ServeHTTP(rec, req)
	var rep adminReply
	if err := json.NewDecoder(rec.Body).Decode(&rep); err != nil {
		t.Fatalf("%s %s: reply is not JSON: %v", method, path, err)
	}
	return rec.Code, rep
}

func TestAdminRequests(t *testing.T) {
	for _, s := range adminSeeds {
		op := &checkingOperator{t: t}
		code, rep := serveAdmin(t, op, http.MethodPost, s.path, []byte(s.body))
		if code != s.status {
			t.Errorf("%s %s: status %d (%s), want %d", s.path, s.body, code, rep.Error, s.status)
		}
		if code == http.StatusBadRequest && (op.calls != 0 || rep.Error == "") {
			t.Errorf("%s %s: refused with %q after %d operations", s.path, s.body, rep.Error, op.calls)
		}
		if strings.Contains(rep.Error, "1e") {
			t.Errorf("%s %s: the refusal %q echoes a value of the request", s.path, s.body, rep.Error)
		}
	}
	op := &checkingOperator{t: t}
	if code, _ := serveAdmin(t, op, http.MethodGet, "/v1/status", nil); code != http.StatusBadRequest || op.calls != 0 {
		t.Errorf("GET: status %d after %d operations, want 400 and none", code, op.calls)
	}
}

// FuzzAdminRequest sends arbitrary bodies to every operation of the admin handler: no panic,
// a reply in JSON, and an operation reached only with a request that parseAdminRequest accepts
// (checkingOperator checks what it receives).
func FuzzAdminRequest(f *testing.F) {
	for _, s := range adminSeeds {
		f.Add(s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		op := &checkingOperator{t: t}
		code, rep := serveAdmin(t, op, http.MethodPost, path, body)
		switch code {
		case http.StatusOK:
			if op.calls != 1 {
				t.Fatalf("answered after %d operations", op.calls)
			}
		case http.StatusBadRequest:
			if op.calls != 0 || rep.Error == "" {
				t.Fatalf("refused (%q) after %d operations", rep.Error, op.calls)
			}
			_, _, err := parseAdminRequest(http.MethodPost, path, bytes.NewReader(body))
			if err == nil || !strings.HasPrefix(err.Error(), "protocol: admin: ") {
				t.Fatalf("refused, yet parseAdminRequest says %v", err)
			}
		default:
			t.Fatalf("status %d", code)
		}
	})
}

// TestAdminNodeRefusals sends requests that parse but that the node must refuse to a real
// node's admin handler: each gets 422 with an error, and nothing is enrolled or queried.
func TestAdminNodeRefusals(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	big := strings.TrimSuffix(strings.Repeat("10,", 124), ",")
	for _, s := range []struct{ path, body string }{
		{"/v1/protect", `{"partner":"beta","raw":[[1,2,3]]}`},
		{"/v1/enrol", `{"partner":"beta","refs":["s1"],"raw32":[[1,2,3]]}`},
		{"/v1/enrol", `{"partner":"gamma","refs":["s1"],"raw32":[[1,2,3]]}`},
		{"/v1/references", `{"partner":"beta","refs":["s1"]}`},
		{"/v1/search", `{"partner":"beta","probe":{"Raw":[1,2,3]}}`},
		{"/v1/search", `{"partner":"beta","probe":{"Protected":[` + big + `]}}`},
		{"/v1/search", `{"partner":"beta","probe":{"Protected":[1]}}`},
		{"/v1/search", `{"partner":"beta","probe":{"Protected":[1]},"purpose":"tax-audit"}`},
		{"/v1/verify", `{"partner":"beta","reference":"v1-00","probe":{"Raw":[1]}}`},
		{"/v1/ceremony", `{"partner":"gamma"}`},
	} {
		code, rep := serveAdmin(t, a.Node, http.MethodPost, s.path, []byte(s.body))
		if code != http.StatusUnprocessableEntity || rep.Error == "" {
			t.Errorf("%s %.80s: status %d, error %q; want 422 with an error", s.path, s.body, code, rep.Error)
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
