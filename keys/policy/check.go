package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/puente-id/puente/keys"
)

// Rule names one check of [Check].
type Rule string

// The rules, in the order findings are reported.
const (
	RulePastRotation        Rule = "past rotation"
	RuleMissingCustodian    Rule = "missing custodian"
	RuleAlgorithmNotAllowed Rule = "algorithm not allowed"
	RuleRevokedEpochPresent Rule = "revoked epoch still present"
	RuleQuotaAbsent         Rule = "quota absent"
	RuleVerifyLimitAbsent   Rule = "verification limit absent"
	RuleUncovered           Rule = "key not in policy"
	RuleWrongStore          Rule = "key in the wrong store"
	RuleUnreadable          Rule = "key unreadable"
)

var ruleOrder = []Rule{RulePastRotation, RuleMissingCustodian, RuleAlgorithmNotAllowed, RuleRevokedEpochPresent,
	RuleQuotaAbsent, RuleVerifyLimitAbsent, RuleUncovered, RuleWrongStore, RuleUnreadable}

// Finding is one problem, in words a privacy officer can act on.
type Finding struct {
	Rule    Rule
	Subject string // the key, custodian or partner concerned
	Message string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Rule, f.Subject, f.Message) }

// Target is a store to check and its kind ("file" or "vault").
type Target struct {
	Store keys.Store
	Kind  string
}

// Check compares the policy with the store at time now and returns the
// findings, sorted by rule and subject. An error means the store could not
// be listed at all; a single unreadable entry is a finding.
func Check(ctx context.Context, p *Policy, t Target, now time.Time) ([]Finding, error) {
	var fs []Finding
	add := func(r Rule, subj, format string, args ...any) {
		fs = append(fs, Finding{Rule: r, Subject: subj, Message: fmt.Sprintf(format, args...)})
	}
	checkPolicyItself(p, add)
	names, err := t.Store.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("policy: listing the %s store: %w", t.Kind, err)
	}
	ring, _, ringErr := (&keys.SigningKeys{Store: t.Store}).Keyring(ctx)
	if ringErr != nil {
		ring = &keys.Keyring{}
	}
	for _, name := range names {
		info, err := t.Store.Stat(ctx, name)
		if err != nil {
			add(RuleUnreadable, name, "cannot be read (%v); restore it from a custodian or destroy it", err)
			continue
		}
		if name == keys.KeyringName && ringErr != nil {
			add(RuleUnreadable, name, "cannot be read (%v); restore it from a custodian or from a partner's copy", ringErr)
		}
		if info.Algorithm == keys.AlgKeyring || info.Algorithm == keys.AlgAgreementState {
			continue // public bookkeeping, not key material
		}
		checkEntry(p, t.Kind, info, ring, now, add)
	}
	if err := checkAgreements(ctx, p, t.Store, add); err != nil {
		return nil, err
	}
	sort.SliceStable(fs, func(i, j int) bool {
		ri, rj := slices.Index(ruleOrder, fs[i].Rule), slices.Index(ruleOrder, fs[j].Rule)
		return ri < rj || ri == rj && fs[i].Subject < fs[j].Subject
	})
	return fs, nil
}

type addFunc func(r Rule, subject, format string, args ...any)

// checkPolicyItself checks what the policy says against itself: allowed
// algorithms, defined custodians, quotas.
func checkPolicyItself(p *Policy, add addFunc) {
	defined := map[string]bool{}
	for _, c := range p.Custodians {
		defined[c.Name] = true
	}
	for _, k := range p.Keys {
		subj := fmt.Sprintf("key class %q (line %d)", k.Name, k.Line)
		if !slices.Contains(p.AllowedAlgorithms, k.Algorithm) {
			add(RuleAlgorithmNotAllowed, subj, "uses %s, which is not in allowed_algorithms %v", k.Algorithm, p.AllowedAlgorithms)
		}
		if len(k.Custodians) == 0 {
			add(RuleMissingCustodian, subj, "names no custodian, so nobody can recover these keys if the node is lost")
		}
		for _, c := range k.Custodians {
			if !defined[c] {
				add(RuleMissingCustodian, subj, "names custodian %q, who has no custodian block", c)
			}
		}
	}
	for _, pt := range p.Partners {
		if pt.VerifyLimit == nil {
			add(RuleVerifyLimitAbsent, fmt.Sprintf("partner %q (line %d)", pt.Name, pt.Line), "has no verify_limit; without one the node refuses its verifications (a one-bit answer about one reference leaks under repeated probes)")
		}
		if pt.Quota == nil {
			add(RuleQuotaAbsent, fmt.Sprintf("partner %q (line %d)", pt.Name, pt.Line), "has no query quota; without one the node must refuse its queries (a hit/no-hit answer leaks under unlimited queries)")
		}
	}
}

// checkEntry checks one store entry against its key class; ring tells
// which signing keys have been replaced.
func checkEntry(p *Policy, kind string, info keys.Info, ring *keys.Keyring, now time.Time, add addFunc) {
	k, ok := p.Class(info.Name)
	if !ok {
		add(RuleUncovered, info.Name, "no key class matches it; add one to the policy or destroy the key")
		return
	}
	if k.Store != kind {
		add(RuleWrongStore, info.Name, "is held in the %s store, but class %q puts it in the %s store", kind, k.Name, k.Store)
	}
	if info.Algorithm != k.Algorithm {
		add(RuleAlgorithmNotAllowed, info.Name, "is a %s key, but class %q allows only %s", info.Algorithm, k.Name, k.Algorithm)
	} else if !slices.Contains(p.AllowedAlgorithms, info.Algorithm) {
		add(RuleAlgorithmNotAllowed, info.Name, "is a %s key, which is not in allowed_algorithms", info.Algorithm)
	}
	checkAge(k, info, ring, now, add)
	for _, c := range k.Custodians {
		if !slices.Contains(info.Custodians, c) {
			add(RuleMissingCustodian, info.Name, "cannot be recovered by custodian %q, whom class %q requires (it was sealed to %v); rewrite it with the custodian configured", c, k.Name, info.Custodians)
		}
	}
}

// checkAge reports a key used past its cryptoperiod. A signing key that
// has been replaced is judged by its validity window instead: while its
// overlap runs it is being phased out as planned; once the window has
// ended its seed serves nothing and should be destroyed.
func checkAge(k *KeyClass, info keys.Info, ring *keys.Keyring, now time.Time, add addFunc) {
	if id, ok := keys.ParseSigningKeyName(info.Name); ok {
		if e, ok := ring.Lookup(id); ok && !e.NotAfter.IsZero() {
			switch {
			case !now.Before(e.NotAfter):
				add(RulePastRotation, info.Name, "stopped being valid on %s (replaced or revoked) but its seed is still stored; destroy it with puente keys destroy-expired",
					e.NotAfter.Format("2006-01-02"))
			case e.NotAfter.Sub(now) > k.Overlap.D:
				add(RulePastRotation, info.Name, "was replaced but stays valid until %s, longer than class %q's overlap of %s; revoke it with puente keys revoke-signing",
					e.NotAfter.Format("2006-01-02"), k.Name, k.Overlap)
			}
			return
		}
	}
	age := now.Sub(info.Created)
	if limit := k.Cryptoperiod.D + k.Overlap.D; k.Cryptoperiod.D > 0 && age > limit {
		add(RulePastRotation, info.Name, "was created %s (%d days ago); class %q allows %s%s. %s",
			info.Created.Format("2006-01-02"), int(age.Hours()/24), k.Name, k.Cryptoperiod, overlapText(k), k.Rotation)
	}
}

func overlapText(k *KeyClass) string {
	if k.Overlap.D == 0 {
		return ""
	}
	return " plus an overlap of " + k.Overlap.String()
}

// checkAgreements looks for revoked epochs whose secret is still stored,
// and agreements whose partner has no quota.
func checkAgreements(ctx context.Context, p *Policy, s keys.Store, add addFunc) error {
	ids, err := keys.ListAgreements(ctx, s)
	if err != nil {
		return fmt.Errorf("policy: listing agreements: %w", err)
	}
	m := &keys.Agreements{Store: s}
	for _, id := range ids {
		st, _, err := m.State(ctx, id)
		if err != nil {
			add(RuleUnreadable, keys.AgreementStateName(id), "cannot be read (%v)", err)
			continue
		}
		if _, ok := p.QuotaFor(st.Partner); !ok {
			if _, listed := p.PartnerByName(st.Partner); !listed {
				add(RuleQuotaAbsent, fmt.Sprintf("partner %q", st.Partner), "has agreement %s in the key store but no partner block with a quota in the policy", id)
			}
		}
		for _, e := range st.Epochs {
			if !e.Revoked {
				continue
			}
			name := keys.SeedName(id, e.Epoch)
			if _, err := s.Stat(ctx, name); err == nil || !errors.Is(err, keys.ErrNotFound) {
				add(RuleRevokedEpochPresent, name, "epoch %d of agreement %s was revoked on %s but its secret is still in the store (state %s); re-protect the gallery, retire and destroy it",
					e.Epoch, id, e.RevokedAt.Format("2006-01-02"), e.State)
			}
		}
	}
	return nil
}
