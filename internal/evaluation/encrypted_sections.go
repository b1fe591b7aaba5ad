package evaluation

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// encryptedSection reports the emulated accuracy of every scheme under
// encryption (Encrypted.Schemes).
type encryptedSection struct {
	enc *Encrypted
	img string // Config.ImageLink
}

func (*encryptedSection) Title() string {
	return "Protected and encrypted matching at the operating thresholds"
}

func (s *encryptedSection) WriteMarkdown(w io.Writer) error {
	e := s.enc
	if err := para(w,
		"Puente decides under encryption at one threshold fixed in advance, so its accuracy is an FNMR and an FMR (verification, at",
		"the protected scheme's tau for FMR 1e-3) and an FNIR and an FPIR (open-set search, at tau for FPIR 1%). **The EER does not",
		"apply**: it is a point of the curve traced by moving the threshold, and an encrypted decision exists for one threshold only.",
		"",
		fmt.Sprintf("Every comparison and search of section %d is decided as the responder and the querier would decide it on `%s`", secData, e.ParamSet),
		"(emulated in plaintext, `evaluation.Emulator`): the threshold polynomial the responder evaluates (`he.Threshold.PlainStep`), summed",
		"over the gallery (a verification is a search of a one-entry gallery), with the noise measured on that set: each score's",
		fmt.Sprintf("(rms %s, from `BenchmarkScoreNoise` and the gallery encoding's rounding) and the count's (rms %s per block, from", pow2(e.ScoreNoise), pow2(e.CountNoise)),
		"`BenchmarkAnswerError`), and the opening's comparison of the count with 1/2 (the querier learns that bit and nothing else).",
		"The noise comes from a fixed seed. The band is `he.Threshold.Band`: scores further from tau are decided exactly.",
		fmt.Sprintf("Section %d checks this emulation against real encrypted searches.", secSample),
		"", "Verification (all mated pairs against the non-mated sample):"); err != nil {
		return err
	}
	if err := writeRates(w, e, true, "What encryption changes, against the exact decision on the same protected templates (the band is where a",
		"one-entry search's count is neither 0 nor 1; a single score there is decided at tau up to the score's noise, since the",
		"polynomial is odd and monotone: its count is above 1/2 exactly when the score, noise included, is at or above tau):"); err != nil {
		return err
	}
	if h := e.High; h != nil {
		if err := writeHigh(w, h); err != nil {
			return err
		}
	}
	return figureLink(w, s.img, figScores, "Mated and non-mated score distributions with each threshold",
		"*Score distributions* of mated and non-mated verification pairs for raw cosine and each scheme, as densities over 100 bins,",
		"with tau at FMR 1e-3 (dashed). The band is too narrow to see at this scale; the tables above count what falls into it.")
}

// writeHigh reports the emulation on the set for high thresholds
// (Encrypted.High): its own noise, and the schemes whose thresholds it serves.
func writeHigh(w io.Writer, h *Encrypted) error {
	var names []string
	for _, r := range h.Schemes {
		names = append(names, Describe(r.Params))
	}
	lead := fmt.Sprintf("**On `%s`**, the set for thresholds from %.4f (its threshold polynomial is fitted to the scores those thresholds", h.ParamSet, math.Ceil(h.MinTau*1e4)/1e4)
	if len(names) == 0 {
		return para(w, lead, "can meet; he-parameters.md), no scheme here has both thresholds in its range.")
	}
	if err := para(w, lead,
		"can meet, which spends fewer levels; he-parameters.md): the same emulation with that set's polynomial and noise (a score's",
		fmt.Sprintf("rms %s, the count's %s per block), for the schemes whose two thresholds it serves: %s.", pow2(h.ScoreNoise), pow2(h.CountNoise), strings.Join(names, "; ")),
		"", "Verification:"); err != nil {
		return err
	}
	return writeRates(w, h, false, fmt.Sprintf("What encryption changes on `%s`, against the exact decision on the same protected templates:", h.ParamSet))
}

// writeRates writes e's verification and open-set tables (withRaw: raw
// cosine's exact row first), what encryption changes for each scheme after
// the lines of lead, and the hits added and lost.
func writeRates(w io.Writer, e *Encrypted, withRaw bool, lead ...string) error {
	head := []string{"comparator", "decision", "tau", "band", "FNMR", "FMR", "in band: mated / non-mated", "hits added: mated / non-mated", "hits lost"}
	if err := table(w, head, rateRows(e, false, withRaw)); err != nil {
		return err
	}
	if err := para(w, "Open-set search (a search is one encrypted query against the whole gallery):"); err != nil {
		return err
	}
	head[4], head[5], head[6] = "FNIR", "FPIR", "in band: mated / non-mated searches"
	if err := table(w, head, rateRows(e, true, withRaw)); err != nil {
		return err
	}
	lines := lead
	for _, r := range e.Schemes {
		lines = append(lines, fmt.Sprintf("- %s: FNMR %s -> %s, FMR %s -> %s; FNIR %s -> %s, FPIR %s -> %s; %s of mated comparisons and %s of mated searches have a score in the band;",
			Describe(r.Params), pct(r.Exact3.Miss), pct(r.Enc3.Miss), sci(r.Exact3.False), sci(r.Enc3.False),
			pct(r.ExactOpen.Miss), pct(r.EncOpen.Miss), pct(r.ExactOpen.False), pct(r.EncOpen.False), pct3(r.Enc3.BandMated), pct3(r.EncOpen.BandMated)),
			fmt.Sprintf("  band tau %+.5f to tau %+.5f (verification), tau %+.5f to tau %+.5f (search).", r.Zone3[0], r.Zone3[1], r.ZoneOpen[0], r.ZoneOpen[1]))
	}
	lost, added := 0, 0
	for _, r := range e.Schemes {
		lost += r.Enc3.Lost + r.EncOpen.Lost
		added += r.Enc3.AddedMated + r.Enc3.AddedNonMated + r.EncOpen.AddedMated + r.EncOpen.AddedNonMated
	}
	switch {
	case lost == 0 && added == 0:
		lines = append(lines, "", "Every encrypted decision equals the exact one: no hit is added or lost.")
	default:
		lines = append(lines, "", fmt.Sprintf("Against the exact decision, %d hits are added and %d lost (see the tables), all with a score inside", added, lost),
			"the band, where the decision is not exact: there the polynomial's value, moved by the score's noise, is compared with 1/2",
			"(a verification), and a search's in-band scores can sum to 1/2 or more without any of them reaching tau, or stay below.",
			"Outside the band the encrypted decision is the exact one.")
	}
	return para(w, lines...)
}

// rateRows returns the rows of the verification or open-set table.
func rateRows(e *Encrypted, open, withRaw bool) [][]string {
	row := func(name, how string, r Rates, band float64) []string {
		f, b := sci(r.False), ""
		if open {
			f = pct(r.False)
		}
		if band > 0 {
			b = fmt.Sprintf("± %.4f", band)
		}
		return []string{name, how, fmt.Sprintf("%.4f", r.Tau), b, pct(r.Miss), f,
			pct3(r.BandMated) + " / " + pct3(r.BandNonMated), fmt.Sprintf("%d / %d", r.AddedMated, r.AddedNonMated), fmt.Sprint(r.Lost)}
	}
	raw := e.Raw3
	if open {
		raw = e.RawOpen
	}
	var rows [][]string
	if withRaw {
		rows = append(rows, row("raw cosine (unprotected)", "exact", raw, 0))
	}
	for _, r := range e.Schemes {
		exact, enc, band := r.Exact3, r.Enc3, r.Band3
		if open {
			exact, enc, band = r.ExactOpen, r.EncOpen, r.BandOpen
		}
		rows = append(rows, row(Describe(r.Params), "exact", exact, 0), row(Describe(r.Params), "encrypted (emulated)", enc, band))
	}
	return rows
}

// sampleSection reports the real encrypted searches (Encrypted.Sample, and
// High.Sample).
type sampleSection struct {
	enc      *Encrypted
	searches int // Config.HESearches
}

func (*sampleSection) Title() string { return "Real encrypted searches against the emulation" }

func (s *sampleSection) WriteMarkdown(w io.Writer) error {
	if err := writeSample(w, s.enc, s.searches); err != nil {
		return err
	}
	if h := s.enc.High; h != nil {
		return writeSample(w, h, s.searches)
	}
	return nil
}

// writeSample reports the real encrypted searches on e's parameter set.
func writeSample(w io.Writer, e *Encrypted, searches int) error {
	sm := e.Sample
	switch {
	case sm == nil && searches <= 0:
		return para(w, fmt.Sprintf("Not run on `%s` (`puente-lab eval -he-searches 0`).", e.ParamSet))
	case sm == nil:
		return para(w, fmt.Sprintf("None on `%s`: it does not serve the recommended scheme's thresholds.", e.ParamSet))
	}
	sec := "128-bit"
	if sm.Insecure {
		sec = "an INSECURE test set"
	}
	agree, disagree := sm.Agreements()
	outside, wrong := sm.OutsideBand()
	if err := para(w,
		fmt.Sprintf("%d encrypted searches on `%s` (%s) with %s templates, each through the whole protocol as the nodes run it:",
			len(sm.Items), sm.ParamSet, sec, Describe(sm.Params)),
		fmt.Sprintf("one key ceremony (both parties in one process, max dims %d), then for each search the querier's encrypted probe, the", sm.MaxDims),
		"responder's evaluation and answer, and the opening (garbled circuit and oblivious transfer), through the wire encodings.",
		"Verifications use a one-entry gallery; open-set searches the whole enrolled gallery. Half of each were chosen by their",
		fmt.Sprintf("emulated count (the noise-free count of section %d, column \"count\") nearest to 3/8, 1/8, 7/8 and 5/8 in turn:", secEncrypted),
		"inside the band, but 1/8 (far more than the count's noise) from the opening's comparison with 1/2, so a disagreement would",
		"mean the emulation is wrong; the other half at random, mated and non-mated alternately. Shares, queries, answers and openings",
		"draw from fixed seeds; Lattigo draws the noise inside the ceremony's protocol shares from crypto/rand, which moves a count",
		"by far less than 1/8.",
		"",
		fmt.Sprintf("**Agreement with the emulation (section %d): %d of %d**, **%d disagreements**.", secEncrypted, agree, len(sm.Items), disagree),
		fmt.Sprintf("Outside the band, %d of %d encrypted decisions equal the exact decision.", outside-wrong, outside)); err != nil {
		return err
	}
	var rows [][]string
	for i, it := range sm.Items {
		kind, band := "verification", sm.Band3
		if it.Search {
			kind, band = "open-set search", sm.BandOpen
		}
		kind += map[bool]string{true: ", mated", false: ", non-mated"}[it.Mated]
		chosen := map[bool]string{true: "by value", false: "random"}[it.Band]
		inBand := map[bool]string{true: "yes", false: "no"}[it.InBand(band)]
		agrees := map[bool]string{true: "yes", false: "**no**"}[it.Encrypted == it.Emulated]
		rows = append(rows, []string{fmt.Sprint(i + 1), kind, chosen, fmt.Sprintf("%+.5f", it.Offset), inBand, fixed3(it.Value),
			it.Exact.String(), it.Emulated.String(), it.Encrypted.String(), agrees})
	}
	return table(w, []string{"#", "protocol", "chosen", "score - tau", "in band", "count", "exact", "emulated", "encrypted", "agrees"}, rows)
}
