package evaluation

import (
	"fmt"
	"io"

	"github.com/puente-id/puente/protect"
)

// SweepGrid returns the parameter sets of the sweep on embeddings of
// dimension dim, with mean the public normalisation mean. It spans each
// scheme's accuracy/irreversibility trade-off: PolyProtect's overlap (how
// many outputs, so how many of the input's directions the protected vector
// constrains) and scale (how non-linear the map is), and the binary
// schemes' number of bits or hashes, as multiples of dim (on dlib-128: 64
// to 1024 bits), up to MaxSweepDim outputs.
func SweepGrid(dim int, mean []float64) []protect.Params {
	centre := func(w float64) protect.Normalizer {
		if w == 0 {
			return protect.Normalizer{}
		}
		return protect.Normalizer{Mean: mean, Weight: w}
	}
	poly := func(k, ov int, sc float64) protect.Params {
		return protect.Params{Scheme: protect.PolyProtect, InputDim: dim, Order: k, Overlap: ov, Scale: sc}
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
		for _, m := range []int{dim / 2, dim, 2 * dim, 4 * dim, 8 * dim} {
			if m <= MaxSweepDim {
				g = append(g, protect.Params{Scheme: protect.BioHash, InputDim: dim, Norm: centre(w), M: m})
			}
		}
	}
	// Hashes (as a multiple of dim/4) and projections per hash.
	for _, mq := range [][2]int{{1, 4}, {2, 4}, {4, 4}, {8, 2}, {2, 8}, {16, 2}} {
		if m := mq[0] * dim / 4; m*mq[1] <= MaxSweepDim {
			g = append(g, protect.Params{Scheme: protect.IndexOfMax, InputDim: dim, Norm: centre(0.8), M: m, Q: mq[1]})
		}
	}
	return g
}

// MaxSweepDim bounds the protected dimension of the sweep's binary
// schemes (the largest of the dlib-128 sweep), which keeps the attacks'
// cost bounded on wide embeddings.
const MaxSweepDim = 1024

// SweepRow is one parameter set of the sweep.
type SweepRow struct {
	Params protect.Params
	Acc    *Accuracy
	Dsys   float64    // epochs 1 and 2
	Attack BestAttack // the best stolen-key attack on each measure
}

// Sweep is the parameter sweep: accuracy, unlinkability and the stolen-key
// attacks measured over [SweepGrid]. It is a report [Section].
type Sweep struct {
	Skipped bool // not run (Config.Sweep false)
	Rows    []SweepRow
	Goals   Targets // the environment's targets, which "targets" checks
	dim     int     // the input dimension
	// offCentre names the set's vectors when they share a strong common
	// component (Env.commonComponent), which explains the binary schemes'
	// need for centring; else it is empty.
	offCentre       string
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
	s := &Sweep{Targets: len(targets), Iters: c.SweepIters, Goals: env.Targets, dim: env.Set.Dim()}
	if env.commonComponent() {
		s.offCentre = env.vectors()
	}
	mean := make([][]float64, len(targets))
	for k := range mean {
		mean[k] = env.Mean
	}
	b := j.Result("", NoKey, targets, mean)
	s.Baseline, s.BaselineCentred = b.Success, b.Centred
	for _, p := range SweepGrid(env.Set.Dim(), env.Mean) {
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
		fmt.Sprintf("PolyProtect's overlap sets how many outputs the map has (m < %d leaves directions of the input unconstrained) and its scale", s.dim),
		s.binaryNote(),
		fmt.Sprintf("The recommendation (section %d) draws the conclusion from these rows.", secRecommend)); err != nil {
		return err
	}
	var rows [][]string
	for _, r := range s.Rows {
		ok := "no"
		if s.Goals.MeetsAccuracy(r.Acc) {
			ok = "**yes**"
		}
		rows = append(rows, []string{Describe(r.Params), fmt.Sprint(r.Params.OutputDim()), pct(r.Acc.EER), pct(r.Acc.FNMR3), pct(r.Acc.FNIR), ok,
			fmt.Sprintf("%.3f", r.Dsys), pct(r.Attack.Success), pct(r.Attack.Centred), pct(r.Attack.Rank1)})
	}
	return table(w, []string{"parameters", "m", "EER", "FNMR @ FMR 1e-3", "FNIR @ FPIR 1%", "targets", "D<->sys",
		"attack: raw cosine", "attack: centred", "attack: rank-1"}, rows)
}

// binaryNote is the sweep's sentence on the binary schemes.
func (s *Sweep) binaryNote() string {
	if s.offCentre == "" {
		return "how non-linear it is; the binary schemes' bits or hashes (m) and centring set how much of the input survives quantisation."
	}
	return "how non-linear it is; the binary schemes need many bits or hashes (large m) and partial centring to come near raw accuracy,\n" +
		"because " + s.offCentre + " are far from zero-mean and signs or ranks of uncentred projections carry little information."
}
