package evaluation

import (
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/perf"
)

// This file is the evaluation's one view of how package he decides a
// search: the threshold polynomial per entry, the sum of the entries into
// the count an answer holds, the opening's comparison of that count with
// 1/2, and the options of a real search. The emulation (encrypted.go) and
// the real encrypted searches (sample.go) reach he's decision only through
// it, so a change to that decision is made here.

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

// openCount is the opening's reading of a count (the sum of the entries'
// polynomial outputs plus the answer's noise): a hit when it is at least
// 1/2. An honest probe's norm is always in its window, so the count
// decides alone.
func openCount(c float64) Outcome {
	if c >= 0.5 {
		return Hit
	}
	return NoHit
}

// searchOptions are the options of a real encrypted search at tau: the
// decision the emulation reproduces.
func searchOptions(tau float64) he.Options {
	return he.Options{Threshold: he.Threshold{Tau: tau}}
}

// searchOutcome reads the result of a real encrypted search (its opened
// bit), or the error of a search that failed.
func searchOutcome(s perf.SearchSample, err error) (Outcome, error) {
	if err != nil {
		return 0, err
	}
	if s.Hit {
		return Hit, nil
	}
	return NoHit, nil
}
