package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

// The operator's commands (ceremony, enroll, search, verify, revoke, protect, references,
// status) act through the running node when `puente serve` is up — over its operator socket,
// so that one process owns the node's files — and otherwise open the node in process.

// openOperator returns a client of the running node (operator.Client) or, when none runs, the
// node opened in process, and a function that releases it.
func openOperator(ctx context.Context, st *stdio, home string) (operator.Operator, func() error, error) {
	cfg, err := loadConfig(home)
	if err != nil {
		return nil, nil, err
	}
	if c, err := operator.Dial(cfg.Path(cfg.AdminSocket)); err == nil {
		return c, c.Close, nil
	}
	n, err := protocol.Open(ctx, cfg, protocol.Options{Logger: cliLogger(st)})
	if err != nil {
		return nil, nil, err
	}
	return n, n.Close, nil
}

// runningNode returns the operator socket client of the node serving home, or nil when none
// runs (or home has no configuration). The caller closes it.
func runningNode(home string) *operator.Client {
	cfg, err := loadConfig(home)
	if err != nil {
		return nil
	}
	c, err := operator.Dial(cfg.Path(cfg.AdminSocket))
	if err != nil {
		return nil
	}
	return c
}

// keysViaNode carries out a key command through the node running on home, if one runs: the
// node makes the change, audits it and applies it at once. ok is false when no node runs (the
// command then works on the files itself).
func keysViaNode(ctx context.Context, st *stdio, home string, req protocol.KeyRequest) (rep *protocol.KeyReport, ok bool, err error) {
	c := runningNode(home)
	if c == nil {
		return nil, false, nil
	}
	defer c.Close()
	if st.verbose {
		fmt.Fprintf(st.err, "node %s is running: asking it through its operator socket\n", home)
	}
	rep, err = c.Keys(ctx, req)
	return rep, true, err
}

// cliLogger logs warnings and errors to stderr (everything with -v).
func cliLogger(st *stdio) *slog.Logger {
	level := slog.LevelWarn
	if st.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(st.err, &slog.HandlerOptions{Level: level}))
}

// withOperator runs f with an operator for the node at home and releases it.
func withOperator(ctx context.Context, st *stdio, home string, f func(operator.Operator) error) error {
	op, release, err := openOperator(ctx, st, home)
	if err != nil {
		return err
	}
	return releasing(f(op), release)
}

// releasing runs release after an operation that returned err and returns err itself, so that
// its identity and cause chain reach the caller (errors.Is, -v), with a failure to release
// named after it.
func releasing(err error, release func() error) error {
	rerr := release()
	switch {
	case rerr == nil:
		return err
	case err == nil:
		return rerr
	}
	return fmt.Errorf("%w (then closing the node: %v)", err, rerr)
}

// withPartner runs f with an operator for the node at home, once it has checked that partner is
// one of the node's partners.
func withPartner(ctx context.Context, st *stdio, home, partner string, f func(operator.Operator) error) error {
	if _, err := partnerConfig(home, partner); err != nil {
		return err
	}
	return withOperator(ctx, st, home, f)
}

// partnerConfig returns the partner's block of the node's configuration, or an error naming the
// configuration file and the partners it has.
func partnerConfig(home, partner string) (*home.PartnerConfig, error) {
	cfg, err := loadConfig(home)
	if err != nil {
		return nil, err
	}
	if pc, ok := cfg.Partner(partner); ok {
		return pc, nil
	}
	var names []string
	for _, p := range cfg.Partners {
		names = append(names, p.Name)
	}
	known := "none yet: add one with 'puente partner add'"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return nil, fmt.Errorf("%s: no partner %q (partners: %s)", cfg.File, partner, known)
}

// checkWidth checks that a feature file's rows have the width the agreement with partner takes:
// its transform's input dimension, or its output dimension for protected templates.
func checkWidth(home, partner, file string, cols int, protected bool) error {
	pc, err := partnerConfig(home, partner)
	if err != nil {
		return err
	}
	want, what := pc.Transform.InputDim, "raw features"
	if protected {
		want, what = pc.Transform.OutputDim(), "protected templates"
	}
	if cols != want {
		return fmt.Errorf("%s: rows of %d values, but the agreement with %s takes %s of %d", file, cols, partner, what, want)
	}
	return nil
}

// partnerFlag registers the -partner flag.
func partnerFlag(fs *flag.FlagSet) *string {
	return fs.String("partner", "", "the partner agency's node name, as in puente.hcl (required)")
}

func needPartner(p string) error {
	if p == "" {
		return usagef("-partner is required")
	}
	return nil
}

// readFeatures reads feature vectors from a .npy, .csv or .json file, by its extension.
func readFeatures(path string, csvHeader bool) (*protect.Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readFeaturesFrom(f, path, csvHeader)
}

func readFeaturesFrom(r io.Reader, path string, csvHeader bool) (*protect.Matrix, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return protect.ReadNPY(r, path, protect.DefaultLimits)
	case ".csv":
		return protect.ReadCSV(r, path, protect.DefaultLimits, csvHeader)
	case ".json":
		return protect.ReadJSON(r, path, protect.DefaultLimits)
	}
	return nil, fmt.Errorf("%s: unknown feature file type (want .npy, .csv or .json)", path)
}

// rowsOf returns the selected rows of m (all when rows is empty) with their indices.
func rowsOf(m *protect.Matrix, rows []int) ([][]float64, []int, error) {
	if len(rows) == 0 {
		rows = make([]int, m.Rows)
		for i := range rows {
			rows[i] = i
		}
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		if r < 0 || r >= m.Rows {
			return nil, nil, fmt.Errorf("row %d: the file has rows 0 to %d", r, m.Rows-1)
		}
		out[i] = append([]float64(nil), m.Row(r)...)
	}
	return out, rows, nil
}
