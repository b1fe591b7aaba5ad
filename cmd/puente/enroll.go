package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "enroll", summary: "protect and enrol subjects into the gallery a partner searches",
		usage: "[-home DIR] -partner NAME [-refs FILE | -ref-prefix P] [-labels OUT] [-batch N] [-resume] FEATURES.(npy|csv|json)",
		examples: []string{"puente enroll -partner co-migracion -refs subjects.txt features.npy",
			"puente enroll -partner co-migracion -ref-prefix case- -labels labels.tsv features.csv",
			"puente enroll -partner co-migracion -refs subjects.txt -resume features.npy   # after an interruption"},
		run: runEnroll})
	register(&command{name: "references", summary: "print the Verify reference a partner uses for each enrolled subject",
		usage: "[-home DIR] -partner NAME REF...", examples: []string{"puente references -partner co-migracion case-17 case-42"},
		run: runReferences})
}

func runEnroll(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	refsFile := fs.String("refs", "", "file with one subject reference per line, one per feature row")
	prefix := fs.String("ref-prefix", "row-", "references are PREFIX<row> when -refs is not given")
	labels := fs.String("labels", "", "write 'reference<TAB>verify label' lines to this file")
	batch := fs.Int("batch", 1000, "subjects per transaction")
	header := fs.Bool("csv-header", false, "the CSV file starts with a header line")
	resume := fs.Bool("resume", false, "run an interrupted enrolment again: skip the subjects already enrolled with the same features")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("enroll needs one feature file")
	}
	if *batch < 1 {
		return usagef("-batch must be positive")
	}
	m, err := readFeatures(rest[0], *header)
	if err != nil {
		return err
	}
	if err := checkWidth(*home, *partner, rest[0], m.Cols, false); err != nil {
		return err
	}
	// Every value is checked before the first batch, so a bad row stops nothing half-way.
	raw32, err := float32Rows(m, rest[0])
	if err != nil {
		return err
	}
	refs, err := enrolRefs(*refsFile, *prefix, m.Rows)
	if err != nil {
		return err
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		var rep *protocol.EnrolReport
		enrolled, skipped := 0, 0
		for lo := 0; lo < m.Rows; lo += *batch {
			hi := min(lo+*batch, m.Rows)
			if rep, err = op.Enrol(ctx, *partner, refs[lo:hi], raw32[lo:hi], protocol.EnrolOptions{Resume: *resume}); err != nil {
				hint := "run the same command again with -resume to go on"
				if *resume {
					hint = "run it again with -resume once the cause is fixed"
				}
				return fmt.Errorf("rows %d to %d (the rows before %d are enrolled; %s): %w", lo, hi-1, lo, hint, err)
			}
			enrolled, skipped = enrolled+rep.Enrolled, skipped+rep.Skipped
			if m.Rows > *batch {
				fmt.Fprintf(st.err, "\r%s", progressBar(hi, m.Rows))
			}
		}
		if m.Rows > *batch {
			fmt.Fprintln(st.err)
		}
		fmt.Fprintf(st.out, "enrolled %d subjects for %s under epoch %d", enrolled, *partner, rep.Epoch)
		if *resume {
			fmt.Fprintf(st.out, " (%d already enrolled)", skipped)
		}
		fmt.Fprintf(st.out, "; the gallery holds %d\n", rep.Total)
		if *labels == "" {
			return nil
		}
		return writeLabels(ctx, op, *partner, refs, *labels)
	})
}

// float32Rows converts the rows to the float32 the gallery archives, refusing a value that
// float32 cannot hold (it would become infinite) by its row and column, never its value.
func float32Rows(m *protect.Matrix, file string) ([][]float32, error) {
	out := make([][]float32, m.Rows)
	for i := range out {
		out[i] = make([]float32, m.Cols)
		for j, v := range m.Row(i) {
			f := float32(v)
			if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
				return nil, fmt.Errorf("%s: row %d, column %d: a value beyond the float32 range the gallery stores (at most %g in magnitude); nothing was enrolled", file, i, j, math.MaxFloat32)
			}
			out[i][j] = f
		}
	}
	return out, nil
}

// progressBar draws the progress of a long import on one line:
// "[########------------] 4000/10000 subjects (40%)".
func progressBar(done, total int) string {
	const width = 20
	full := done * width / total
	return fmt.Sprintf("[%s%s] %d/%d subjects (%d%%)", strings.Repeat("#", full), strings.Repeat("-", width-full), done, total, done*100/total)
}

// enrolRefs reads the references file, or makes PREFIX<row> references.
func enrolRefs(file, prefix string, rows int) ([]string, error) {
	if file == "" {
		refs := make([]string, rows)
		for i := range refs {
			refs[i] = prefix + strconv.Itoa(i)
			if err := gallery.CheckRef(refs[i]); err != nil {
				return nil, usagef("-ref-prefix: %v", err)
			}
		}
		return refs, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var refs []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		r := strings.TrimSpace(sc.Text())
		if r == "" {
			return nil, fmt.Errorf("%s:%d: empty reference", file, line)
		}
		if err := gallery.CheckRef(r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, line, err)
		}
		refs = append(refs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(refs) != rows {
		return nil, fmt.Errorf("%s has %d references for %d feature rows", file, len(refs), rows)
	}
	return refs, nil
}

func writeLabels(ctx context.Context, op operator.Operator, partner string, refs []string, path string) error {
	labels, err := op.References(ctx, partner, refs)
	if err != nil {
		return err
	}
	var b strings.Builder
	for i, r := range refs {
		fmt.Fprintf(&b, "%s\t%s\n", r, labels[i])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func runReferences(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("references needs at least one subject reference")
	}
	for i, r := range rest {
		if err := gallery.CheckRef(r); err != nil {
			return fmt.Errorf("subject reference %d: %v", i+1, err)
		}
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		labels, err := op.References(ctx, *partner, rest)
		if err != nil {
			// The node counts the references from 0 in its error.
			return fmt.Errorf("subject references %s: %w", strings.Join(rest, " "), err)
		}
		for i, r := range rest {
			fmt.Fprintf(st.out, "%s\t%s\n", r, labels[i])
		}
		return nil
	})
}
