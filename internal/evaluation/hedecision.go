package evaluation

import (
	"errors"

	"github.com/puente-id/puente/he"
)

// This file is the evaluation's one view of how package he decides a
// search: the threshold polynomial per entry, the ModeAny aggregation of
// the entries, the querier's reading of the decoded value and the options
// of a real search. The emulation (encrypted.go) and the real encrypted
// searches (sample.go) reach he's decision only through it, so a change to
// that decision is made here.

// decisionRule is he's encrypted decision on one parameter set at one
// threshold.
type decisionRule struct {
	ps *he.ParamSet
	th he.Threshold
}

func newDecisionRule(ps *he.ParamSet, tau float64) decisionRule {
	return decisionRule{ps: ps, th: he.Threshold{Tau: tau}}
}

// tau returns the threshold.
func (d decisionRule) tau() float64 { return d.th.Tau }

// step returns the threshold polynomial's output for one score, as the
// responder evaluates it (he.Threshold.PlainStep, nominal multiplier).
func (d decisionRule) step(s float64) float64 { return d.th.PlainStep(d.ps, s) }

// band returns the half-width around tau outside which a score is decided
// exactly (he.Threshold.Band).
func (d decisionRule) band() float64 { return d.th.Band(d.ps) }

// bandAt is the band of the decision at tau on ps.
func bandAt(ps *he.ParamSet, tau float64) float64 { return newDecisionRule(ps, tau).band() }

// aggregate returns the noise-free decoded value of a search whose
// entries' polynomial outputs sum to c: ModeAny's bounded OR (he.AnyPlain).
func aggregate(c float64) float64 { return he.AnyPlain(c) }

// decodeAny reads the decoded value v as the querier's Decide does in ModeAny
// (he.DecodeAnyValue): rounded to a multiple of 1/2, 0 is no hit, a whole positive value a hit
// (values above 1 mean more than he.AnyBound entries matched), a half an uncertain hit.
func decodeAny(v float64) Outcome {
	d, err := he.DecodeAnyValue(v)
	if err != nil {
		return Refused
	}
	return OutcomeOf(d)
}

// OutcomeOf returns the outcome of a decision.
func OutcomeOf(d he.Decision) Outcome {
	switch {
	case d.Uncertain:
		return UncertainHit
	case d.Hit:
		return Hit
	}
	return NoHit
}

// searchOptions are the options of a real encrypted search at tau: the
// decision the emulation reproduces.
func searchOptions(tau float64) he.Options {
	return he.Options{Threshold: he.Threshold{Tau: tau}, Mode: he.ModeAny}
}

// searchOutcome reads the result of a real encrypted search: its
// outcome, Refused when the querier rejected the decoded value, or the
// error of a search that failed otherwise.
func searchOutcome(d he.Decision, err error) (Outcome, error) {
	switch {
	case errors.Is(err, he.ErrResult):
		return Refused, nil
	case err != nil:
		return 0, err
	}
	return OutcomeOf(d), nil
}
