//go:build puente_testparams

package protocol

import (
	"strings"
	"testing"
	"time"
)

// TestAdminNodeRefusals makes requests that pass the operator API's checks (package operator) but
// that the node must refuse: each is refused, and nothing is enrolled or queried.
func TestAdminNodeRefusals(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	big := make([]float64, 124)
	for i := range big {
		big[i] = 10
	}
	search := func(p Probe, purpose string) func() error {
		return func() error { _, err := a.Search(ctx, "beta", p, purpose); return err }
	}
	for _, s := range []struct {
		what string
		call func() error
	}{
		{"protect", func() error { _, _, err := a.Protect(ctx, "beta", [][]float64{{1, 2, 3}}); return err }},
		{"enrol", func() error {
			_, err := a.Enrol(ctx, "beta", []string{"s1"}, [][]float32{{1, 2, 3}}, EnrolOptions{})
			return err
		}},
		{"enrol gamma", func() error {
			_, err := a.Enrol(ctx, "gamma", []string{"s1"}, [][]float32{{1, 2, 3}}, EnrolOptions{})
			return err
		}},
		{"references", func() error { _, err := a.References(ctx, "beta", []string{"s1"}); return err }},
		{"search raw", search(Probe{Raw: []float64{1, 2, 3}}, "")},
		{"search big", search(Probe{Protected: big}, "")},
		{"search short", search(Probe{Protected: []float64{1}}, "")},
		{"search purpose", search(Probe{Protected: []float64{1}}, "tax-audit")},
		{"verify", func() error {
			_, err := a.Verify(ctx, "beta", "v1-00", Probe{Raw: []float64{1}}, "")
			return err
		}},
		{"ceremony gamma", func() error { _, err := a.Ceremony(ctx, "gamma", 0); return err }},
	} {
		if err := s.call(); err == nil {
			t.Errorf("%s: answered; want a refusal", s.what)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", s.what, err)
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
