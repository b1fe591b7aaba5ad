package protect

import (
	"math"
	"slices"
)

// Score conventions used by every metric here (ISO/IEC 19795-1 terms):
// a comparison is accepted (a match, or a hit) when its score is >= the
// threshold tau; the false match rate FMR(tau) is the fraction of
// non-mated scores >= tau and the false non-match rate FNMR(tau) the
// fraction of mated scores < tau. The metrics copy and sort their inputs
// and never modify them; they reject empty sets and non-finite scores (NaN,
// +Inf, -Inf) with an error wrapping [ErrScores]: an infinite score would
// otherwise become an infinite threshold or an undefined histogram edge.

// ThresholdAtFMR returns a threshold tau at which the empirical FMR of the
// non-mated scores is at most fmr, and the FMR achieved there. With
// k = floor(fmr*N) false matches allowed and s_1 >= s_2 >= ... the sorted
// scores, every tau in (s_(k+1), s_k] achieves the same empirical FMR; tau
// is the midpoint of that gap (just above s_1 when k = 0), so that it sits
// between scores rather than on one, which leaves an approximate comparison
// (e.g. a homomorphic one) room on both sides. The midpoint is neither the
// smallest admissible threshold (just above s_(k+1), the lowest FNMR) nor the
// largest (s_k, the highest FNMR); the FNMR it gives lies between the two.
// Scores within a relative 10^-9 of s_(k+1) count as ties of it: tau goes
// above them all, to the midpoint of the gap up to the next larger score, so
// that a quantised score computed in floating point never sits within a few
// ulps of tau (where the exact comparison would split one score level by
// rounding). The achieved FMR may then fall below k/N.
// It needs N >= 1/fmr scores, else the rate cannot be resolved.
func ThresholdAtFMR(nonMated []float64, fmr float64) (tau, achieved float64, err error) {
	s, err := sortedScores(nonMated, "non-mated")
	if err != nil {
		return 0, 0, err
	}
	return thresholdAt(s, fmr)
}

// tieEps is the relative distance within which two scores count as equal when placing a
// threshold.
const tieEps = 1e-9

func thresholdAt(asc []float64, fmr float64) (tau, achieved float64, err error) {
	n := len(asc)
	if !(fmr > 0 && fmr < 1) {
		return 0, 0, scoresErr("target rate %v outside (0, 1)", fmr)
	}
	if float64(n)*fmr < 1 {
		return 0, 0, scoresErr("%d non-mated scores cannot resolve a rate of %g (need at least %d)", n, fmr, int(math.Ceil(1/fmr)))
	}
	k := int(math.Floor(fmr * float64(n)))
	hi := asc[n-1-k] // the (k+1)-th largest: must be rejected
	// Scores within tieEps of hi are ties of it (a quantised score such as a BioHash's,
	// computed in floating point, lands a few ulps either side of its level): tau goes above
	// them all, to the midpoint of the gap up to the next larger score.
	j := n - 1 - k
	for j < n && asc[j] <= hi+tieEps*max(1, math.Abs(hi)) {
		j++
	}
	tau = math.Nextafter(hi, math.Inf(1))
	if j < n {
		tau = max(tau, hi+(asc[j]-hi)/2)
	} else if j > n-1-k+1 {
		tau = math.Nextafter(asc[n-1], math.Inf(1))
	}
	return tau, rateAtOrAbove(asc, tau), nil
}

// FNMRAtFMR returns the FNMR at the threshold [ThresholdAtFMR] picks for
// fmr, and that threshold.
func FNMRAtFMR(mated, nonMated []float64, fmr float64) (fnmr, tau float64, err error) {
	m, err := sortedScores(mated, "mated")
	if err != nil {
		return 0, 0, err
	}
	tau, _, err = ThresholdAtFMR(nonMated, fmr)
	if err != nil {
		return 0, 0, err
	}
	return 1 - rateAtOrAbove(m, tau), tau, nil
}

// FNIRAtFPIR is the open-set identification counterpart of [FNMRAtFMR] for
// hit/no-hit search (ISO/IEC 19795-1): matedBest holds, for each mated
// search, the best score against the gallery, and nonMatedBest the same for
// searches of subjects not enrolled. A search is a hit when its best score
// is >= tau; FPIR is the fraction of non-mated searches that hit and FNIR
// the fraction of mated searches that do not.
func FNIRAtFPIR(matedBest, nonMatedBest []float64, fpir float64) (fnir, tau float64, err error) {
	return FNMRAtFMR(matedBest, nonMatedBest, fpir)
}

// EER returns the equal error rate and its threshold, computed as in the
// FVC2000 evaluation (Maio, Maltoni, Cappelli, Wayman and Jain, IEEE TPAMI
// 24(3), 2002): t1 is the largest observed threshold with FNMR <= FMR, t2
// the smallest with FNMR >= FMR; the EER interval is [FNMR(t1), FMR(t1)]
// or [FMR(t2), FNMR(t2)], whichever is narrower in sum, and the EER its
// midpoint.
func EER(mated, nonMated []float64) (eer, tau float64, err error) {
	m, nm, err := sortedPair(mated, nonMated)
	if err != nil {
		return 0, 0, err
	}
	cand := slices.Concat(m, nm)
	slices.Sort(cand)
	cand = slices.Compact(cand)
	// FNMR rises and FMR falls with the threshold: binary search for the
	// first candidate with FNMR >= FMR.
	at := func(t float64) (fnmr, fmr float64) { return 1 - rateAtOrAbove(m, t), rateAtOrAbove(nm, t) }
	i, _ := slices.BinarySearchFunc(cand, 0.0, func(t, _ float64) int {
		fnmr, fmr := at(t)
		if fnmr >= fmr {
			return 1
		}
		return -1
	})
	best := math.Inf(1)
	for _, j := range []int{i - 1, i} {
		if j < 0 || j >= len(cand) {
			continue
		}
		fnmr, fmr := at(cand[j])
		if fnmr+fmr < best {
			best, eer, tau = fnmr+fmr, (fnmr+fmr)/2, cand[j]
		}
	}
	return eer, tau, nil
}

// DETPoint is one operating point of a detection error trade-off curve.
type DETPoint struct {
	Threshold, FMR, FNMR float64
}

// DET returns the operating points at the thresholds [ThresholdAtFMR] picks
// for each of the target rates fmrs (e.g. [LogGrid]); targets the data
// cannot resolve are left out.
func DET(mated, nonMated []float64, fmrs []float64) ([]DETPoint, error) {
	m, nm, err := sortedPair(mated, nonMated)
	if err != nil {
		return nil, err
	}
	var pts []DETPoint
	for _, f := range fmrs {
		tau, achieved, err := thresholdAt(nm, f)
		if err != nil {
			continue
		}
		pts = append(pts, DETPoint{Threshold: tau, FMR: achieved, FNMR: 1 - rateAtOrAbove(m, tau)})
	}
	return pts, nil
}

// LogGrid returns rates from lo to 1 (exclusive) with perDecade points per
// decade, for DET curves.
func LogGrid(lo float64, perDecade int) []float64 {
	var g []float64
	for e := math.Log10(lo); e < -1e-9; e += 1 / float64(perDecade) {
		g = append(g, math.Pow(10, e))
	}
	return g
}

// FractionWithin returns the fraction of scores in [tau-width, tau+width]:
// how much of a score distribution sits in the band around a threshold where
// an approximate (e.g. homomorphic) comparison may err.
func FractionWithin(scores []float64, tau, width float64) float64 {
	if len(scores) == 0 {
		return 0
	}
	var n int
	for _, s := range scores {
		if s >= tau-width && s <= tau+width {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}

// sortedPair returns sorted copies of both score sets.
func sortedPair(mated, nonMated []float64) (m, nm []float64, err error) {
	if m, err = sortedScores(mated, "mated"); err != nil {
		return nil, nil, err
	}
	nm, err = sortedScores(nonMated, "non-mated")
	return m, nm, err
}

// sortedScores returns a sorted copy, rejecting empty sets and non-finite
// scores.
func sortedScores(s []float64, what string) ([]float64, error) {
	if len(s) == 0 {
		return nil, scoresErr("no %s scores", what)
	}
	c := slices.Clone(s)
	for i, v := range c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, scoresErr("%s score %d is not finite", what, i)
		}
	}
	slices.Sort(c)
	return c, nil
}

// rateAtOrAbove returns the fraction of the ascending scores that are >= t.
func rateAtOrAbove(asc []float64, t float64) float64 {
	i, _ := slices.BinarySearch(asc, t) // first index with asc[i] >= t
	return float64(len(asc)-i) / float64(len(asc))
}
