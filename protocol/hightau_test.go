//go:build puente_testparams

package protocol

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/home"
)

// TestHighTauSet runs two nodes on the circuit of puente-ckks-n15-v3 (its INSECURE ring) at the
// evaluation's τ = 0.9234: a search and a verification each way of the decision, against the
// plaintext answers. A partner on the set at a threshold it does not serve is refused when it
// is added, and the configuration is left as it was.
func TestHighTauSet(t *testing.T) {
	t.Parallel()
	const tau = 0.9234
	ps := hetest.InsecureN11HighTau()
	a, b := newPair(t, pairOptions{params: ps.Name(), tau: tau})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(60, 25)
	if _, err := b.Enrol(ctx, "alpha", refs("b", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	mated, other := near(61, gal[7], 0.1), rawVectors(62, 1)[0]
	for _, c := range []struct {
		probe []float64
		hit   bool
	}{{mated, true}, {other, false}} {
		if got := checkSearch(t, a, "beta", gal, c.probe, tau); got != c.hit {
			t.Errorf("search on %s: hit %v, want %v", ps.Name(), got, c.hit)
		}
	}
	labels, err := b.References(ctx, "alpha", []string{"b-7", "b-8"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		res, err := a.Verify(ctx, "beta", labels[i], Probe{Raw: mated}, "")
		if err != nil || res.Hit != want {
			t.Errorf("verify on %s against %s: %+v %v, want hit %v", ps.Name(), labels[i], res, err, want)
		}
	}

	c, d := initNode(t, "gamma"), initNode(t, "delta")
	card, err := home.LoadCard(filepath.Join(d.home, "card.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = home.AddPartner(c.home, card, home.PartnerOptions{Agreement: "cd", Address: d.addr, Purposes: []string{"border-screening"},
		HEParams: ps.Name(), Threshold: 0.9, Transform: testTransform}, "1000 per 24h")
	if err == nil || !strings.Contains(err.Error(), "threshold 0.9 is below 0.9233") {
		t.Errorf("a partner on %s at threshold 0.9 was added: %v", ps.Name(), err)
	}
	if _, err := home.LoadConfig(filepath.Join(c.home, "puente.hcl")); err != nil {
		t.Errorf("the refused partner left the configuration unloadable: %v", err)
	}
}
