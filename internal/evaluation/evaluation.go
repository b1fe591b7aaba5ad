// Package evaluation measures what Puente's cancellable templates cost in
// accuracy and what they protect, on a labelled set of face embeddings
// (package dataset: any dimension from [MinDim] to [MaxDim]; by default the
// LFW dlib-128 set of package lfw), and renders the results as Markdown:
// the report docs/evaluation.md that `puente-lab eval` writes. The
// protocols are built from the set's labels (package dataset), and the
// recommended transform parameters are derived from its dimension
// ([Recommended]).
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
// polynomial, he.Threshold.PlainStep, summed over the gallery with the
// measured CKKS noise of the count, and the opening's comparison of the
// count with 1/2), which gives FNMR/FMR and FNIR/FPIR at the operating
// thresholds; [RunSample] runs
// a few real encrypted searches on the production parameter set and
// checks their decisions against the emulation. Both are done on v2, which
// serves every threshold, and again on v4 for the schemes whose thresholds
// it serves (Config.HEParamsHighTau), each with its own measured noise. The emulation uses the
// nominal multiplier of the threshold map, where the responder's is up to
// 2^-6 smaller (see he.Threshold.PlainStep): it moves decoded values only
// for scores inside the band, and the sample measures whether that shows.
//
// Irreversibility is judged as ISO/IEC 30136 frames it, by whether a
// template recovered with a stolen key is accepted against the original,
// with two comparators: raw cosine, the system's own, and the mean-centred
// cosine, which removes what all the set's vectors share (much, for dlib)
// so that a guess without information about the subject does not pass
// (see [Judge]). The
// parameter sweep ([RunSweep]) measures accuracy and attack success side by
// side, which is the evidence for the recommendation's trade-off.
package evaluation

import (
	"context"
	"fmt"
	"io"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/protect"
)

// Config says what to measure. Zero fields take the defaults.
type Config struct {
	// Set is the labelled set to evaluate (dataset.Load), and Public the
	// public population its normalisation mean comes from (nil: the set's
	// own vectors). Without a Set, the evaluation runs on the LFW layout of
	// DataDir (lfw.Load), with PublicMeanFile as the public population.
	Set           *dataset.Set
	Public        *Population
	DataDir       string // evaluation data directory of the LFW layout (see lfw.FindDataDir)
	NonMated      int    // random non-mated pairs (default dataset.DefaultNonMated)
	SampleSeed    uint64 // seed of the protocols' samples (default dataset.DefaultSampleSeed)
	AttackTargets int    // templates attacked per recommended scheme (default 300)
	AttackIters   int    // gradient steps of the optimisation attacks (default 300)
	EpochPairs    int    // epoch pairs (e, e+1) the linkage is measured over (default 5)
	Sweep         bool   // also run the parameter sweep
	SweepTargets  int    // templates attacked per parameter set of the sweep (default 60)
	SweepIters    int    // gradient steps of the sweep's optimisation attacks (default 150)
	// HEParams is the parameter set encrypted matching is emulated and
	// run on (default he.N15V2; tests pass an insecure hetest set), and
	// HESearches the number of real encrypted searches (default
	// DefaultHESearches; negative: none).
	HEParams   *he.ParamSet
	HESearches int
	// HEParamsHighTau is a second set, for high thresholds (he.ParamSet.MinTau),
	// on which the schemes whose thresholds it serves are emulated and, for
	// the recommended scheme, searched as on HEParams: he.N15V4 when
	// HEParams is left to its default, else none unless given.
	HEParamsHighTau *he.ParamSet
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
		c.HEParams = builtinSet(he.N15V2)
		if c.HEParamsHighTau == nil {
			c.HEParamsHighTau = builtinSet(he.N15V4)
		}
	}
}

// builtinSet returns a production parameter set.
func builtinSet(id he.ParamSetID) *he.ParamSet {
	ps, err := he.Lookup(id)
	if err != nil {
		panic(err) // the production sets are built in
	}
	return ps
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
	setName  string // the evaluated set's name, or empty for the LFW layout
}

// WriteMarkdown renders the report: a title, a table of contents and the
// sections in order.
func (r *Report) WriteMarkdown(w io.Writer) error {
	intro := "# Evaluation of Puente's cancellable templates\n\n" +
		"Generated by `puente-lab eval -o docs/evaluation.md` (from the module root, with the evaluation data in\n" +
		"`../shared/data` or `$PUENTE_DATA`); do not edit by hand. Every figure below comes from fixed seeds,\n" +
		"so a rerun writes the same file.\n\n"
	if r.setName != "" {
		intro = fmt.Sprintf("# Evaluation of Puente's cancellable templates on `%s`\n\n", r.setName) +
			"Generated by `puente-lab eval` from the files section 1 names (with their sizes and SHA-256 digests). Every figure\n" +
			"below comes from fixed seeds, so a rerun on the same files writes the same report.\n\n"
	}
	if _, err := io.WriteString(w, intro); err != nil {
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
		secSample - 1:     &sampleSection{enc: enc, searches: c.HESearches},
		secLinkage - 1:    &linkageSection{env: env, res: res, pairs: c.EpochPairs, img: c.ImageLink},
		secAttacks - 1:    &attackSection{env: env, res: res, cfg: c},
		secSweep - 1:      sweep,
		secRecommend - 1:  &recommendSection{env: env, res: res, sweep: sweep},
	}
}

// sampleRecommended runs n real encrypted searches on ps (RunSample) with the
// recommended scheme's templates, measured on ps in e. It returns nil when n
// is not positive or ps does not serve that scheme's thresholds.
func sampleRecommended(ctx context.Context, env *Env, e *Encrypted, res []*SchemeResult, ps *he.ParamSet, n int, progress func(string, ...any)) (*Sample, error) {
	if n <= 0 {
		return nil, nil
	}
	want := recommended(res)
	for _, er := range e.Schemes {
		if er.Result == want {
			return RunSample(ctx, env, er, res[want].Acc, ps, n, progress)
		}
	}
	return nil, nil
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
	Set    *dataset.Set
	Unit   *protect.Matrix // raw embeddings scaled to unit length
	Public *protect.Matrix // the public population, labelled by identity when known
	Mean   []float64       // the public mean, protect.MeanOf(Public)
	Proto  *Protocols
	Raw    *Accuracy // the unprotected comparator (raw cosine)
	// Centred holds the raw unit vectors centred on Mean (CentreRows), and
	// CentredAcc the accuracy of the mean-centred cosine comparator that
	// judges the attacks beside raw cosine.
	Centred    *protect.Matrix
	CentredAcc *Accuracy
	// PublicName names the public population in the report; it is empty
	// when the mean is the set's own (no public population given).
	PublicName string
	// Anchors are the plaintext figures the accuracy targets are set from,
	// and Targets the targets.
	Anchors Anchors
	Targets Targets
	// MeanGuess is the fraction of rows for which guessing the public mean
	// is accepted by raw cosine at its threshold for FMR 1e-3: high when
	// the set's vectors share a strong common component (dlib's do).
	MeanGuess float64
	lfw       bool // the LFW layout, whose report keeps its own wording
}

// minOpenNonMated is the fewest non-mated open-set searches that resolve
// an FPIR of 1%.
const minOpenNonMated = 100

// Load reads the data and measures the unprotected comparators.
func Load(c Config) (*Env, error) {
	c.defaults()
	e, err := loadInput(c)
	if err != nil {
		return nil, err
	}
	s := e.Set
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("evaluation: %s: %w", s.Name, err)
	}
	if d := s.Dim(); d < MinDim || d > MaxDim {
		return nil, fmt.Errorf("evaluation: %s: dimension %d outside [%d, %d]", s.Name, d, MinDim, MaxDim)
	}
	if e.Public.Cols != s.Dim() {
		return nil, fmt.Errorf("evaluation: the public population %s has dimension %d, the set %d", e.PublicName, e.Public.Cols, s.Dim())
	}
	e.Unit, e.Mean, e.Proto = UnitRows(s.Emb), protect.MeanOf(e.Public), NewProtocols(s, c.NonMated, c.SampleSeed)
	if n := len(e.Proto.Open.NonMated); n < minOpenNonMated {
		return nil, fmt.Errorf("evaluation: %s: %d non-mated open-set searches (rows of identities not enrolled); FPIR 1%% needs at least %d: the set is too small",
			s.Name, n, minOpenNonMated)
	}
	if e.Raw, err = MeasureAccuracy(e.Unit, e.Proto); err != nil {
		return nil, fmt.Errorf("evaluation: raw cosine: %w", err)
	}
	e.Centred = CentreRows(e.Unit, e.Mean)
	if e.CentredAcc, err = MeasureAccuracy(e.Centred, e.Proto); err != nil {
		return nil, fmt.Errorf("evaluation: mean-centred cosine: %w", err)
	}
	e.Anchors = LFWAnchors
	if !e.lfw {
		e.Anchors = Anchors{EER: e.Raw.EER, FNMR3: e.Raw.FNMR3, FNIR: e.Raw.FNIR}
	}
	e.Targets = e.Anchors.Targets()
	all := make([]int, e.Unit.Rows)
	for r := range all {
		all[r] = r
	}
	e.MeanGuess = acceptedFraction(e.Unit, all, e.Mean, e.Raw.Tau3)
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
	if c.Set != nil {
		progress("measuring the unprotected comparators on %s", c.Set.Name)
	} else {
		progress("loading %s", c.DataDir)
	}
	env, err := Load(c)
	if err != nil {
		return nil, err
	}
	var results []*SchemeResult
	for _, p := range Recommended(env.Set.Dim(), env.Mean) {
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
	if enc.Sample, err = sampleRecommended(ctx, env, enc, results, c.HEParams, c.HESearches, progress); err != nil {
		return nil, err
	}
	if ps := c.HEParamsHighTau; ps != nil {
		progress("protected and encrypted matching on %s (thresholds from %.4f)", ps.Name(), ps.MinTau())
		if enc.High, err = MeasureEncrypted(env, results, ps); err != nil {
			return nil, err
		}
		if enc.High.Sample, err = sampleRecommended(ctx, env, enc.High, results, ps, c.HESearches, progress); err != nil {
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
	if !env.lfw {
		rep.setName = env.Set.Name
	}
	return rep, nil
}
