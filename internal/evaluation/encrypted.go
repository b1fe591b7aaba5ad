package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/protect"
)

// StepNoiseRMS is the root-mean-square error, per slot, of the encrypted
// threshold's output before aggregation: the CKKS noise of the last
// polynomial, measured on puente-ckks-n15-v1 by the he package's
// BenchmarkEvaluationError (2^-20.0 in every configuration measured;
// docs/he-parameters.md). The emulation adds it to every slot of every
// block, used or not, as the responder's sum does.
const StepNoiseRMS = 0x1p-20

// noiseSeed seeds the emulation's noise, so that reruns decide alike.
const noiseSeed = 0x7075656e7465

// Outcome is what the querier learns from one ModeAny search, as
// he.Querier.Decide reports it.
type Outcome uint8

const (
	NoHit Outcome = iota
	Hit
	// UncertainHit is a decoded half: a score within the threshold's band
	// left a fraction. Decide reports it as a hit with Uncertain set.
	UncertainHit
	// Refused is a decoded value Decide rejects (he.ErrResult).
	Refused
)

func (o Outcome) String() string {
	switch o {
	case NoHit:
		return "no hit"
	case Hit:
		return "hit"
	case UncertainHit:
		return "uncertain (hit)"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// IsHit reports whether the querier counts the outcome as a hit.
func (o Outcome) IsHit() bool { return o == Hit || o == UncertainHit }

// exactOutcome is the decision of the exact comparison s >= tau.
func exactOutcome(s, tau float64) Outcome {
	if s >= tau {
		return Hit
	}
	return NoHit
}

// Emulator computes in plaintext the outcome a ModeAny search decodes,
// with the same threshold polynomial the responder evaluates
// (he.Threshold.PlainStep, nominal multiplier) and the measured noise:
//
//	c = Σ_i PlainStep(s_i) + N(0, StepNoiseRMS² · blocks · S)
//	v = he.AnyPlain(c) + N(0, σ²)
//
// with S the slots per block and σ the flooding noise per decoded slot of
// the parameter set; v is rounded to a multiple of 1/2 as DecodePublic
// does and read as Decide reads it. A verification is a search of a
// one-entry gallery. Unused slots, whose polynomial output is within 2^-30
// of 0, contribute their noise only. Noise comes from a fixed seed.
type Emulator struct {
	ps    *he.ParamSet
	rule  decisionRule
	flood float64
	rng   *rand.Rand
}

// NewEmulator returns an emulator of searches thresholded at tau on ps,
// its noise drawn from seed.
func NewEmulator(ps *he.ParamSet, tau float64, seed uint64) *Emulator {
	return &Emulator{ps: ps, rule: newDecisionRule(ps, tau), flood: FloodSigma(ps), rng: rand.New(rand.NewPCG(noiseSeed, seed))}
}

// FloodSigma returns the standard deviation of the responder's flooding
// noise in one decoded slot: he's coefficient-domain width σ_c scaled by
// the canonical embedding, σ_c·sqrt(2N)/Δ (2^-5 on puente-ckks-n15-v1).
func FloodSigma(ps *he.ParamSet) float64 {
	in := ps.Info()
	return math.Exp2(in.FloodLogSigma + float64(in.LogN+1)/2 - float64(in.LogScale))
}

// sum returns the sum of the polynomial decisions of the scores.
func (e *Emulator) sum(scores []float64) float64 {
	var c float64
	for _, s := range scores {
		c += e.rule.step(s)
	}
	return c
}

// Value returns the noise-free decoded value of a search with these
// scores: he.AnyPlain of the sum of the polynomial decisions.
func (e *Emulator) Value(scores ...float64) float64 { return aggregate(e.sum(scores)) }

// Decide returns the emulated outcome of one search with these scores.
func (e *Emulator) Decide(scores ...float64) Outcome { return e.decide(e.sum(scores), len(scores)) }

// decide adds the noise to the sum c of n polynomial decisions and
// decodes.
func (e *Emulator) decide(c float64, n int) Outcome {
	S := e.ps.Slots()
	blocks := max(1, (n+S-1)/S)
	c += e.rng.NormFloat64() * StepNoiseRMS * math.Sqrt(float64(blocks*S))
	return decodeAny(aggregate(c) + e.rng.NormFloat64()*e.flood)
}

// Crossing returns the offset from tau at which the noise-free decoded
// value of a one-entry search reaches v in (0, 1), found by bisection
// over tau ± 2·band (the value increases with the score).
func (e *Emulator) Crossing(v float64) float64 {
	band, tau := e.rule.band(), e.rule.tau()
	lo, hi := tau-2*band, tau+2*band
	for range 60 {
		mid := (lo + hi) / 2
		if e.Value(mid) < v {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo+hi)/2 - tau
}

// Rates are the error rates of decisions at one threshold: verification
// (FNMR, FMR) or open-set search (FNIR, FPIR). An uncertain outcome counts
// as a hit, as the querier's Decide reports it.
type Rates struct {
	Tau               float64
	Miss, False       float64 // FNMR or FNIR; FMR or FPIR
	UncertainMated    float64 // fraction of mated comparisons (searches) uncertain
	UncertainNonMated float64
	// Against the exact decision (score >= Tau): hits added among mated
	// and non-mated comparisons, and exact hits lost.
	AddedMated, AddedNonMated, Lost int
	Refused                         int
}

// rates tallies the outcomes of mated and non-mated decisions against the
// exact ones (scores exactM, exactNM at tau).
func rates(tau float64, mated, nonMated []Outcome, exactM, exactNM []float64) Rates {
	r := Rates{Tau: tau}
	tally := func(outs []Outcome, scores []float64, added *int) (hits, uncertain float64) {
		for i, o := range outs {
			exact := scores[i] >= tau
			switch {
			case o.IsHit() && !exact:
				*added++
			case !o.IsHit() && exact:
				r.Lost++
			}
			if o.IsHit() {
				hits++
			}
			if o == UncertainHit {
				uncertain++
			}
			if o == Refused {
				r.Refused++
			}
		}
		return hits / float64(len(outs)), uncertain / float64(len(outs))
	}
	var hm float64
	hm, r.UncertainMated = tally(mated, exactM, &r.AddedMated)
	r.False, r.UncertainNonMated = tally(nonMated, exactNM, &r.AddedNonMated)
	r.Miss = 1 - hm
	return r
}

// exactOutcomes returns the exact decisions of scores at tau.
func exactOutcomes(scores []float64, tau float64) []Outcome {
	out := make([]Outcome, len(scores))
	for i, s := range scores {
		out[i] = exactOutcome(s, tau)
	}
	return out
}

// Emulated are the emulated decisions of one set of comparisons (or
// searches), in protocol order: the score (a search's best score), the
// noise-free decoded value and the outcome of each.
type Emulated struct {
	Score, Value []float64
	Out          []Outcome
}

// emulateScores emulates a verification (a one-entry search) per score.
func emulateScores(em *Emulator, scores []float64) Emulated {
	d := Emulated{Score: scores, Value: make([]float64, len(scores)), Out: make([]Outcome, len(scores))}
	for i, s := range scores {
		c := em.sum([]float64{s})
		d.Value[i], d.Out[i] = aggregate(c), em.decide(c, 1)
	}
	return d
}

// emulateSearches emulates the search of each probe row against the
// gallery rows of t, in order.
func emulateSearches(em *Emulator, t *protect.Matrix, probes, gallery []int) Emulated {
	n := len(probes)
	d := Emulated{Score: make([]float64, n), Value: make([]float64, n), Out: make([]Outcome, n)}
	scores := make([]float64, len(gallery))
	for i, r := range probes {
		d.Score[i] = math.Inf(-1)
		for k, g := range gallery {
			scores[k] = protect.Dot(t.Row(r), t.Row(g))
			d.Score[i] = max(d.Score[i], scores[k])
		}
		c := em.sum(scores)
		d.Value[i], d.Out[i] = aggregate(c), em.decide(c, len(scores))
	}
	return d
}

// EncryptedResult is one scheme's accuracy when the protected comparison
// is decided under encryption, emulated on every comparison.
type EncryptedResult struct {
	Params          protect.Params
	Band3, BandOpen float64 // he.Threshold.Band at each threshold
	// Zone3 and ZoneOpen are the offsets from tau between which a
	// one-entry search decodes as uncertain without noise (value 1/4 to
	// 3/4): below the first it is no hit, above the second a hit.
	Zone3, ZoneOpen [2]float64
	Exact3, Enc3    Rates // verification at Tau3 (FMR 1e-3)
	ExactOpen       Rates // open-set search at TauOpen (FPIR 1%)
	EncOpen         Rates
	// The emulated decisions, in protocol order (Protocols.Mated,
	// NonMated, Open.Mated, Open.NonMated).
	Mated, NonMated, OpenMated, OpenNonMated Emulated
	templates                                *protect.Matrix
}

// Encrypted is the accuracy of protected and encrypted matching: the
// emulation of every decision, and optionally a sample of real encrypted
// searches. It yields two report sections.
type Encrypted struct {
	ParamSet      string
	FloodSigma    float64 // per decoded slot
	Raw3, RawOpen Rates   // raw cosine, exact
	// RawOpenMated and RawOpenNonMated are the best raw-cosine scores of
	// the open-set searches (Open.Mated, Open.NonMated).
	RawOpenMated, RawOpenNonMated []float64
	Schemes                       []*EncryptedResult
	Sample                        *Sample // nil when not run
}

// MeasureEncrypted emulates every comparison of the protocols for each
// result's parameter set on ps: verification at the scheme's threshold
// for FMR 1e-3, open-set search at its threshold for FPIR 1%.
func MeasureEncrypted(env *Env, res []*SchemeResult, ps *he.ParamSet) (*Encrypted, error) {
	p := env.Proto
	enc := &Encrypted{ParamSet: ps.Name(), FloodSigma: FloodSigma(ps)}
	enc.Raw3 = rates(env.Raw.Tau3, exactOutcomes(env.Raw.Mated, env.Raw.Tau3), exactOutcomes(env.Raw.NonMated, env.Raw.Tau3), env.Raw.Mated, env.Raw.NonMated)
	mb, nb := BestScores(env.Unit, env.Unit, p.Open.Mated, p.Open.Gallery), BestScores(env.Unit, env.Unit, p.Open.NonMated, p.Open.Gallery)
	enc.RawOpen = rates(env.Raw.TauOpen, exactOutcomes(mb, env.Raw.TauOpen), exactOutcomes(nb, env.Raw.TauOpen), mb, nb)
	enc.RawOpenMated, enc.RawOpenNonMated = mb, nb
	for i, r := range res {
		tm, err := protectAll(env, r.Params, 1)
		if err != nil {
			return nil, fmt.Errorf("evaluation: %s: %w", Describe(r.Params), err)
		}
		a := r.Acc
		er := &EncryptedResult{Params: r.Params, templates: tm,
			Band3: bandAt(ps, a.Tau3), BandOpen: bandAt(ps, a.TauOpen)}
		er.Exact3 = rates(a.Tau3, exactOutcomes(a.Mated, a.Tau3), exactOutcomes(a.NonMated, a.Tau3), a.Mated, a.NonMated)
		em := NewEmulator(ps, a.Tau3, uint64(2*i))
		er.Zone3 = [2]float64{em.Crossing(0.25), em.Crossing(0.75)}
		er.Mated, er.NonMated = emulateScores(em, a.Mated), emulateScores(em, a.NonMated)
		er.Enc3 = rates(a.Tau3, er.Mated.Out, er.NonMated.Out, a.Mated, a.NonMated)
		em = NewEmulator(ps, a.TauOpen, uint64(2*i+1))
		er.ZoneOpen = [2]float64{em.Crossing(0.25), em.Crossing(0.75)}
		er.OpenMated = emulateSearches(em, tm, p.Open.Mated, p.Open.Gallery)
		er.OpenNonMated = emulateSearches(em, tm, p.Open.NonMated, p.Open.Gallery)
		om, on := er.OpenMated.Score, er.OpenNonMated.Score
		er.ExactOpen = rates(a.TauOpen, exactOutcomes(om, a.TauOpen), exactOutcomes(on, a.TauOpen), om, on)
		er.EncOpen = rates(a.TauOpen, er.OpenMated.Out, er.OpenNonMated.Out, om, on)
		enc.Schemes = append(enc.Schemes, er)
	}
	return enc, nil
}

// protectAll protects every row of the set with p under the evaluation
// seed of the given epoch.
func protectAll(env *Env, p protect.Params, epoch uint64) (*protect.Matrix, error) {
	seed := EvalSeed(p.Scheme, epoch)
	t, err := protect.New(p, seed)
	seed.Zero()
	if err != nil {
		return nil, err
	}
	return protect.ApplyAll(t, env.Set.Emb)
}
