package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "enroll", summary: "protect and enrol subjects into the gallery a partner searches",
		usage: "[-home DIR] -partner NAME [-refs FILE | -ref-prefix P] [-labels OUT] [-batch N] FEATURES.(npy|csv|json)",
		examples: []string{"puente enroll -partner co-migracion -refs subjects.txt features.npy",
			"puente enroll -partner co-migracion -ref-prefix case- -labels labels.tsv features.csv"},
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
	refs, err := enrolRefs(*refsFile, *prefix, m.Rows)
	if err != nil {
		return err
	}
	return withPartner(ctx, st, *home, *partner, func(op protocol.Operator) error {
		var rep *protocol.EnrolReport
		for lo := 0; lo < m.Rows; lo += *batch {
			hi := min(lo+*batch, m.Rows)
			raw := make([][]float32, hi-lo)
			for i := range raw {
				raw[i] = make([]float32, m.Cols)
				for j, v := range m.Row(lo + i) {
					raw[i][j] = float32(v)
				}
			}
			if rep, err = op.Enrol(ctx, *partner, refs[lo:hi], raw); err != nil {
				return fmt.Errorf("rows %d to %d (rows before %d are enrolled): %w", lo, hi-1, lo, err)
			}
			if m.Rows > *batch {
				fmt.Fprintf(st.err, "\r%s", progressBar(hi, m.Rows))
			}
		}
		if m.Rows > *batch {
			fmt.Fprintln(st.err)
		}
		fmt.Fprintf(st.out, "enrolled %d subjects for %s under epoch %d; the gallery holds %d\n", m.Rows, *partner, rep.Epoch, rep.Total)
		if *labels == "" {
			return nil
		}
		return writeLabels(ctx, op, *partner, refs, *labels)
	})
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

func writeLabels(ctx context.Context, op protocol.Operator, partner string, refs []string, path string) error {
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
	return withPartner(ctx, st, *home, *partner, func(op protocol.Operator) error {
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
