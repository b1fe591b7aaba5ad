//go:build puente_testparams

package he_test

import (
	"math"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/internal/lfw/lfwtest"
	"github.com/puente-id/puente/protect"
)

// protectedLFW loads lfw-dlib128 (from ../shared/data or $PUENTE_DATA;
// without it the test skips, or fails under PUENTE_REQUIRE_DATA=1) and protects every embedding with the
// protect package's recommended scheme, PolyProtect order 5, overlap 4
// (m = 124), under a fixed evaluation seed.
func protectedLFW(t testing.TB) (*lfw.Set, [][]float64) {
	t.Helper()
	set := lfwtest.Set(t)
	p := protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}
	material := []byte("puente/he tests: public seed material, 32+ bytes long")
	seed, err := protect.DeriveSeed(material, "he-tests", p.Scheme, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := protect.New(p, seed)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, set.Emb.Rows)
	for i := range out {
		out[i] = make([]float64, tr.OutputDim())
		if err := tr.Apply(out[i], set.Emb.Row(i)); err != nil {
			t.Fatalf("protect row %d: %v", i, err)
		}
	}
	return set, out
}

// tauAtFMR is the protect package's threshold for a target FMR, from
// non-mated pairs of the set.
func tauAtFMR(t testing.TB, set *lfw.Set, vecs [][]float64, fmr float64) float64 {
	t.Helper()
	var nm []float64
	for _, p := range set.NonMatedPairs(200000, 1) {
		nm = append(nm, dot(vecs[p.A], vecs[p.B]))
	}
	tau, _, err := protect.ThresholdAtFMR(nm, fmr)
	if err != nil {
		t.Fatal(err)
	}
	return tau
}

// TestSearchLFW runs open-set searches of protected LFW face templates
// (the data README's protocol: 211 enrolled identities, mated and
// non-mated searches) and checks every encrypted decision against the
// plaintext one: exactly when no score is within the threshold's band,
// and within the number of in-band scores otherwise.
func TestSearchLFW(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: open-set searches of the whole LFW protocol are heavy HE work")
	}
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	set, vecs := protectedLFW(t)
	open := set.OpenSet()
	var gal [][]float64
	for _, r := range open.Gallery {
		gal = append(gal, vecs[r])
	}
	th := he.Threshold{Tau: tauAtFMR(t, set, vecs, 1e-3)}
	m := len(gal[0])
	g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	var probes []int
	for i := 0; i < 8; i++ {
		probes = append(probes, open.Mated[i*len(open.Mated)/8], open.NonMated[i*len(open.NonMated)/8])
	}
	hits := 0
	for i, row := range probes {
		p := vecs[row]
		_, exact, inBand := plainCount(ps, th, p, gal)
		o := f.search(t, p, g, he.Options{Threshold: th}, uint64(1000+10*i))
		switch {
		case inBand == 0 && (o.hit != (exact > 0) || math.Abs(o.count-float64(exact)) > 0.05):
			t.Errorf("probe row %d: hit %v (count %.3f), plaintext count %d", row, o.hit, o.count, exact)
		case inBand > 0 && (o.count < float64(exact-inBand)-0.05 || o.count > float64(exact+inBand)+0.05):
			t.Errorf("probe row %d: count %.3f, plaintext count %d with %d scores in the band", row, o.count, exact, inBand)
		}
		if exact > 0 {
			hits++
		}
	}
	if hits == 0 || hits == len(probes) {
		t.Errorf("%d of %d probes hit: the test does not exercise both decisions", hits, len(probes))
	}
	t.Logf("%d gallery entries (m = %d), %d probes, %d hits, tau %.4f, band ±%.4f", len(gal), m, len(probes), hits, th.Tau, th.Band(ps))
}
