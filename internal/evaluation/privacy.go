package evaluation

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

// Linkage measures what the templates of one subject under two epochs (two
// seeds) reveal about each other.
type Linkage struct {
	// Unlinkability across epochs, mated pairs being different images of
	// the same subject (the protocol of Gomez-Barrero et al. 2018).
	Cross *protect.Unlinkability
	// Unlinkability when the mated pairs are the same image under the two
	// epochs: the renewability case.
	SameImage *protect.Unlinkability
	// Scores of each image's template under epoch e against its own
	// re-protection under e+1, and of non-mated pairs within one epoch.
	Renewed, NonMated []float64
	// Floor is D_sys between two samples of non-mated cross-epoch scores
	// (both under H_nm) of the size of the mated sample: what the
	// histogram estimator reports for perfectly unlinkable templates.
	Floor float64
	// RenewedNonMated pairs each image's template under epoch e with a
	// template of another subject under e+1: the cross-epoch scores the
	// renewed ones should look like.
	RenewedNonMated []float64
}

// MeasureLinkage protects raw under a and b (the same parameters, two
// epochs' seeds) and compares the two sets of templates.
func MeasureLinkage(raw *protect.Matrix, a, b protect.Transform, p *Protocols) (*Linkage, error) {
	ta, err := protect.ApplyAll(a, raw)
	if err != nil {
		return nil, err
	}
	tb, err := protect.ApplyAll(b, raw)
	if err != nil {
		return nil, err
	}
	self := make([]lfw.RowPair, raw.Rows)
	for i := range self {
		self[i] = lfw.RowPair{A: i, B: i}
	}
	l := &Linkage{Renewed: Scores(ta, tb, self), NonMated: Scores(ta, ta, p.NonMated)}
	if l.Cross, err = protect.UnlinkabilityScores(Scores(ta, tb, p.LinkMated), Scores(ta, tb, p.LinkNonMated), 0, 1); err != nil {
		return nil, err
	}
	crossNM := Scores(ta, tb, p.LinkNonMated)
	floor, err := protect.UnlinkabilityScores(Scores(ta, tb, p.NonMated[:min(len(crossNM), len(p.NonMated))]), crossNM, 0, 1)
	if err != nil {
		return nil, err
	}
	l.Floor = floor.Sys
	l.RenewedNonMated = Scores(ta, tb, p.SelfNonMated)
	if l.SameImage, err = protect.UnlinkabilityScores(l.Renewed, l.RenewedNonMated, 0, 1); err != nil {
		return nil, err
	}
	return l, nil
}

// AttackResult is how well one way of guessing a raw template from a
// protected one did, judged by the unprotected comparator (raw cosine).
type AttackResult struct {
	Name string
	// Success is the fraction of targets whose guess is accepted against the
	// true raw template at the unprotected threshold for FMR = 1e-3.
	Success float64
	// Rank1 is the fraction of targets whose guess is closer to the true raw
	// template than to every other template in the set: the guess singles
	// the subject's image out.
	Rank1 float64
	// MeanCos is the mean cosine between guess and true raw template.
	MeanCos float64
}

// AttackTargets returns n rows drawn without replacement with seed.
func AttackTargets(rows, n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := rng.Perm(rows)
	return p[:min(n, rows)]
}

// MeasureAttacks runs the inversion attacks of [protect.Invert] against the
// templates that t makes of the target rows of unit (raw unit vectors): with
// the stolen transform t itself, and with other, the same scheme under
// another epoch's seed (a revoked or wrong key). It adds the baseline of
// guessing the public mean for everyone, which needs no template and no
// key. tauRaw is the unprotected threshold.
func MeasureAttacks(unit *protect.Matrix, t, other protect.Transform, targets []int, tauRaw float64, mean []float64, iters int) ([]AttackResult, error) {
	type attack struct {
		name string
		key  protect.Transform
		a    protect.Attack
		opt  protect.AttackOptions
	}
	opt := protect.AttackOptions{Iterations: iters}
	attacks := []attack{
		{"pseudo-inverse (least squares)", t, protect.AttackPseudoInverse, protect.AttackOptions{}},
		{"optimisation from the pseudo-inverse", t, protect.AttackOptimise, opt},
		{"optimisation from the public mean", t, protect.AttackOptimise, protect.AttackOptions{Iterations: iters, Start: mean}},
		{"wrong key: pseudo-inverse with another epoch's seed", other, protect.AttackPseudoInverse, protect.AttackOptions{}},
		{"wrong key: optimisation with another epoch's seed", other, protect.AttackOptimise, opt},
	}
	guesses := make([][][]float64, len(attacks)+1)
	for i := range guesses {
		guesses[i] = make([][]float64, len(targets))
	}
	var firstErr error
	var mu sync.Mutex
	parallel(len(targets), func(k int) {
		x := unit.Row(targets[k])
		p := make([]float64, t.OutputDim())
		err := t.Apply(p, x)
		for i, at := range attacks {
			if err != nil {
				break
			}
			guesses[i][k], err = protect.Invert(at.key, p, at.a, at.opt)
		}
		guesses[len(attacks)][k] = mean
		if err != nil {
			mu.Lock()
			firstErr = keepFirst(firstErr, err)
			mu.Unlock()
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	var out []AttackResult
	for i, g := range guesses {
		name := "baseline: the public mean, no template"
		if i < len(attacks) {
			name = attacks[i].name
		}
		out = append(out, judge(name, unit, targets, g, tauRaw))
	}
	return out, nil
}

func keepFirst(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func judge(name string, unit *protect.Matrix, targets []int, guesses [][]float64, tau float64) AttackResult {
	r := AttackResult{Name: name}
	for k, row := range targets {
		g := slices.Clone(guesses[k])
		n := math.Sqrt(protect.Dot(g, g))
		for i := range g {
			g[i] /= n
		}
		c := protect.Dot(g, unit.Row(row))
		r.MeanCos += c
		if c >= tau {
			r.Success++
		}
		rank1 := true
		for o := 0; o < unit.Rows && rank1; o++ {
			rank1 = o == row || protect.Dot(g, unit.Row(o)) < c
		}
		if rank1 {
			r.Rank1++
		}
	}
	n := float64(len(targets))
	r.Success, r.Rank1, r.MeanCos = r.Success/n, r.Rank1/n, r.MeanCos/n
	return r
}

// parallel calls fn(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, fn func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k)
			}
		}()
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}
