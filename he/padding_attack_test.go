//go:build puente_testparams

// These tests mount a deviating querier that writes into the padding
// coordinates of its probe (SECURITY.md, "What a response reveals"). Before
// the opening checked the padding coordinates' norm, both failed: crafted
// probes passed the norm check and got another bit than the honest probe.

package he_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// paddingProbe is the slots of a deviating querier's probe: probe·scale in
// the m template coordinates and V·signs[j-m] in the padding coordinates
// m … pad-1, replicated with period pad.
func paddingProbe(probe []float64, scale, V float64, signs []float64, pad, S int) []float64 {
	m := len(probe)
	slots := replicate(probe, pad, S, scale)
	for k := range slots {
		if j := k % pad; j >= m {
			slots[k] = V * signs[j-m]
		}
	}
	return slots
}

// passes reports whether the values the opening checks are in their
// windows: the squared norm within 2^-11 of 1, the padding coordinates'
// squared norm within 2^-11 of 0 (the count is the decision itself).
func passes(o outcome) bool {
	return math.Abs(o.norm-1) < math.Exp2(-11) && math.Abs(o.padding) < math.Exp2(-11)
}

// paddingAttack answers a probe with V·signs in its padding coordinates, its real coordinates
// scaled up by as much as the padding lowers the norm's reading: the querier computes that
// shift from the public mask encoding; the test reads it from a first answer. It returns the
// crafted probe's outcome, the shift and the scale.
func paddingAttack(t *testing.T, f *fixture, probe []float64, g *he.Gallery, opts he.Options, V float64, signs []float64, pad int, seed uint64) (outcome, float64, float64) {
	t.Helper()
	S, m := f.ps.Slots(), len(probe)
	q0, err := f.qr.EncryptSlotsForTest(paddingProbe(probe, 1, V, signs, pad, S), m, hetest.Reader(seed))
	if err != nil {
		t.Fatal(err)
	}
	shift := f.answer(t, q0, g, opts, seed).norm - 1
	scale := math.Sqrt(1 - shift)
	q, err := f.qr.EncryptSlotsForTest(paddingProbe(probe, scale, V, signs, pad, S), m, hetest.Reader(seed+5))
	if err != nil {
		t.Fatal(err)
	}
	return f.answer(t, q, g, opts, seed+5), shift, scale
}

// TestPaddingCoordinatesBypassNormCheck mounts a deviating querier that
// writes large values V into the padding coordinates m … pad-1 of its probe
// (m = 124, pad = 128: PolyProtect order 5, overlap 4, the recommended scheme
// of docs/evaluation.md and of the protocol tests). Two effects, were only
// the template coordinates' norm checked:
//
//   - That norm masks the padding coordinates out, but the mask is a CKKS
//     plaintext whose encoding error ε_j at a masked-out slot is not 0
//     (|ε_j| ≈ 2e-10 to 1e-9): the squared norm reads y + Σ_j ε_j·V_j², a
//     shift that is deterministic and public. The querier computes it and
//     scales its m real coordinates by sqrt(1 - shift), so that the norm
//     reads 1 while the probe is longer than the window allows.
//   - The gallery's diagonals are encoded with rounding error at every slot,
//     padding positions and absent slots included, so every score gains
//     Σ_j V_j·g_{k,j}, a noise of ≈ ‖V‖·sqrt(N/3)/2^24 that the querier
//     scales at will: absent slots (x = -63/64, 1/64 from the edge) fall below
//     x = -1.0002, where both composites return +1 (hits of removed or
//     non-existent entries); an entry scoring -1 does so too; on v3 an entry
//     scoring 1 passes x = β + 1e-4, where the composite is -1.
//
// Without the padding check, 4 of 9 crafted one-entry verifications got
// another bit than the honest probe on each set (hits against an entry
// scoring 0.9 and against -probe, counts 2 to 180 from absent slots). With
// it, the padding coordinates' norm reads V² (4e6 to 6e7 per coordinate)
// and every crafted probe opens to no-hit, whatever the gallery: its bit
// carries nothing. So does V = 0.1 (padding norm 0.04): outside the window
// but inside the range the tag's keys cover, so only the window check
// refuses it. A querier that keeps the padding within its window,
// ‖V‖² < 2^-11 (the last case, V = 0.01 in each of the four), moves the
// norm by about 10^-12 and the scores by 10^-7 and gets the honest probe's
// bit.
//
// One-entry galleries (a verification), τ = 0.9234. The test fails when a
// crafted probe outside the windows opens to hit, or one that passes every
// window gets another bit than the honest probe.
func TestPaddingCoordinatesBypassNormCheck(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) {
			f := getFixture(t, ps)
			m, pad := 124, 128
			rng := rand.New(rand.NewPCG(4343, 1))
			probe := hetest.UnitVector(rng, m)
			neg := make([]float64, m)
			for i := range neg {
				neg[i] = -probe[i]
			}
			th := he.Threshold{Tau: 0.9234}
			opts := he.Options{Threshold: th}
			galleries := []struct {
				name string
				t    []float64
			}{
				{"entry = probe (score 1)", probe},
				{"entry = -probe (score -1)", neg},
				{"entry scoring 0.9", perf.WithScore(rng, probe, 0.9)},
			}
			signs := []float64{1, -1, 1, 1}
			wrong := 0
			for gi, gc := range galleries {
				g := pack(t, ps, m, [][]float64{gc.t})
				honest := f.search(t, probe, g, opts, uint64(4400+100*gi))
				for vi, V := range []float64{2000, 4000, 8000, 0.1, 0.01} {
					o, shift, scale := paddingAttack(t, f, probe, g, opts, V, signs, pad, uint64(4410+100*gi+10*vi))
					t.Logf("%s: V = %g: norm shift %.3g, real coordinates scaled by %.5f (score %.5f), norm² read %.7f, padding norm² read %.4g (windows pass %v), count %.4g: hit %v; honest probe: hit %v",
						gc.name, V, shift, scale, scale*dot(probe, gc.t), o.norm, o.padding, passes(o), o.count, o.hit, honest.hit)
					if o.hit && !passes(o) || passes(o) && o.hit != honest.hit {
						wrong++
					}
					if float64(len(signs))*V*V < math.Exp2(-11) && (!passes(o) || o.hit != honest.hit) {
						t.Errorf("%s: V = %g, within the padding window: windows pass %v, hit %v; want the honest probe's %v", gc.name, V, passes(o), o.hit, honest.hit)
					}
				}
			}
			if wrong > 0 {
				t.Errorf("%d crafted probes opened to hit outside the windows, or passed them with another bit than the honest probe", wrong)
			}
		})
	}
}

// TestHighTauMatchTurnsMiss isolates what v3 would add: a full block (no
// absent slots) of random unit entries and one entry equal to the probe
// (score 1, an honest hit at τ = 0.9234). A crafted probe with padding values
// V and its real coordinates raised by as much as the norm's shift hides
// (see TestPaddingCoordinatesBypassNormCheck) scores the match at
// λ ≈ 1.002 … 1.008 plus the padding noise: past v3's s_flip ≈ 1.0025, where
// the composite is ≈ -1. Without the padding check, 2 of 6 such probes
// passed the norm check and answered no-hit on v3, a miss the querier
// steers. With it, the padding coordinates' norm is far outside its window
// and every crafted probe opens to no-hit on both sets, whatever the
// gallery. The test fails when a crafted probe passes every window and
// answers no-hit, or when one answers hit without passing them.
func TestHighTauMatchTurnsMiss(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) {
			f := getFixture(t, ps)
			S, m, pad := ps.Slots(), 124, 128
			rng := rand.New(rand.NewPCG(4747, 1))
			probe := hetest.UnitVector(rng, m)
			gal := hetest.UnitVectors(rng, S, m)
			gal[1234] = probe
			g := pack(t, ps, m, gal)
			opts := he.Options{Threshold: he.Threshold{Tau: 0.9234}}
			steered := 0
			for vi, V := range []float64{3000, 4000, 5000} {
				for si, signs := range [][]float64{{1, 1, 1, 1}, {1, -1, -1, 1}} {
					o, _, scale := paddingAttack(t, f, probe, g, opts, V, signs, pad, uint64(4800+100*vi+10*si))
					t.Logf("V = %.0f signs %v: real coordinates ×%.5f, norm² read %.7f, padding norm² read %.4g (windows pass %v), count %.4g: hit %v", V, signs, scale, o.norm, o.padding, passes(o), o.count, o.hit)
					if passes(o) != o.hit {
						steered++
					}
				}
			}
			if steered > 0 {
				t.Errorf("%d crafted probes answered other than their windows decide (no-hit with every window passed, or hit without)", steered)
			}
		})
	}
}

// TestPaddingNormWrap mounts the wrap attack of TestOneBitNormWrap on the
// padding check: the padding coordinates' squared norm is read modulo q0,
// so padding values of squared norm exactly its period
// PaddingPeriodForTest (at least 2^36, logPaddingUnit) read as about 0.
// The querier measures, with one answer per padding coordinate j loaded
// alone to the period, how much each shifts the two norms (the masks'
// encoding errors, tens to about 1,500 units at this period), then spreads
// the period over three coordinates with weights that cancel both shifts
// where nonnegative weights do (so that both norms read near their
// targets; on these seeds none do, and a querier would search further).
// Whether or not it lands in the windows, what stops it is the count: the padding values' score noise, Σ_j V_j·g_{k,j} with
// ‖V‖ ≥ 2^18, puts the slots far outside the threshold polynomial's
// domain, and the count is not a count. Two galleries: one entry equal to
// the probe (a verification), and a full block (no absent slot, whose
// -63/64 is the domain's nearest edge) with 50 entries at τ - 0.1, where a
// review found, with the period then at 2^31, counts of 8 lifted
// near-misses and a hit the honest probe does not get. The test fails when
// a probe does not wrap (both norms must read within 2^-16 of the period
// of their targets, or the case tests nothing) or when any of them opens to hit or
// its count reads inside the count's window.
func TestPaddingNormWrap(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) {
			f := getFixture(t, ps)
			S, m, pad := ps.Slots(), 124, 128
			period := he.PaddingPeriodForTest(ps, pad)
			rng := rand.New(rand.NewPCG(4949, 1))
			probe := hetest.UnitVector(rng, m)
			full := hetest.UnitVectors(rng, S, m)
			for i := 0; i < 50; i++ {
				full[80*i] = perf.WithScore(rng, probe, 0.9234-0.1)
			}
			opts := he.Options{Threshold: he.Threshold{Tau: 0.9234}}
			for gi, gc := range []struct {
				name string
				gal  [][]float64
			}{{"one entry equal to the probe", [][]float64{probe}}, {"a full block, 50 entries at τ - 0.1", full}} {
				g := pack(t, ps, m, gc.gal)
				n := float64(g.Blocks() * S) // the count's window is [1/2, n + 1/2)
				crafted := func(name string, w []float64, seed uint64) outcome {
					slots := replicate(probe, pad, S, 1)
					for k := range slots {
						if j := k % pad; j >= m {
							slots[k] = math.Sqrt(w[j-m] * period)
						}
					}
					q, err := f.qr.EncryptSlotsForTest(slots, m, hetest.Reader(seed))
					if err != nil {
						t.Fatal(err)
					}
					o := f.answer(t, q, g, opts, seed)
					t.Logf("%s, %s: norm read %.6f, padding norm read %.6f (windows pass %v), count %.4g: hit %v", gc.name, name, o.norm, o.padding, passes(o), o.count, o.hit)
					if math.Abs(o.norm-1) > period/65536 || math.Abs(o.padding) > period/65536 {
						t.Fatalf("%s, %s: the norms did not wrap, so the case tests nothing", gc.name, name)
					}
					if o.hit || (o.count >= 0.5 && o.count < n+0.5) {
						t.Errorf("%s, %s: the count read %.4g, inside its window (hit %v)", gc.name, name, o.count, o.hit)
					}
					return o
				}
				var E, F [4]float64
				for j := range E {
					w := make([]float64, 4)
					w[j] = 1
					o := crafted(fmt.Sprintf("coordinate %d alone", m+j), w, uint64(4950+100*gi+10*j))
					E[j], F[j] = o.norm-1, o.padding
				}
				// Weights w ≥ 0 on three coordinates with Σw = 1, Σw·E = 0 and
				// Σw·F = 0 (Cramer's rule), for each triple that has them.
				det3 := func(a, b, c [3]float64) float64 {
					return a[0]*(b[1]*c[2]-b[2]*c[1]) - a[1]*(b[0]*c[2]-b[2]*c[0]) + a[2]*(b[0]*c[1]-b[1]*c[0])
				}
				col := func(j int) [3]float64 { return [3]float64{1, E[j], F[j]} }
				one := [3]float64{1, 0, 0}
				tried := 0
				for skip := 0; skip < 4; skip++ {
					var idx []int
					for j := 0; j < 4; j++ {
						if j != skip {
							idx = append(idx, j)
						}
					}
					a, b, c := col(idx[0]), col(idx[1]), col(idx[2])
					d := det3(a, b, c)
					sol := []float64{det3(one, b, c) / d, det3(a, one, c) / d, det3(a, b, one) / d}
					if sol[0] < 0 || sol[1] < 0 || sol[2] < 0 {
						continue
					}
					w := make([]float64, 4)
					for k, j := range idx {
						w[j] = sol[k]
					}
					crafted(fmt.Sprintf("weights %.4f", w), w, uint64(5000+100*gi+10*skip))
					tried++
				}
				t.Logf("%s: %d spreads cancel both shifts (E %.3f, F %.3f)", gc.name, tried, E, F)
			}
		})
	}
}
