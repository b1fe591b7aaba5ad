package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "search", summary: "ask a partner whether each probe's subject is in its gallery (hit/no-hit)",
		usage: "[-home DIR] -partner NAME [-rows 0,2] [-purpose P] [-protected] [-json] [-for 60s] [-deadline 2m] PROBES.(npy|csv|json)",
		examples: []string{"puente search -partner co-migracion probe.npy",
			"puente search -partner co-migracion -rows 0,5 -json probes.csv",
			"puente search -partner co-migracion -json -for 60s probes.npy   # a load test"},
		run: func(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
			return runMatch(ctx, st, fs, args, false)
		}})
	register(&command{name: "verify", summary: "ask a partner whether each probe's subject is the one it enrolled under a reference (1:1)",
		usage:    "[-home DIR] -partner NAME -reference LABEL [-rows 0] [-purpose P] [-protected] [-json] [-deadline 2m] PROBES",
		examples: []string{"puente verify -partner co-migracion -reference v1-3f1a... probe.npy"},
		run: func(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
			return runMatch(ctx, st, fs, args, true)
		}})
	register(&command{name: "protect", summary: "write the protected templates of feature vectors under the agreement's current epoch (research)",
		usage: "[-home DIR] -partner NAME [-rows 0,2] IN.(npy|csv|json) OUT.json", examples: []string{"puente protect -partner co-migracion probes.npy protected.json"},
		run: runProtect})
	register(&command{name: "status", summary: "show the node's agreements: epoch, parameters, gallery size, quota used",
		usage: "[-home DIR] [-json]", examples: []string{"puente status", "puente status -json"}, run: runStatus})
}

// matchLine is one probe's outcome as -json prints it.
type matchLine struct {
	Row       int    `json:"row"`
	Hit       bool   `json:"hit"`
	Request   string `json:"request"`
	Epoch     uint64 `json:"epoch"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Sent      int64  `json:"sent_bytes"`
	Received  int64  `json:"received_bytes"`
	Error     string `json:"error,omitempty"`
}

func runMatch(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string, verify bool) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	rowsFlag := fs.String("rows", "", "comma-separated rows of the file to use (default: all)")
	purpose := fs.String("purpose", "", "purpose code (default: the agreement's first)")
	protected := fs.Bool("protected", false, "the file holds protected templates (from puente protect, with their agreement and epoch), not raw features")
	deadline := fs.Duration("deadline", 0, "give each query at most this long (0: the key policy's call_deadline)")
	asJSON := fs.Bool("json", false, "print one JSON object per probe")
	header := fs.Bool("csv-header", false, "the CSV file starts with a header line")
	repeat := fs.Duration("for", 0, "repeat the probes in turn until this much time has passed (load tests)")
	var reference *string
	if verify {
		reference = fs.String("reference", "", "the partner's reference for the enrolled subject (required)")
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	if verify && *reference == "" {
		return usagef("-reference is required")
	}
	if len(rest) != 1 {
		return usagef("needs one probe file")
	}
	rows, err := parseRows(*rowsFlag)
	if err != nil {
		return usagef("-rows: %v", err)
	}
	if *deadline < 0 {
		return usagef("-deadline must not be negative")
	}
	var m *protect.Matrix
	var epoch uint64
	if *protected {
		m, epoch, err = readProtectedFile(*home, *partner, rest[0])
	} else {
		m, err = readFeatures(rest[0], *header)
	}
	if err != nil {
		return err
	}
	if err := checkWidth(*home, *partner, rest[0], m.Cols, *protected); err != nil {
		return err
	}
	probes, idx, err := rowsOf(m, rows)
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		failed, n := 0, 0
		start := time.Now()
		for i := 0; i < len(probes) || *repeat > 0 && time.Since(start) < *repeat; i++ {
			if *repeat > 0 && time.Since(start) >= *repeat {
				break
			}
			n++
			v := probes[i%len(probes)]
			probe := protocol.Probe{Raw: v}
			if *protected {
				probe = protocol.Probe{Protected: v, Epoch: epoch}
			}
			qctx, cancel := ctx, context.CancelFunc(func() {})
			if *deadline > 0 {
				qctx, cancel = context.WithTimeout(ctx, *deadline)
			}
			var res *protocol.Result
			if verify {
				res, err = op.Verify(qctx, *partner, *reference, probe, *purpose)
			} else {
				res, err = op.Search(qctx, *partner, probe, *purpose)
			}
			cancel()
			if err != nil {
				failed++
			}
			// An error that is not this probe's fault (partner unreachable, quota exhausted,
			// no current epoch...) would recur for every further probe: stop, in one line. A
			// load test (-for) goes on and counts them.
			stop := err != nil && *repeat == 0 && !errors.Is(err, protocol.ErrInvalid)
			if !stop || *asJSON {
				printMatch(st, *asJSON, idx[i%len(probes)], res, err)
			}
			if stop {
				return fmt.Errorf("row %d: %w (stopped; %d of %d queries answered)", idx[i%len(probes)], err, n-failed, n)
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d queries failed", failed, n)
		}
		return nil
	})
}

func printMatch(st *stdio, asJSON bool, row int, r *protocol.Result, err error) {
	l := matchLine{Row: row}
	if err != nil {
		l.Error = err.Error()
	} else {
		l = matchLine{Row: row, Hit: r.Hit, Request: r.RequestID, Epoch: r.Epoch,
			ElapsedMS: r.Elapsed.Milliseconds(), Sent: r.BytesSent, Received: r.BytesRecv}
	}
	if asJSON {
		json.NewEncoder(st.out).Encode(l)
		return
	}
	if err != nil {
		fmt.Fprintf(st.err, "row %d: %s\n", row, oneLine(err, st.verbose))
		return
	}
	dec := "no-hit"
	if r.Hit {
		dec = "hit"
	}
	fmt.Fprintf(st.out, "row %d: %s  request %s  epoch %d  %s  sent %d B  received %d B\n",
		row, dec, r.RequestID, r.Epoch, r.Elapsed.Round(time.Millisecond), r.BytesSent, r.BytesRecv)
}

func parseRows(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a row number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func runProtect(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	header := fs.Bool("csv-header", false, "the CSV file starts with a header line")
	rowsFlag := fs.String("rows", "", "comma-separated rows of the file to protect (default: all)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	if len(rest) != 2 {
		return usagef("protect needs an input feature file and an output .json file")
	}
	rows, err := parseRows(*rowsFlag)
	if err != nil {
		return usagef("-rows: %v", err)
	}
	m, err := readFeatures(rest[0], *header)
	if err != nil {
		return err
	}
	if err := checkWidth(*home, *partner, rest[0], m.Cols, false); err != nil {
		return err
	}
	raw, _, err := rowsOf(m, rows)
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	pc, err := partnerConfig(*home, *partner)
	if err != nil {
		return err
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		out, epoch, err := op.Protect(ctx, *partner, raw)
		if err != nil {
			return err
		}
		b, err := json.Marshal(protectedFile{Format: protectedFormat, Partner: *partner, Agreement: pc.Agreement, Epoch: epoch, Templates: out})
		if err != nil {
			return err
		}
		if err := os.WriteFile(rest[1], b, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(st.out, "%d protected templates (epoch %d) written to %s\n", len(out), epoch, rest[1])
		return nil
	})
}

// protectedFile is what puente protect writes: the templates with the agreement and the epoch
// they were protected under, so that a search with them is refused once that epoch is revoked
// or superseded, before anything is sent or counted.
type protectedFile struct {
	Format    string      `json:"format"`
	Partner   string      `json:"partner"`
	Agreement string      `json:"agreement"`
	Epoch     uint64      `json:"epoch"`
	Templates [][]float64 `json:"templates"`
}

const protectedFormat = "puente-protected/v1"

// readProtectedFile reads a file of puente protect for a search with partner, checking its form
// and its agreement; it returns the templates and their epoch.
func readProtectedFile(home, partner, path string) (*protect.Matrix, uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var f protectedFile
	if err := dec.Decode(&f); err != nil || f.Format != protectedFormat {
		return nil, 0, fmt.Errorf("%s is not a file of puente protect with its agreement and epoch (%s); make it again with puente protect", path, protectedFormat)
	}
	pc, err := partnerConfig(home, partner)
	if err != nil {
		return nil, 0, err
	}
	if f.Agreement != pc.Agreement || f.Partner != partner {
		return nil, 0, fmt.Errorf("%s was protected for partner %q under agreement %q, not %s's %q", path, f.Partner, f.Agreement, partner, pc.Agreement)
	}
	if len(f.Templates) == 0 || f.Epoch == 0 {
		return nil, 0, fmt.Errorf("%s holds no templates, or no epoch", path)
	}
	m := &protect.Matrix{Rows: len(f.Templates), Cols: len(f.Templates[0])}
	for i, row := range f.Templates {
		if len(row) != m.Cols {
			return nil, 0, fmt.Errorf("%s: template %d has %d values, template 0 has %d", path, i, len(row), m.Cols)
		}
		m.Data = append(m.Data, row...)
	}
	return m, f.Epoch, nil
}

func runStatus(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("status takes no arguments, got %q", rest[0])
	}
	return withOperator(ctx, st, *home, func(op operator.Operator) error {
		s, err := op.Status(ctx)
		if err != nil {
			return err
		}
		if s == nil {
			return errors.New("no status")
		}
		if *asJSON {
			return json.NewEncoder(st.out).Encode(s)
		}
		fmt.Fprintf(st.out, "node %s\n", s.Node)
		tw := tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PARTNER\tAGREEMENT\tEPOCH\tPARAMS\tENROLLED\tGALLERY EPOCH\tQUOTA USED")
		for _, p := range s.Partners {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d of %s\n", p.Partner, p.Agreement, p.Epoch, p.ParamSet, p.Enrolled, p.GalleryEpoch, p.QuotaUsed, p.QuotaLimit)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, p := range s.Partners {
			if h := p.Halted; h != nil && h.Unresolved {
				fmt.Fprintf(st.out, "queries to %s are HALTED since %s: a rebuild of the state file found query %s left pending and could not tell "+
					"whether it halted them (nothing proves a deviation); once checked, stop this node and run: puente partner resume -partner %s\n",
					p.Partner, h.At.UTC().Format(time.RFC3339), h.RequestID, p.Partner)
			} else if h != nil {
				fmt.Fprintf(st.out, "queries to %s are HALTED since %s: its answer to query %s did not open (it deviated from the protocol); "+
					"after settling it with the partner agency, stop this node and run: puente partner resume -partner %s\n",
					p.Partner, h.At.UTC().Format(time.RFC3339), h.RequestID, p.Partner)
			}
		}
		if len(s.Shards) == 0 {
			return nil
		}
		fmt.Fprintln(st.out)
		tw = tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SHARD\tHEALTH\tAGREEMENT\tEPOCH\tGENERATION\tENTRIES\tBLOCKS")
		for _, sh := range s.Shards {
			health := "serving"
			switch {
			case sh.Error != "":
				health = "down: " + sh.Error
			case !sh.Serving:
				health = "not serving"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%016x\t%d\t%d\n", sh.Address, health, sh.Agreement, sh.Epoch, sh.Generation, sh.Entries, sh.Blocks)
		}
		return tw.Flush()
	})
}
