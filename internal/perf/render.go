package perf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes the report as one indented JSON object: durations in
// seconds, sizes in bytes.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// TableHeader is the header row of [Report.WriteTable]'s table.
var TableHeader = []string{"gallery", "blocks", "in NTT form", "probe encryption", "search (wall)", "search (CPU)",
	"plaintext scan", "ratio (wall)", "decision", "query", "response", "peak RSS"}

// WriteTable writes the report for people: a few lines on the parameter
// set, the machine and the ceremony, then a Markdown table with one row
// per gallery size, the plaintext scan of the same gallery beside each
// encrypted search.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	sec := "128-bit"
	if r.Insecure {
		sec = "INSECURE test set"
	}
	fmt.Fprintf(&b, "puente-lab bench: %s (%s), mode %s, tau %g, %d encrypted search(es) per size, %s\n",
		r.ParamSet, sec, r.Mode, r.Tau, r.Reps, r.Started.Format(time.RFC3339))
	m := r.Machine
	fmt.Fprintf(&b, "machine: %s, %d CPUs, GOMAXPROCS %d, %s RAM, %s %s/%s, arithmetic %s; load average %s at start, %s at end\n",
		orUnknown(m.CPUModel), m.NumCPU, m.GOMAXPROCS, bytesOrUnknown(m.MemTotal), m.GoVersion, m.GOOS, m.GOARCH,
		orUnknown(m.Arithmetic), load(m.LoadAvg), load(r.LoadAvgEnd))
	fmt.Fprintf(&b, "memory: gallery plaintexts kept in NTT form: %s; Go memory limit %s\n", nttBudget(r.NTTBudget), limit(r.MemLimit))
	c := r.Ceremony
	fmt.Fprintf(&b, "ceremony (both parties in this process, max dims %d, %d steps): %s wall, %s CPU; sent: querier %s, responder %s;"+
		" evaluation keys as stored %s, secret share %s; peak RSS %s\n\n",
		c.MaxDims, c.Steps, Duration(time.Duration(c.Wall)), Duration(time.Duration(c.CPU)),
		Bytes(c.SentQuerier), Bytes(c.SentResponder), Bytes(int64(c.EvalKeysBytes)), Bytes(int64(c.ShareBytes)), peak(c.PeakRSS, c.PeakScope))
	b.WriteString("| " + strings.Join(TableHeader, " | ") + " |\n|")
	b.WriteString(strings.Repeat("---|", len(TableHeader)) + "\n")
	for _, s := range r.Sizes {
		cells := []string{
			fmt.Sprintf("N = %s, m = %d", Thousands(int64(s.N)), s.Dims), fmt.Sprint(s.Blocks), fmt.Sprint(s.NTTBlocks),
			Duration(time.Duration(s.Encrypt)), Duration(time.Duration(s.Search)), Duration(time.Duration(s.SearchCPU)),
			Duration(time.Duration(s.Plain)), Thousands(int64(s.Ratio+0.5)) + "×", Duration(time.Duration(s.Decide)),
			Bytes(int64(s.QueryBytes)), Bytes(int64(s.ResponseBytes)), peak(s.PeakRSS, s.PeakScope),
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if batchRows := r.batchRows(); batchRows != "" {
		b.WriteString("\n| gallery | batch of k probes | search (wall) | search (CPU) | CPU per probe | of k single searches' CPU | plaintext scans (k probes) |\n|")
		b.WriteString(strings.Repeat("---|", 7) + "\n" + batchRows)
	}
	b.WriteString("\nplaintext scan: float64 scores of the same gallery (float32 templates, as packed) and probe, thresholded and counted, on one core;" +
		" every encrypted decision matched its plaintext count.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// batchRows returns the rows of the batch table, or "" when no size ran a batch.
func (r *Report) batchRows() string {
	var b strings.Builder
	for _, s := range r.Sizes {
		if s.Batch == nil {
			continue
		}
		x := s.Batch
		fmt.Fprintf(&b, "| N = %s, m = %d | %d (%d hits) | %s | %s | %s | %.0f%% | %s |\n", Thousands(int64(s.N)), s.Dims, x.K, x.Hits,
			Duration(time.Duration(x.Search)), Duration(time.Duration(x.SearchCPU)), Duration(time.Duration(x.PerProbe)),
			100*x.OfSingles, Duration(time.Duration(x.Plain)))
	}
	return b.String()
}

func nttBudget(n int64) string {
	switch {
	case n == AutoNTTBudget:
		return "what the memory limit leaves room for"
	case n < 0:
		return "every block"
	case n == 0:
		return "no block"
	}
	return "up to " + Bytes(n)
}

func limit(n int64) string {
	if n <= 0 {
		return "none"
	}
	return Bytes(n)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}

func bytesOrUnknown(n int64) string {
	if n <= 0 {
		return "unknown"
	}
	return Bytes(n)
}

func load(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", l[0])
}

func peak(n int64, scope PeakScope) string {
	switch {
	case scope == PeakUnknown || n <= 0:
		return "unknown"
	case scope == PeakProcess:
		return Bytes(n) + " (process)"
	}
	return Bytes(n)
}

// Duration formats a duration with three significant digits in a unit
// that suits it: "631 ns", "812 µs", "1.50 ms", "8.80 s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	case d >= 1000*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	return fmt.Sprintf("%.3g s", d.Seconds())
}

// Bytes formats a size in binary units: "8.0 KiB", "2.59 MiB", "6.4 GiB".
func Bytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", f/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2f MiB", f/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", f/(1<<30))
}

// Thousands formats n with commas between groups of three digits.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
