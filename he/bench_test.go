package he_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// Benchmarks on the production parameter set, each beside the plaintext
// scan of the same gallery in the same run (the ratio is the figure: these
// machines are shared). Run one size per process to read its peak memory:
//
//	go test ./he -run '^$' -bench 'Search/N=100000/m=128$' -benchtime 1x -timeout 2h
//
// PUENTE_HE_NTT_BUDGET (bytes, default 4 GiB) bounds the NTT plaintexts the
// gallery keeps ready; the rest is converted per query.

const benchMaxDims = 512

var (
	benchOnce sync.Once
	benchKeys hetest.Keys
	benchPS   *he.ParamSet
)

func benchFixture(b *testing.B) (*he.ParamSet, hetest.Keys) {
	benchOnce.Do(func() {
		benchPS, _ = he.Lookup(he.N15V1)
		benchKeys = hetest.Ceremony(b, benchPS, benchMaxDims, hetest.Reader(1), hetest.Reader(2))
	})
	return benchPS, benchKeys
}

func nttBudget() int64 {
	if s := os.Getenv("PUENTE_HE_NTT_BUDGET"); s != "" {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v
		}
	}
	return 4 << 30
}

// plainScan is the plaintext baseline: every score, thresholded and counted.
func plainScan(gal [][]float64, probe []float64, tau float64) int {
	n := 0
	for _, g := range gal {
		var s float64
		for i, x := range g {
			s += x * probe[i]
		}
		if s >= tau {
			n++
		}
	}
	return n
}

func BenchmarkSearch(b *testing.B) {
	for _, c := range []struct{ n, m int }{{10000, 128}, {100000, 128}, {1000000, 128}, {100000, 512}} {
		b.Run(fmt.Sprintf("N=%d/m=%d", c.n, c.m), func(b *testing.B) { benchSearch(b, c.n, c.m) })
	}
}

func benchSearch(b *testing.B, n, m int) {
	ps, keys := benchFixture(b)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(m)))
	gal := hetest.UnitVectors(rng, n, m)
	probe := withScore(rng, gal[n/2], 0.95)
	th := he.Threshold{Tau: 0.9}
	st := time.Now()
	g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: nttBudget()})
	if err != nil {
		b.Fatal(err)
	}
	pack := time.Since(st)
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	q, err := qr.EncryptProbe(probe, hetest.Reader(3))
	if err != nil {
		b.Fatal(err)
	}
	debug.FreeOSMemory()
	b.ResetTimer()
	var enc, plain, cpu time.Duration
	var resp *he.Response
	for i := 0; i < b.N; i++ {
		st, c0 := time.Now(), cpuTime()
		resp, _, err = r.Respond(context.Background(), q, g, he.Options{Threshold: th}, hetest.Reader(4))
		if err != nil {
			b.Fatal(err)
		}
		enc += time.Since(st)
		cpu += cpuTime() - c0
		st = time.Now()
		want := plainScan(gal, probe, th.Tau)
		plain += time.Since(st)
		if dec, err := qr.Decide(q, resp); err != nil || dec.Hit != (want > 0) {
			b.Fatalf("decision %+v, %v; plaintext count %d", dec, err, want)
		}
	}
	b.StopTimer()
	qb, _ := q.MarshalBinary()
	rb, _ := resp.MarshalBinary()
	b.ReportMetric(enc.Seconds()/float64(b.N), "s/search")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/search")
	b.ReportMetric(plain.Seconds()/float64(b.N)*1e3, "ms/plainscan")
	b.ReportMetric(enc.Seconds()/plain.Seconds(), "x-plain")
	b.ReportMetric(float64(len(qb))/(1<<20), "MiB/query")
	b.ReportMetric(float64(len(rb))/(1<<20), "MiB/response")
	b.ReportMetric(float64(keys.Eval.Size())/(1<<20), "MiB/keys")
	b.ReportMetric(float64(g.MemoryBytes())/(1<<20), "MiB/gallery")
	b.ReportMetric(peakRSS()/(1<<20), "MiB/peak-rss")
	b.ReportMetric(pack.Seconds(), "s/pack")
	b.Logf("N=%d m=%d blocks=%d n1=%d gallery NTT budget %d MiB, GOMAXPROCS %d", n, m, g.Blocks(), g.BabySteps(), nttBudget()>>20, runtime.GOMAXPROCS(0))
}

func BenchmarkEncryptProbe(b *testing.B) {
	ps, keys := benchFixture(b)
	qr, _ := he.NewQuerier(keys.Querier)
	probe := hetest.UnitVector(rand.New(rand.NewPCG(1, 1)), 128)
	rnd := hetest.Reader(5)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := qr.EncryptProbe(probe, rnd); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(ps.Info().QueryBytes)/(1<<20), "MiB/query")
}

func BenchmarkDecide(b *testing.B) {
	ps, keys := benchFixture(b)
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	rng := rand.New(rand.NewPCG(2, 2))
	gal := hetest.UnitVectors(rng, 10, 128)
	g, _ := he.Pack(ps, 128, gal, he.PackOptions{})
	q, _ := qr.EncryptProbe(gal[0], hetest.Reader(6))
	resp, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.9}}, hetest.Reader(7))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := qr.Decide(q, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS returns the process's peak resident set size (VmHWM), in bytes.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb * 1024
			}
		}
	}
	return 0
}
