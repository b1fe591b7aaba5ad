//go:build puente_testparams

package main

import (
	"encoding/json"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// insecureBench makes puente-lab bench measure the INSECURE test set for the
// rest of the test.
func insecureBench(t *testing.T) {
	t.Helper()
	old := benchParams
	benchParams = func(string) (*he.ParamSet, error) { return hetest.InsecureN12(), nil }
	t.Cleanup(func() { benchParams = old })
}

// TestBenchTable runs puente-lab bench on the insecure test set with two tiny
// galleries (one and two blocks) and checks the table's shape: the
// ceremony line, the header, one row per size with every column filled,
// the plaintext scan beside the encrypted search. Times are not checked.
func TestBenchTable(t *testing.T) {
	insecureBench(t)
	code, out, errs := runCmd(t, "bench", "-n", "40,5000", "-m", "16")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	t.Logf("puente-lab bench:\n%s", out)
	for _, want := range []string{"INSECURE-test-n12 (INSECURE test set)", "mode one-bit opening", "ceremony (both parties in this process, max dims 16,", "every encrypted decision matched its plaintext count"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") {
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			rows = append(rows, cells)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d table rows, want a header and 2 sizes:\n%s", len(rows), out)
	}
	if strings.Join(rows[0], "|") != strings.Join(perf.TableHeader, "|") {
		t.Errorf("header %q, want %q", rows[0], perf.TableHeader)
	}
	plain := -1
	for i, h := range rows[0] {
		if h == "plaintext scan" {
			plain = i
		}
	}
	if plain < 0 {
		t.Fatalf("no plaintext scan column in %q", rows[0])
	}
	for i, r := range rows[1:] {
		if len(r) != len(perf.TableHeader) {
			t.Errorf("row %d has %d cells, want %d: %q", i+1, len(r), len(perf.TableHeader), r)
			continue
		}
		for j, c := range r {
			if strings.TrimSpace(c) == "" || (c == "unknown" && rows[0][j] != "peak RSS") {
				t.Errorf("row %d, column %q is %q", i+1, rows[0][j], c)
			}
		}
		if !strings.HasSuffix(r[plain], "s") {
			t.Errorf("row %d: plaintext scan %q is not a duration", i+1, r[plain])
		}
	}
	if rows[1][0] != "N = 40, m = 16" || rows[1][1] != "1" || rows[2][0] != "N = 5,000, m = 16" || rows[2][1] != "2" {
		t.Errorf("sizes and blocks: %q, %q", rows[1][:2], rows[2][:2])
	}
}

// TestBenchJSON checks the JSON report's fields on one tiny gallery: the
// plaintext scan is there, the encrypted decision is a hit and the
// plaintext scan counts the probe's one match.
func TestBenchJSON(t *testing.T) {
	insecureBench(t)
	code, out, errs := runCmd(t, "bench", "-json", "-n", "100", "-m", "32", "-reps", "2")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep["param_set"] != "INSECURE-test-n12" || rep["insecure"] != true || rep["searches_per_size"] != 2.0 {
		t.Errorf("param_set %v, insecure %v, searches %v", rep["param_set"], rep["insecure"], rep["searches_per_size"])
	}
	cer, _ := rep["ceremony"].(map[string]any)
	for _, k := range []string{"wall_s", "cpu_s", "sent_querier_bytes", "sent_responder_bytes", "eval_keys_bytes", "share_bytes"} {
		if _, ok := cer[k].(float64); !ok {
			t.Errorf("ceremony.%s missing or not a number: %v", k, cer[k])
		}
	}
	if cer["max_dims"] != 32.0 || !(cer["sent_querier_bytes"].(float64) > 0) || !(cer["eval_keys_bytes"].(float64) > 0) {
		t.Errorf("ceremony %v", cer)
	}
	sizes, _ := rep["sizes"].([]any)
	if len(sizes) != 1 {
		t.Fatalf("%d sizes, want 1", len(sizes))
	}
	s := sizes[0].(map[string]any)
	for _, k := range []string{"encrypt_s", "search_wall_s", "search_cpu_s", "decide_s", "plain_scan_s", "ratio_wall", "peak_rss_bytes"} {
		if v, ok := s[k].(float64); !ok || v < 0 {
			t.Errorf("sizes[0].%s = %v, want a number >= 0", k, s[k])
		}
	}
	if s["n"] != 100.0 || s["m"] != 32.0 || s["blocks"] != 1.0 || s["hit"] != true || s["plain_count"] != 1.0 || !(s["plain_scan_reps"].(float64) >= 3) {
		t.Errorf("size %v", s)
	}
	in := hetest.InsecureN12().Info()
	wantQ, wantR := in.QueryBytes+in.TransferRequestBytes, in.AnswerBytes+in.GarbledBytes+in.TransferAnswerBytes
	if q, r := s["query_bytes"].(float64), s["response_bytes"].(float64); q != float64(wantQ) || r != float64(wantR) {
		t.Errorf("query %v bytes, response %v bytes; the parameter set says %d and %d", q, r, wantQ, wantR)
	}
}

// TestBenchEndToEnd runs puente-lab bench -e2e on the insecure test set:
// two nodes in the process, a ceremony over gRPC, 50 subjects enrolled,
// two timed searches of a mated probe, then three at once against a
// responder that converts its block on every search and evaluates each
// search alone. The JSON carries the end-to-end
// result beside the plaintext scan of the same protected gallery, with
// the set's byte counts (package e2e tests the table's row).
func TestBenchEndToEnd(t *testing.T) {
	insecureBench(t)
	code, out, errs := runCmd(t, "bench", "-json", "-n", "100", "-m", "32", "-reps", "2", "-e2e", "50", "-e2e-calls", "3", "-e2e-convert", "-e2e-alone")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var rep struct {
		ParamSet string         `json:"param_set"`
		E2E      map[string]any `json:"end_to_end"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	e := rep.E2E
	if rep.ParamSet != "INSECURE-test-n12" || e == nil {
		t.Fatalf("param_set %q, end_to_end %v", rep.ParamSet, e)
	}
	for _, k := range []string{"ceremony_wall_s", "ceremony_cpu_s", "enrol_s", "search_wall_s", "search_cpu_s", "plain_scan_s"} {
		if v, ok := e[k].(float64); !ok || !(v > 0) {
			t.Errorf("end_to_end.%s = %v, want a positive number", k, e[k])
		}
	}
	if e["param_set"] != "INSECURE-test-n12" || e["n"] != 50.0 || e["searches"] != 2.0 || e["hit"] != true || e["plain_count"] != 1.0 {
		t.Errorf("end_to_end %v", e)
	}
	in := hetest.InsecureN12().Info()
	wantQ, wantR := in.QueryBytes+in.TransferRequestBytes, in.AnswerBytes+in.GarbledBytes+in.TransferAnswerBytes
	if q, r := e["query_bytes"].(float64), e["response_bytes"].(float64); q != float64(wantQ) || r != float64(wantR) {
		t.Errorf("query %v bytes, response %v bytes; the parameter set says %d and %d", q, r, wantQ, wantR)
	}
	// Three searches at once, each decided as the plaintext scan decides (Run checks it), each
	// evaluated alone (-e2e-alone; protocol TestWaitingSearchesAnsweredTogether tests the batches).
	if e["calls"] != 3.0 || e["ntt_blocks"] != false || e["alone"] != true || !(e["calls_wall_s"].(float64) > 0) || !(e["calls_cpu_s"].(float64) > 0) {
		t.Errorf("searches at once: %v", e)
	}
	if ev := e["calls_evaluations"]; ev != 3.0 {
		t.Errorf("3 searches at once, each alone, took %v evaluations on the responder, want 3", ev)
	}
}

func TestBenchUsage(t *testing.T) {
	insecureBench(t)
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"bench", "extra"}, exitUsage, `takes no arguments, got "extra"`},
		{[]string{"bench", "-n", "0"}, exitUsage, `-n: "0" is not a whole number`},
		{[]string{"bench", "-n", "10,x"}, exitUsage, `-n: "x" is not a whole number`},
		{[]string{"bench", "-m", "4096"}, exitUsage, "-m 4096: at most 2048 on INSECURE-test-n12"},
		{[]string{"bench", "-reps", "0"}, exitUsage, "-reps must be at least 1"},
		{[]string{"bench", "-memory-limit", "-1"}, exitUsage, "-memory-limit: -1 is not a number of bytes"},
		{[]string{"bench", "-ntt-budget", "-2"}, exitUsage, `want auto, -1 or a number of bytes, got "-2"`},
		{[]string{"bench", "-ntt-budget", "lots"}, exitUsage, `want auto, -1 or a number of bytes, got "lots"`},
		{[]string{"bench", "-batch", "1"}, exitUsage, "-batch: 1 is not a whole number in [2, 16]"},
		{[]string{"bench", "-batch", "17"}, exitUsage, "-batch: 17 is not a whole number in [2, 16]"},
		{[]string{"bench", "-e2e", "-1"}, exitUsage, "-e2e: -1 is not a whole number"},
		{[]string{"bench", "-e2e", "10", "-e2e-calls", "17"}, exitUsage, "-e2e-calls: 17 is not a whole number in [2, 16]"},
		{[]string{"bench", "-e2e-convert"}, exitUsage, "-e2e-calls and -e2e-convert need -e2e"},
		{[]string{"bench", "-e2e", "10", "-e2e-alone"}, exitUsage, "-e2e-alone needs -e2e-calls"},
		{[]string{"bench", "-tau", "0.96"}, exitUsage, "-tau must be in"},
		{[]string{"bench", "-tau", "NaN"}, exitUsage, "-tau must be in"},
		{[]string{"bench", "-h"}, exitOK, "puente-lab bench -all -json"},
	}
	for _, tt := range tests {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("puente-lab %q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.inStderr)
		}
	}
}

// TestBenchMemoryFlags checks that -ntt-budget and -memory-limit reach the
// run and its report, what they default to without GOMEMLIMIT, and that
// the run restores the process's memory limit.
func TestBenchMemoryFlags(t *testing.T) {
	insecureBench(t)
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")
	for _, c := range []struct {
		args          []string
		budget, limit float64
		nttBlocks     float64
	}{
		{nil, perf.AutoNTTBudget, defaultMemoryLimit, 1},
		{[]string{"-ntt-budget", "auto", "-memory-limit", "0"}, perf.AutoNTTBudget, 0, 1},
		{[]string{"-ntt-budget", "-1", "-memory-limit", "3000000000"}, -1, 3e9, 1},
		{[]string{"-ntt-budget", "0"}, 0, defaultMemoryLimit, 0},
	} {
		code, out, errs := runCmd(t, append([]string{"bench", "-json", "-n", "40", "-m", "16"}, c.args...)...)
		if code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", c.args, code, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%q: output is not JSON: %v", c.args, err)
		}
		if rep["ntt_budget_bytes"] != c.budget || rep["memory_limit_bytes"] != c.limit {
			t.Errorf("%q: report says NTT budget %v, memory limit %v; want %v, %v", c.args, rep["ntt_budget_bytes"], rep["memory_limit_bytes"], c.budget, c.limit)
		}
		if sizes, _ := rep["sizes"].([]any); len(sizes) != 1 || sizes[0].(map[string]any)["ntt_blocks"] != c.nttBlocks {
			t.Errorf("%q: sizes %v, want one with %v blocks in NTT form", c.args, rep["sizes"], c.nttBlocks)
		}
		if got := debug.SetMemoryLimit(-1); got != old {
			t.Errorf("%q: the run left the memory limit at %d, was %d", c.args, got, old)
		}
	}
}

// TestBenchBatch runs puente-lab bench -batch: three probes answered as one
// batch (the gallery's probe, a probe matching another entry, a random
// one), each decided as its plaintext scan decides, reported in the JSON
// and as a table of its own.
func TestBenchBatch(t *testing.T) {
	insecureBench(t)
	code, out, errs := runCmd(t, "bench", "-json", "-n", "100", "-m", "32", "-batch", "3")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var rep struct {
		Sizes []struct {
			SearchCPU float64 `json:"search_cpu_s"`
			Batch     *struct {
				K         int     `json:"k"`
				Hits      int     `json:"hits"`
				Search    float64 `json:"search_wall_s"`
				SearchCPU float64 `json:"search_cpu_s"`
				PerProbe  float64 `json:"cpu_per_probe_s"`
				OfSingles float64 `json:"of_single_searches_cpu"`
				Plain     float64 `json:"plain_scans_s"`
			} `json:"batch"`
		} `json:"sizes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(rep.Sizes) != 1 || rep.Sizes[0].Batch == nil {
		t.Fatalf("no batch in the report:\n%s", out)
	}
	s, b := rep.Sizes[0], rep.Sizes[0].Batch
	if b.K != 3 || b.Hits != 2 {
		t.Errorf("batch of %d probes with %d hits, want 3 and 2", b.K, b.Hits)
	}
	if !(b.Search > 0 && b.SearchCPU > 0 && b.Plain > 0) || math.Abs(b.PerProbe-b.SearchCPU/3) > 1e-3*b.SearchCPU+1e-6 ||
		math.Abs(b.OfSingles-b.SearchCPU/(3*s.SearchCPU)) > 1e-3*b.OfSingles {
		t.Errorf("batch figures %+v beside a single search of %v CPU-s", *b, s.SearchCPU)
	}
	code, out, errs = runCmd(t, "bench", "-n", "100", "-m", "32", "-batch", "2")
	if code != exitOK {
		t.Fatalf("table: exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "| N = 100, m = 32 | 2 (2 hits) |") {
		t.Errorf("the table has no batch row:\n%s", out)
	}
}
