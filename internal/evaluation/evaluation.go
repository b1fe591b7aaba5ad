// Package evaluation measures what Puente's cancellable templates cost in
// accuracy and what they protect, on real face embeddings (package lfw),
// and renders the results as Markdown: the report docs/evaluation.md that
// `puente-lab eval` writes.
//
// A report is a list of [Section]s computed by [Run]; each section owns its
// table. Every number comes from fixed seeds and fixed formatting, so two
// runs write the same bytes; the PNG plots the report links to ([Figure]:
// DET curves, score distributions, the unlinkability plot of Gomez-Barrero
// et al. 2018) are drawn with gonum.org/v1/plot and are not part of that
// promise.
//
// Protected and encrypted matching is measured twice. [Emulator] decides
// every comparison and search of the protocols in plaintext as the
// encrypted protocol of package he decides it (the same threshold
// polynomial, he.Threshold.PlainStep, the bounded OR of ModeAny, the
// measured CKKS noise, the flooding noise and the querier's rounding), which
// gives FNMR/FMR and FNIR/FPIR at the operating thresholds; [RunSample] runs
// a few real encrypted searches on the production parameter set and
// checks their decisions against the emulation. The emulation uses the
// nominal multiplier of the threshold map, where the responder's is up to
// 2^-5 smaller (see he.Threshold.PlainStep): it moves decoded values only
// for scores inside the band, and the sample measures whether that shows.
//
// Irreversibility is judged as ISO/IEC 30136 frames it, by whether a
// template recovered with a stolen key is accepted against the original,
// with two comparators: raw cosine, the system's own, and the mean-centred
// cosine, which removes what all dlib vectors share so that a guess
// without information about the subject does not pass (see [Judge]). The
// parameter sweep ([RunSweep]) measures accuracy and attack success side by
// side, which is the evidence for the recommendation's trade-off.
package evaluation

import (
	"context"
	"fmt"
	"io"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/internal/lfw"
	"github.com/puente-id/puente/protect"
)

// Config says what to measure. Zero fields take the defaults.
type Config struct {
	DataDir       string // evaluation data directory (see lfw.FindDataDir)
	NonMated      int    // random non-mated pairs (default dataset.DefaultNonMated)
	SampleSeed    uint64 // seed of the non-mated sample (default dataset.DefaultSampleSeed)
	AttackTargets int    // templates attacked per recommended scheme (default 300)
	AttackIters   int    // gradient steps of the optimisation attacks (default 300)
	EpochPairs    int    // epoch pairs (e, e+1) the linkage is measured over (default 5)
	Sweep         bool   // also run the parameter sweep
	SweepTargets  int    // templates attacked per parameter set of the sweep (default 60)
	SweepIters    int    // gradient steps of the sweep's optimisation attacks (default 150)
	// HEParams is the parameter set encrypted matching is emulated and
	// run on (default he.N15V1; tests pass an insecure hetest set), and
	// HESearches the number of real encrypted searches (default
	// DefaultHESearches; negative: none).
	HEParams   *he.ParamSet
	HESearches int
	// ImageLink is the path of the figures relative to the report, as its
	// links name them (default "img": docs/img beside docs/evaluation.md).
	ImageLink string
	Progress  io.Writer // progress lines, or nil
}

// Defaults of the Config fields, which the report states.
const (
	DefaultAttackTargets = 300
	DefaultAttackIters   = 300
	DefaultEpochPairs    = 5
	DefaultSweepTargets  = 60
	DefaultSweepIters    = 150
	DefaultImageLink     = "img"
)

func (c *Config) defaults() {
	if c.NonMated <= 0 {
		c.NonMated = dataset.DefaultNonMated
	}
	if c.SampleSeed == 0 {
		c.SampleSeed = dataset.DefaultSampleSeed
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.AttackTargets, DefaultAttackTargets)
	def(&c.AttackIters, DefaultAttackIters)
	def(&c.EpochPairs, DefaultEpochPairs)
	def(&c.SweepTargets, DefaultSweepTargets)
	def(&c.SweepIters, DefaultSweepIters)
	if c.HESearches == 0 {
		c.HESearches = DefaultHESearches
	}
	if c.ImageLink == "" {
		c.ImageLink = DefaultImageLink
	}
	if c.HEParams == nil {
		ps, err := he.Lookup(he.N15V1)
		if err != nil {
			panic(err) // the production set is built in
		}
		c.HEParams = ps
	}
}

// Section is one part of the report.
type Section interface {
	// Title is the section's heading.
	Title() string
	// WriteMarkdown writes the section's body; it fails only if w does.
	WriteMarkdown(w io.Writer) error
}

// Report is an evaluation's result: the sections of the Markdown text and
// the figures it links to.
type Report struct {
	Sections []Section
	Figures  []*Figure
}

// WriteMarkdown renders the report: a title, a table of contents and the
// sections in order.
func (r *Report) WriteMarkdown(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# Evaluation of Puente's cancellable templates\n\n"+
		"Generated by `puente-lab eval -o docs/evaluation.md` (from the module root, with the evaluation data in\n"+
		"`../shared/data` or `$PUENTE_DATA`); do not edit by hand. Every figure below comes from fixed seeds,\n"+
		"so a rerun writes the same file.\n\n"); err != nil {
		return err
	}
	for i, s := range r.Sections {
		if _, err := fmt.Fprintf(w, "%d. %s\n", i+1, s.Title()); err != nil {
			return err
		}
	}
	for i, s := range r.Sections {
		if _, err := fmt.Fprintf(w, "\n## %d. %s\n\n", i+1, s.Title()); err != nil {
			return err
		}
		if err := s.WriteMarkdown(w); err != nil {
			return err
		}
	}
	return nil
}

// Section numbers, for the text's cross-references; sections lists the
// sections in this order.
const (
	secData = iota + 1
	secAccuracy
	secOverlap
	secThresholds
	secEncrypted
	secSample
	secLinkage
	secAttacks
	secSweep
	secRecommend
)

// sections lists the report's sections in order. The sections up to the
// encrypted accuracy need only the accuracy of each result and the
// emulation.
func sections(env *Env, c Config, res []*SchemeResult, ov *Overlap, enc *Encrypted, sweep *Sweep) []Section {
	return []Section{
		secData - 1:       &dataSection{env: env, cfg: c},
		secAccuracy - 1:   &accuracySection{env: env, res: res, img: c.ImageLink},
		secOverlap - 1:    ov,
		secThresholds - 1: &thresholdSection{env: env, res: res, enc: enc},
		secEncrypted - 1:  &encryptedSection{enc: enc, img: c.ImageLink},
		secSample - 1:     &sampleSection{enc: enc},
		secLinkage - 1:    &linkageSection{env: env, res: res, pairs: c.EpochPairs, img: c.ImageLink},
		secAttacks - 1:    &attackSection{env: env, res: res, cfg: c},
		secSweep - 1:      sweep,
		secRecommend - 1:  &recommendSection{env: env, res: res, sweep: sweep},
	}
}

// recommended returns the index of the result of the recommended scheme
// (PolyProtect; the report's recommendation explains why), or 0.
func recommended(res []*SchemeResult) int {
	for i, r := range res {
		if r.Params.Scheme == protect.PolyProtect {
			return i
		}
	}
	return 0
}

// Env is the loaded data and protocols an evaluation runs on.
type Env struct {
	Set    *lfw.Set
	Unit   *protect.Matrix // raw embeddings scaled to unit length
	Public *protect.Matrix // the public population (PublicMeanFile), labelled by identity
	Mean   []float64       // the public mean, protect.MeanOf(Public)
	Proto  *Protocols
	Raw    *Accuracy // the unprotected comparator (raw cosine)
	// Centred holds the raw unit vectors centred on Mean (CentreRows), and
	// CentredAcc the accuracy of the mean-centred cosine comparator that
	// judges the attacks beside raw cosine.
	Centred    *protect.Matrix
	CentredAcc *Accuracy
}

// Load reads the data and measures the unprotected comparators.
func Load(c Config) (*Env, error) {
	c.defaults()
	s, err := lfw.Load(c.DataDir)
	if err != nil {
		return nil, err
	}
	pub, err := LoadPublic(c.DataDir)
	if err != nil {
		return nil, err
	}
	if pub.Cols != s.Emb.Cols {
		return nil, fmt.Errorf("evaluation: %s has %d columns, the set %d", PublicMeanFile, pub.Cols, s.Emb.Cols)
	}
	e := &Env{Set: s, Unit: UnitRows(s.Emb), Public: pub, Mean: protect.MeanOf(pub), Proto: NewProtocols(s, c.NonMated, c.SampleSeed)}
	if e.Raw, err = MeasureAccuracy(e.Unit, e.Proto); err != nil {
		return nil, fmt.Errorf("evaluation: raw cosine: %w", err)
	}
	e.Centred = CentreRows(e.Unit, e.Mean)
	if e.CentredAcc, err = MeasureAccuracy(e.Centred, e.Proto); err != nil {
		return nil, fmt.Errorf("evaluation: mean-centred cosine: %w", err)
	}
	return e, nil
}

// Run loads the data and computes every section. ctx stops the real
// encrypted searches between two searches.
func Run(ctx context.Context, c Config) (*Report, error) {
	c.defaults()
	progress := func(format string, args ...any) {
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, format+"\n", args...)
		}
	}
	progress("loading %s", c.DataDir)
	env, err := Load(c)
	if err != nil {
		return nil, err
	}
	var results []*SchemeResult
	for _, p := range Recommended(env.Mean) {
		progress("measuring %s", p.Scheme)
		r, err := MeasureScheme(env, p, c)
		if err != nil {
			return nil, fmt.Errorf("evaluation: %s: %w", p.Scheme, err)
		}
		results = append(results, r)
	}
	progress("public mean overlap")
	ov, err := MeasureOverlap(env, results)
	if err != nil {
		return nil, err
	}
	progress("protected and encrypted matching on %s", c.HEParams.Name())
	enc, err := MeasureEncrypted(env, results, c.HEParams)
	if err != nil {
		return nil, err
	}
	if c.HESearches > 0 {
		if enc.Sample, err = RunSample(ctx, env, enc.Schemes[recommended(results)], results[recommended(results)].Acc, c.HEParams, c.HESearches, progress); err != nil {
			return nil, err
		}
	}
	sweep := &Sweep{Skipped: true}
	if c.Sweep {
		progress("parameter sweep")
		if sweep, err = RunSweep(env, c); err != nil {
			return nil, err
		}
	}
	rep := &Report{Sections: sections(env, c, results, ov, enc, sweep), Figures: figures(env, results, enc)}
	return rep, nil
}
