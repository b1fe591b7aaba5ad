package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/puente-id/puente/protect"
)

// Irreversibility is judged by what a guessed raw template achieves
// against the true one with the unprotected comparators (ISO/IEC 30136:
// the attack succeeds when the recovered template is accepted). Two
// comparators are used because dlib vectors share a strong common
// component: by raw cosine, the system's comparator, guessing the public
// mean for everyone is already accepted for about a fifth of the subjects,
// so a success rate there mixes what the template leaked with what every
// face shares. The mean-centred cosine removes the common component: the
// centred templates are on average orthogonal to the mean, so guessing the
// mean is accepted about as rarely as a random face (the report's baseline
// row measures it), and success there measures what the attack learned
// about the subject.

// AttackKind says what an attack is given.
type AttackKind int

const (
	// StolenKey attacks hold the protected template and the transform
	// (parameters and seed) that made it.
	StolenKey AttackKind = iota
	// WrongKey attacks hold the protected template and a transform of
	// another epoch (a revoked key, or a guess).
	WrongKey
	// NoKey baselines hold neither template nor key.
	NoKey
)

// AttackResult is how well one way of guessing a raw template from a
// protected one did, judged by the unprotected comparators.
type AttackResult struct {
	Name string
	Kind AttackKind
	// Success is the fraction of targets whose guess is accepted against the
	// true raw template by raw cosine at its threshold for FMR = 1e-3.
	Success float64
	// Centred is the same with the mean-centred cosine at its own threshold
	// for FMR = 1e-3, which guessing the public mean does not pass.
	Centred float64
	// Rank1 is the fraction of targets whose guess is closer (raw cosine) to
	// the true raw template than to every other template in the set: the
	// guess singles the subject's image out. Chance is 1 in the set's size.
	Rank1 float64
	// MeanCos is the mean raw cosine between guess and true raw template.
	MeanCos float64
}

// Judge scores guessed raw templates against the true ones.
type Judge struct {
	Unit       *protect.Matrix // raw unit vectors
	Centred    *protect.Matrix // raw unit vectors centred on Mean, unit length
	Mean       []float64       // the public mean
	TauRaw     float64         // raw cosine threshold at FMR 1e-3
	TauCentred float64         // mean-centred cosine threshold at FMR 1e-3
}

// Judge returns the judge of the environment's comparators.
func (e *Env) Judge() *Judge {
	return &Judge{Unit: e.Unit, Centred: e.Centred, Mean: e.Mean, TauRaw: e.Raw.Tau3, TauCentred: e.CentredAcc.Tau3}
}

// CentreRows returns the rows of unit (unit vectors) minus mean, scaled to
// unit length: the mean-centred comparator's templates. A row equal to the
// mean becomes the zero vector, which scores 0 against everything.
func CentreRows(unit *protect.Matrix, mean []float64) *protect.Matrix {
	out := &protect.Matrix{Rows: unit.Rows, Cols: unit.Cols, Data: make([]float64, len(unit.Data))}
	for r := 0; r < unit.Rows; r++ {
		centre(out.Row(r), unit.Row(r), mean)
	}
	return out
}

// centre writes (x - mean)/|x - mean| to dst, or zeros if x == mean.
func centre(dst, x, mean []float64) {
	for i, v := range x {
		dst[i] = v - mean[i]
	}
	if n := math.Sqrt(protect.Dot(dst, dst)); n > 0 {
		for i := range dst {
			dst[i] /= n
		}
	}
}

// Result judges guesses[k], the guess of the raw template of row
// targets[k].
func (j *Judge) Result(name string, kind AttackKind, targets []int, guesses [][]float64) AttackResult {
	r := AttackResult{Name: name, Kind: kind}
	g := make([]float64, j.Unit.Cols)
	gc := make([]float64, j.Unit.Cols)
	for k, row := range targets {
		copy(g, guesses[k])
		n := math.Sqrt(protect.Dot(g, g))
		for i := range g {
			g[i] /= n
		}
		c := protect.Dot(g, j.Unit.Row(row))
		r.MeanCos += c
		if c >= j.TauRaw {
			r.Success++
		}
		centre(gc, g, j.Mean)
		if protect.Dot(gc, j.Centred.Row(row)) >= j.TauCentred {
			r.Centred++
		}
		rank1 := true
		for o := 0; o < j.Unit.Rows && rank1; o++ {
			rank1 = o == row || protect.Dot(g, j.Unit.Row(o)) < c
		}
		if rank1 {
			r.Rank1++
		}
	}
	n := float64(len(targets))
	r.Success, r.Centred, r.Rank1, r.MeanCos = r.Success/n, r.Centred/n, r.Rank1/n, r.MeanCos/n
	return r
}

// AttackTargets returns n rows drawn without replacement with seed.
func AttackTargets(rows, n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := rng.Perm(rows)
	return p[:min(n, rows)]
}

// PriorWeights are the prior weights of the maximum a posteriori attacks
// (protect.AttackOptions.Prior): the lighter suits PolyProtect's squared
// loss, the heavier the binary schemes' logistic and cross-entropy losses.
var PriorWeights = []float64{0.01, 0.1}

// attack is one way of running protect.Invert.
type attack struct {
	name  string
	kind  AttackKind
	a     protect.Attack
	opt   protect.AttackOptions
	wrong bool // use the other epoch's transform
}

// stolenKeyAttacks are the attacks with the stolen transform: the
// pseudo-inverse, the optimisation from it and from the public mean, and
// the maximum a posteriori optimisation towards the mean.
func stolenKeyAttacks(mean []float64, iters int) []attack {
	as := []attack{
		{name: "pseudo-inverse (least squares)", a: protect.AttackPseudoInverse},
		{name: "optimisation from the pseudo-inverse", a: protect.AttackOptimise, opt: protect.AttackOptions{Iterations: iters}},
		{name: "optimisation from the public mean", a: protect.AttackOptimise, opt: protect.AttackOptions{Iterations: iters, Start: mean}},
	}
	for _, w := range PriorWeights {
		as = append(as, attack{name: fmt.Sprintf("MAP: optimisation with prior %g towards the public mean", w),
			a: protect.AttackOptimise, opt: protect.AttackOptions{Iterations: iters, Start: mean, Prior: w}})
	}
	return as
}

// MeasureAttacks runs the inversion attacks of [protect.Invert] against the
// templates that t makes of the target rows: with the stolen transform t
// itself, and with other, the same scheme under another epoch's seed (a
// revoked or wrong key). It adds the baseline of guessing the public mean
// for everyone, which needs no template and no key.
func MeasureAttacks(j *Judge, t, other protect.Transform, targets []int, iters int) ([]AttackResult, error) {
	as := stolenKeyAttacks(j.Mean, iters)
	as = append(as,
		attack{name: "wrong key: pseudo-inverse with another epoch's seed", kind: WrongKey, a: protect.AttackPseudoInverse, wrong: true},
		attack{name: "wrong key: optimisation with another epoch's seed", kind: WrongKey, a: protect.AttackOptimise,
			opt: protect.AttackOptions{Iterations: iters}, wrong: true})
	res, err := runAttacks(j, t, other, as, targets)
	if err != nil {
		return nil, err
	}
	guesses := make([][]float64, len(targets))
	for k := range guesses {
		guesses[k] = j.Mean
	}
	return append(res, j.Result("baseline: the public mean, no template, no key", NoKey, targets, guesses)), nil
}

// BestAttack is the best of the stolen-key attacks on each measure (each
// maximum may come from a different attack).
type BestAttack struct {
	Success, Centred, Rank1 float64
}

// MeasureBestAttack runs the stolen-key attacks against t's templates of
// the targets and returns the best of them on each measure.
func MeasureBestAttack(j *Judge, t protect.Transform, targets []int, iters int) (BestAttack, error) {
	res, err := runAttacks(j, t, nil, stolenKeyAttacks(j.Mean, iters), targets)
	if err != nil {
		return BestAttack{}, err
	}
	return best(res), nil
}

// best returns the best stolen-key result on each measure.
func best(res []AttackResult) BestAttack {
	var b BestAttack
	for _, r := range res {
		if r.Kind == StolenKey {
			b.Success, b.Centred, b.Rank1 = max(b.Success, r.Success), max(b.Centred, r.Centred), max(b.Rank1, r.Rank1)
		}
	}
	return b
}

func runAttacks(j *Judge, t, other protect.Transform, as []attack, targets []int) ([]AttackResult, error) {
	guesses := make([][][]float64, len(as))
	for i := range guesses {
		guesses[i] = make([][]float64, len(targets))
	}
	var firstErr error
	var mu sync.Mutex
	parallel(len(targets), func(k int) {
		p := make([]float64, t.OutputDim())
		err := t.Apply(p, j.Unit.Row(targets[k]))
		for i, at := range as {
			if err != nil {
				break
			}
			key := t
			if at.wrong {
				key = other
			}
			guesses[i][k], err = protect.Invert(key, p, at.a, at.opt)
		}
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([]AttackResult, len(as))
	for i, at := range as {
		out[i] = j.Result(at.name, at.kind, targets, guesses[i])
	}
	return out, nil
}
