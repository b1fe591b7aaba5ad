//go:build puente_testparams

package shards

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/shard"
	"github.com/puente-id/puente/shard/shardtest"
)

// BenchmarkShardedSearch compares, on the production set, one search of a gallery of
// PUENTE_SHARD_BENCH_N entries (default 131,072: four blocks) of m = 128 in one process with the
// same search over PUENTE_SHARD_BENCH_SHARDS (default 4) `puente shard` processes on this
// machine: CPU of every process involved
// (the test's own for the node's part, /proc for the shards'), wall time, and the bytes between
// the node and its shards. The figures are reported, never asserted.
//
//	go test -tags puente_testparams ./tests/shards -run '^$' -bench ShardedSearch -benchtime 1x -timeout 2h
func BenchmarkShardedSearch(b *testing.B) {
	n := 4 * 32768
	if v := os.Getenv("PUENTE_SHARD_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	const dims = 128
	shards := 4
	if v := os.Getenv("PUENTE_SHARD_BENCH_SHARDS"); v != "" {
		var err error
		if shards, err = strconv.Atoi(v); err != nil || shards < 1 {
			b.Fatalf("PUENTE_SHARD_BENCH_SHARDS=%q", v)
		}
	}
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	keys := hetest.Ceremony(b, ps, dims, hetest.Reader(1), hetest.Reader(2))
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	ekb, _ := keys.Eval.MarshalBinary()
	rng := rand.New(rand.NewPCG(3, 3))
	probe := hetest.UnitVector(rng, dims)
	ts := hetest.UnitVectors(rng, n, dims)
	ts[n/3] = perf.WithScore(rng, probe, 0.95)
	es := make([]shard.Entry, n)
	for i, t := range ts {
		es[i] = shard.Entry{Ref: fmt.Sprintf("ref-%07d", i), Template: t}
	}
	th := he.Threshold{Tau: 0.9234}
	ctx := context.Background()
	q, err := qr.EncryptProbe(probe, hetest.Reader(4))
	if err != nil {
		b.Fatal(err)
	}

	// One process.
	g, err := he.Pack(ps, dims, ts, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		b.Fatal(err)
	}
	c0, w0 := selfCPU(), time.Now()
	if _, _, err := r.Respond(ctx, q, g, he.Options{Threshold: th}, hetest.Reader(5)); err != nil {
		b.Fatal(err)
	}
	singleCPU, singleWall := selfCPU()-c0, time.Since(w0)
	g = nil

	// Four shard processes.
	srv, cli := shardtest.PKI(b, dir)
	var procs []*shardtest.Proc
	var addrs []string
	for i := 0; i < shards; i++ {
		p := &shardtest.Proc{Bin: puente, Dir: filepath.Join(dir, fmt.Sprintf("shard-%d", i)), TLS: srv}
		p.Start(b)
		procs, addrs = append(procs, p), append(addrs, p.Addr)
	}
	tc, err := cli.ClientTLS()
	if err != nil {
		b.Fatal(err)
	}
	pl, err := shard.Dial(addrs, tc, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	defer pl.Close()
	want := shard.Want{Agreement: "bench", Epoch: 1, KeySet: keys.Eval.KeySetID(), Generation: 1, ParamSet: ps}
	if err := pl.InstallAll(ctx, want, dims, ekb, es); err != nil {
		b.Fatal(err)
	}
	shardCPU := func() (s time.Duration) {
		for _, p := range procs {
			s += procCPU(b, p.Cmd.Process.Pid)
		}
		return s
	}
	b.ResetTimer()
	var nodeCPU, shCPU, wall time.Duration
	for i := 0; i < b.N; i++ {
		c0, s0, w0 := selfCPU(), shardCPU(), time.Now()
		p, err := r.Prepare(q, hetest.Reader(6))
		if err != nil {
			b.Fatal(err)
		}
		parts, err := pl.Count(ctx, want, th.Tau, p)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := r.Finish(q, p, parts, hetest.Reader(7)); err != nil {
			b.Fatal(err)
		}
		nodeCPU, shCPU, wall = nodeCPU+selfCPU()-c0, shCPU+shardCPU()-s0, wall+time.Since(w0)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(singleCPU.Seconds(), "single-cpu-s")
	b.ReportMetric(singleWall.Seconds(), "single-wall-s")
	b.ReportMetric(per(nodeCPU), "node-cpu-s")
	b.ReportMetric(per(shCPU), "shards-cpu-s")
	b.ReportMetric(per(wall), "sharded-wall-s")
	b.ReportMetric(100*(per(nodeCPU)+per(shCPU)-singleCPU.Seconds())/singleCPU.Seconds(), "overhead-%")
	b.ReportMetric(float64(shards*ps.PreparedProbeBytes()), "node-to-shards-B")
	b.ReportMetric(float64(shards*ps.PartialBytes()), "shards-to-node-B")
	b.Logf("N = %d, %d shards: single process %.1f CPU-s, %.1f s wall; sharded: node %.1f CPU-s, shards %.1f CPU-s, %.1f s wall",
		n, shards, singleCPU.Seconds(), singleWall.Seconds(), per(nodeCPU), per(shCPU), per(wall))
}

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's user and system CPU time from /proc (Linux), in clock ticks of 10 ms.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}
