package evaluation

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/puente-id/puente/protect"
)

// Overlap is what the public population shares with the evaluation set,
// and the accuracy of each comparator with and without the identities it
// shares. It is a report [Section]. When the mean is the set's own (no
// public population), nothing is measured: the section says so.
type Overlap struct {
	env         *Env
	Vectors     int      // vectors in the public population
	ExactRows   int      // of them, copies of a row of the set (CopyTolerance)
	Identities  []string // identities of the public population found in the set
	SetRows     int      // rows of the set of those identities
	Without     *Protocols
	Comparators []OverlapRow
	// MeanGuess and MeanGuessWithout are the fractions of all rows, and of
	// the rows of other identities, that the public mean is accepted for
	// by raw cosine at the unprotected threshold for FMR 1e-3.
	MeanGuess, MeanGuessWithout float64
}

// OverlapRow is one comparator on the full protocols and without the
// shared identities.
type OverlapRow struct {
	Name          string
	All, Disjoint *Accuracy
}

// MeasureOverlap counts the overlap and measures raw cosine, the
// mean-centred comparator and the parameter set of each result on the
// protocols without the identities the public population shares with the
// set: those it names (when labelled) and those of the rows it copies.
// The full protocols' figures are the environment's and the results' own.
func MeasureOverlap(env *Env, res []*SchemeResult) (*Overlap, error) {
	o := &Overlap{env: env, Vectors: env.Public.Rows}
	o.MeanGuess = env.MeanGuess
	if env.ownMean() {
		return o, nil
	}
	shared := map[string]bool{}
	for r := 0; r < env.Public.Rows; r++ {
		if row := copyOf(env.Set.Emb, env.Public.Row(r), CopyTolerance); row >= 0 {
			o.ExactRows++
			shared[env.Set.Identity[row]] = true
		}
		if env.Public.Labels != nil {
			shared[env.Public.Labels[r]] = true
		}
	}
	for _, n := range env.Set.Names {
		if shared[n] {
			o.Identities = append(o.Identities, n)
		}
	}
	exclude := func(r int) bool { return shared[env.Set.Identity[r]] }
	var rest []int
	for r := range env.Set.Identity {
		if exclude(r) {
			o.SetRows++
		} else {
			rest = append(rest, r)
		}
	}
	o.Without = env.Proto.Without(exclude)
	add := func(name string, t *protect.Matrix, all *Accuracy) error {
		dis, err := MeasureAccuracy(t, o.Without)
		if err != nil {
			return fmt.Errorf("evaluation: %s without the public identities: %w", name, err)
		}
		o.Comparators = append(o.Comparators, OverlapRow{Name: name, All: all, Disjoint: dis})
		return nil
	}
	if err := add("raw cosine (unprotected)", env.Unit, env.Raw); err != nil {
		return nil, err
	}
	if err := add("mean-centred cosine (unprotected)", env.Centred, env.CentredAcc); err != nil {
		return nil, err
	}
	for _, r := range res {
		t, err := protect.New(r.Params, EvalSeed(r.Params.Scheme, 1))
		if err != nil {
			return nil, err
		}
		tm, err := protect.ApplyAll(t, env.Set.Emb)
		if err != nil {
			return nil, err
		}
		if err := add(Describe(r.Params), tm, r.Acc); err != nil {
			return nil, err
		}
	}
	o.MeanGuessWithout = acceptedFraction(env.Unit, rest, env.Mean, env.Raw.Tau3)
	return o, nil
}

// CopyTolerance is the largest difference per value at which a public
// vector counts as a copy of a row of the set: the two files store the same
// descriptors with different rounding (about 1e-7), while descriptors of
// different images differ by more than 1e-2 in some value.
const CopyTolerance = 1e-5

// copyOf returns the first row of m that equals x to within tol in every
// value, or -1.
func copyOf(m *protect.Matrix, x []float64, tol float64) int {
	for r := 0; r < m.Rows; r++ {
		row, same := m.Row(r), true
		for i := 0; i < len(x) && same; i++ {
			same = math.Abs(row[i]-x[i]) <= tol
		}
		if same {
			return r
		}
	}
	return -1
}

// acceptedFraction returns the fraction of rows of unit that guess (any
// length) is accepted for by raw cosine at tau.
func acceptedFraction(unit *protect.Matrix, rows []int, guess []float64, tau float64) float64 {
	g := slices.Clone(guess)
	n := math.Sqrt(protect.Dot(g, g))
	var acc int
	for _, r := range rows {
		if protect.Dot(g, unit.Row(r))/n >= tau {
			acc++
		}
	}
	return float64(acc) / float64(len(rows))
}

func (*Overlap) Title() string { return "The public mean's overlap with the set, and its effect" }

func (o *Overlap) WriteMarkdown(w io.Writer) error {
	e, p := o.env, o.Without
	if e.ownMean() {
		return para(w,
			"The normalisation mean (used by the centred BioHashing and Index-of-Max, by the mean-centred comparator and by the",
			"attacks' prior) is the mean of the set's own vectors: no public population was given (`puente-lab eval -public FILE`),",
			"so it is not disjoint from anything scored. That favours the centred schemes, the mean-centred comparator and the attacks'",
			"prior a little; a public population of the same embedding model, disjoint from the set, measures by how much.",
			fmt.Sprintf("Guessing the mean is accepted by raw cosine for %s of the images.", pct(o.MeanGuess)))
	}
	if err := para(w, append(o.overlapLines(),
		"To measure what the overlap changes, every comparator is measured again on the protocols without those identities",
		fmt.Sprintf("(%d mated and %d non-mated pairs; %d enrolled identities, %d mated and %d non-mated searches), where the mean is",
			len(p.Mated), len(p.NonMated), len(p.Open.Gallery), len(p.Open.Mated), len(p.Open.NonMated)),
		"disjoint from everything scored. Removing identities also changes the population, which moves raw cosine too, so what",
		"matters is whether each scheme's distance to raw cosine changes.")...); err != nil {
		return err
	}
	var rows [][]string
	raw := o.Comparators[0]
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, c := range o.Comparators {
		rows = append(rows, []string{c.Name, pct(c.All.EER) + " / " + pct(c.Disjoint.EER),
			pct(c.All.FNMR3) + " / " + pct(c.Disjoint.FNMR3), pct(c.All.FNIR) + " / " + pct(c.Disjoint.FNIR)})
		if i < 2 {
			continue
		}
		// How much larger the scheme's distance to raw cosine is without
		// the shared identities: what the overlap may have hidden.
		for _, d := range []float64{
			(c.Disjoint.EER - raw.Disjoint.EER) - (c.All.EER - raw.All.EER),
			(c.Disjoint.FNMR3 - raw.Disjoint.FNMR3) - (c.All.FNMR3 - raw.All.FNMR3),
			(c.Disjoint.FNIR - raw.Disjoint.FNIR) - (c.All.FNIR - raw.All.FNIR),
		} {
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if err := table(w, []string{"comparator", "EER: all / without", "FNMR @ FMR 1e-3: all / without", "FNIR @ FPIR 1%: all / without"}, rows); err != nil {
		return err
	}
	baseline := "so the overlap does not explain that baseline: it comes from the common component of " + e.vectors() + "."
	switch {
	case !e.commonComponent():
		baseline = "no more than the attack target allows: the mean carries little weight by raw cosine on this set."
	case o.MeanGuessWithout < 0.8*o.MeanGuess:
		baseline = "so part of that baseline comes from the overlap."
	}
	return para(w,
		"Without the shared identities, where the mean is disjoint from everything scored, each protected scheme's distance to raw",
		fmt.Sprintf("cosine (EER, FNMR or FNIR) changes by %s to %s percentage points against the full protocols. A positive change is", points(lo), points(hi)),
		"what the overlap may have hidden (or sampling noise); the figures without the shared identities are free of the overlap.",
		fmt.Sprintf("Guessing the public mean is accepted by raw cosine for %s of all images and %s of the images of the other identities,",
			pct(o.MeanGuess), pct(o.MeanGuessWithout)),
		baseline)
}

// points formats a rate difference in signed percentage points, without
// a negative zero.
func points(d float64) string {
	v := math.Round(d * 1e4)
	if v == 0 {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v/100)
}

// overlapLines say what the public population shares with the set.
func (o *Overlap) overlapLines() []string {
	e := o.env
	if o.ExactRows == 0 && len(o.Identities) == 0 {
		return []string{"The normalisation mean (used by the centred BioHashing and Index-of-Max, by the mean-centred comparator and by the",
			"attacks' prior) comes from `" + e.PublicName + "`, which shares no vector and no identity with the evaluation set."}
	}
	copies := fmt.Sprintf("%d of its %d vectors are rows of `%s` (equal to within %g in every value", o.ExactRows, o.Vectors, e.embeddingsFile(), CopyTolerance)
	if e.lfw {
		copies += ": the same descriptors, rounded"
	}
	ids := fmt.Sprintf("its %d identities (%d rows of the set) are all in it.", len(o.Identities), o.SetRows)
	if !e.lfw {
		copies += "),"
		ids = fmt.Sprintf("%d identities of the set (%d rows) are among its identities or those of the rows it copies.", len(o.Identities), o.SetRows)
	}
	lines := []string{"The normalisation mean (used by the centred BioHashing and Index-of-Max, by the mean-centred comparator and by the",
		"attacks' prior) comes from `" + e.PublicName + "`, which is not disjoint from the evaluation set:", copies}
	if e.lfw {
		return append(lines, "differently), and "+ids)
	}
	return append(lines, "and "+ids)
}
