//go:build puente_testparams

package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-id/puente/he/hetest"
)

// Load test parameters: 4 partners search one responder's galleries of 10,000 for 60 s.
const (
	loadPartners = 4
	loadGallery  = 10000
	loadDuration = 60 * time.Second
	// The first two partners have a small quota and meet it early; the other two never do, so
	// the responder evaluates queries for the whole run.
	smallQuota = 4
	largeQuota = "1000 per 24h"
	loadParams = "INSECURE-test-n12"
)

// TestLoad runs four partner nodes' searches concurrently against one responder for a bounded
// time, on the insecure N = 2^12 set (the point is the protocol, not the cryptography). Two
// partners spend their small quota early and are refused from then on; the other two keep the
// responder evaluating for the whole run. It checks that every query was answered or refused for
// its quota, that the responder recorded every one of them (and its log verifies), and that the
// responder's memory stays steady: the resident set and the Go heap in the last third of the run
// stay within a margin of the first third's.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: four partners' searches for the whole load duration")
	}
	dir := t.TempDir()
	resp, qs, probeFile := loadSetup(t, dir)
	mem, stopSampling := sampleMemory(t, resp)
	outs := make([]string, len(qs))
	parallel(t, len(qs), func(i int) {
		cmd := exec.Command(puente, "search", "-home", qs[i].home, "-partner", resp.name, "-json", "-for", loadDuration.String(), probeFile)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run() // exits 1 when some queries were refused; the lines say which
		outs[i] = out.String()
	})
	stopSampling()

	answered, refused := 0, 0
	for i, out := range outs {
		a, r := 0, 0
		for _, l := range parseLines(t, out) {
			switch {
			case l.Error == "":
				a++
			case strings.Contains(l.Error, "ResourceExhausted"):
				r++
			default:
				t.Errorf("partner %d: an error other than a quota refusal: %s", i+1, l.Error)
			}
		}
		switch {
		case i < 2 && (a != smallQuota-1 || r == 0):
			t.Errorf("partner %d (quota %d, one spent in the setup): %d answered, %d refused", i+1, smallQuota, a, r)
		case i >= 2 && (a == 0 || r != 0):
			t.Errorf("partner %d (quota %s): %d answered, %d refused", i+1, largeQuota, a, r)
		}
		answered, refused = answered+a, refused+r
	}
	t.Logf("load: %d queries answered, %d refused for quota, in %s from %d partners", answered, refused, loadDuration, loadPartners)
	checkMemory(t, *mem)
	if got, err := resp.metric("puente_quota_refusals_total"); err != nil || int(got) != refused {
		t.Errorf("puente_quota_refusals_total = %v (%v), the partners saw %d refusals", got, err, refused)
	}
	if got, err := resp.metric(`puente_queries_total{method="Search",outcome="answered"`); err != nil || int(got) != answered+loadPartners {
		t.Errorf("answered searches counted %v (%v), want %d", got, err, answered+loadPartners)
	}

	for _, n := range append([]*node{resp}, qs...) {
		n.stop(t)
	}
	// Every query is in the responder's log: each answered one by a record of its own (the
	// setup's and the load's), each refusal by a record of its own or, past a partner's first
	// refusals of an interval, in the count of its partner's quota-exceeded summary.
	got := countQueryRecords(t, resp.home)
	if want := loadPartners + answered; got.answered != want {
		t.Errorf("responder recorded %d answered queries, the partners had %d answered", got.answered, want)
	}
	if got.refused+got.counted != refused {
		t.Errorf("responder recorded %d refusals one by one and counted %d more, the partners saw %d", got.refused, got.counted, refused)
	}
	if got.refused >= refused {
		t.Errorf("all %d quota refusals recorded one by one: a partner past its quota grows the log with every call", refused)
	}
	for _, n := range append([]*node{resp}, qs...) {
		must(t, "audit", "verify", "-home", n.home)
	}
}

// loadSetup makes the responder and the partners, runs the ceremonies, enrols a gallery of
// loadGallery for each partner and packs it with a first search.
func loadSetup(t *testing.T, dir string) (*node, []*node, string) {
	t.Helper()
	resp := newNode(t, dir, "responder")
	qs := make([]*node, loadPartners)
	for i := range qs {
		qs[i] = newNode(t, dir, fmt.Sprintf("partner-%d", i+1))
		quota := largeQuota
		if i < 2 {
			quota = fmt.Sprintf("%d per 1h", smallQuota)
		}
		ag := agreement{id: fmt.Sprintf("load-%d", i+1), params: loadParams, quota: quota, tau: 0.9}
		link(t, resp, qs[i], ag)
		link(t, qs[i], resp, ag)
	}
	for _, n := range append([]*node{resp}, qs...) {
		n.start(t)
	}
	galFile, probeFile := filepath.Join(dir, "gallery.npy"), filepath.Join(dir, "probes.npy")
	gal := gaussianRows(1, loadGallery)
	writeNPY(t, galFile, gal)
	writeNPY(t, probeFile, gaussianRows(2, 8))
	setup := time.Now()
	parallel(t, len(qs), func(i int) {
		for _, args := range [][]string{
			{"ceremony", "-home", qs[i].home, "-partner", resp.name},
			{"enroll", "-home", resp.home, "-partner", qs[i].name, "-batch", "2500", galFile},
			{"search", "-home", qs[i].home, "-partner", resp.name, "-rows", "0", probeFile}, // packs the gallery
		} {
			if _, err := try(args...); err != nil {
				t.Error(err)
				return
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("setup: 4 ceremonies, 4 x %d enrolled, galleries packed: %s", loadGallery, time.Since(setup).Round(time.Second))

	return resp, qs, probeFile
}

// sampleMemory samples the responder's resident set and Go heap every second until stop is
// called; the samples are in *mem once stop has returned.
func sampleMemory(t *testing.T, resp *node) (*[]sample, func()) {
	var mem []sample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		t0 := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rss, err1 := resp.rss()
				heap, err2 := resp.metric("go_memstats_heap_inuse_bytes")
				if err1 != nil || err2 != nil {
					t.Errorf("memory sample: %v %v", err1, err2)
					return
				}
				mem = append(mem, sample{at: time.Since(t0), rss: rss, heap: int64(heap)})
			}
		}
	}()
	return &mem, func() { close(stop); <-sampled }
}

type sample struct {
	at        time.Duration
	rss, heap int64
}

// checkMemory checks that the responder's memory is steady. The Go heap is a sawtooth (garbage
// piles up between collections), so the live set is read from its troughs: the lowest heap of the
// last third may not exceed the first third's by more than 25% + 64 MiB. The resident set follows
// the highest heap reached and is not returned at once, so its peak in the last third is compared
// with its peak in the first half: at most 15% + 256 MiB more.
func checkMemory(t *testing.T, mem []sample) {
	t.Helper()
	if len(mem) < 30 {
		t.Fatalf("only %d memory samples", len(mem))
	}
	for i := 0; i < len(mem); i += 10 {
		t.Logf("t = %2.0f s: resident %4d MiB, heap in use %4d MiB", mem[i].at.Seconds(), mem[i].rss>>20, mem[i].heap>>20)
	}
	third, half := len(mem)/3, len(mem)/2
	lowHeapFirst, lowHeapLast := int64(math.MaxInt64), int64(math.MaxInt64)
	for _, s := range mem[:third] {
		lowHeapFirst = min(lowHeapFirst, s.heap)
	}
	for _, s := range mem[len(mem)-third:] {
		lowHeapLast = min(lowHeapLast, s.heap)
	}
	var rssFirst, rssLast int64
	for _, s := range mem[:half] {
		rssFirst = max(rssFirst, s.rss)
	}
	for _, s := range mem[len(mem)-third:] {
		rssLast = max(rssLast, s.rss)
	}
	t.Logf("responder live heap (troughs): %d MiB in the first third, %d MiB in the last", lowHeapFirst>>20, lowHeapLast>>20)
	t.Logf("responder resident set (peaks): %d MiB in the first half, %d MiB in the last third", rssFirst>>20, rssLast>>20)
	if lowHeapLast > lowHeapFirst+lowHeapFirst/4+64<<20 {
		t.Errorf("the responder's live heap grew from %d MiB to %d MiB", lowHeapFirst>>20, lowHeapLast>>20)
	}
	if rssLast > rssFirst+rssFirst*15/100+256<<20 {
		t.Errorf("the responder's resident set grew from %d MiB to %d MiB", rssFirst>>20, rssLast>>20)
	}
}

// queryRecords counts a responder's query records: answered ones, refusals recorded one by one,
// and quota refusals counted in partners' summaries (refusals records).
type queryRecords struct{ answered, refused, counted int }

// countQueryRecords reads a node's audit log (one JSON record per line) for queryRecords; pending
// records are not counted (each query's final record follows its pending one).
func countQueryRecords(t *testing.T, home string) queryRecords {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var c queryRecords
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r struct {
			Kind, Partner, Outcome, Refusal string
			Count                           int
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("audit log line %q: %v", line, err)
		}
		switch {
		case r.Kind == "query" && r.Outcome == "answered":
			c.answered++
		case r.Kind == "query" && r.Outcome == "refused":
			c.refused++
		case r.Kind == "refusals" && r.Partner != "" && r.Refusal == "quota-exceeded":
			c.counted += r.Count
		}
	}
	return c
}

// gaussianRows returns n raw feature vectors of 128 Gaussian values.
func gaussianRows(seed uint64, n int) [][]float64 {
	return hetest.GaussianVectors(rand.New(rand.NewPCG(seed, 99)), n, 128)
}

// parallel runs f(0..n-1) concurrently and waits.
func parallel(t *testing.T, n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f(i)
		}(i)
	}
	wg.Wait()
}
