package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/puente-id/puente/internal/evaluation"
	"github.com/puente-id/puente/internal/lfw"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "measure the cancellable templates on LFW face embeddings and write the Markdown report",
		usage:   "[flags]",
		examples: []string{
			"puente eval -o docs/evaluation.md",
			"puente eval -data ../shared/data -attack-targets 100 -sweep=false",
		},
		run: runEval,
	})
}

func runEval(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "-", "write the report to this file (\"-\" for standard output)")
	data := fs.String("data", "", "evaluation data directory (default: $PUENTE_DATA, else ../shared/data next to the module root)")
	cfg := evaluation.Config{}
	fs.IntVar(&cfg.AttackTargets, "attack-targets", 300, "templates attacked per scheme")
	fs.IntVar(&cfg.AttackIters, "attack-iters", 300, "gradient steps of the optimisation attack")
	fs.IntVar(&cfg.EpochPairs, "epoch-pairs", 5, "epoch pairs the unlinkability is measured over")
	fs.BoolVar(&cfg.Sweep, "sweep", true, "include the parameter sweep")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("eval takes no arguments, got %q", rest[0])
	}
	if cfg.AttackTargets < 1 || cfg.AttackIters < 1 || cfg.EpochPairs < 1 {
		return usagef("-attack-targets, -attack-iters and -epoch-pairs must be at least 1")
	}
	if cfg.DataDir = *data; cfg.DataDir == "" {
		if cfg.DataDir, err = lfw.FindDataDir(); err != nil {
			return err
		}
	}
	if st.verbose {
		cfg.Progress = st.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep, err := evaluation.Run(cfg)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.WriteMarkdown(&buf); err != nil {
		return err
	}
	if *out == "-" {
		_, err = st.out.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so a crash never leaves a half-written report.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".eval-*.tmp")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
