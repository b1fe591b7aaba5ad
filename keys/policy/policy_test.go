package policy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/keys"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func example(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src), "test.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type detRand struct{ n uint64 }

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if i%32 == 0 {
			r.n++
		}
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, r.n))
		p[i] = h[i%32]
	}
	return len(p), nil
}

// populated returns a file store holding what the example policy covers:
// a signing key, epochs 1 and 2 of agreement us-co, and an HE share, all
// recoverable by alice and bob, created at t0.
func populated(t *testing.T) (*keys.FileStore, *keys.Agreements) {
	t.Helper()
	return populatedAt(t, func() time.Time { return t0 })
}

// populatedAt is populated with the store's clock given.
func populatedAt(t *testing.T, clock func() time.Time) (*keys.FileStore, *keys.Agreements) {
	t.Helper()
	var cs []keys.Custodian
	for _, n := range []string{"alice", "bob"} {
		id, _ := keys.GenerateIdentity(false)
		c, err := keys.ParseCustodian(n, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	node, _ := keys.GenerateIdentity(false)
	s, err := keys.OpenFileStore(filepath.Join(t.TempDir(), "keys"), node, keys.FileStoreOptions{Custodians: cs, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	sk := &keys.SigningKeys{Store: s, Node: "us-cbp", Rand: &detRand{}, Now: clock}
	if _, err := sk.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	ag := &keys.Agreements{Store: s, Now: clock}
	for ep := uint64(1); ep <= 2; ep++ {
		a, _ := keys.NewContribution(&detRand{n: ep * 100}, "us-cbp", "us-co", ep)
		b, _ := keys.NewContribution(&detRand{n: ep*100 + 50}, "co-migracion", "us-co", ep)
		sec, err := keys.DeriveAgreementSecret(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := ag.Begin(ctx, "co-migracion", sec); err != nil {
			t.Fatal(err)
		}
	}
	if err := keys.PutShare(ctx, s, keys.ShareName("us-co", "us-to-co"), []byte("opaque share"), nil); err != nil {
		t.Fatal(err)
	}
	return s, ag
}

func TestExampleParses(t *testing.T) {
	p := mustParse(t, example(t))
	if p.Node != "us-cbp" || len(p.Keys) != 4 || len(p.Custodians) != 2 || p.Audit.Retention.D != 7*365*24*time.Hour {
		t.Fatalf("parsed %+v", p)
	}
	q, ok := p.QuotaFor("co-migracion")
	if !ok || q.Queries != 1000 || q.Window != 24*time.Hour || q.String() != "1000 per 24h" || !q.Allows(999) || q.Allows(1000) {
		t.Fatalf("quota %+v %v", q, ok)
	}
	if v, ok := p.VerifyLimitFor("co-migracion"); !ok || v.String() != "5 per 24h" {
		t.Fatalf("verify limit %+v %v", v, ok)
	}
	if _, ok := p.VerifyLimitFor("nobody"); ok {
		t.Fatal("a verify limit for a partner the policy does not name")
	}
	if k, ok := p.Class("agreement/us-co/epoch/12/seed"); !ok || k.Name != "transform-seed" {
		t.Errorf("class of a seed: %v", k)
	}
	if _, ok := p.Class("agreement/us-co/state/x"); ok {
		t.Error("pattern matched a longer name")
	}
	var b strings.Builder
	if err := Show(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Key \"signing\"", "recoverable by  alice, bob", "1000 per 24h queries", "kept for 7y"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("show output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCheckCleanStore(t *testing.T) {
	s, _ := populated(t)
	fs, err := Check(ctx, mustParse(t, example(t)), Target{Store: s, Kind: "file"}, t0.Add(10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Fatalf("findings on a store that follows the policy: %v", fs)
	}
}

// TestCheckRules runs one failing policy (or store) per rule.
func TestCheckRules(t *testing.T) {
	ex := example(t)
	cases := []struct {
		rule    Rule
		policy  string
		store   func(*keys.FileStore, *keys.Agreements)
		subject string
	}{
		{RulePastRotation, strings.Replace(ex, `cryptoperiod = "180d"`, `cryptoperiod = "5d"`, 1), nil, "agreement/us-co/epoch/1/seed"},
		{RuleMissingCustodian, strings.Replace(ex, `custodians   = ["alice", "bob"]`, `custodians   = ["alice", "bob", "carol"]`, 1) + "\ncustodian \"carol\" {\n  role = \"Auditor\"\n}\n", nil, "sign/key/"},
		{RuleMissingCustodian, strings.Replace(ex, `custodians   = ["alice", "bob"]`, `custodians   = []`, 1), nil, `key class "signing"`},
		{RuleMissingCustodian, strings.Replace(ex, `custodians   = ["alice", "bob"]`, `custodians   = ["alice", "dave"]`, 1), nil, `key class "signing"`},
		{RuleAlgorithmNotAllowed, strings.Replace(ex, `, "ckks-secret-share"]`, `]`, 1), nil, `key class "he-share"`},
		// A stored key whose algorithm is not in allowed_algorithms.
		{RuleAlgorithmNotAllowed, strings.Replace(ex, `, "ckks-secret-share"]`, `]`, 1), nil, "he/us-co/us-to-co/sk"},
		// A stored key whose algorithm differs from its class's.
		{RuleAlgorithmNotAllowed, ex, func(s *keys.FileStore, _ *keys.Agreements) {
			if _, err := s.Put(ctx, "he/us-co/co-to-us/sk", []byte("a signing seed"), keys.PutOptions{Algorithm: keys.AlgMLDSA65}); err != nil {
				t.Fatal(err)
			}
		}, "he/us-co/co-to-us/sk"},
		{RuleRevokedEpochPresent, ex, func(_ *keys.FileStore, ag *keys.Agreements) {
			if err := ag.Revoke(ctx, "us-co", 1); err != nil {
				t.Fatal(err)
			}
		}, "agreement/us-co/epoch/1/seed"},
		{RuleQuotaAbsent, strings.Replace(ex, `quota        = "1000 per 24h"`, ``, 1), nil, `partner "co-migracion"`},
		{RuleVerifyLimitAbsent, strings.Replace(ex, `verify_limit = "5 per 24h"`, ``, 1), nil, `partner "co-migracion"`},
		{RuleQuotaAbsent, strings.Replace(ex, `partner "co-migracion"`, `partner "other"`, 1), nil, `partner "co-migracion"`},
		{RuleUncovered, strings.Replace(ex, `match        = "he/*/*/sk"`, `match        = "he/*/sk"`, 1), nil, "he/us-co/us-to-co/sk"},
		{RuleWrongStore, strings.Replace(ex, `store        = "file"`, `store        = "vault"`, 1), nil, "sign/key/"},
		{RuleUnreadable, ex, func(s *keys.FileStore, _ *keys.Agreements) {
			path := filepath.Join(s.Root(), "he/us-co/us-to-co/sk/@00000001.age")
			if err := os.WriteFile(path, []byte("age-encryption.org/v1\ngarbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "he/us-co/us-to-co/sk"},
	}
	for _, c := range cases {
		s, ag := populated(t)
		if c.store != nil {
			c.store(s, ag)
		}
		fs, err := Check(ctx, mustParse(t, c.policy), Target{Store: s, Kind: "file"}, t0.Add(10*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.Rule == c.rule && strings.HasPrefix(f.Subject, c.subject) && f.Message != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no finding for %q in %v", c.rule, c.subject, fs)
		}
	}
}

// TestCheckRotatedSigningKey: a signing key replaced with an overlap is
// not reported while the overlap runs; once it has ended, its seed still in
// the store is reported with the command that destroys it, and after that
// nothing is reported. (It used to be reported as past rotation with advice
// to rotate, which could not clear it.)
func TestCheckRotatedSigningKey(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	s, _ := populatedAt(t, clock)
	p := mustParse(t, example(t)) // signing: cryptoperiod 1y, overlap 7d
	sk := &keys.SigningKeys{Store: s, Node: "us-cbp", Rand: &detRand{n: 900}, Now: clock}
	old, err := sk.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signing := func() []Finding {
		t.Helper()
		fs, err := Check(ctx, p, Target{Store: s, Kind: "file"}, now)
		if err != nil {
			t.Fatal(err)
		}
		var out []Finding
		for _, f := range fs {
			if strings.HasPrefix(f.Subject, "sign/") {
				out = append(out, f)
			}
		}
		return out
	}
	now = t0.Add(365 * 24 * time.Hour)
	if _, err := sk.Rotate(ctx, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * 24 * time.Hour) // inside the overlap
	if fs := signing(); len(fs) != 0 {
		t.Errorf("inside the overlap: %v", fs)
	}
	now = now.Add(2 * 24 * time.Hour) // the overlap has ended
	fs := signing()
	if len(fs) != 1 || fs[0].Rule != RulePastRotation || fs[0].Subject != keys.SigningKeyName(old.ID()) || !strings.Contains(fs[0].Message, "puente keys destroy-expired") {
		t.Fatalf("after the overlap: %v; want one past-rotation finding for %s with the command that clears it", fs, old.ID())
	}
	if _, err := sk.DestroyExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if fs := signing(); len(fs) != 0 {
		t.Errorf("after destroying the expired seed: %v", fs)
	}
	// A key replaced with a longer overlap than its class allows.
	cur, _ := sk.Current(ctx)
	if _, err := sk.Rotate(ctx, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	fs = signing()
	if len(fs) != 1 || fs[0].Subject != keys.SigningKeyName(cur.ID()) || !strings.Contains(fs[0].Message, "longer than") {
		t.Errorf("overlap longer than the policy's: %v", fs)
	}
}

func TestParseErrors(t *testing.T) {
	ex := example(t)
	cases := []struct {
		what, src, want string
	}{
		{"unknown top field", ex + "\ncolour = \"red\"\n", fmt.Sprintf(`test.hcl:%d: unknown field "colour"`, strings.Count(ex, "\n")+2)},
		{"unknown key field", strings.Replace(ex, `  purpose      = "Signs`, "  owner = \"x\"\n  purpose      = \"Signs", 1), `test.hcl:26: unknown field "owner"`},
		{"duplicate block", ex + "\npartner \"co-migracion\" {\n agreement = \"x\"\n}\n", `partner "co-migracion" is defined twice`},
		{"duplicate field", strings.Replace(ex, `  retention = "7y"`, "  retention = \"7y\"\n  retention = \"8y\"", 1), `test.hcl:`},
		{"number for period", strings.Replace(ex, `cryptoperiod = "1y"`, `cryptoperiod = 365`, 1), `cryptoperiod must be a non-empty quoted string`},
		{"bad period", strings.Replace(ex, `cryptoperiod = "1y"`, `cryptoperiod = "1 year"`, 1), `period "1 year"`},
		{"bad quota", strings.Replace(ex, `"1000 per 24h"`, `"lots"`, 1), `quota "lots"`},
		{"bad verify limit", strings.Replace(ex, `"5 per 24h"`, `"5"`, 1), `verify_limit: `},
		{"missing field", strings.Replace(ex, `  algorithm    = "ml-dsa-65"`+"\n", "", 1), `required field algorithm is missing`},
		{"bad store", strings.Replace(ex, `store        = "file"`, `store        = "s3"`, 1), `store "s3"`},
		{"bad recipient", strings.Replace(ex, `recipient = "age1pq1`, `recipient = "age1pq1x`, 1), `custodian "alice"`},
		{"no audit block", strings.Replace(ex, "audit {", "audit_x {", 1), `unknown field "audit_x"`},
		{"syntax error", ex + "\nkey \"x\" {\n", `test.hcl:`},
		{"block as field", ex + "\nnode { }\n", `node`},
		{"two labels", ex + "\nkey \"a\" \"b\" {\n}\n", `exactly one name`},
		{"zero quota period", strings.Replace(ex, `"1000 per 24h"`, `"1 per 0m"`, 1), `quota "1 per 0m": the period must be longer than 0`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.src), "test.hcl")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "policy: test.hcl") {
			t.Errorf("%s: %v, want an error containing %q", c.what, err, c.want)
		}
	}
}

func TestPeriodsAndQuotas(t *testing.T) {
	year := 365 * 24 * time.Hour
	for s, d := range map[string]time.Duration{"0": 0, "30m": 30 * time.Minute, "24h": 24 * time.Hour, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1y": year,
		"100y": 100 * year, "1000w": 7000 * 24 * time.Hour} {
		p, err := ParsePeriod(s)
		if err != nil || p.D != d {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	// Longer than 100 years: "293y" and more overflowed time.Duration (a
	// negative or tiny period that disabled the past-rotation check).
	for _, s := range []string{"", "d", "1", "-1d", "+1d", "1.5d", "1x", "99999d", "1d2h", "101y", "293y", "600y", "1000y"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range []string{"0 per 1h", "10 per 0", "10 every 1h", "10per1h", "-5 per 1h"} {
		if _, err := ParseQuota(s); err == nil {
			t.Errorf("quota %q accepted", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example(f)))
	f.Add([]byte("node = \"a\"\n"))
	f.Add([]byte("key \"x\" { cryptoperiod = 99999999999999999999999 }"))
	f.Add([]byte("{\"node\": \"a\"}"))
	f.Add([]byte("node = <<EOF\nx\nEOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, "fuzz.hcl")
		if err != nil {
			return
		}
		if p.Node == "" || p.Audit.Line == 0 {
			t.Fatal("accepted a policy without its required fields")
		}
		// HCL has many spellings of one policy and there is no encoder of a whole policy; its
		// periods and quotas have one, and what they re-encode to parses back to the same value
		// (the weaker property: "01d" and "1d" are both accepted, so the bytes need not match).
		periods := []Period{p.Audit.Retention, p.Limits.RefusalInterval, p.Limits.CallDeadline, p.Limits.Keepalive}
		for _, k := range p.Keys {
			periods = append(periods, k.Cryptoperiod, k.Overlap)
		}
		for _, per := range periods {
			checkPeriodRoundTrip(t, per)
		}
		for _, pa := range p.Partners {
			for _, q := range []*Quota{pa.Quota, pa.VerifyLimit} {
				if q == nil {
					continue
				}
				again, err := ParseQuota(q.String())
				if err != nil || again.Queries != q.Queries || again.Window != q.Window {
					t.Fatalf("quota %q parses back as %+v, %v", q, again, err)
				}
			}
		}
	})
}

// checkPeriodRoundTrip: a period's text, and the canonical form of its duration, parse back to it.
func checkPeriodRoundTrip(t *testing.T, p Period) {
	t.Helper()
	if p.D == 0 {
		return // absent or "0", which has no unit to format
	}
	for _, s := range []string{p.String(), Period{D: p.D}.String()} {
		if again, err := ParsePeriod(s); err != nil || again.D != p.D {
			t.Fatalf("period %+v re-encoded as %q parses back as %+v, %v", p, s, again, err)
		}
	}
}

// TestLimits: the limits block sets the bounds on strangers' refusals and on calls to partners;
// a field left out keeps its default, and bad values are refused with their line.
func TestLimits(t *testing.T) {
	ex := example(t)
	ex, _, _ = strings.Cut(ex, "\n# Optional: the bounds")
	if p := mustParse(t, ex); p.Limits.RefusalInterval.D != DefaultLimits.RefusalInterval.D || p.Limits.RefusalsPerSource != 10 ||
		p.Limits.CallDeadline.D != 10*time.Minute || p.Limits.Keepalive.D != time.Minute || p.Limits.Line != 0 ||
		p.Limits.Ceremonies.Queries != 24 || p.Limits.Ceremonies.Window != 24*time.Hour {
		t.Errorf("defaults: %+v", p.Limits)
	}
	if p := mustParse(t, example(t)); p.Limits.Line == 0 || p.Limits.RefusalsPerSource != 10 {
		t.Errorf("the example's limits: %+v", p.Limits)
	}
	p := mustParse(t, ex+"\nlimits {\n  refusal_interval = \"1h\"\n  refusals_per_source = 3\n  call_deadline = \"2m\"\n  ceremonies = \"3 per 1w\"\n}\n")
	if l := p.Limits; l.RefusalInterval.D != time.Hour || l.RefusalsPerSource != 3 || l.CallDeadline.D != 2*time.Minute || l.Keepalive.D != time.Minute ||
		l.Ceremonies.Queries != 3 || l.Ceremonies.Window != 7*24*time.Hour {
		t.Errorf("limits: %+v", l)
	}
	var out strings.Builder
	if err := Show(&out, p); err != nil || !strings.Contains(out.String(), "every 1h") || !strings.Contains(out.String(), "after 2m") ||
		!strings.Contains(out.String(), "at most 3 per 1w key ceremonies") {
		t.Errorf("policy show: %v\n%s", err, out.String())
	}
	for _, c := range []struct{ src, want string }{
		{"limits {\n  refusals_per_source = 0\n}\n", "refusals_per_source must be a whole number from 1"},
		{"limits {\n  refusals_per_source = \"ten\"\n}\n", "refusals_per_source must be a whole number"},
		{"limits {\n  call_deadline = \"0\"\n}\n", "call_deadline must be longer than 0"},
		{"limits {\n  keepalive = \"30s\"\n}\n", `period "30s"`},
		{"limits {\n  colour = \"red\"\n}\n", `unknown field "colour"`},
		{"limits {\n  ceremonies = \"0 per 24h\"\n}\n", "ceremonies: quota \"0 per 24h\": N must be a positive"},
		{"limits {\n  ceremonies = 5\n}\n", "ceremonies"},
		{"limits {\n}\nlimits {\n}\n", "limits is set twice"},
	} {
		if _, err := Parse([]byte(ex+"\n"+c.src), "test.hcl"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}
