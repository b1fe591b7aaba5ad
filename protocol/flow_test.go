package protocol

import (
	"testing"
	"time"

	"github.com/puente-id/puente/protect"
)

func TestCeremonySearchVerify(t *testing.T) {
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	rep, err := a.Ceremony(ctx, "beta", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ceremony: %+v", rep)
	gal := rawVectors(1, 40)
	if _, err := b.Enrol(ctx, "alpha", refs("s", 40), f32(gal)); err != nil {
		t.Fatal(err)
	}
	mated := near(2, gal[7], 0.1)
	other := rawVectors(3, 1)[0]
	pg, _, _ := a.Protect(ctx, "beta", gal)
	pm, _, _ := a.Protect(ctx, "beta", [][]float64{mated, other})
	best := func(p []float64) float64 {
		m := -1.0
		for _, g := range pg {
			m = max(m, protect.Dot(p, g))
		}
		return m
	}
	t.Logf("plaintext best scores: mated %.4f non-mated %.4f", best(pm[0]), best(pm[1]))
	for i, probe := range [][]float64{mated, other} {
		res, err := a.Search(ctx, "beta", Probe{Raw: probe}, "")
		if err != nil {
			t.Fatal(err)
		}
		want := best(pm[i]) >= 0.9
		if res.Hit != want {
			t.Errorf("search %d: hit %v, plaintext says %v", i, res.Hit, want)
		}
		t.Logf("search %d: %+v", i, res)
	}
	labels, err := b.References(ctx, "alpha", []string{"s-7"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Verify(ctx, "beta", labels[0], Probe{Raw: mated}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Hit {
		t.Errorf("verify mated: no hit")
	}
}
