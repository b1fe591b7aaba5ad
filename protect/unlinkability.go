package protect

import (
	"math"
)

// Unlinkability holds the unlinkability scores of Gomez-Barrero, Galbally,
// Rathgeb and Busch, "General framework to evaluate unlinkability in
// biometric template protection systems", IEEE Transactions on Information
// Forensics and Security 13(6), 2018. The inputs are scores between
// templates protected with different keys (seeds): mated pairs come from the
// same subject (hypothesis H_m), non-mated pairs from different subjects
// (H_nm).
//
// The local measure at score s is
//
//	D(s) = 2 ω LR(s) / (1 + ω LR(s)) - 1  where ω LR(s) > 1, else 0,
//
// with LR(s) = p(s|H_m) / p(s|H_nm) and ω = P(H_m)/P(H_nm), and the global
// measure is D_sys = ∫ D(s) p(s|H_m) ds, in [0, 1]: 0 is fully unlinkable, 1
// fully linkable.
//
// The densities are estimated with histograms, as in the authors' reference
// implementation: Bins equal-width bins spanning the smallest to the
// largest score of both sets, by default min(100, len(mated)/10); D(s) is
// taken as 1 in bins holding mated but no non-mated scores and 0 in bins
// without mated scores. The estimate depends on the bin count: too many
// bins for the data overstate D_sys, because sampling noise makes the two
// histograms differ.
type Unlinkability struct {
	Sys   float64   // D_sys
	Edges []float64 // bin edges, Bins+1 of them
	Local []float64 // D(s) in each bin
}

// UnlinkabilityScores estimates [Unlinkability] from mated and non-mated
// cross-key scores with the given bin count (0 for the default) and prior
// ratio omega (1 when the two hypotheses are equally likely, as in the
// paper's experiments).
func UnlinkabilityScores(mated, nonMated []float64, bins int, omega float64) (*Unlinkability, error) {
	m, nm, err := sortedPair(mated, nonMated)
	if err != nil {
		return nil, err
	}
	if !(omega > 0) || math.IsInf(omega, 0) {
		return nil, scoresErr("prior ratio %v must be positive and finite", omega)
	}
	if bins <= 0 {
		bins = max(1, min(100, len(m)/10))
	}
	lo, hi := min(m[0], nm[0]), max(m[len(m)-1], nm[len(nm)-1])
	if hi == lo {
		hi = lo + 1
	}
	w := (hi - lo) / float64(bins)
	pm, pn := histogram(m, lo, w, bins), histogram(nm, lo, w, bins)
	u := &Unlinkability{Edges: make([]float64, bins+1), Local: make([]float64, bins)}
	for i := range u.Edges {
		u.Edges[i] = lo + float64(i)*w
	}
	for i := range bins {
		switch {
		case pm[i] == 0:
			u.Local[i] = 0
		case pn[i] == 0:
			u.Local[i] = 1
		default:
			if lr := omega * pm[i] / pn[i]; lr > 1 {
				u.Local[i] = 2*lr/(1+lr) - 1
			}
		}
		u.Sys += u.Local[i] * pm[i] // pm is a probability mass per bin
	}
	return u, nil
}

// histogram returns the fraction of scores in each of bins equal-width bins
// starting at lo; the top edge belongs to the last bin.
func histogram(s []float64, lo, w float64, bins int) []float64 {
	h := make([]float64, bins)
	for _, v := range s {
		i := min(int((v-lo)/w), bins-1)
		h[max(i, 0)]++
	}
	for i := range h {
		h[i] /= float64(len(s))
	}
	return h
}
