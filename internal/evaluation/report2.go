package evaluation

import (
	"fmt"
	"io"
	"strings"

	"github.com/puente-id/puente/protect"
)

type attackSection struct {
	env *Env
	res []*SchemeResult
	cfg Config
}

func (*attackSection) Title() string { return "Irreversibility under a stolen key" }

func (s *attackSection) WriteMarkdown(w io.Writer) error {
	e := s.env
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
		"Three measures, because dlib vectors share a strong common component that makes raw cosine a lenient judge of a reconstruction:",
		fmt.Sprintf("- raw cosine: accepted against the true raw template at the unprotected threshold for FMR 1e-3 (tau = %.4f). This is the", e.Raw.Tau3),
		"  system's own comparator, but the no-key baseline already reaches it for many subjects.",
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

func joinG(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " and ")
}

type recommendSection struct {
	env   *Env
	res   []*SchemeResult
	sweep *Sweep
}

func (*recommendSection) Title() string { return "Recommendation" }

func (s *recommendSection) WriteMarkdown(w io.Writer) error {
	if err := s.targetTable(w); err != nil {
		return err
	}
	var poly, bio *SchemeResult
	for _, r := range s.res {
		switch r.Params.Scheme {
		case protect.PolyProtect:
			poly = r
		case protect.BioHash:
			bio = r
		}
	}
	if poly == nil || bio == nil {
		return para(w, "No recommendation: the PolyProtect and BioHashing results are both needed.")
	}
	pd, _ := maxDsys(poly.Linkages)
	base := s.env.Raw
	if err := para(w,
		fmt.Sprintf("Puente should use **%s** (m = %d). It keeps accuracy closest to raw cosine (EER %s against %s, FNMR @ FMR 1e-3 %s against %s,",
			Describe(poly.Params), poly.Params.OutputDim(), pct(poly.Acc.EER), pct(base.EER), pct(poly.Acc.FNMR3), pct(base.FNMR3)),
		fmt.Sprintf("open-set FNIR %s against %s) at the smallest protected dimension, which the encrypted scan pays for linearly,", pct(poly.Acc.FNIR), pct(base.FNIR)),
		fmt.Sprintf("and it is unlinkable across epochs (D<->sys at most %.3f). Its parameters were picked on this same set (section %d),", pd, secSweep),
		"so its margins are somewhat optimistic. The binary schemes need m = 512 and still lose accuracy at",
		fmt.Sprintf("low FMR (BioHashing: FNMR @ FMR 1e-3 %s, open-set FNIR %s), because quantising uncentred dlib projections to", pct(bio.Acc.FNMR3), pct(bio.Acc.FNIR)),
		"signs or ranks discards most of what separates faces at strict thresholds."); err != nil {
		return err
	}
	return s.irreversibility(w, poly)
}

// targetTable writes whether each recommended scheme meets each target.
func (s *recommendSection) targetTable(w io.Writer) error {
	if err := para(w, "Targets: EER <= "+pct(Targets.EER)+", FNMR @ FMR 1e-3 <= "+pct(Targets.FNMR3)+", FNIR @ FPIR 1% <= "+pct(Targets.FNIR)+
		fmt.Sprintf(", D<->sys <= %.2f, and stolen-key attack success <= %s, judged by the best attack of section %d with the", Targets.Dsys, pct(Targets.Attack), secAttacks),
		"mean-centred comparator (the raw-cosine figure and its no-key baseline are given beside it)."); err != nil {
		return err
	}
	var check [][]string
	for _, r := range s.res {
		dsys, _ := maxDsys(r.Linkages)
		check = append(check, []string{Describe(r.Params),
			meets(r.Acc.EER <= Targets.EER, pct(r.Acc.EER)), meets(r.Acc.FNMR3 <= Targets.FNMR3, pct(r.Acc.FNMR3)),
			meets(r.Acc.FNIR <= Targets.FNIR, pct(r.Acc.FNIR)), meets(dsys <= Targets.Dsys, fmt.Sprintf("%.3f", dsys)),
			meets(r.Best.Centred <= Targets.Attack, pct(r.Best.Centred)),
			fmt.Sprintf("%s (baseline %s)", pct(r.Best.Success), pct(noKey(r.Attacks).Success))})
	}
	return table(w, []string{"scheme", "EER", "FNMR @ 1e-3", "FNIR @ 1%", "D<->sys (max)", "attack, centred", "attack, raw cosine"}, check)
}

func noKey(as []AttackResult) AttackResult {
	for _, a := range as {
		if a.Kind == NoKey {
			return a
		}
	}
	return AttackResult{}
}

// irreversibility explains, from the measurements, why the recommended
// scheme does not meet the irreversibility target and what protects
// templates instead.
func (s *recommendSection) irreversibility(w io.Writer, poly *SchemeResult) error {
	b := poly.Best
	var wrong BestAttack
	for _, r := range s.res {
		for _, a := range r.Attacks {
			if a.Kind == WrongKey {
				wrong.Success, wrong.Centred, wrong.Rank1 = max(wrong.Success, a.Success), max(wrong.Centred, a.Centred), max(wrong.Rank1, a.Rank1)
			}
		}
	}
	lines := []string{
		fmt.Sprintf("**The irreversibility target is not met.** With the stolen seed, the best attack on %s recovers a vector that", Describe(poly.Params)),
		fmt.Sprintf("the mean-centred comparator accepts for %s of subjects and raw cosine for %s, and that identifies the image at rank 1", pct(b.Centred), pct(b.Success)),
		fmt.Sprintf("for %s. Judged by raw cosine at FMR 1e-3, a target of <= %s cannot be met by any transform on this data: guessing the", pct(b.Rank1), pct(Targets.Attack)),
		fmt.Sprintf("public mean, with no template and no key, is already accepted for %s of subjects, because dlib vectors share a strong", pct(noKey(poly.Attacks).Success)),
		"common component. The centred measure removes that baseline, and by it the target is not met either.",
	}
	if sw := s.sweep; sw != nil && !sw.Skipped {
		lines = append(lines, "", sweepFinding(sw))
	} else {
		lines = append(lines, "", "(The sweep was not run; run `puente eval` with `-sweep` to measure the trade-off across parameters.)")
	}
	lines = append(lines, "",
		"This is the gap between template protection in theory and in practice that Nandakumar and Jain describe (IEEE Signal",
		"Processing Magazine 32(5), 2015: transforms seldom guarantee non-invertibility without a significant loss of accuracy), and",
		"what Nagar, Nandakumar and Jain showed for BioHashing with a known key (\"Biometric template transformation: a security",
		"analysis\", Proc. SPIE Media Forensics and Security, 2010): a transform that keeps scores faithful enough to match at FMR 1e-3",
		"also lets whoever holds the key search for a face-like preimage whose protected form matches, and that preimage then matches",
		"the original. Templates in Puente are therefore protected by what surrounds the transform, not by the transform alone:",
		"- the seed exists only inside the two nodes of an agreement: derived from both parties' contributions (neither chooses it",
		"  alone), stored encrypted (age or Vault) and destroyed when its epoch ends (keys/). Without it the attacks fail: with another",
		fmt.Sprintf("  epoch's key (section %d) they reach at most %s by the centred comparator and %s at rank 1;", secAttacks, pct(wrong.Centred), pct(wrong.Rank1)),
		"- protected templates leave a node only encrypted under the two parties' collective CKKS key, and only the hit/no-hit",
		"  decision is decrypted, jointly (he/). Each node holds the seed but never sees the other's protected templates; the only",
		"  ones it could invert are its own gallery's, whose raw templates it already holds, and that gallery is encrypted at rest;",
		"- per-partner query quotas bound what the hit/no-hit oracle leaks (hill-climbing).",
		fmt.Sprintf("The transform contributes revocability and unlinkability across epochs, which section %d supports.", secLinkage))
	return para(w, lines...)
}

// sweepFinding summarises the sweep's trade-off: the best attack on the
// settings that meet the accuracy targets, and the best accuracy among
// the settings whose best attack stays within the target.
func sweepFinding(sw *Sweep) string {
	var accurate, resistant, both []SweepRow
	for _, r := range sw.Rows {
		ok, safe := r.MeetsAccuracy(), r.Attack.Centred <= Targets.Attack
		switch {
		case ok && safe:
			both = append(both, r)
		case ok:
			accurate = append(accurate, r)
		case safe:
			resistant = append(resistant, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The sweep (section %d) shows that this is the trade-off, not a choice of parameters. Of its %d settings, %s the three accuracy targets",
		secSweep, len(sw.Rows), count(len(accurate)+len(both), "meets", "meet"))
	if len(accurate) > 0 {
		lo := accurate[0].Attack.Centred
		for _, r := range accurate {
			lo = min(lo, r.Attack.Centred)
		}
		on := "on each of them"
		switch {
		case len(both) > 0:
			on = "on each of those that do not also resist"
		case len(accurate) == 1:
			on = "on it"
		}
		fmt.Fprintf(&b, ", and the best attack's reconstruction passes the centred comparator for at least %s of subjects %s", pct(lo), on)
	}
	fmt.Fprintf(&b, ". %s the best attack at or below %s (centred)", count(len(resistant)+len(both), "setting keeps", "settings keep"), pct(Targets.Attack))
	if len(resistant) > 0 {
		r0 := resistant[0]
		fnmr, fnir, eer := r0.Acc.FNMR3, r0.Acc.FNIR, r0.Acc.EER
		for _, r := range resistant {
			fnmr, fnir, eer = min(fnmr, r.Acc.FNMR3), min(fnir, r.Acc.FNIR), min(eer, r.Acc.EER)
		}
		fmt.Fprintf(&b, "; among those that miss the accuracy targets none does better than EER %s, FNMR @ FMR 1e-3 %s and open-set FNIR %s (targets %s, %s and %s).",
			pct(eer), pct(fnmr), pct(fnir), pct(Targets.EER), pct(Targets.FNMR3), pct(Targets.FNIR))
		b.WriteString(" They resist because their protected vectors constrain few of the input's directions, which is also what costs them accuracy")
		if r1 := maxRank1(resistant); r1 >= 0.05 {
			fmt.Fprintf(&b, ", and even their reconstructions single the image out far above chance (rank-1 up to %s)", pct(r1))
		}
	}
	b.WriteString(".")
	if len(both) > 0 {
		names := make([]string, len(both))
		for i, r := range both {
			names[i] = Describe(r.Params)
		}
		fmt.Fprintf(&b, " **%s: accuracy targets and centred attack target both met** on this sample; that needs confirming on more targets and stronger attacks before it is relied on.",
			strings.Join(names, "; "))
	} else {
		b.WriteString(" No setting meets both.")
	}
	return b.String()
}

// count writes n and the singular or plural verb: "1 meets", "3 meet".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func maxRank1(rs []SweepRow) float64 {
	var m float64
	for _, r := range rs {
		m = max(m, r.Attack.Rank1)
	}
	return m
}
