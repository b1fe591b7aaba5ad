package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/protect"
)

// CountNoiseRMS is the root-mean-square error of the count an answer holds, per block of the
// gallery: the CKKS noise of the threshold polynomial's output summed over a block's slots
// (S times the noise of the constant coefficient), measured on puente-ckks-n15-v2 by the he
// package's BenchmarkAnswerError (docs/he-parameters.md): 2^-8.06 pooled over 24 one-block
// answers since the answer carries the padding norm (2^-8.35 before), rounded up. The emulation
// adds it once per block, so it also covers the packing's 2^-9.4, which an answer adds once.
const CountNoiseRMS = 0x1p-08 // 2^-8

// ScoreNoiseRMS is the noise of one entry's score as the threshold polynomial sees it, in score
// units: the evaluation's, measured on puente-ckks-n15-v2 by the he package's BenchmarkScoreNoise
// (2^-17.9), and the gallery encoding's dithered rounding, sqrt(N/6)/2^24 for a unit probe
// (2^-17.8), together 2^-17.35. Within a few of it of tau the noise decides an entry.
const ScoreNoiseRMS = 6.0e-6

// CountNoiseRMSHighTau and ScoreNoiseRMSHighTau are the same two figures on puente-ckks-n15-v3
// and puente-ckks-n15-v4 (the same circuit; v4's key switches have fewer digits), whose threshold
// polynomial is fitted to the scores of thresholds from 0.9233 (docs/he-parameters.md, "On
// puente-ckks-n15-v3" and "On puente-ckks-n15-v4"). The count's pooled rms was 2^-7.97 and
// 2^-8.46 on v3 in two sessions of 24 one-block answers, and 2^-8.26 on v4 (2^-8.49 on v3 in the
// same session) over 72; 2^-7.895 is the highest, rounded up. A
// score's evaluation noise is 2^-18.7 at tau = 0.9234 (v3's multiplier has twice v2's gain), with
// the same gallery rounding (2^-17.8) together 2^-17.61.
const (
	CountNoiseRMSHighTau = 0.0042 // 2^-7.895
	ScoreNoiseRMSHighTau = 5.0e-6 // 2^-17.61
)

// setNoise returns the count's rms per block and a score's rms on ps: v3's and v4's measurements for a
// set whose threshold polynomial is fitted to high thresholds (ps.MinTau() > -1: v3, v4, and the
// INSECURE test sets built like it), v2's for the others.
func setNoise(ps *he.ParamSet) (count, score float64) {
	if ps.MinTau() > -1 {
		return CountNoiseRMSHighTau, ScoreNoiseRMSHighTau
	}
	return CountNoiseRMS, ScoreNoiseRMS
}

// noiseSeed seeds the emulation's noise, so that reruns decide alike.
const noiseSeed = 0x7075656e7465

// Outcome is what the querier learns from one search: the opening's one bit.
type Outcome uint8

const (
	NoHit Outcome = iota
	Hit
)

func (o Outcome) String() string {
	switch o {
	case NoHit:
		return "no hit"
	case Hit:
		return "hit"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// IsHit reports whether the outcome is a hit.
func (o Outcome) IsHit() bool { return o == Hit }

// exactOutcome is the decision of the exact comparison s >= tau.
func exactOutcome(s, tau float64) Outcome {
	if s >= tau {
		return Hit
	}
	return NoHit
}

// Emulator computes in plaintext the outcome of a search, with the same threshold polynomial
// the responder evaluates (he.Threshold.PlainStep, nominal multiplier) and the measured noise of
// the count:
//
//	c = Σ_i PlainStep(s_i + N(0, ScoreNoiseRMS²)) + N(0, CountNoiseRMS² · blocks)
//
// and the opening's comparison: a hit when c >= 1/2 (the norm of an honest probe is always in
// its window). A verification is a search of a one-entry gallery. Unused slots, whose
// polynomial output is within 2^-31 of 0, contribute their noise only. Noise comes from a fixed
// seed.
type Emulator struct {
	ps                     *he.ParamSet
	rule                   decisionRule
	countNoise, scoreNoise float64 // setNoise(ps)
	rng                    *rand.Rand
}

// NewEmulator returns an emulator of searches thresholded at tau on ps, with ps's measured
// noise (setNoise) drawn from seed.
func NewEmulator(ps *he.ParamSet, tau float64, seed uint64) *Emulator {
	e := &Emulator{ps: ps, rule: newDecisionRule(ps, tau), rng: rand.New(rand.NewPCG(noiseSeed, seed))}
	e.countNoise, e.scoreNoise = setNoise(ps)
	return e
}

// sum returns the sum of the polynomial decisions of the scores.
func (e *Emulator) sum(scores []float64) float64 {
	var c float64
	for _, s := range scores {
		c += e.rule.step(s)
	}
	return c
}

// Value returns the noise-free count of a search with these scores: the sum of the polynomial
// decisions, which the opening compares with 1/2.
func (e *Emulator) Value(scores ...float64) float64 { return e.sum(scores) }

// Decide returns the emulated outcome of one search with these scores.
func (e *Emulator) Decide(scores ...float64) Outcome { return e.decide(e.sum(scores), scores) }

// decide adds the noise to c, the noise-free sum of the polynomial decisions of the scores, and
// compares it with 1/2: each score within the band moves by its own noise (setNoise's score rms;
// outside the band the polynomial is flat), and the count by the answer's (its count rms per
// block).
func (e *Emulator) decide(c float64, scores []float64) Outcome {
	band, tau := e.rule.band(), e.rule.tau()
	for _, s := range scores {
		if math.Abs(s-tau) < band {
			c += e.rule.step(s+e.rng.NormFloat64()*e.scoreNoise) - e.rule.step(s)
		}
	}
	S := e.ps.Slots()
	blocks := max(1, (len(scores)+S-1)/S)
	c += e.rng.NormFloat64() * e.countNoise * math.Sqrt(float64(blocks))
	return openCount(c)
}

// Crossing returns the offset from tau at which the noise-free count of a one-entry search
// reaches v in (0, 1), found by bisection over tau ± 2·band (the count increases with the
// score).
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
// (FNMR, FMR) or open-set search (FNIR, FPIR).
type Rates struct {
	Tau         float64
	Miss, False float64 // FNMR or FNIR; FMR or FPIR
	// BandMated and BandNonMated are the fractions of mated and non-mated comparisons
	// (searches) whose count is neither 0 nor 1 (within 10^-6): a score within the band.
	BandMated, BandNonMated float64
	// Against the exact decision (score >= Tau): hits added among mated and non-mated
	// comparisons, and exact hits lost.
	AddedMated, AddedNonMated, Lost int
}

// rates tallies the outcomes of mated and non-mated decisions against the exact ones (scores
// exactM, exactNM at tau); valM and valNM are the noise-free counts, when known.
func rates(tau float64, mated, nonMated []Outcome, exactM, exactNM, valM, valNM []float64) Rates {
	r := Rates{Tau: tau}
	tally := func(outs []Outcome, scores, vals []float64, added *int) (hits, band float64) {
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
			if vals != nil && vals[i] > 1e-6 && math.Abs(vals[i]-math.Round(vals[i])) > 1e-6 {
				band++
			}
		}
		return hits / float64(len(outs)), band / float64(len(outs))
	}
	var hm float64
	hm, r.BandMated = tally(mated, exactM, valM, &r.AddedMated)
	r.False, r.BandNonMated = tally(nonMated, exactNM, valNM, &r.AddedNonMated)
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

// Emulated are the emulated decisions of one set of comparisons (or searches), in protocol
// order: the score (a search's best score), the noise-free count and the outcome of each.
type Emulated struct {
	Score, Value []float64
	Out          []Outcome
}

// emulateScores emulates a verification (a one-entry search) per score.
func emulateScores(em *Emulator, scores []float64) Emulated {
	d := Emulated{Score: scores, Value: make([]float64, len(scores)), Out: make([]Outcome, len(scores))}
	for i, s := range scores {
		c := em.sum([]float64{s})
		d.Value[i], d.Out[i] = c, em.decide(c, []float64{s})
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
		d.Value[i], d.Out[i] = c, em.decide(c, scores)
	}
	return d
}

// EncryptedResult is one scheme's accuracy when the protected comparison
// is decided under encryption, emulated on every comparison.
type EncryptedResult struct {
	Params          protect.Params
	Band3, BandOpen float64 // he.Threshold.Band at each threshold
	// Zone3 and ZoneOpen are the offsets from tau between which a one-entry search's count is
	// neither 0 nor 1 (within 10^-6): the band, where a second such score could tip a sum.
	Zone3, ZoneOpen [2]float64
	Exact3, Enc3    Rates // verification at Tau3 (FMR 1e-3)
	ExactOpen       Rates // open-set search at TauOpen (FPIR 1%)
	EncOpen         Rates
	// Result is the index of the scheme's result among those MeasureEncrypted was given.
	Result int
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
	CountNoise    float64 // per block of the gallery
	ScoreNoise    float64 // per entry
	Raw3, RawOpen Rates   // raw cosine, exact
	// RawOpenMated and RawOpenNonMated are the best raw-cosine scores of
	// the open-set searches (Open.Mated, Open.NonMated).
	RawOpenMated, RawOpenNonMated []float64
	// Schemes are the results of the schemes ps serves both thresholds of (all of them on a set
	// that serves every threshold), in the order given.
	Schemes []*EncryptedResult
	MinTau  float64 // the lowest threshold ps serves (he.ParamSet.MinTau; -1: every one)
	Sample  *Sample // nil when not run
	// High is the same measurement on the set for high thresholds (Config.HEParamsHighTau), or
	// nil when there is none.
	High *Encrypted
}

// MeasureEncrypted emulates every comparison of the protocols for each
// result's parameter set on ps: verification at the scheme's threshold
// for FMR 1e-3, open-set search at its threshold for FPIR 1%. A scheme
// one of whose thresholds ps does not serve (below ps.MinTau()) is left
// out.
func MeasureEncrypted(env *Env, res []*SchemeResult, ps *he.ParamSet) (*Encrypted, error) {
	p := env.Proto
	enc := &Encrypted{ParamSet: ps.Name(), MinTau: ps.MinTau()}
	enc.CountNoise, enc.ScoreNoise = setNoise(ps)
	enc.Raw3 = rates(env.Raw.Tau3, exactOutcomes(env.Raw.Mated, env.Raw.Tau3), exactOutcomes(env.Raw.NonMated, env.Raw.Tau3), env.Raw.Mated, env.Raw.NonMated, nil, nil)
	mb, nb := BestScores(env.Unit, env.Unit, p.Open.Mated, p.Open.Gallery), BestScores(env.Unit, env.Unit, p.Open.NonMated, p.Open.Gallery)
	enc.RawOpen = rates(env.Raw.TauOpen, exactOutcomes(mb, env.Raw.TauOpen), exactOutcomes(nb, env.Raw.TauOpen), mb, nb, nil, nil)
	enc.RawOpenMated, enc.RawOpenNonMated = mb, nb
	for i, r := range res {
		if min(r.Acc.Tau3, r.Acc.TauOpen) < enc.MinTau {
			continue
		}
		tm, err := protectAll(env, r.Params, 1)
		if err != nil {
			return nil, fmt.Errorf("evaluation: %s: %w", Describe(r.Params), err)
		}
		a := r.Acc
		er := &EncryptedResult{Params: r.Params, Result: i, templates: tm,
			Band3: bandAt(ps, a.Tau3), BandOpen: bandAt(ps, a.TauOpen)}
		er.Exact3 = rates(a.Tau3, exactOutcomes(a.Mated, a.Tau3), exactOutcomes(a.NonMated, a.Tau3), a.Mated, a.NonMated, nil, nil)
		em := NewEmulator(ps, a.Tau3, uint64(2*i))
		er.Zone3 = [2]float64{em.Crossing(1e-6), em.Crossing(1 - 1e-6)}
		er.Mated, er.NonMated = emulateScores(em, a.Mated), emulateScores(em, a.NonMated)
		er.Enc3 = rates(a.Tau3, er.Mated.Out, er.NonMated.Out, a.Mated, a.NonMated, er.Mated.Value, er.NonMated.Value)
		em = NewEmulator(ps, a.TauOpen, uint64(2*i+1))
		er.ZoneOpen = [2]float64{em.Crossing(1e-6), em.Crossing(1 - 1e-6)}
		er.OpenMated = emulateSearches(em, tm, p.Open.Mated, p.Open.Gallery)
		er.OpenNonMated = emulateSearches(em, tm, p.Open.NonMated, p.Open.Gallery)
		om, on := er.OpenMated.Score, er.OpenNonMated.Score
		er.ExactOpen = rates(a.TauOpen, exactOutcomes(om, a.TauOpen), exactOutcomes(on, a.TauOpen), om, on, nil, nil)
		er.EncOpen = rates(a.TauOpen, er.OpenMated.Out, er.OpenNonMated.Out, om, on, er.OpenMated.Value, er.OpenNonMated.Value)
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
