package he_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/opening"
)

// Benchmarks on the production parameter set, each beside the plaintext
// scan of the same gallery in the same run (the ratio is the figure: these
// machines are shared). The measurement itself is package internal/perf,
// which `puente bench` runs too. Run one size per process to read its peak
// memory:
//
//	go test ./he -run '^$' -bench 'Search/N=100000/m=128$' -benchtime 1x -timeout 2h
//
// PUENTE_HE_NTT_BUDGET (bytes, default 4 GiB) bounds the NTT plaintexts the
// gallery keeps ready; the rest is converted per query. PUENTE_HE_BENCH_PARAMS
// names the production set the benchmarks run on (default
// puente-ckks-n15-v2); thresholds below a set's MinTau are raised to just
// above it.

const benchMaxDims = 512

var (
	benchOnce    sync.Once
	benchKeys    *perf.Keys
	benchParties *perf.Parties
	benchPS      *he.ParamSet
)

func benchFixture(b *testing.B) (*he.ParamSet, *perf.Keys, *perf.Parties) {
	benchOnce.Do(func() {
		name := os.Getenv("PUENTE_HE_BENCH_PARAMS")
		if name == "" {
			name = "puente-ckks-n15-v2"
		}
		var err error
		if benchPS, err = he.LookupName(name); err != nil {
			b.Fatal(err)
		}
		var crs he.KeySetID
		if _, err := io.ReadFull(hetest.Reader(0), crs[:]); err != nil {
			b.Fatal(err)
		}
		if benchKeys, _, err = perf.RunCeremony(benchPS, benchMaxDims, crs, hetest.Reader(1), hetest.Reader(2)); err != nil {
			b.Fatal(err)
		}
		if benchParties, err = perf.NewParties(benchKeys); err != nil {
			b.Fatal(err)
		}
	})
	if benchParties == nil {
		b.Fatal("benchmark ceremony failed")
	}
	return benchPS, benchKeys, benchParties
}

// benchThreshold is tau, or just above the lowest threshold ps serves.
func benchThreshold(ps *he.ParamSet, tau float64) he.Threshold {
	return he.Threshold{Tau: max(tau, math.Ceil(ps.MinTau()*1e4)/1e4)}
}

func nttBudget() int64 {
	if s := os.Getenv("PUENTE_HE_NTT_BUDGET"); s != "" {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v
		}
	}
	return 4 << 30
}

func BenchmarkSearch(b *testing.B) {
	for _, c := range []struct{ n, m int }{{10000, 128}, {100000, 128}, {1000000, 128}, {100000, 512}} {
		b.Run(fmt.Sprintf("N=%d/m=%d", c.n, c.m), func(b *testing.B) { benchSearch(b, c.n, c.m) })
	}
}

func benchSearch(b *testing.B, n, m int) {
	ps, keys, parties := benchFixture(b)
	g, err := perf.NewGallery(ps, perf.Size{N: n, Dims: m}, 1, he.PackOptions{MemoryBudget: nttBudget()})
	if err != nil {
		b.Fatal(err)
	}
	opts := he.Options{Threshold: benchThreshold(ps, perf.DefaultTau)}
	debug.FreeOSMemory()
	b.ResetTimer()
	var enc, cpu, plain time.Duration
	var s perf.SearchSample
	for i := 0; i < b.N; i++ {
		if s, err = parties.Search(context.Background(), g.Packed, g.Probe, opts, uint64(i)); err != nil {
			b.Fatal(err)
		}
		enc += s.Search
		cpu += s.SearchCPU
		per, _, want := perf.TimePlainScan(g.Plain, g.Probe, opts.Threshold.Tau, 0)
		plain += per
		if s.Hit != (want > 0) {
			b.Fatalf("decision hit=%v; plaintext count %d", s.Hit, want)
		}
	}
	b.StopTimer()
	peak, _ := perf.PeakRSS()
	b.ReportMetric(enc.Seconds()/float64(b.N), "s/search")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/search")
	b.ReportMetric(plain.Seconds()/float64(b.N)*1e3, "ms/plainscan")
	b.ReportMetric(enc.Seconds()/plain.Seconds(), "x-plain")
	b.ReportMetric(float64(s.QueryBytes)/(1<<20), "MiB/query")
	b.ReportMetric(float64(s.ResponseBytes)/(1<<20), "MiB/response")
	b.ReportMetric(float64(keys.Eval.Size())/(1<<20), "MiB/keys")
	b.ReportMetric(float64(g.Packed.MemoryBytes())/(1<<20), "MiB/gallery")
	b.ReportMetric(float64(peak)/(1<<20), "MiB/peak-rss")
	b.ReportMetric(g.Pack.Seconds(), "s/pack")
	b.Logf("N=%d m=%d blocks=%d n1=%d gallery NTT budget %d MiB, GOMAXPROCS %d", n, m, g.Packed.Blocks(), g.Packed.BabySteps(), nttBudget()>>20, runtime.GOMAXPROCS(0))
}

func BenchmarkEncryptProbe(b *testing.B) {
	ps, _, parties := benchFixture(b)
	probe := hetest.UnitVector(rand.New(rand.NewPCG(1, 1)), 128)
	rnd := hetest.Reader(5)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := parties.Querier.EncryptProbe(probe, rnd); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(ps.Info().QueryBytes)/(1<<20), "MiB/query")
}

// BenchmarkOpen measures the querier's and the responder's work in the
// opening of one answer: the querier's shares, the garbling, the transfer
// and the evaluation of the garbled circuit.
func BenchmarkOpen(b *testing.B) {
	ps, _, parties := benchFixture(b)
	qr, r := parties.Querier, parties.Responder
	rng := rand.New(rand.NewPCG(2, 2))
	gal := hetest.UnitVectors(rng, 10, 128)
	g, _ := he.Pack(ps, 128, gal, he.PackOptions{})
	q, _ := qr.EncryptProbe(gal[0], hetest.Reader(6))
	ans, sec, err := r.Respond(context.Background(), q, g, he.Options{Threshold: benchThreshold(ps, 0.9)}, hetest.Reader(7))
	if err != nil {
		b.Fatal(err)
	}
	op := ps.OpeningParams()
	session := q.Digest()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, err := qr.Shares(q, ans)
		if err != nil {
			b.Fatal(err)
		}
		gb, msg, err := opening.Garble(op, sec, session[:], hetest.Reader(uint64(8+i)))
		if err != nil {
			b.Fatal(err)
		}
		ev, req, err := opening.NewEvaluator(op, session[:], msg, x, hetest.Reader(uint64(9+i)))
		if err != nil {
			b.Fatal(err)
		}
		tr, err := gb.Transfer(req, hetest.Reader(uint64(10+i)))
		if err != nil {
			b.Fatal(err)
		}
		if hit, err := ev.Finish(tr); err != nil || !hit {
			b.Fatalf("opening: hit %v, %v", hit, err)
		}
	}
}
