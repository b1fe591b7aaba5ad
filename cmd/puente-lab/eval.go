package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/puente-id/puente/internal/atomicfile"
	"github.com/puente-id/puente/internal/evaluation"
)

var evalCommand = &command{
	name:    "eval",
	summary: "measure the cancellable templates on labelled face embeddings (LFW dlib-128 by default) and write the Markdown report",
	examples: []string{
		"puente-lab eval -o docs/evaluation.md              # LFW; figures in docs/img",
		"puente-lab eval -check docs/evaluation.md",
		"puente-lab eval -data ../shared/data -attack-targets 100 -sweep=false",
		"puente-lab eval -npy arcface.npy -labels arcface.txt -model ArcFace -provenance 'CelebA test split, insightface r100' -o report.md",
		"puente-lab eval -json faces.json -public public.npy -he-searches 0 -o report.md",
	},
	run: runEval,
}

// errStale reports that a checked report differs from a fresh run.
var errStale = errors.New("report is not current")

func runEval(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "-", "write the report to this file (\"-\" for standard output)")
	check := fs.String("check", "", "compare this file with a fresh report instead of writing one; fail if they differ")
	var set setFlags
	set.register(fs)
	img := fs.String("img", "", "directory to write the PNG figures to (default: img beside the -o file; with -check or -o - none are written unless -img is given)")
	cfg := evaluation.Config{}
	fs.IntVar(&cfg.AttackTargets, "attack-targets", evaluation.DefaultAttackTargets, "templates attacked per recommended scheme")
	fs.IntVar(&cfg.AttackIters, "attack-iters", evaluation.DefaultAttackIters, "gradient steps of the optimisation attacks")
	fs.IntVar(&cfg.EpochPairs, "epoch-pairs", evaluation.DefaultEpochPairs, "epoch pairs the unlinkability is measured over")
	fs.BoolVar(&cfg.Sweep, "sweep", true, "include the parameter sweep")
	fs.IntVar(&cfg.SweepTargets, "sweep-targets", evaluation.DefaultSweepTargets, "templates attacked per parameter set of the sweep")
	fs.IntVar(&cfg.SweepIters, "sweep-iters", evaluation.DefaultSweepIters, "gradient steps of the sweep's optimisation attacks")
	fs.IntVar(&cfg.HESearches, "he-searches", evaluation.DefaultHESearches, "real encrypted searches on each production parameter set that serves the recommended scheme, checked against the emulation (0: none)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkEvalUsage(rest, &cfg, *out, *check); err != nil {
		return err
	}
	if _, _, err := set.embeddings(); err != nil {
		return err
	}
	var old []byte
	if *check != "" {
		// Read first: a missing file should not cost a full evaluation.
		if old, err = os.ReadFile(*check); err != nil {
			return fmt.Errorf("check report: %w", err)
		}
	}
	if err := set.load(&cfg); err != nil {
		return err
	}
	imgDir, writeImg, err := figureDir(*out, *check, *img, &cfg)
	if err != nil {
		return err
	}
	if st.verbose {
		cfg.Progress = st.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep, err := evaluation.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if writeImg {
		// Before the report, so that its links never point at figures
		// of an older run.
		if err := writeFigures(imgDir, rep.Figures); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := rep.WriteMarkdown(&buf); err != nil {
		return err
	}
	switch {
	case *check != "":
		if line, ok := firstDiff(old, buf.Bytes()); !ok {
			return fmt.Errorf("%w: %s differs from a fresh run at line %d; regenerate it with puente-lab eval -o %s", errStale, *check, line, *check)
		}
		fmt.Fprintf(st.out, "%s is current\n", *check)
		return nil
	case *out == "-":
		_, err = st.out.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// checkEvalUsage checks eval's arguments and flags; -he-searches 0 becomes
// the Config's "none".
func checkEvalUsage(rest []string, cfg *evaluation.Config, out, check string) error {
	if len(rest) > 0 {
		return usagef("eval takes no arguments, got %q", rest[0])
	}
	if cfg.AttackTargets < 1 || cfg.AttackIters < 1 || cfg.EpochPairs < 1 || cfg.SweepTargets < 1 || cfg.SweepIters < 1 {
		return usagef("-attack-targets, -attack-iters, -epoch-pairs, -sweep-targets and -sweep-iters must be at least 1")
	}
	switch {
	case cfg.HESearches < 0:
		return usagef("-he-searches must be at least 0")
	case cfg.HESearches == 0:
		cfg.HESearches = -1 // none
	}
	if check != "" && out != "-" {
		return usagef("-check and -o exclude each other")
	}
	return nil
}

// figureDir returns the directory the figures go to and whether to write
// them, and sets cfg.ImageLink to its path relative to the report's
// directory (the report's links must not depend on where it is run from:
// docs/evaluation.md links to img/).
func figureDir(out, check, img string, cfg *evaluation.Config) (string, bool, error) {
	reportDir := "."
	switch {
	case check != "":
		reportDir = filepath.Dir(check)
	case out != "-":
		reportDir = filepath.Dir(out)
	}
	dir := img
	if dir == "" {
		dir = filepath.Join(reportDir, evaluation.DefaultImageLink)
	}
	link, err := filepath.Rel(reportDir, dir)
	if err != nil {
		// One path absolute, the other not: compare them absolute.
		ra, err1 := filepath.Abs(reportDir)
		da, err2 := filepath.Abs(dir)
		if err = errors.Join(err1, err2); err == nil {
			link, err = filepath.Rel(ra, da)
		}
		if err != nil {
			return "", false, fmt.Errorf("figure directory %s: %w", dir, err)
		}
	}
	cfg.ImageLink = filepath.ToSlash(link)
	return dir, check == "" && (out != "-" || img != ""), nil
}

// writeFigures renders every figure into dir (created if missing), each
// written atomically.
func writeFigures(dir string, figs []*evaluation.Figure) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	for _, f := range figs {
		var b bytes.Buffer
		if err := f.WritePNG(&b); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, f.Name), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// firstDiff compares two texts and returns the first line (1-based) where
// they differ, and whether they are equal.
func firstDiff(a, b []byte) (line int, equal bool) {
	if bytes.Equal(a, b) {
		return 0, true
	}
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1, false
		}
	}
	return min(len(la), len(lb)) + 1, false
}

// writeFileAtomic writes a report or figure (0644: a report is a document) so that a crash
// leaves either the old file or the new one, never a half-written one.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
