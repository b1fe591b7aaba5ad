package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/internal/perf"
)

// TestWriteTable checks the end-to-end row: every figure in its column,
// the plaintext scan beside the search.
func TestWriteTable(t *testing.T) {
	r := &Result{ParamSet: "puente-ckks-n15-v2", N: 10000, Dims: 124, Reps: 2,
		CeremonyWall: perf.Seconds(97 * time.Second), CeremonyCPU: perf.Seconds(110 * time.Second), Enrol: perf.Seconds(3 * time.Second),
		Search: perf.Seconds(5500 * time.Millisecond), SearchCPU: perf.Seconds(7200 * time.Millisecond), Plain: perf.Seconds(900 * time.Microsecond),
		BytesSent: 3201738, BytesRecv: 1132064, Hit: true, PlainCount: 1}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("\n%s", out)
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| N = ") {
			rows = append(rows, line)
		}
	}
	want := "| N = 10,000, m = 124 | " + perf.Duration(5500*time.Millisecond) + " | " + perf.Duration(7200*time.Millisecond) + " | " +
		perf.Duration(900*time.Microsecond) + " | " + perf.Bytes(3201738) + " | " + perf.Bytes(1132064) + " | hit (plaintext count 1) |"
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("rows %q, want %q", rows, want)
	}
	if !strings.Contains(out, "ceremony "+perf.Duration(97*time.Second)+" wall") || !strings.Contains(out, "2 timed search(es)") {
		t.Errorf("summary line:\n%s", out)
	}
	if strings.Contains(out, "at once") {
		t.Errorf("a line on searches at once, with none sent:\n%s", out)
	}

	r.Calls, r.CallsWall, r.CallsCPU, r.CallsEvals = 4, perf.Seconds(40*time.Second), perf.Seconds(18*time.Second), 2
	b.Reset()
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want = "4 searches sent at once (the responder with no block kept in NTT form): " + perf.Duration(40*time.Second) + " wall, " +
		perf.Duration(18*time.Second) + " CPU in all, " + perf.Duration(4500*time.Millisecond) + " CPU per search (62% of one search alone); 2 evaluation(s) on the responder"
	if !strings.Contains(b.String(), want) {
		t.Errorf("searches at once:\n%s\nwant the line %q", b.String(), want)
	}
}
