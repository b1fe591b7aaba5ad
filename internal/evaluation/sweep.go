package evaluation

import (
	"fmt"
	"io"

	"github.com/puente-id/puente/protect"
)

// SweepGrid returns the parameter sets of the sweep, with mean the public
// normalisation mean. It spans each scheme's accuracy/irreversibility
// trade-off: PolyProtect's overlap (how many outputs, so how many of the
// input's directions the protected vector constrains) and scale (how
// non-linear the map is), and the binary schemes' number of bits or
// hashes.
func SweepGrid(mean []float64) []protect.Params {
	centre := func(w float64) protect.Normalizer {
		if w == 0 {
			return protect.Normalizer{}
		}
		return protect.Normalizer{Mean: mean, Weight: w}
	}
	poly := func(k, ov int, sc float64) protect.Params {
		return protect.Params{Scheme: protect.PolyProtect, InputDim: InputDim, Order: k, Overlap: ov, Scale: sc}
	}
	var g []protect.Params
	for _, k := range []int{3, 5} {
		for ov := 0; ov < k; ov++ {
			g = append(g, poly(k, ov, 1))
		}
		for _, sc := range []float64{1.5, 2, 3} {
			g = append(g, poly(k, k-1, sc))
		}
	}
	for _, w := range []float64{0, 0.7} {
		for _, m := range []int{64, 128, 256, 512, 1024} {
			g = append(g, protect.Params{Scheme: protect.BioHash, InputDim: InputDim, Norm: centre(w), M: m})
		}
	}
	for _, mq := range [][2]int{{32, 4}, {64, 4}, {128, 4}, {256, 2}, {64, 8}, {512, 2}} {
		g = append(g, protect.Params{Scheme: protect.IndexOfMax, InputDim: InputDim, Norm: centre(0.8), M: mq[0], Q: mq[1]})
	}
	return g
}

// SweepRow is one parameter set of the sweep.
type SweepRow struct {
	Params protect.Params
	Acc    *Accuracy
	Dsys   float64    // epochs 1 and 2
	Attack BestAttack // the best stolen-key attack on each measure
}

// MeetsAccuracy reports whether the row meets the EER, FNMR and FNIR
// targets.
func (r *SweepRow) MeetsAccuracy() bool {
	return r.Acc.EER <= Targets.EER && r.Acc.FNMR3 <= Targets.FNMR3 && r.Acc.FNIR <= Targets.FNIR
}

// Sweep is the parameter sweep: accuracy, unlinkability and the stolen-key
// attacks measured over [SweepGrid]. It is a report [Section].
type Sweep struct {
	Skipped         bool // not run (Config.Sweep false)
	Rows            []SweepRow
	Targets, Iters  int     // attacked templates and optimisation steps per row
	Baseline        float64 // raw-cosine success of guessing the public mean, on the same targets
	BaselineCentred float64 // the same with the mean-centred comparator
}

// RunSweep measures every parameter set of [SweepGrid] under epoch 1
// (unlinkability against epoch 2), attacking c.SweepTargets templates with
// c.SweepIters optimisation steps.
func RunSweep(env *Env, c Config) (*Sweep, error) {
	c.defaults()
	j := env.Judge()
	targets := AttackTargets(env.Unit.Rows, c.SweepTargets, c.SampleSeed+4)
	s := &Sweep{Targets: len(targets), Iters: c.SweepIters}
	mean := make([][]float64, len(targets))
	for k := range mean {
		mean[k] = env.Mean
	}
	b := j.Result("", NoKey, targets, mean)
	s.Baseline, s.BaselineCentred = b.Success, b.Centred
	for _, p := range SweepGrid(env.Mean) {
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, "  sweep: %s\n", Describe(p))
		}
		row, err := sweepRow(env, j, p, targets, c.SweepIters)
		if err != nil {
			return nil, fmt.Errorf("evaluation: sweep, %s: %w", Describe(p), err)
		}
		s.Rows = append(s.Rows, *row)
	}
	return s, nil
}

func sweepRow(env *Env, j *Judge, p protect.Params, targets []int, iters int) (*SweepRow, error) {
	a, err := protect.New(p, EvalSeed(p.Scheme, 1))
	if err != nil {
		return nil, err
	}
	b, err := protect.New(p, EvalSeed(p.Scheme, 2))
	if err != nil {
		return nil, err
	}
	tm, err := protect.ApplyAll(a, env.Set.Emb)
	if err != nil {
		return nil, err
	}
	r := &SweepRow{Params: p}
	if r.Acc, err = MeasureAccuracy(tm, env.Proto); err != nil {
		return nil, err
	}
	l, err := MeasureLinkage(env.Set.Emb, a, b, env.Proto)
	if err != nil {
		return nil, err
	}
	r.Dsys = l.Cross.Sys
	r.Attack, err = MeasureBestAttack(j, a, targets, iters)
	return r, err
}

func (*Sweep) Title() string { return "Parameter sweep: the accuracy/irreversibility trade-off" }

func (s *Sweep) WriteMarkdown(w io.Writer) error {
	if s.Skipped {
		return para(w, "Not run (`puente-lab eval -sweep=false`).")
	}
	if err := para(w,
		"Accuracy, unlinkability (epochs 1 and 2) and the stolen-key attacks over a grid of each scheme's parameters.",
		fmt.Sprintf("The attack columns give the best of the %d stolen-key attacks of section %d (%d steps each) on %d templates:", len(stolenKeyAttacks(nil, 0)), secAttacks, s.Iters, s.Targets),
		fmt.Sprintf("the fraction of reconstructions accepted by raw cosine (no-key baseline on the same templates: %s) and by the", pct(s.Baseline)),
		fmt.Sprintf("mean-centred cosine (baseline %s), and the fraction identified at rank 1 among all images. \"targets\" says whether", pct(s.BaselineCentred)),
		fmt.Sprintf("the row meets the three accuracy targets of section %d.", secAccuracy),
		"",
		"PolyProtect's overlap sets how many outputs the map has (m < 128 leaves directions of the input unconstrained) and its scale",
		"how non-linear it is; the binary schemes need many bits or hashes (large m) and partial centring to come near raw accuracy,",
		"because dlib vectors are far from zero-mean and signs or ranks of uncentred projections carry little information.",
		fmt.Sprintf("The recommendation (section %d) draws the conclusion from these rows.", secRecommend)); err != nil {
		return err
	}
	var rows [][]string
	for _, r := range s.Rows {
		ok := "no"
		if r.MeetsAccuracy() {
			ok = "**yes**"
		}
		rows = append(rows, []string{Describe(r.Params), fmt.Sprint(r.Params.OutputDim()), pct(r.Acc.EER), pct(r.Acc.FNMR3), pct(r.Acc.FNIR), ok,
			fmt.Sprintf("%.3f", r.Dsys), pct(r.Attack.Success), pct(r.Attack.Centred), pct(r.Attack.Rank1)})
	}
	return table(w, []string{"parameters", "m", "EER", "FNMR @ FMR 1e-3", "FNIR @ FPIR 1%", "targets", "D<->sys",
		"attack: raw cosine", "attack: centred", "attack: rank-1"}, rows)
}
