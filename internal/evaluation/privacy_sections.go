package evaluation

import (
	"fmt"
	"io"
	"slices"
)

func maxDsys(ls []*Linkage) (cross, same float64) {
	for _, l := range ls {
		cross, same = max(cross, l.Cross.Sys), max(same, l.SameImage.Sys)
	}
	return cross, same
}

type linkageSection struct {
	env   *Env
	res   []*SchemeResult
	pairs int
	img   string // Config.ImageLink
}

func (*linkageSection) Title() string { return "Unlinkability and renewability across epochs" }

func (s *linkageSection) WriteMarkdown(w io.Writer) error {
	if err := para(w, "D<->sys (Gomez-Barrero et al., IEEE TIFS 2018; `protect.UnlinkabilityScores`, 100-bin histograms, omega = 1)",
		"compares scores of templates of the same subject under epochs e and e+1 with scores of different subjects under",
		fmt.Sprintf("the same two epochs; 0 is unlinkable, 1 fully linkable. Mean and max over %d epoch pairs. \"Same image\" uses", s.pairs),
		"each image against its own re-protection (renewability). The last three columns give mean, 99th percentile and the",
		"fraction accepted at the scheme's tau (FMR 1e-3) for: each image's template under epoch e against the same image",
		"under e+1 (renewed); each image under e against another subject under e+1; and non-mated pairs within one epoch.",
		"A renewed template should score like the cross-epoch non-mated pairs and be accepted no more often than FMR.",
		"The floor column is D<->sys between two samples of non-mated cross-epoch scores of the same size: what the",
		"histogram estimator reports for templates that are unlinkable by construction, so D<->sys near it means no measurable linkage."); err != nil {
		return err
	}
	var rows [][]string
	for _, r := range s.res {
		var cm, sm, floor float64
		var renewed, renewedNM []float64
		for _, l := range r.Linkages {
			cm += l.Cross.Sys / float64(len(r.Linkages))
			sm += l.SameImage.Sys / float64(len(r.Linkages))
			floor += l.Floor / float64(len(r.Linkages))
			renewed = append(renewed, l.Renewed...)
			renewedNM = append(renewedNM, l.RenewedNonMated...)
		}
		cx, sx := maxDsys(r.Linkages)
		nm := r.Linkages[0].NonMated
		rows = append(rows, []string{Describe(r.Params),
			fmt.Sprintf("%.3f / %.3f", cm, cx), fmt.Sprintf("%.3f / %.3f", sm, sx), fmt.Sprintf("%.3f", floor),
			distStats(renewed, r.Acc.Tau3), distStats(renewedNM, r.Acc.Tau3), distStats(nm, r.Acc.Tau3)})
	}
	if err := table(w, []string{"scheme", "D<->sys mean / max", "same image: mean / max", "floor (mean)", "renewed", "non-mated across epochs", "non-mated, one epoch"}, rows); err != nil {
		return err
	}
	rec := s.res[recommended(s.res)]
	return figureLink(w, s.img, figUnlinkability, "Unlinkability of the recommended scheme across epochs 1 and 2",
		fmt.Sprintf("*Unlinkability of %s across epochs 1 and 2*, drawn as in Gomez-Barrero et al. (2018, Fig. 2): the", Describe(rec.Params)),
		"densities of mated (same subject, different images) and non-mated cross-epoch scores over the estimator's bins, and below",
		"them the local measure D<->(s) of each bin, whose mass-weighted sum over the mated scores is D<->sys.")
}

func distStats(s []float64, tau float64) string {
	c := slices.Clone(s)
	slices.Sort(c)
	above := 1 - float64(countBelow(c, tau))/float64(len(c))
	return fmt.Sprintf("%.3f, %.3f, %s", mean(c), c[(len(c)-1)*99/100], pct(above))
}

type attackSection struct {
	env *Env
	res []*SchemeResult
	cfg Config
}

func (*attackSection) Title() string { return "Irreversibility under a stolen key" }

func (s *attackSection) WriteMarkdown(w io.Writer) error {
	e := s.env
	why, lenient := "Three measures, because "+e.vectors()+" share a strong common component that makes raw cosine a lenient judge of a reconstruction:",
		"  system's own comparator, but the no-key baseline already reaches it for many subjects."
	if !e.commonComponent() {
		why, lenient = "Three measures: the system's own comparator and two stricter ones:",
			"  system's own comparator."
	}
	if err := para(w,
		fmt.Sprintf("The attacker holds a protected template and the transform that made it (parameters and seed) and tries to recover the raw template (`protect.Invert`). %d templates per scheme (fixed-seed sample).", s.cfg.AttackTargets),
		"- pseudo-inverse: the least-squares inverse of the transform's linear part.",
		fmt.Sprintf("- optimisation: %d projected gradient steps on the unit sphere minimising a smooth surrogate of the protected-domain distance", s.cfg.AttackIters),
		"  (logistic loss of the signs, softmax cross-entropy of the indices, squared distance of the polynomial outputs),",
		"  started from the pseudo-inverse estimate or from the public mean.",
		fmt.Sprintf("- MAP: the same optimisation from the public mean with a prior that pulls the estimate towards it (weights %s): what an", joinG(PriorWeights)),
		"  attacker who knows that faces cluster around the mean does with the directions the protected vector leaves open.",
		"- wrong key: the pseudo-inverse and optimisation with the transform of another epoch (a revoked key, or a guess).",
		"- baseline: guess the public mean for everyone, with no template and no key.",
		"",
		why,
		fmt.Sprintf("- raw cosine: accepted against the true raw template at the unprotected threshold for FMR 1e-3 (tau = %.4f). This is the", e.Raw.Tau3),
		lenient,
		fmt.Sprintf("- centred: accepted by the mean-centred cosine at its own threshold for FMR 1e-3 (tau = %.4f). Centred templates are on", e.CentredAcc.Tau3),
		"  average orthogonal to the mean, so a guess without information about the subject passes about as rarely as a random face",
		"  (the baseline rows measure it); this is the baseline-relative measure of what the attack learned, and the one the",
		"  irreversibility target is judged by.",
		fmt.Sprintf("- rank-1: the recovered vector is closer (raw cosine) to the true template than to any of the other %d images: it singles", e.Unit.Rows-1),
		fmt.Sprintf("  the image out (chance: 1 in %d)."+" Mean cosine is between recovered and true raw template.", e.Unit.Rows)); err != nil {
		return err
	}
	var rows [][]string
	for _, r := range s.res {
		for _, a := range r.Attacks {
			rows = append(rows, []string{Describe(r.Params), a.Name, pct(a.Success), pct(a.Centred), pct(a.Rank1), fmt.Sprintf("%.4f", a.MeanCos)})
		}
	}
	return table(w, []string{"scheme", "attack", "raw cosine", "centred", "rank-1", "mean cosine"}, rows)
}
