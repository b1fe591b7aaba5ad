//go:build puente_testparams

package he_test

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/opening"
)

// The one-bit suite mounts a hostile querier's probes against the real
// responder code and checks that an answer carries one bit. What the
// querier sees of an answer is: the three shares of the opening (its
// decryption of the count, the norm and the tag, each masked by a uniform
// value of the responder's), the garbled circuit and the transferred labels,
// and the output bit. The tests check the bit, the shares' distribution,
// and — with both parties' secrets, a view no party has — the count and the
// norm the shares hold, to measure the margins the decision depends on.

const (
	onebitTau = 0.9
	delta     = 1.0 / 1024 // the band's half-width the issue sets: 2^-10
)

func onebitOpts() he.Options { return he.Options{Threshold: he.Threshold{Tau: onebitTau}} }

// replicate repeats the m coordinates of v with period pad across S slots,
// times scale.
func replicate(v []float64, pad, S int, scale float64) []float64 {
	out := make([]float64, S)
	for k := range out {
		if j := k % pad; j < len(v) {
			out[k] = scale * v[j]
		}
	}
	return out
}

// project is the plaintext of what the responder does to a query's slots:
// the average over the S/pad copies, replicated.
func project(slots []float64, pad int) []float64 {
	S := len(slots)
	R := S / pad
	out := make([]float64, S)
	for k := range out {
		for t := 0; t < R; t++ {
			out[k] += slots[(k+t*pad)%S]
		}
		out[k] /= float64(R)
	}
	return out
}

// crafted answers a query whose slots are exactly v (a deviating querier's
// plaintext).
func (f *fixture) crafted(t *testing.T, v []float64, dims int, g *he.Gallery, seed uint64) outcome {
	t.Helper()
	q, err := f.qr.EncryptSlotsForTest(v, dims, hetest.Reader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return f.answer(t, q, g, onebitOpts(), seed)
}

func pack(t testing.TB, ps *he.ParamSet, m int, gal [][]float64) *he.Gallery {
	t.Helper()
	g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// exactCount counts the entries scoring at least τ, and the largest score.
func exactCount(probe []float64, gal [][]float64) (n int, best float64) {
	best = -2
	for _, g := range gal {
		s := dot(probe, g)
		if s >= onebitTau {
			n++
		}
		best = math.Max(best, s)
	}
	return n, best
}

// TestOneBitSlotWindow (a): probes that are non-zero only in the slots one
// entry (or a range of entries) reads answer exactly as the probe the
// responder's projection makes of them would, for every entry: the window
// over the matching entry and a window over any other entry give the same
// answer, so a window says nothing of which entry matched, nor of the
// gallery's size.
func TestOneBitSlotWindow(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 100, 128
	R := S / pad
	rng := rand.New(rand.NewPCG(21, 1))
	probe := hetest.UnitVector(rng, m)
	gal := hetest.UnitVectors(rng, 1000, m)
	const match = 617
	gal[match] = perf.WithScore(rng, probe, 0.95)
	g := pack(t, ps, m, gal)
	other := hetest.UnitVector(rng, m) // matches nothing

	// window is v (with period pad) in slots [from, to) only, times scale.
	window := func(v []float64, from, to int, scale float64) []float64 {
		out := make([]float64, S)
		for k := from; k < to; k++ {
			if j := (k % S) % pad; j < len(v) {
				out[k%S] = scale * v[j]
			}
		}
		return out
	}
	cases := []struct {
		name  string
		slots []float64
	}{
		{"the whole probe", replicate(probe, pad, S, 1)},
		{"a window over the matching entry, scaled by S/pad", window(probe, match, match+pad, float64(R))},
		{"a window over another entry, scaled by S/pad", window(probe, 100, 100+pad, float64(R))},
		{"a misaligned window, scaled by S/pad", window(probe, 1234, 1234+pad, float64(R))},
		{"a window over the matching entry, unscaled", window(probe, match, match+pad, 1)},
		{"windows over entries 600 to 700", window(probe, 600, 700+pad, 1)},
		{"windows over entries 600 to 700, scaled", window(probe, 600, 700+pad, float64(R)/2)},
		{"a non-matching probe in the matching entry's window", window(other, match, match+pad, float64(R))},
		{"slots beyond the gallery only", window(probe, 1500, 1500+pad, float64(R))},
	}
	var whole outcome
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := f.crafted(t, c.slots, m, g, uint64(100+10*i))
			// The same query made of the projection, honestly replicated.
			proj := project(c.slots, pad)
			ref := f.crafted(t, proj, m, g, uint64(500+10*i))
			p := proj[:m]
			n, _ := exactCount(p, gal)
			y := dot(p, p)
			wantHit := n >= 1 && math.Abs(y-1) < math.Exp2(-11)
			t.Logf("projected norm² %.6f, exact count %d: hit %v (count %.4f, norm² %.6f)", y, n, got.hit, got.count, got.norm)
			if got.hit != wantHit || ref.hit != wantHit {
				t.Fatalf("hit %v (projection answered %v), want %v", got.hit, ref.hit, wantHit)
			}
			if math.Abs(got.count-ref.count) > 1e-2 || math.Abs(got.norm-ref.norm) > 1e-5 {
				t.Fatalf("count %.5f norm² %.7f; the projection's %.5f and %.7f", got.count, got.norm, ref.count, ref.norm)
			}
			if i == 0 {
				whole = got
			}
		})
	}
	if !whole.hit {
		t.Fatal("the whole probe did not hit")
	}
}

// TestOneBitScaledBasisProbes (b): the basis probes λ·e_j of the coordinate
// attack, against a one-entry gallery (a verification) whose coordinate 9 is
// 0.325: at λ >= 2.47 the score λ·0.325 clears τ = 0.8 and the count says
// so, but the probe's squared norm λ² is outside the window and the answer
// is no-hit, for every λ from 0.5 to 10 and either coordinate; the shares
// the querier holds are distributed as an honest no-hit's.
func TestOneBitScaledBasisProbes(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 124, 128
	rng := rand.New(rand.NewPCG(22, 1))
	ref := hetest.UnitVector(rng, m)
	// set coordinate 9 to 0.325 and renormalise the others
	rest := math.Sqrt(1 - 0.325*0.325)
	var n2 float64
	for j := range ref {
		if j != 9 {
			n2 += ref[j] * ref[j]
		}
	}
	for j := range ref {
		ref[j] *= rest / math.Sqrt(n2)
	}
	ref[9] = 0.325
	g := pack(t, ps, m, [][]float64{ref})
	opts := he.Options{Threshold: he.Threshold{Tau: 0.8}}
	for _, j := range []int{9, 3} {
		for i, lambda := range []float64{0.5, 0.75, 0.9, 1, 1.1, 1.5, 2, 2.437, 2.486, 3, 5, 10} {
			e := make([]float64, m)
			e[j] = lambda
			q, err := f.qr.EncryptSlotsForTest(replicate(e, pad, S, 1), m, hetest.Reader(uint64(1000+100*j+i)))
			if err != nil {
				t.Fatal(err)
			}
			o := f.answer(t, q, g, opts, uint64(1000+100*j+i))
			score := lambda * ref[j]
			t.Logf("λ·e_%d, λ = %.3f: score %.3f (count %.3f), norm² %.4f: hit %v", j, lambda, score, o.count, o.norm, o.hit)
			if o.hit {
				t.Fatalf("λ·e_%d with λ = %v hit", j, lambda)
			}
			if math.Abs(o.norm-lambda*lambda) > 1e-3*math.Max(1, lambda*lambda) {
				t.Fatalf("norm² %v, want %v", o.norm, lambda*lambda)
			}
			// Within the threshold's input domain (s − τ up to 1 + τ, which the
			// affine map takes into [−1, 1]) a score past τ counts as a match,
			// so there it is the norm check alone that keeps the probe from
			// hitting. Beyond it (λ = 10: score 3.25) the polynomial's value
			// is arbitrary, and the norm check still answers no-hit.
			if score >= 0.8+delta && score-0.8 <= 1+0.8 && lambda > 1 && o.count < 0.75 {
				t.Fatalf("score %.3f clears τ but the count is %.3f: the check did not bite where it had to", score, o.count)
			}
		}
	}
	// The attack's point λ = 2.486 against an honest no-hit probe: 200
	// answers each, the querier's count shares compared (two-sample KS).
	e := make([]float64, m)
	e[9] = 2.486
	q, _ := f.qr.EncryptSlotsForTest(replicate(e, pad, S, 1), m, hetest.Reader(77))
	honest, _ := f.qr.EncryptProbe(hetest.UnitVector(rng, m), hetest.Reader(78))
	a := shareSample(t, f, q, g, opts, 200, 79)
	b := shareSample(t, f, honest, g, opts, 200, 80)
	if d, p := ksTwoSample(a.count, b.count); p < 1e-3 {
		t.Fatalf("the crafted probe's count shares differ from an honest no-hit's: D = %.3f, p = %.2g", d, p)
	}
	if a.hits != 0 || b.hits != 0 {
		t.Fatalf("hits among 200 answers: crafted %d, honest no-hit %d", a.hits, b.hits)
	}
}

// TestOneBitNormWindow: probes scaled to just inside the window pass, just
// outside fail, on either side of 1.
func TestOneBitNormWindow(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 100, 128
	rng := rand.New(rand.NewPCG(23, 1))
	probe := hetest.UnitVector(rng, m)
	g := pack(t, ps, m, [][]float64{perf.WithScore(rng, probe, 0.97)})
	w := math.Exp2(-11)
	for i, y := range []float64{1, 1 - w/2, 1 + w/2, 1 - 2*w, 1 + 2*w, 0.25, 4} {
		o := f.crafted(t, replicate(probe, pad, S, math.Sqrt(y)), m, g, uint64(2000+10*i))
		want := math.Abs(y-1) < w
		if o.hit != want {
			t.Fatalf("norm² %v: hit %v, want %v (the responder read %v)", y, o.hit, want, o.norm)
		}
	}
}

// TestOneBitNormWrap mounts the wrap attack on the norm check: the squared
// norm is read modulo q0, so a probe of squared norm 1 + P (P the period:
// 2^34 with the production set's moduli and scales, which the small sets
// share) reads as about 1. The reading's error grows with the probe: a
// deterministic part of a few units (the mask's encoding, which a querier
// can compute and correct) and a random part of about 2^-6 (the probe's
// noise times its norm) against a window of ±2^-11, so a corrected probe
// passes the check about one try in 50 (measured while writing this test). When it does pass, its scores
// are about sqrt(P)·<w, g> for its large direction w, far outside the
// threshold polynomial's domain, and the count the answer holds is a wrapped
// value: it opens to a hit only if it lands in the count's window, about
// 2^-29 of the ring on the production set.
//
// The test sends such probes in 12 random directions against a matching
// entry and checks, for each, that the norm did wrap to about 1 (the attack
// reached the check) and that the count is outside its window (so no
// answer of that probe can hit, whatever the norm reads). A way through
// would need every slot's score to stay in the polynomial's domain: the
// large direction nearly orthogonal to every entry, and also to the
// gallery's encoding error (about 2^-18 per coordinate on the production
// set, times sqrt(P)). The last case builds a large direction exactly
// orthogonal to the entry (which the querier cannot: it needs the entry)
// and checks that the encoding error alone still throws the count out of
// its window.
func TestOneBitNormWrap(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 100, 128
	P := he.NormPeriodForTest(ps, pad)
	t.Logf("wrap period of the squared norm 2^%.1f: the large component has norm 2^%.1f", math.Log2(P), math.Log2(P)/2)
	rng := rand.New(rand.NewPCG(28, 1))
	probe := hetest.UnitVector(rng, m)
	ref := perf.WithScore(rng, probe, 0.97)
	g := pack(t, ps, m, [][]float64{ref})
	// wrapped returns probe + sqrt(P)·w with w made a unit vector
	// orthogonal to the probe: squared norm exactly 1 + P.
	wrapped := func(w []float64) []float64 {
		d := dot(w, probe)
		var n2 float64
		for j := range w {
			w[j] -= d * probe[j]
			n2 += w[j] * w[j]
		}
		v := make([]float64, m)
		for j := range v {
			v[j] = probe[j] + math.Sqrt(P)*w[j]/math.Sqrt(n2)
		}
		return v
	}
	n := float64(g.Blocks() * S) // the count's window is [1/2, n + 1/2)
	for i := 0; i < 12; i++ {
		v := wrapped(hetest.UnitVector(rng, m))
		o := f.crafted(t, replicate(v, pad, S, 1), m, g, uint64(7000+10*i))
		t.Logf("direction %d: score %.1f, norm read %.6f, count read %.4g: hit %v", i, dot(v, ref), o.norm, o.count, o.hit)
		// Wrapped, the norm reads within a few units of 1 (a querier corrects
		// the deterministic part); had it not wrapped, it would read anywhere
		// in [0, P).
		if math.Abs(o.norm-1) > 8 {
			t.Fatalf("direction %d: the norm read %.6f, not about 1: the probe did not wrap, so the case tests nothing", i, o.norm)
		}
		if o.hit || (o.count >= 0.5 && o.count < n+0.5) {
			t.Fatalf("direction %d: the count read %.4g, inside its window (hit %v)", i, o.count, o.hit)
		}
	}
	// A large direction orthogonal to the entry.
	w := hetest.UnitVector(rng, m)
	r := append([]float64(nil), ref...)
	d := dot(r, probe)
	for j := range r { // the entry's component orthogonal to the probe
		r[j] -= d * probe[j]
	}
	var rr, wr float64
	for j := range w {
		wr += w[j] * r[j]
		rr += r[j] * r[j]
	}
	for j := range w {
		w[j] -= wr / rr * r[j]
	}
	v := wrapped(w)
	o := f.crafted(t, replicate(v, pad, S, 1), m, g, 7900)
	t.Logf("a large direction orthogonal to the entry: score %.4f, norm read %.6f, count %.4f: hit %v", dot(v, ref), o.norm, o.count, o.hit)
	if o.hit || (o.count >= 0.5 && o.count < n+0.5) {
		t.Fatalf("the orthogonal wrap's count read %.4g, inside its window (hit %v)", o.count, o.hit)
	}
}

// TestOneBitMatchCounts (c): galleries where 1, 7, 500 and 32,768 entries
// match give the same answer (hit), and the querier's shares of the count
// are distributed alike. The old answer decoded to the count itself (a
// difference between cases of many standard deviations of any share); 100
// answers per case detect with certainty any leak that moves the shares'
// distribution by a sup-distance of 0.25 (two-sample KS, p < 0.001).
func TestOneBitMatchCounts(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	m := 64
	rng := rand.New(rand.NewPCG(24, 1))
	probe := hetest.UnitVector(rng, m)
	var first []float64
	for i, k := range []int{1, 7, 500, 32768} {
		n := max(1000, k)
		gal := hetest.UnitVectors(rng, n, m)
		for j := 0; j < k; j++ {
			gal[j*(n/k)] = perf.WithScore(rng, probe, 0.95)
		}
		g := pack(t, ps, m, gal)
		q, _ := f.qr.EncryptProbe(probe, hetest.Reader(uint64(3000+i)))
		o := f.answer(t, q, g, onebitOpts(), uint64(3100+10*i))
		if !o.hit || math.Abs(o.count-float64(k)) > 0.1 {
			t.Fatalf("%d matches: hit %v, count %.3f", k, o.hit, o.count)
		}
		s := shareSample(t, f, q, g, onebitOpts(), 100, uint64(3200+i))
		if s.hits != 100 {
			t.Fatalf("%d matches: %d of 100 answers hit", k, s.hits)
		}
		if first == nil {
			first = s.count
			continue
		}
		if d, p := ksTwoSample(first, s.count); p < 1e-3 {
			t.Fatalf("%d matches: count shares differ from 1 match's: D = %.3f, p = %.2g", k, d, p)
		}
		if d, p := ksUniform(s.count); p < 1e-3 {
			t.Fatalf("%d matches: count shares not uniform: D = %.3f, p = %.2g", k, d, p)
		}
	}
}

// TestOneBitNearThreshold (d): a score at τ+2δ and one at τ+0.2 give the
// same answer and the same distribution of shares, and so do τ-2δ and
// τ-0.2, also over 1,000 answers to the same query (the averaging attack).
// The old answer decoded a score at τ+0.004 to 0.983 and one further up to
// 1: the test's control shows that 1,000 answers separate values that far
// apart (the count the shares hold, compared directly) with p < 10^-9.
func TestOneBitNearThreshold(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	m := 100
	const tau = 0.7 // τ ± 0.2 stay scores of unit vectors
	opts := he.Options{Threshold: he.Threshold{Tau: tau}}
	rng := rand.New(rand.NewPCG(25, 1))
	probe := hetest.UnitVector(rng, m)
	gal := hetest.UnitVectors(rng, 300, m)
	samples := map[float64]sample{}
	for i, s := range []float64{tau + 2*delta, tau + 0.2, tau - 2*delta, tau - 0.2, tau} {
		gal[150] = perf.WithScore(rng, probe, s)
		g := pack(t, ps, m, gal)
		q, _ := f.qr.EncryptProbe(probe, hetest.Reader(uint64(4000+i)))
		samples[s] = shareSample(t, f, q, g, opts, 1000, uint64(4100+i))
	}
	for _, pair := range [][2]float64{{tau + 2*delta, tau + 0.2}, {tau - 2*delta, tau - 0.2}} {
		a, b := samples[pair[0]], samples[pair[1]]
		wantHits := 0
		if pair[0] > tau {
			wantHits = 1000
		}
		if a.hits != wantHits || b.hits != wantHits {
			t.Fatalf("scores %v and %v: %d and %d of 1000 answers hit, want %d", pair[0], pair[1], a.hits, b.hits, wantHits)
		}
		if d, p := ksTwoSample(a.count, b.count); p < 1e-3 {
			t.Fatalf("scores %v and %v: count shares differ: D = %.3f, p = %.2g", pair[0], pair[1], d, p)
		}
		if d := math.Abs(mean(a.count) - mean(b.count)); d > 4*math.Sqrt(2.0/12/1000) {
			t.Fatalf("scores %v and %v: mean count shares differ by %.4f", pair[0], pair[1], d)
		}
	}
	// Control: what the shares hide, compared directly, separates τ (a
	// score in the band, count about 1/2) from τ+0.2.
	if _, p := ksTwoSample(samples[tau].plain, samples[tau+0.2].plain); p > 1e-9 {
		t.Fatalf("control: the hidden counts at τ and τ+0.2 were not told apart (p = %.2g): the sample is too small", p)
	}
}

// TestOneBitCalibrated (e): outside the band the decision is the plaintext
// decision at τ, with no bias toward hit: single scores at τ ± 2δ, and 500
// entries at τ - 2δ (whose errors would add up if they could).
func TestOneBitCalibrated(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	m := 100
	rng := rand.New(rand.NewPCG(26, 1))
	for i := 0; i < 6; i++ {
		probe := hetest.UnitVector(rng, m)
		gal := hetest.UnitVectors(rng, 200, m)
		for k, s := range []float64{onebitTau + 2*delta, onebitTau - 2*delta} {
			gal[7+i] = perf.WithScore(rng, probe, s)
			want, _ := exactCount(probe, gal)
			o := f.search(t, probe, pack(t, ps, m, gal), onebitOpts(), uint64(5000+10*i+k))
			if o.hit != (want > 0) {
				t.Fatalf("probe %d, score %v: hit %v, plaintext count %d", i, s, o.hit, want)
			}
		}
	}
	probe := hetest.UnitVector(rng, m)
	gal := make([][]float64, 500)
	for i := range gal {
		gal[i] = perf.WithScore(rng, probe, onebitTau-2*delta)
	}
	o := f.search(t, probe, pack(t, ps, m, gal), onebitOpts(), 5900)
	if o.hit || math.Abs(o.count) > 0.05 {
		t.Fatalf("500 entries at τ-2δ: hit %v, count %.4f", o.hit, o.count)
	}
	for i := range gal {
		gal[i] = perf.WithScore(rng, probe, onebitTau+2*delta)
	}
	o = f.search(t, probe, pack(t, ps, m, gal), onebitOpts(), 5910)
	if !o.hit || math.Abs(o.count-500) > 0.05 {
		t.Fatalf("500 entries at τ+2δ: hit %v, count %.4f", o.hit, o.count)
	}
}

// TestOneBitErrorMargins measures, on the adversarial inputs of the suite,
// how far the count and the norm the shares hold are from their exact
// values: the decision is exact while the count's error stays below 1/2
// (it is compared with 1/2) and the norm's below the window's edge.
func TestOneBitErrorMargins(t *testing.T) {
	ps := hetest.InsecureN11()
	f := getFixture(t, ps)
	S, m, pad := ps.Slots(), 100, 128
	rng := rand.New(rand.NewPCG(27, 1))
	probe := hetest.UnitVector(rng, m)
	var worstC, worstY float64
	check := func(name string, slots []float64, gal [][]float64, seed uint64) {
		p := project(slots, pad)[:m]
		o := f.crafted(t, slots, m, pack(t, ps, m, gal), seed)
		y := dot(p, p)
		if math.Abs(y-1) >= math.Exp2(-11) {
			// Outside the norm window the scores may leave the threshold
			// polynomial's domain, and the count with them: only the
			// decision is defined.
			if o.hit {
				t.Fatalf("%s: norm² %.4f outside the window, and it hit", name, y)
			}
			t.Logf("%s: norm² %.4f outside the window: no-hit (the count read %.3g)", name, y, o.count)
			return
		}
		var exact float64
		for _, g := range gal {
			exact += (he.Threshold{Tau: onebitTau}).PlainStep(ps, dot(p, g))
		}
		ec, ey := math.Abs(o.count-exact), math.Abs(o.norm-y)
		worstC, worstY = math.Max(worstC, ec), math.Max(worstY, ey)
		t.Logf("%s: count error %.2e, norm error %.2e", name, ec, ey)
	}
	all := make([][]float64, 2*S)
	for i := range all {
		all[i] = perf.WithScore(rng, probe, onebitTau+2*delta+float64(i%7)*0.01)
	}
	check("every entry of two blocks matches", replicate(probe, pad, S, 1), all, 6000)
	near := make([][]float64, S)
	for i := range near {
		near[i] = perf.WithScore(rng, probe, onebitTau-2*delta)
	}
	check("a block at τ-2δ", replicate(probe, pad, S, 1), near, 6010)
	e := make([]float64, m)
	e[5] = 10
	check("10·e_5", replicate(e, pad, S, 1), hetest.UnitVectors(rng, 100, m), 6020)
	noisy := replicate(probe, pad, S, 1)
	for k := range noisy {
		noisy[k] += 0.3 * rng.NormFloat64()
	}
	check("copies that disagree", noisy, hetest.UnitVectors(rng, 100, m), 6030)
	// copies that disagree but average to a unit vector matching entry 3
	gal := hetest.UnitVectors(rng, 100, m)
	gal[3] = perf.WithScore(rng, probe, 0.95)
	skew := replicate(probe, pad, S, 1)
	for k := range skew {
		if k%pad < m {
			d := 0.5 * rng.NormFloat64()
			skew[k] += d
			skew[(k+pad)%S] -= d
		}
	}
	check("copies that disagree, averaging to a match", skew, gal, 6040)
	edge := replicate(probe, pad, S, math.Sqrt(1+0.9*math.Exp2(-11)))
	check("a probe at the window's edge", edge, gal, 6050)
	t.Logf("worst count error %.2e, worst relative norm error %.2e", worstC, worstY)
	if worstC > 1.0/16 || worstY > math.Exp2(-14) {
		t.Fatalf("margins: count error %.3g (bound 1/16), norm error %.3g (bound 2^-14)", worstC, worstY)
	}
}

// sample is what the querier holds of n answers to one query (its count
// shares, scaled to [0, 1)) and their decisions, with the count the shares
// hide (the test's view).
type sample struct {
	count, plain []float64
	hits         int
}

// shareSample answers q n times (one evaluation, n fresh answers) and
// decides each with the opening's reference; the first few are also opened
// through the garbled circuit, which must agree.
func shareSample(t *testing.T, f *fixture, q *he.Query, g *he.Gallery, opts he.Options, n int, seed uint64) sample {
	t.Helper()
	as, secs, err := f.r.RespondMany(q, g, opts, n, hetest.Reader(seed))
	if err != nil {
		t.Fatal(err)
	}
	op := f.ps.OpeningParams()
	var s sample
	for i, a := range as {
		x, err := f.qr.Shares(q, a)
		if err != nil {
			t.Fatal(err)
		}
		hit := opening.Reference(op, secs[i], x)
		if i < 3 {
			session := q.Digest()
			gb, msg, err := opening.Garble(op, secs[i], session[:], hetest.Reader(seed+uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			ev, req, err := opening.NewEvaluator(op, session[:], msg, x, hetest.Reader(seed+100+uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := gb.Transfer(req, hetest.Reader(seed+200+uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := ev.Finish(tr); err != nil || got != hit {
				t.Fatalf("garbled circuit opened %v (%v), reference %v", got, err, hit)
			}
		}
		if hit {
			s.hits++
		}
		s.count = append(s.count, float64(x[0])/float64(op.Q))
		c, _, _ := he.PlainCounts(f.ps, secs[i], x, g.Blocks(), padOf(g.Dims()))
		s.plain = append(s.plain, c)
	}
	return s
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// ksTwoSample returns the two-sample Kolmogorov–Smirnov statistic and its
// asymptotic p-value.
func ksTwoSample(a, b []float64) (d, p float64) {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	sort.Float64s(a)
	sort.Float64s(b)
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := math.Min(a[i], b[j])
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	n := float64(len(a)) * float64(len(b)) / float64(len(a)+len(b))
	return d, kolmogorovQ((math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * d)
}

// ksUniform returns the one-sample KS statistic against U(0, 1) and its
// asymptotic p-value.
func ksUniform(a []float64) (d, p float64) {
	a = append([]float64(nil), a...)
	sort.Float64s(a)
	n := float64(len(a))
	for i, x := range a {
		d = math.Max(d, math.Max(float64(i+1)/n-x, x-float64(i)/n))
	}
	return d, kolmogorovQ((math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * d)
}

// kolmogorovQ is the Kolmogorov distribution's survival function.
func kolmogorovQ(x float64) float64 {
	if x < 0.2 {
		return 1
	}
	var s float64
	for k := 1; k <= 100; k++ {
		s += 2 * math.Pow(-1, float64(k-1)) * math.Exp(-2*float64(k*k)*x*x)
	}
	return math.Max(0, math.Min(1, s))
}

var _ = context.Background
