package evaluation

import (
	"fmt"
	"math"
	"slices"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/protect"
)

// Protocols are the comparisons an evaluation runs on a set.
type Protocols struct {
	Mated, NonMated []dataset.RowPair
	Open            dataset.OpenSet
	Pairs           []dataset.Pair
	// LinkMated and LinkNonMated are the balanced unlinkability protocol
	// (dataset.Set.LinkagePairs); SelfNonMated pairs each row with a random row
	// of another identity, the non-mated side of the same-image protocol.
	LinkMated, LinkNonMated, SelfNonMated []dataset.RowPair
}

// LinkPerIdentity caps the mated pairs each identity contributes to the
// unlinkability protocol.
const LinkPerIdentity = 10

// NewProtocols builds the protocols of package dataset from the set's
// labels, with nonMated random non-mated pairs drawn with seed; the
// ten-fold pairs are the set's own, or built from the labels with seed+5
// when it has none.
func NewProtocols(s *dataset.Set, nonMated int, seed uint64) *Protocols {
	p := &Protocols{Mated: s.MatedPairs(), NonMated: s.NonMatedPairs(nonMated, seed), Open: s.OpenSet(), Pairs: s.Pairs}
	if !s.PairsGiven {
		p.Pairs = s.TenFoldPairs(seed + 5)
	}
	p.LinkMated, p.LinkNonMated = s.LinkagePairs(LinkPerIdentity, seed+1)
	self := make([]dataset.RowPair, len(s.Label))
	for i := range self {
		self[i] = dataset.RowPair{A: i, B: i}
	}
	_, p.SelfNonMated = s.LinkagePairsOf(self, seed+2)
	return p
}

// Without returns the protocols restricted to comparisons and searches in
// which no row satisfies exclude (exclude must hold for all rows of an
// identity or none, so that the open set stays consistent: an excluded
// identity loses its gallery entry and its searches together).
func (p *Protocols) Without(exclude func(row int) bool) *Protocols {
	pairs := func(ps []dataset.RowPair) []dataset.RowPair {
		var out []dataset.RowPair
		for _, q := range ps {
			if !exclude(q.A) && !exclude(q.B) {
				out = append(out, q)
			}
		}
		return out
	}
	rows := func(rs []int) []int {
		var out []int
		for _, r := range rs {
			if !exclude(r) {
				out = append(out, r)
			}
		}
		return out
	}
	out := &Protocols{Mated: pairs(p.Mated), NonMated: pairs(p.NonMated),
		Open:      dataset.OpenSet{Gallery: rows(p.Open.Gallery), Mated: rows(p.Open.Mated), NonMated: rows(p.Open.NonMated)},
		LinkMated: pairs(p.LinkMated), LinkNonMated: pairs(p.LinkNonMated), SelfNonMated: pairs(p.SelfNonMated)}
	for _, q := range p.Pairs {
		if !exclude(q.A) && !exclude(q.B) {
			out.Pairs = append(out.Pairs, q)
		}
	}
	return out
}

// UnitRows returns a copy of m with every row scaled to unit length, so that
// inner products are cosine similarities (the unprotected comparator).
func UnitRows(m *protect.Matrix) *protect.Matrix {
	out := &protect.Matrix{Rows: m.Rows, Cols: m.Cols, Data: slices.Clone(m.Data)}
	for r := 0; r < m.Rows; r++ {
		row := out.Row(r)
		n := math.Sqrt(protect.Dot(row, row))
		for i := range row {
			row[i] /= n
		}
	}
	return out
}

// Scores returns the inner products of the rows of a and b named by pairs:
// pair (i, j) compares row i of a with row j of b. With a == b these are
// same-key comparisons; with templates of two epochs, cross-key ones.
func Scores(a, b *protect.Matrix, pairs []dataset.RowPair) []float64 {
	s := make([]float64, len(pairs))
	for i, p := range pairs {
		s[i] = protect.Dot(a.Row(p.A), b.Row(p.B))
	}
	return s
}

// BestScores returns, for each search row of probes, its best score against
// the gallery rows of gal: the score a hit/no-hit search thresholds.
func BestScores(probes, gal *protect.Matrix, search, gallery []int) []float64 {
	out := make([]float64, len(search))
	parallel(len(search), func(i int) {
		best := math.Inf(-1)
		for _, g := range gallery {
			best = max(best, protect.Dot(probes.Row(search[i]), gal.Row(g)))
		}
		out[i] = best
	})
	return out
}

// Accuracy is what one comparator achieves on the protocols.
type Accuracy struct {
	EER, TauEER     float64
	FNMR3, Tau3     float64 // at FMR = 1e-3
	FNMR4, Tau4     float64 // at FMR = 1e-4
	FNIR, TauOpen   float64 // open set, at FPIR = 1%
	PairsAcc        float64 // ten-fold pairs accuracy (LFW View-2's protocol), mean over folds
	PairsSD         float64 // its standard deviation over folds
	Mated, NonMated []float64
}

// MeasureAccuracy scores templates t (unit rows: raw unit vectors or
// protected templates) on every protocol.
func MeasureAccuracy(t *protect.Matrix, p *Protocols) (*Accuracy, error) {
	a := &Accuracy{Mated: Scores(t, t, p.Mated), NonMated: Scores(t, t, p.NonMated)}
	var err error
	if a.EER, a.TauEER, err = protect.EER(a.Mated, a.NonMated); err != nil {
		return nil, err
	}
	if a.FNMR3, a.Tau3, err = protect.FNMRAtFMR(a.Mated, a.NonMated, 1e-3); err != nil {
		return nil, err
	}
	if a.FNMR4, a.Tau4, err = protect.FNMRAtFMR(a.Mated, a.NonMated, 1e-4); err != nil {
		return nil, err
	}
	mb := BestScores(t, t, p.Open.Mated, p.Open.Gallery)
	nb := BestScores(t, t, p.Open.NonMated, p.Open.Gallery)
	if a.FNIR, a.TauOpen, err = protect.FNIRAtFPIR(mb, nb, 0.01); err != nil {
		return nil, err
	}
	a.PairsAcc, a.PairsSD, err = TenFold(t, p.Pairs)
	return a, err
}

// TenFold runs the LFW View-2 protocol (Huang et al., "Labeled Faces in the
// Wild", UMass TR 07-49, 2007) on the pairs: for each fold, the threshold
// that maximises accuracy on the other nine folds is applied to it; the
// result is the mean and the standard deviation of the fold accuracies.
// Folds without pairs are skipped.
func TenFold(t *protect.Matrix, pairs []dataset.Pair) (mean, sd float64, err error) {
	var accs []float64
	for f := 0; f < 10; f++ {
		var train, test []scored
		for _, p := range pairs {
			s := scored{protect.Dot(t.Row(p.A), t.Row(p.B)), p.Same}
			if p.Fold == f {
				test = append(test, s)
			} else {
				train = append(train, s)
			}
		}
		if len(test) == 0 || len(train) == 0 {
			continue
		}
		accs = append(accs, accuracyAt(test, bestThreshold(train)))
	}
	if len(accs) == 0 {
		return 0, 0, fmt.Errorf("evaluation: no ten-fold pairs in any fold")
	}
	for _, a := range accs {
		mean += a
	}
	mean /= float64(len(accs))
	for _, a := range accs {
		sd += (a - mean) * (a - mean)
	}
	return mean, math.Sqrt(sd / float64(len(accs))), nil
}

type scored struct {
	s    float64
	same bool
}

// bestThreshold returns the threshold, between two adjacent sorted scores
// (or below all), with the highest accuracy; ties go to the lowest.
func bestThreshold(train []scored) float64 {
	c := slices.Clone(train)
	slices.SortFunc(c, func(a, b scored) int { return cmpFloat(a.s, b.s) })
	var same int
	for _, p := range c {
		if p.same {
			same++
		}
	}
	// Threshold below c[i]: pairs 0..i-1 rejected, i.. accepted.
	correct := same // all accepted: every same pair right
	best, tau := correct, c[0].s-1e-9
	for i := 1; i <= len(c); i++ {
		if c[i-1].same {
			correct--
		} else {
			correct++
		}
		if i < len(c) && c[i].s == c[i-1].s {
			continue
		}
		if correct > best {
			best = correct
			if i < len(c) {
				tau = (c[i-1].s + c[i].s) / 2
			} else {
				tau = c[i-1].s + 1e-9
			}
		}
	}
	return tau
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func accuracyAt(test []scored, tau float64) float64 {
	var ok int
	for _, p := range test {
		if (p.s >= tau) == p.same {
			ok++
		}
	}
	return float64(ok) / float64(len(test))
}
