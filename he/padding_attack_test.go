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
// so padding values of squared norm exactly its period NormPeriodForTest
// (2^31 at pad 128) read as about 0. The querier first measures, with one
// answer per padding coordinate j loaded alone to the period, how much
// each shifts the two norms (the masks' encoding errors: about ±2 units,
// opposite on the two norms since the masks sum to 1), then spreads the
// period over two coordinates of opposite shifts with weights that cancel
// them. Both norms then read within about 0.01 of their targets: the fresh
// noise of each answer (V times the encryption noise) moves them by that
// much, about 20 windows, so a querier lands in both windows by retrying.
// What stops it is the count: the padding values' score noise,
// Σ_j V_j·g_{k,j} with ‖V‖ = 2^15.5, puts every slot far outside the
// threshold polynomial's domain, and the count is not a count. The test
// fails when a probe does not wrap (both norms must read within 8 units of
// their targets, or the case tests nothing) or when any of them opens to
// hit or its count reads inside the count's window.
func TestPaddingNormWrap(t *testing.T) {
	for _, ps := range []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN12HighTau()} {
		t.Run(ps.Name(), func(t *testing.T) {
			f := getFixture(t, ps)
			S, m, pad := ps.Slots(), 124, 128
			period := he.NormPeriodForTest(ps, pad)
			rng := rand.New(rand.NewPCG(4949, 1))
			probe := hetest.UnitVector(rng, m)
			g := pack(t, ps, m, [][]float64{probe}) // an honest hit
			opts := he.Options{Threshold: he.Threshold{Tau: 0.9234}}
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
				t.Logf("%s: norm read %.6f, padding norm read %.6f (windows pass %v), count %.4g: hit %v", name, o.norm, o.padding, passes(o), o.count, o.hit)
				if math.Abs(o.norm-1) > 8 || math.Abs(o.padding) > 8 {
					t.Fatalf("%s: the norms did not wrap, so the case tests nothing", name)
				}
				if o.hit || (o.count >= 0.5 && o.count < n+0.5) {
					t.Fatalf("%s: the count read %.4g, inside its window (hit %v)", name, o.count, o.hit)
				}
				return o
			}
			var shift [4]float64
			for j := range shift {
				w := make([]float64, 4)
				w[j] = 1
				shift[j] = crafted(fmt.Sprintf("coordinate %d alone", m+j), w, uint64(4950+10*j)).norm - 1
			}
			tried := 0
			for a := range shift {
				for b := a + 1; b < len(shift); b++ {
					if shift[a]*shift[b] >= 0 {
						continue
					}
					w := make([]float64, 4)
					w[a] = shift[b] / (shift[b] - shift[a])
					w[b] = 1 - w[a]
					crafted(fmt.Sprintf("coordinates %d and %d, weights %.4f and %.4f", m+a, m+b, w[a], w[b]), w, uint64(5000+10*tried))
					tried++
				}
			}
			if tried == 0 {
				t.Fatalf("no two padding coordinates shift the norm in opposite directions (%v): the case tests nothing", shift)
			}
		})
	}
}
