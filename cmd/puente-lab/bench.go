package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/internal/perf/e2e"
)

var benchCommand = &command{
	name:    "bench",
	summary: "measure encrypted search beside the plaintext scan of the same gallery (time, CPU, bytes, peak memory)",
	examples: []string{
		"puente-lab bench                                          # N = 10,000 at m = 128 on the production set",
		"puente-lab bench -n 10000,100000 -m 128,512               # every combination, in that order",
		"puente-lab bench -all -json > bench.json                  # the four sizes of docs/performance.md, for machines",
		"puente-lab bench -n 1000000                               # 10^6 at m = 128 within the default 3.5 GiB memory limit",
		"puente-lab bench -n 100000 -ntt-budget -1 -memory-limit 0 # every block kept in NTT form, no memory limit",
		"puente-lab bench -n 100000 -batch 16 -ntt-budget 0        # also 16 probes answered as one batch, which shares the conversion",
		"puente-lab bench -e2e 10000                               # also one query end to end over gRPC, 10,000 subjects enrolled",
		"puente-lab bench -e2e 100000 -e2e-calls 16 -e2e-convert   # also 16 searches at once against a responder that converts its blocks",
	},
	run: runBench,
}

// benchParams returns the parameter set puente-lab bench measures. Tests
// replace it with an insecure test set; nothing else does.
var benchParams = func(name string) (*he.ParamSet, error) { return he.LookupName(name) }

// allSizes are the gallery sizes of docs/performance.md.
var allSizes = []perf.Size{{N: 10000, Dims: 128}, {N: 100000, Dims: 128}, {N: 1000000, Dims: 128}, {N: 100000, Dims: 512}}

func runBench(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	ns := fs.String("n", "10000", "gallery sizes, comma-separated")
	ms := fs.String("m", "128", "template dimensions, comma-separated (every size is run with every dimension)")
	all := fs.Bool("all", false, "run the sizes of docs/performance.md: N = 10^4, 10^5, 10^6 at m = 128 and N = 10^5 at m = 512 (overrides -n and -m)")
	asJSON := fs.Bool("json", false, "write JSON instead of the table")
	params := fs.String("he-params", "puente-ckks-n15-v2", "production HE parameter set to measure (puente-ckks-n15-v4 and puente-ckks-n15-v3 need -tau 0.9234 or above their lowest threshold)")
	cfg := perf.Config{}
	fs.IntVar(&cfg.Reps, "reps", 1, "encrypted searches per size (times are means)")
	fs.Float64Var(&cfg.Tau, "tau", perf.DefaultTau, "threshold of the searches (the probe's one match scores 0.95)")
	cfg.NTTBudget = perf.AutoNTTBudget
	fs.Var((*nttBudgetFlag)(&cfg.NTTBudget), "ntt-budget", "bytes of gallery plaintexts kept in NTT form, blocks beyond it converted during each search; -1: every block; auto: the blocks the memory limit leaves room for (every block with no limit)")
	memLimit := fs.Int64("memory-limit", defaultMemoryLimit, "Go's soft memory limit for the searches, in bytes (0: none); GOMEMLIMIT in the environment replaces the default, which neither -batch nor -e2e's two nodes keep")
	fs.IntVar(&cfg.Batch, "batch", 0, fmt.Sprintf("also run one batched search of this many probes per size (2 to %d; with blocks to convert, each probe holds its baby steps, 150-600 MiB at m = 128, for the whole search)", he.MaxBatch))
	e2eN := fs.Int("e2e", 0, "also measure searches end to end over gRPC between two nodes in this process, against this many enrolled subjects (0: not run)")
	e2eCalls := fs.Int("e2e-calls", 0, fmt.Sprintf("with -e2e, also time this many searches sent at once (2 to %d), which the responder answers together when its gallery has blocks to convert", he.MaxBatch))
	e2eConvert := fs.Bool("e2e-convert", false, "with -e2e, the responder keeps no block in NTT form (gallery_memory_budget = 0), so every search converts its blocks")
	e2eAlone := fs.Bool("e2e-alone", false, "with -e2e-calls, the responder evaluates every search alone (batch_memory_budget = 0), for comparison")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("bench takes no arguments, got %q", rest[0])
	}
	if cfg.Sizes, err = benchSizes(*ns, *ms, *all); err != nil {
		return err
	}
	switch {
	case cfg.Reps < 1:
		return usagef("-reps must be at least 1")
	case !(cfg.Tau > -1 && cfg.Tau < perf.MatchScore):
		return usagef("-tau must be in (-1, %g) so that the probe's match is a hit", perf.MatchScore)
	case *memLimit < 0:
		return usagef("-memory-limit: %d is not a number of bytes (0: no limit)", *memLimit)
	case cfg.Batch != 0 && (cfg.Batch < 2 || cfg.Batch > he.MaxBatch):
		return usagef("-batch: %d is not a whole number in [2, %d]", cfg.Batch, he.MaxBatch)
	case *e2eN < 0 || *e2eN > maxGallery:
		return usagef("-e2e: %d is not a whole number in [0, %d]", *e2eN, maxGallery)
	case *e2eCalls != 0 && (*e2eCalls < 2 || *e2eCalls > he.MaxBatch):
		return usagef("-e2e-calls: %d is not a whole number in [2, %d]", *e2eCalls, he.MaxBatch)
	case *e2eN == 0 && (*e2eCalls != 0 || *e2eConvert):
		return usagef("-e2e-calls and -e2e-convert need -e2e")
	case *e2eAlone && *e2eCalls == 0:
		return usagef("-e2e-alone needs -e2e-calls")
	}
	if cfg.Params, err = benchParams(*params); err != nil {
		return usagef("-he-params: %v", err)
	}
	if lo := cfg.Params.MinTau(); cfg.Tau < lo {
		return usagef("-tau %v is below %.4f, the lowest threshold %s serves", cfg.Tau, math.Ceil(lo*1e4)/1e4, cfg.Params.Name())
	}
	for _, s := range cfg.Sizes {
		if s.Dims > cfg.Params.Slots()/2 {
			return usagef("-m %d: at most %d on %s", s.Dims, cfg.Params.Slots()/2, cfg.Params.Name())
		}
	}
	if st.verbose {
		cfg.Progress = st.err
	}
	restore, byDefault := setMemoryLimit(fs, *memLimit)
	defer restore()
	if byDefault && cfg.Batch > 0 {
		// The default limit is sized for one search; a batch holds every
		// probe's baby steps (he.MaxBatch).
		debug.SetMemoryLimit(math.MaxInt64)
	}
	rep, err := perf.Run(ctx, cfg)
	if err != nil {
		return err
	}
	out := benchReport{Report: rep}
	if *e2eN > 0 {
		if byDefault {
			// The default limit is for one party's search; the end-to-end
			// run holds two nodes, each with its keys, in this process.
			debug.SetMemoryLimit(math.MaxInt64)
		}
		if out.EndToEnd, err = e2e.Run(ctx, e2e.Config{Params: cfg.Params.Name(), Insecure: cfg.Params.Insecure(), N: *e2eN,
			Reps: cfg.Reps, Tau: cfg.Tau, Calls: *e2eCalls, Convert: *e2eConvert, Alone: *e2eAlone, Progress: cfg.Progress}); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if err := rep.WriteTable(st.out); err != nil || out.EndToEnd == nil {
		return err
	}
	return out.EndToEnd.WriteTable(st.out)
}

// defaultMemoryLimit is -memory-limit's default, with which N = 10^6 at
// m = 128 runs within 4 GiB (docs/performance.md, "Memory and batches").
const defaultMemoryLimit = 3584 << 20

// nttBudgetFlag is -ntt-budget: "auto" (perf.AutoNTTBudget) or a whole
// number of bytes, -1 for every block.
type nttBudgetFlag int64

func (f *nttBudgetFlag) String() string {
	if f == nil || int64(*f) == perf.AutoNTTBudget {
		return "auto"
	}
	return strconv.FormatInt(int64(*f), 10)
}

func (f *nttBudgetFlag) Set(s string) error {
	if s == "auto" {
		*f = perf.AutoNTTBudget
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1 {
		return fmt.Errorf("want auto, -1 or a number of bytes, got %q", s)
	}
	*f = nttBudgetFlag(v)
	return nil
}

// setMemoryLimit applies -memory-limit: the flag when given, else
// GOMEMLIMIT when set (the runtime has already read it), else the default.
// It returns a function that restores the process's limit, and whether
// the limit is -memory-limit's default.
func setMemoryLimit(fs *flag.FlagSet, limit int64) (restore func(), byDefault bool) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "memory-limit" })
	old := debug.SetMemoryLimit(-1)
	restore = func() { debug.SetMemoryLimit(old) }
	if !given && os.Getenv("GOMEMLIMIT") != "" {
		return restore, false
	}
	if limit <= 0 {
		limit = math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	return restore, !given
}

// benchReport is puente-lab bench's JSON: perf's report, and the
// end-to-end measurement when -e2e asked for it.
type benchReport struct {
	*perf.Report
	EndToEnd *e2e.Result `json:"end_to_end,omitempty"`
}

// benchSizes parses -n and -m into their product, or returns allSizes.
func benchSizes(ns, ms string, all bool) ([]perf.Size, error) {
	if all {
		return allSizes, nil
	}
	nv, err := positiveList("-n", ns)
	if err != nil {
		return nil, err
	}
	mv, err := positiveList("-m", ms)
	if err != nil {
		return nil, err
	}
	var out []perf.Size
	for _, n := range nv {
		for _, m := range mv {
			out = append(out, perf.Size{N: n, Dims: m})
		}
	}
	return out, nil
}

// maxGallery bounds -n: ten times the largest size the design targets.
const maxGallery = 10_000_000

func positiveList(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 || v > maxGallery {
			return nil, usagef("%s: %q is not a whole number in [1, %d]", flagName, f, maxGallery)
		}
		out = append(out, v)
	}
	return out, nil
}
