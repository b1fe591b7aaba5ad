// Package policy reads a Puente node's key policy and checks the node's
// key stores against it.
//
// The policy is a plain text file in HCL version 1, the language of
// HashiCorp Vault's own policies (and already in Puente's module graph
// through Vault's client), chosen because privacy officers and operators
// who run Vault read it already, it takes '#' comments, and its parser
// reports line numbers. Puente reads it strictly: every block and field is
// from a fixed schema, and an unknown field, a duplicate, a value of the
// wrong type or a malformed duration is an error naming the file and line.
// docs/key-policy.md explains every field with an example.
//
// For each class of key the policy names the store entries it covers (a
// pattern), its purpose, algorithm, custodians, store, cryptoperiod (NIST
// SP 800-57 Part 1 Rev. 5 §5.3: the time a key may be used before it must
// be replaced), rotation overlap, and the rotation and revocation rules in
// words; for each partner, the query quota the protocol layer enforces;
// and the retention of audit records.
//
// [Check] compares a policy with a [keys.Store] and returns [Finding]s in
// words: keys past their cryptoperiod, keys without their custodians,
// algorithms not allowed, revoked epochs whose secret is still present,
// partners without a quota, and store entries no policy class covers. It
// reads the store and never changes it.
package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy is a parsed key policy.
type Policy struct {
	File              string
	Node              string
	AllowedAlgorithms []string
	Audit             Audit
	Limits            Limits // with defaults for what the policy leaves out
	Custodians        []Custodian
	Keys              []KeyClass
	Partners          []Partner
}

// Audit is the policy for the audit log.
type Audit struct {
	Retention Period // how long records are kept before pruning
	Line      int
}

// Limits bound the work a node does for others and the time it waits for them.
type Limits struct {
	// RefusalInterval: the refusals of peers whose certificate is no partner's are summarised
	// in one audit record per source address and interval, with a count.
	RefusalInterval Period
	// RefusalsPerSource: from a source's this-many-th refusal in an interval on, its further
	// connections are closed before the TLS handshake (and counted in the same record).
	RefusalsPerSource int
	// CallDeadline: the longest any call to a partner may take, unless the operator gives a
	// shorter one.
	CallDeadline Period
	// Keepalive: how long a connection to a partner may stay silent before it is checked
	// with a ping (and dropped if the partner does not answer it).
	Keepalive Period
	// Ceremonies: the most key ceremonies (Hellos) each partner may start with this node in
	// any window. A ceremony is a rare operator action; the bound keeps a partner from growing
	// the audit log and spending the node's work by starting ceremony after ceremony.
	Ceremonies Quota
	Line       int // 0: no limits block, every limit its default
}

// DefaultLimits are the limits of a policy without a limits block.
var DefaultLimits = Limits{
	RefusalInterval:   Period{D: 10 * time.Minute, Text: "10m"},
	RefusalsPerSource: 10,
	CallDeadline:      Period{D: 10 * time.Minute, Text: "10m"},
	Keepalive:         Period{D: time.Minute, Text: "1m"},
	Ceremonies:        Quota{Queries: 24, Window: 24 * time.Hour, text: "24 per 24h"},
}

// Custodian is a person or office that can recover keys.
type Custodian struct {
	Name      string
	Role      string // e.g. "Privacy officer, CBP"
	Recipient string // age recipient; empty if the custodian holds Vault recovery shares instead
	Line      int
}

// KeyClass is the policy for one class of keys.
type KeyClass struct {
	Name         string   // e.g. "transform-seed"
	Match        string   // store-name pattern, path.Match syntax per segment, e.g. "agreement/*/epoch/*/seed"
	Purpose      string   // in words
	Algorithm    string   // e.g. "hkdf-sha256"
	Custodians   []string // names of custodians who must be able to recover these keys
	Store        string   // "file" or "vault"
	Cryptoperiod Period   // maximum age before rotation
	Overlap      Period   // how long a rotated-out key stays valid (may be zero)
	Rotation     string   // the rotation rule, in words
	Revocation   string   // the revocation rule, in words
	Line         int
}

// Partner is the policy for one partner agency.
type Partner struct {
	Name      string
	Agreement string // agreement ID in the key store
	Quota     *Quota // nil: absent (a finding)
	// VerifyLimit bounds how often the partner may verify against one reference (a 1:1
	// query), whatever its quota: a one-bit answer about one template leaks under repeated
	// probes. nil: absent (a finding; the node then refuses the partner's verifications).
	VerifyLimit *Quota
	Line        int
}

// Quota is a per-partner query quota: at most Queries queries in any
// Window. The protocol layer enforces it; the policy states it.
type Quota struct {
	Queries int
	Window  time.Duration
	text    string // as written
}

// String renders the quota as written in the policy, e.g. "1000 per 24h".
func (q Quota) String() string {
	if q.text != "" {
		return q.text
	}
	return fmt.Sprintf("%d per %s", q.Queries, formatPeriod(q.Window))
}

// Allows reports whether a partner that has made used queries in the
// current window may make one more.
func (q Quota) Allows(used int) bool { return used < q.Queries }

// ParseQuota parses "N per PERIOD", e.g. "1000 per 24h".
func ParseQuota(s string) (Quota, error) {
	f := strings.Fields(s)
	if len(f) != 3 || f[1] != "per" {
		return Quota{}, fmt.Errorf("quota %q is not \"N per PERIOD\" (e.g. \"1000 per 24h\")", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || n > 1e9 {
		return Quota{}, fmt.Errorf("quota %q: N must be a positive whole number", s)
	}
	p, err := ParsePeriod(f[2])
	if err != nil {
		return Quota{}, fmt.Errorf("quota %q: bad period: %v", s, err)
	}
	if p.D <= 0 {
		return Quota{}, fmt.Errorf("quota %q: the period must be longer than 0", s)
	}
	return Quota{Queries: n, Window: p.D, text: strings.Join(f, " ")}, nil
}

// Period is a duration written with one unit: "30m", "24h", "90d", "2w",
// "1y" (a year is 365 days), at most [MaxPeriod]. Text keeps the form it
// was written in.
type Period struct {
	D    time.Duration
	Text string
}

// MaxPeriod bounds a Period: 100 years. Longer periods are not meaningful
// for keys or audit records, and the bound keeps every sum of two periods
// well inside time.Duration.
const MaxPeriod = 100 * 365 * 24 * time.Hour

var periodUnits = map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}

// ParsePeriod parses a Period; "0" is the zero period.
func ParsePeriod(s string) (Period, error) {
	if s == "0" {
		return Period{Text: s}, nil
	}
	if len(s) < 2 {
		return Period{}, fmt.Errorf("period %q: want a number and a unit (m, h, d, w, y)", s)
	}
	unit, ok := periodUnits[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if !ok || err != nil || n < 0 || n > 1000 || s[0] == '+' {
		return Period{}, fmt.Errorf("period %q: want a number up to 1000 and a unit (m, h, d, w, y)", s)
	}
	if time.Duration(n) > MaxPeriod/unit {
		return Period{}, fmt.Errorf("period %q is longer than 100 years", s)
	}
	return Period{D: time.Duration(n) * unit, Text: s}, nil
}

func (p Period) String() string {
	if p.Text != "" {
		return p.Text
	}
	return formatPeriod(p.D)
}

func formatPeriod(d time.Duration) string {
	for _, u := range []byte{'y', 'w', 'd', 'h', 'm'} {
		if d >= periodUnits[u] && d%periodUnits[u] == 0 {
			return fmt.Sprintf("%d%c", d/periodUnits[u], u)
		}
	}
	return d.String()
}

// Class returns the key class covering a store entry name, if any: the
// first class whose pattern matches.
func (p *Policy) Class(name string) (*KeyClass, bool) {
	for i := range p.Keys {
		if matchName(p.Keys[i].Match, name) {
			return &p.Keys[i], true
		}
	}
	return nil, false
}

// PartnerByName returns a partner's policy.
func (p *Policy) PartnerByName(name string) (*Partner, bool) {
	for i := range p.Partners {
		if p.Partners[i].Name == name {
			return &p.Partners[i], true
		}
	}
	return nil, false
}

// VerifyLimitFor returns the partner's per-reference verification limit; ok is false if the
// policy has none.
func (p *Policy) VerifyLimitFor(partner string) (Quota, bool) {
	if pp, ok := p.PartnerByName(partner); ok && pp.VerifyLimit != nil {
		return *pp.VerifyLimit, true
	}
	return Quota{}, false
}

// QuotaFor returns the partner's quota; ok is false if the policy has none
// (the protocol must then refuse the partner's queries).
func (p *Policy) QuotaFor(partner string) (Quota, bool) {
	if pp, ok := p.PartnerByName(partner); ok && pp.Quota != nil {
		return *pp.Quota, true
	}
	return Quota{}, false
}

// matchName matches a store name against a pattern segment by segment:
// "*" matches one whole segment, "**" as the last segment matches the
// rest, anything else must be equal.
func matchName(pattern, name string) bool {
	ps, ns := strings.Split(pattern, "/"), strings.Split(name, "/")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return len(ns) > i
		}
		if i >= len(ns) || (p != "*" && p != ns[i]) {
			return false
		}
	}
	return len(ns) == len(ps)
}
