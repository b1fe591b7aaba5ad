package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Load test parameters: 4 partners search one responder's galleries of 10,000 for 60 s.
const (
	loadPartners = 4
	loadGallery  = 10000
	loadDuration = 60 * time.Second
	loadQuota    = "6 per 1h"
	loadParams   = "INSECURE-test-n12"
)

// TestLoad runs four partner nodes' searches concurrently against one responder for a bounded
// time, on the insecure N = 2^12 set (the point is the protocol, not the cryptography). It checks
// that every query was answered or refused for its quota, that the responder recorded every one
// of them (and its log verifies), and that the responder's memory stays steady: the resident set
// and the Go heap in the last third of the run stay within a margin of the first third's.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	resp := newNode(t, dir, "responder")
	qs := make([]*node, loadPartners)
	for i := range qs {
		qs[i] = newNode(t, dir, fmt.Sprintf("partner-%d", i+1))
		ag := agreement{id: fmt.Sprintf("load-%d", i+1), params: loadParams, quota: loadQuota, tau: 0.9}
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
	outs := make([]string, len(qs))
	parallel(t, len(qs), func(i int) {
		cmd := exec.Command(puente, "search", "-home", qs[i].home, "-partner", resp.name, "-json", "-for", loadDuration.String(), probeFile)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run() // exits 1 when some queries were refused; the lines say which
		outs[i] = out.String()
	})
	close(stop)
	<-sampled

	answered, refused := 0, 0
	for i, out := range outs {
		for _, l := range parseLines(t, out) {
			switch {
			case l.Error == "":
				answered++
			case strings.Contains(l.Error, "ResourceExhausted"):
				refused++
			default:
				t.Errorf("partner %d: an error other than a quota refusal: %s", i+1, l.Error)
			}
		}
	}
	t.Logf("load: %d queries answered, %d refused for quota, in %s from %d partners", answered, refused, loadDuration, loadPartners)
	if answered > loadPartners*5 || answered == 0 {
		t.Errorf("%d answered: the quota allows 5 more per partner after the setup's query", answered)
	}
	checkMemory(t, mem)
	if got, err := resp.metric("puente_quota_refusals_total"); err != nil || int(got) != refused {
		t.Errorf("puente_quota_refusals_total = %v (%v), the partners saw %d refusals", got, err, refused)
	}
	if got, err := resp.metric(`puente_queries_total{method="Search",outcome="answered"`); err != nil || int(got) != answered+loadPartners {
		t.Errorf("answered searches counted %v (%v), want %d", got, err, answered+loadPartners)
	}

	for _, n := range append([]*node{resp}, qs...) {
		n.stop(t)
	}
	// Every query left exactly one record at the responder: the setup's and the load's.
	recs := countQueryRecords(t, resp.home)
	if want := loadPartners + answered + refused; recs != want {
		t.Errorf("responder recorded %d queries, the partners made %d", recs, want)
	}
	for _, n := range append([]*node{resp}, qs...) {
		must(t, "audit", "verify", "-home", n.home)
	}
}

type sample struct {
	at        time.Duration
	rss, heap int64
}

// checkMemory compares the largest resident set and heap of the last third of the run with the
// first third's: steady means the last stays within 25% + 128 MiB of the first.
func checkMemory(t *testing.T, mem []sample) {
	t.Helper()
	if len(mem) < 30 {
		t.Fatalf("only %d memory samples", len(mem))
	}
	third := len(mem) / 3
	peak := func(s []sample, f func(sample) int64) int64 {
		var m int64
		for _, x := range s {
			m = max(m, f(x))
		}
		return m
	}
	for _, m := range []struct {
		name string
		f    func(sample) int64
	}{{"resident set", func(s sample) int64 { return s.rss }}, {"Go heap in use", func(s sample) int64 { return s.heap }}} {
		first, last := peak(mem[:third], m.f), peak(mem[len(mem)-third:], m.f)
		t.Logf("responder %s: peak %d MiB in the first third, %d MiB in the last", m.name, first>>20, last>>20)
		if last > first+first/4+128<<20 {
			t.Errorf("responder %s grew from %d MiB to %d MiB", m.name, first>>20, last>>20)
		}
	}
}

// countQueryRecords counts the query records of a node's audit log.
func countQueryRecords(t *testing.T, home string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), `"kind":"query"`)
}

// gaussianRows returns n raw feature vectors of 128 Gaussian values.
func gaussianRows(seed uint64, n int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, 128)
		for j := range out[i] {
			out[i][j] = rng.NormFloat64()
		}
	}
	return out
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
