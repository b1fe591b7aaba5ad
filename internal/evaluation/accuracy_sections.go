package evaluation

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/protect"
)

type dataSection struct {
	env *Env
	cfg Config
}

func (*dataSection) Title() string { return "Data, protocols and conventions" }

func (s *dataSection) WriteMarkdown(w io.Writer) error {
	e, p := s.env, s.env.Proto
	raw := e.Raw
	lo3, hi3 := gapEnds(raw.Mated, raw.NonMated, 1e-3)
	mb, nb := BestScores(e.Unit, e.Unit, p.Open.Mated, p.Open.Gallery), BestScores(e.Unit, e.Unit, p.Open.NonMated, p.Open.Gallery)
	loO, hiO := gapEnds(mb, nb, 0.01)
	lines := []string{fmt.Sprintf("Set: `%s` (%s).", e.Set.Name, e.describe())}
	lines = append(lines, s.provenance()...)
	lines = append(lines,
		fmt.Sprintf("- Verification: all %d mated pairs against %d random non-mated pairs (PCG seed %d).", len(p.Mated), len(p.NonMated), s.cfg.SampleSeed),
		fmt.Sprintf("- Open-set hit/no-hit search: %d enrolled identities, %d mated and %d non-mated searches; a search hits when its best gallery score reaches the threshold.",
			len(p.Open.Gallery), len(p.Open.Mated), len(p.Open.NonMated)),
		s.pairsLine(),
		fmt.Sprintf("- Unlinkability: %d mated pairs (at most %d per identity) and as many non-mated pairs sharing their first template, across epochs e and e+1 for e = 1..%d.",
			len(p.LinkMated), LinkPerIdentity, s.cfg.EpochPairs),
		s.meanLine(),
		"- Seeds: derived with `protect.DeriveSeed` from fixed public material (`evaluation.EvalSeed`); epoch 1 is used for accuracy and attacks.",
		fmt.Sprintf("- Attacks: %d templates per recommended scheme with %d optimisation steps; the sweep attacks %d templates per parameter set with %d steps.",
			s.cfg.AttackTargets, s.cfg.AttackIters, s.cfg.SweepTargets, s.cfg.SweepIters),
		"",
		"Conventions: a comparison is accepted when its score is >= tau. For a target FMR (or FPIR) with k false matches allowed,",
		"every threshold between the (k+1)-th highest non-mated score (rejected) and the k-th (accepted) gives the same empirical rate;",
		"tau is the midpoint of that gap (`protect.ThresholdAtFMR`), so the rate never exceeds the target and an approximate comparison",
		"has room on both sides. The FNMR depends on where in the gap tau sits: for raw cosine, FNMR @ FMR 1e-3 is "+pct(lo3)+" just",
		"above the gap's lower end, "+pct(raw.FNMR3)+" at the midpoint and "+pct(hi3)+" at its upper end; open-set FNIR @ FPIR 1% is "+pct(loO)+", "+pct(raw.FNIR))
	if e.lfw {
		return para(w, append(lines,
			"and "+pct(hiO)+". The data README's anchors (1.93%, 3.8%, 16.6%) were computed with their own convention and sample. The EER follows",
			"FVC2000 (`protect.EER`).")...)
	}
	return para(w, append(lines, "and "+pct(hiO)+". The EER follows FVC2000 (`protect.EER`).")...)
}

// provenance lists the files the set was read from, each with its size
// and SHA-256 digest, and the provenance note.
func (s *dataSection) provenance() []string {
	var lines []string
	for _, f := range s.env.Set.Provenance.Files {
		name := f.Name
		if !s.env.lfw {
			name = filepath.Base(name) // the report must not depend on where the files were
		}
		lines = append(lines, fmt.Sprintf("- File: %s `%s`, %s bytes, SHA-256 `%s`.", f.Role, name, perf.Thousands(f.Size), f.SHA256))
	}
	if n := s.env.Set.Provenance.Note; n != "" {
		lines = append(lines, "- Provenance: "+n+".")
	}
	return lines
}

// pairsLine describes the ten-fold pairs.
func (s *dataSection) pairsLine() string {
	e, n := s.env, len(s.env.Proto.Pairs)
	const tenFold = "10-fold (threshold picked on nine folds, applied to the tenth)."
	switch {
	case e.lfw:
		return fmt.Sprintf("- LFW View-2: the %d `pairs.txt` pairs whose two images are in the set, %s", n, tenFold)
	case e.Set.PairsGiven:
		return fmt.Sprintf("- Ten-fold pairs: the %d pairs of the pairs file, %s", n, tenFold)
	}
	return fmt.Sprintf("- Ten-fold pairs: %d pairs built from the labels as LFW View-2 is (identities in ten disjoint folds, up to %d mated and as many non-mated pairs in each, PCG seed %d), %s",
		n, dataset.TenFoldPerKind, s.cfg.SampleSeed+5, tenFold)
}

// meanLine says where the normalisation mean comes from.
func (s *dataSection) meanLine() string {
	e := s.env
	if e.ownMean() {
		return fmt.Sprintf("- Normalisation mean (\"the public mean\" below): mean of the L2-normalised vectors of the set itself, as no public population was given (`-public`); section %d says what that favours.", secOverlap)
	}
	ids := map[string]bool{}
	for _, l := range e.Public.Labels {
		ids[l] = true
	}
	of := ""
	if len(ids) > 0 {
		of = fmt.Sprintf(" of %d identities", len(ids))
	}
	what, overlap := "descriptors", "it overlaps the set"
	if !e.lfw {
		what, overlap = "vectors", "its overlap with the set is measured in"
	}
	return fmt.Sprintf("- Public normalisation mean: mean of the L2-normalised vectors of `%s` (%d %s%s, a public population; %s, see section %d).",
		e.PublicName, e.Public.Rows, what, of, overlap, secOverlap)
}

// gapEnds returns the FNMR just above the lower end of the threshold gap
// for fmr (the smallest admissible threshold) and at its upper end (the
// largest), where protect.ThresholdAtFMR takes the midpoint.
func gapEnds(mated, nonMated []float64, fmr float64) (lo, hi float64) {
	nm := slices.Clone(nonMated)
	slices.Sort(nm)
	m := slices.Clone(mated)
	slices.Sort(m)
	k := int(math.Floor(fmr * float64(len(nm))))
	rejected := nm[len(nm)-1-k]
	upper := math.Nextafter(rejected, math.Inf(1))
	if k > 0 {
		upper = nm[len(nm)-k]
	}
	fnmr := func(t float64) float64 { return float64(countBelow(m, t)) / float64(len(m)) }
	return fnmr(math.Nextafter(rejected, math.Inf(1))), fnmr(upper)
}

type accuracySection struct {
	env *Env
	res []*SchemeResult
	img string // Config.ImageLink
}

func (*accuracySection) Title() string { return "Accuracy: protected against unprotected matching" }

func accRow(name string, m int, a *Accuracy) []string {
	return []string{name, fmt.Sprint(m), pct(a.EER), pct(a.FNMR3), pct(a.FNMR4), pct(a.FNIR),
		fmt.Sprintf("%s ± %s", pct(a.PairsAcc), pct(a.PairsSD))}
}

func (s *accuracySection) WriteMarkdown(w io.Writer) error {
	d := s.env.Set.Dim()
	rows := [][]string{accRow("raw cosine (unprotected)", d, s.env.Raw),
		accRow("mean-centred cosine (unprotected; judges the attacks)", d, s.env.CentredAcc)}
	for _, r := range s.res {
		rows = append(rows, accRow(Describe(r.Params), r.Params.OutputDim(), r.Acc))
	}
	pairs := "10-fold pairs accuracy"
	if s.env.lfw {
		pairs = "LFW 10-fold accuracy"
	}
	err := table(w, []string{"comparator", "m", "EER", "FNMR @ FMR 1e-3", "FNMR @ FMR 1e-4", "FNIR @ FPIR 1%", pairs}, rows)
	if err != nil {
		return err
	}
	t, anchors := s.env.Targets, "the plaintext anchors 1.93%, 3.8% and 16.6%"
	if !s.env.lfw {
		anchors = "raw cosine on this set, " + pct(s.env.Anchors.EER) + ", " + pct(s.env.Anchors.FNMR3) + " and " + pct(s.env.Anchors.FNIR) + ", plus 0.5, 1.5 and 2 points"
	}
	compete := "it does not compete for matching"
	if s.env.CentredAcc.FNIR <= s.env.Raw.FNIR {
		compete = "it is not the comparator Puente matches with"
	}
	if err := para(w, "Targets (from "+anchors+", and the privacy goals): EER <= "+pct(t.EER)+
		", FNMR @ FMR 1e-3 <= "+pct(t.FNMR3)+", FNIR @ FPIR 1% <= "+pct(t.FNIR)+
		fmt.Sprintf(", D<->sys <= %.2f across every epoch pair, stolen-key attack success <= %s (judged as section %d explains).", t.Dsys, pct(t.Attack), secAttacks),
		"Whether each scheme meets them is summarised in the recommendation (last section). The mean-centred comparator subtracts the",
		"public mean before the cosine; "+compete+" (open-set FNIR "+pct(s.env.CentredAcc.FNIR)+" against "+pct(s.env.Raw.FNIR)+" for raw cosine)",
		fmt.Sprintf("but judges the attacks of section %d, because guessing the mean carries no weight there.", secAttacks)); err != nil {
		return err
	}
	return figureLink(w, s.img, figDET, "DET curves of raw cosine and each protected scheme",
		"*DET curves* (miss rate against false-match rate, both on normal-deviate axes) of raw cosine and each scheme, for verification",
		"(all mated pairs against the non-mated sample) and for open-set search (best score of each search). A dot marks the one",
		fmt.Sprintf("operating point of each scheme's encrypted decision at its tau (section %d).", secEncrypted))
}

type thresholdSection struct {
	env *Env
	res []*SchemeResult
	enc *Encrypted
}

func (*thresholdSection) Title() string {
	return "Thresholds and score density near them (for encrypted matching)"
}

func (s *thresholdSection) WriteMarkdown(w io.Writer) error {
	if err := para(w, "tau is the threshold at FMR 1e-3 (`protect.ThresholdAtFMR`, the function `he` uses). The band columns give the",
		"fraction of mated / non-mated scores within tau ± 0.01, ± 0.02 and ± 0.05: what an approximate homomorphic",
		"comparison with that much error could flip. m is the protected dimension the encrypted scan pays for."); err != nil {
		return err
	}
	row := func(name string, m int, a *Accuracy) []string {
		_, fmr, _ := protect.ThresholdAtFMR(a.NonMated, 1e-3)
		r := []string{name, fmt.Sprint(m), fmt.Sprintf("%.4f", a.Tau3), fmt.Sprintf("%.2e", fmr), pct(a.FNMR3)}
		for _, wd := range []float64{0.01, 0.02, 0.05} {
			r = append(r, pct(protect.FractionWithin(a.Mated, a.Tau3, wd))+" / "+pct(protect.FractionWithin(a.NonMated, a.Tau3, wd)))
		}
		return r
	}
	rows := [][]string{row("raw cosine", s.env.Set.Dim(), s.env.Raw)}
	for _, r := range s.res {
		rows = append(rows, row(Describe(r.Params), r.Params.OutputDim(), r.Acc))
	}
	if err := table(w, []string{"comparator", "m", "tau", "FMR at tau", "FNMR at tau", "± 0.01", "± 0.02", "± 0.05"}, rows); err != nil {
		return err
	}
	var lines []string
	for _, r := range s.res {
		lines = append(lines, fmt.Sprintf("- %s: mated mean %.3f, non-mated mean %.3f, tau %.4f.", Describe(r.Params), mean(r.Acc.Mated), mean(r.Acc.NonMated), r.Acc.Tau3))
	}
	band := 0.0
	for _, r := range s.enc.Schemes {
		band = max(band, r.Band3, r.BandOpen)
	}
	crowd := true // the uncentred schemes' non-mated scores sit high, near their mated ones
	for _, r := range s.res {
		if r.Params.Norm.Weight == 0 && mean(r.Acc.NonMated) < 0.5 {
			crowd = false
		}
	}
	gain := []string{"Scores of the uncentred schemes crowd into a narrow band below 1, so the encrypted comparison computes",
		"a gain times (s - tau) before the sign polynomial (he's `Threshold`): on `" + s.enc.ParamSet + "` its uncertain band is at most"}
	if !crowd {
		gain = []string{"The encrypted comparison computes a gain times (s - tau) before the sign polynomial (he's `Threshold`): on",
			"`" + s.enc.ParamSet + "` its uncertain band is at most"}
	}
	lines = append(append(lines, ""), gain...)
	lines = append(lines,
		fmt.Sprintf("± %.4f in score units at these thresholds. Section %d measures what that band does to the decisions.", band, secEncrypted))
	return para(w, lines...)
}

func mean(s []float64) float64 {
	var m float64
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}

func countBelow(asc []float64, t float64) int {
	i, _ := slices.BinarySearch(asc, t)
	return i
}
