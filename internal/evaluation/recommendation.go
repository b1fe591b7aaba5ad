package evaluation

import (
	"fmt"
	"io"
	"strings"

	"github.com/puente-id/puente/protect"
)

func meets(ok bool, v string) string {
	if ok {
		return "yes (" + v + ")"
	}
	return "**no** (" + v + ")"
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
	if !s.env.lfw {
		if err := para(w, s.choice(poly, bio)...); err != nil {
			return err
		}
		return s.irreversibility(w, poly)
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

// choice says, on a set other than LFW's, whether the recommended
// PolyProtect meets the targets and how the binary schemes compare.
func (s *recommendSection) choice(poly, bio *SchemeResult) []string {
	t, base := s.env.Targets, s.env.Raw
	pd, _ := maxDsys(poly.Linkages)
	lead := "Puente should use **%s** (m = %d) on these embeddings: it meets the accuracy and unlinkability targets"
	if !t.MeetsAccuracy(poly.Acc) || pd > t.Dsys {
		lead = "**%s** (m = %d), Puente's recommendation on dlib-128, misses a target on these embeddings (the table above)"
	}
	lines := []string{
		fmt.Sprintf(lead+" (EER %s against %s for raw cosine,", Describe(poly.Params), poly.Params.OutputDim(), pct(poly.Acc.EER), pct(base.EER)),
		fmt.Sprintf("FNMR @ FMR 1e-3 %s against %s, open-set FNIR %s against %s; D<->sys at most %.3f). Its parameters follow the rule that",
			pct(poly.Acc.FNMR3), pct(base.FNMR3), pct(poly.Acc.FNIR), pct(base.FNIR), pd),
		fmt.Sprintf("`evaluation.Recommended` carries from dlib-128 to %d dimensions (m = d - 4: every input direction constrained); the", s.env.Set.Dim()),
		fmt.Sprintf("sweep (section %d) measures the alternatives on this set.", secSweep),
	}
	if t.MeetsAccuracy(bio.Acc) {
		return append(lines, fmt.Sprintf("%s (m = %d) meets the accuracy targets too (FNMR @ FMR 1e-3 %s, open-set FNIR %s); the encrypted scan pays for m linearly.",
			Describe(bio.Params), bio.Params.OutputDim(), pct(bio.Acc.FNMR3), pct(bio.Acc.FNIR)))
	}
	why := "."
	if s.env.commonComponent() {
		why = ", because quantising uncentred projections of " + s.env.vectors() + " to signs or ranks discards much of what separates faces at strict thresholds."
	}
	return append(lines, fmt.Sprintf("The binary schemes lose accuracy at low FMR (%s, m = %d: FNMR @ FMR 1e-3 %s, open-set FNIR %s)%s",
		Describe(bio.Params), bio.Params.OutputDim(), pct(bio.Acc.FNMR3), pct(bio.Acc.FNIR), why))
}

// targetTable writes whether each recommended scheme meets each target.
func (s *recommendSection) targetTable(w io.Writer) error {
	t := s.env.Targets
	if err := para(w, "Targets: EER <= "+pct(t.EER)+", FNMR @ FMR 1e-3 <= "+pct(t.FNMR3)+", FNIR @ FPIR 1% <= "+pct(t.FNIR)+
		fmt.Sprintf(", D<->sys <= %.2f, and stolen-key attack success <= %s, judged by the best attack of section %d with the", t.Dsys, pct(t.Attack), secAttacks),
		"mean-centred comparator (the raw-cosine figure and its no-key baseline are given beside it)."); err != nil {
		return err
	}
	var check [][]string
	for _, r := range s.res {
		dsys, _ := maxDsys(r.Linkages)
		check = append(check, []string{Describe(r.Params),
			meets(r.Acc.EER <= t.EER, pct(r.Acc.EER)), meets(r.Acc.FNMR3 <= t.FNMR3, pct(r.Acc.FNMR3)),
			meets(r.Acc.FNIR <= t.FNIR, pct(r.Acc.FNIR)), meets(dsys <= t.Dsys, fmt.Sprintf("%.3f", dsys)),
			meets(r.Best.Centred <= t.Attack, pct(r.Best.Centred)),
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

// irreversibility explains, from the measurements, whether the
// recommended scheme meets the irreversibility target, why not, and what
// protects templates besides.
func (s *recommendSection) irreversibility(w io.Writer, poly *SchemeResult) error {
	b, t := poly.Best, s.env.Targets
	var wrong BestAttack
	for _, r := range s.res {
		for _, a := range r.Attacks {
			if a.Kind == WrongKey {
				wrong.Success, wrong.Centred, wrong.Rank1 = max(wrong.Success, a.Success), max(wrong.Centred, a.Centred), max(wrong.Rank1, a.Rank1)
			}
		}
	}
	lines := s.attackFinding(poly)
	if sw := s.sweep; sw != nil && !sw.Skipped {
		lines = append(lines, "", sweepFinding(sw))
	} else {
		lines = append(lines, "", "(The sweep was not run; run `puente-lab eval` with `-sweep` to measure the trade-off across parameters.)")
	}
	lines = append(lines, "")
	if b.Centred > t.Attack {
		lines = append(lines,
			"This is the gap between template protection in theory and in practice that Nandakumar and Jain describe (IEEE Signal",
			"Processing Magazine 32(5), 2015: transforms seldom guarantee non-invertibility without a significant loss of accuracy), and",
			"what Nagar, Nandakumar and Jain showed for BioHashing with a known key (\"Biometric template transformation: a security",
			"analysis\", Proc. SPIE Media Forensics and Security, 2010): a transform that keeps scores faithful enough to match at FMR 1e-3",
			"also lets whoever holds the key search for a face-like preimage whose protected form matches, and that preimage then matches",
			"the original. Templates in Puente are therefore protected by what surrounds the transform, not by the transform alone:")
	} else {
		lines = append(lines, "Templates in Puente are also protected by what surrounds the transform:")
	}
	seed := []string{
		"  alone), stored encrypted (age or Vault) and destroyed when its epoch ends (keys/). Without it the attacks fail: with another",
		fmt.Sprintf("  epoch's key (section %d) they reach at most %s by the centred comparator and %s at rank 1;", secAttacks, pct(wrong.Centred), pct(wrong.Rank1)),
	}
	if wrong.Centred > t.Attack {
		seed = []string{
			fmt.Sprintf("  alone), stored encrypted (age or Vault) and destroyed when its epoch ends (keys/). With another epoch's key (section %d)", secAttacks),
			fmt.Sprintf("  the attacks still reach %s by the centred comparator and %s at rank 1 on this set;", pct(wrong.Centred), pct(wrong.Rank1)),
		}
	}
	lines = append(lines, "- the seed exists only inside the two nodes of an agreement: derived from both parties' contributions (neither chooses it")
	lines = append(lines, seed...)
	lines = append(lines,
		"- protected templates leave a node only encrypted under the two parties' collective CKKS key, and only the hit/no-hit",
		"  decision is decrypted, jointly (he/). Each node holds the seed but never sees the other's protected templates; the only",
		"  ones it could invert are its own gallery's, whose raw templates it already holds, and that gallery is encrypted at rest;",
		"- per-partner query quotas bound what the hit/no-hit oracle leaks (hill-climbing).",
		fmt.Sprintf("The transform contributes revocability and unlinkability across epochs, which section %d supports.", secLinkage))
	return para(w, lines...)
}

// attackFinding says whether the best stolen-key attack on the
// recommended scheme beats the irreversibility target, and what the no-key
// baseline means for that.
func (s *recommendSection) attackFinding(poly *SchemeResult) []string {
	b, t, e := poly.Best, s.env.Targets, s.env
	baseline := noKey(poly.Attacks).Success
	if e.lfw {
		return []string{
			fmt.Sprintf("**The irreversibility target is not met.** With the stolen seed, the best attack on %s recovers a vector that", Describe(poly.Params)),
			fmt.Sprintf("the mean-centred comparator accepts for %s of subjects and raw cosine for %s, and that identifies the image at rank 1", pct(b.Centred), pct(b.Success)),
			fmt.Sprintf("for %s. Judged by raw cosine at FMR 1e-3, a target of <= %s cannot be met by any transform on this data: guessing the", pct(b.Rank1), pct(t.Attack)),
			fmt.Sprintf("public mean, with no template and no key, is already accepted for %s of subjects, because %s share a strong", pct(baseline), e.vectors()),
			"common component. The centred measure removes that baseline, and by it the target is not met either.",
		}
	}
	verdict := "**The irreversibility target is not met.**"
	if b.Centred <= t.Attack {
		verdict = "**The irreversibility target is met on this sample** (a stronger attack or more templates may change that)."
	}
	lines := []string{
		fmt.Sprintf("%s With the stolen seed, the best attack on %s recovers a vector that", verdict, Describe(poly.Params)),
		fmt.Sprintf("the mean-centred comparator accepts for %s of subjects and raw cosine for %s, and that identifies the image at rank 1", pct(b.Centred), pct(b.Success)),
		fmt.Sprintf("for %s.", pct(b.Rank1)),
	}
	if baseline > t.Attack {
		why := "."
		if e.commonComponent() {
			why = ", because " + e.vectors() + " share a strong common component."
		}
		lines = append(lines, fmt.Sprintf("Judged by raw cosine at FMR 1e-3, a target of <= %s cannot be met by any transform on this data: guessing the", pct(t.Attack)),
			fmt.Sprintf("public mean, with no template and no key, is already accepted for %s of subjects%s The centred measure removes that baseline.", pct(baseline), why))
	}
	return lines
}

// sweepFinding summarises the sweep's trade-off: the best attack on the
// settings that meet the accuracy targets, and the best accuracy among
// the settings whose best attack stays within the target.
func sweepFinding(sw *Sweep) string {
	t := sw.Goals
	var accurate, resistant, both []SweepRow
	for _, r := range sw.Rows {
		ok, safe := t.MeetsAccuracy(r.Acc), r.Attack.Centred <= t.Attack
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
	fmt.Fprintf(&b, ". %s the best attack at or below %s (centred)", count(len(resistant)+len(both), "setting keeps", "settings keep"), pct(t.Attack))
	if len(resistant) > 0 {
		r0 := resistant[0]
		fnmr, fnir, eer := r0.Acc.FNMR3, r0.Acc.FNIR, r0.Acc.EER
		for _, r := range resistant {
			fnmr, fnir, eer = min(fnmr, r.Acc.FNMR3), min(fnir, r.Acc.FNIR), min(eer, r.Acc.EER)
		}
		fmt.Fprintf(&b, "; among those that miss the accuracy targets none does better than EER %s, FNMR @ FMR 1e-3 %s and open-set FNIR %s (targets %s, %s and %s).",
			pct(eer), pct(fnmr), pct(fnir), pct(t.EER), pct(t.FNMR3), pct(t.FNIR))
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

func maxRank1(rs []SweepRow) float64 {
	var m float64
	for _, r := range rs {
		m = max(m, r.Attack.Rank1)
	}
	return m
}
