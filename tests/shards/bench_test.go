//go:build puente_testparams

package shards

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
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
// machine: CPU of every process involved (the test's own for the node's part, /proc for the
// shards'), wall time, the blocks each side evaluates (a shard's partition fills its last block
// only partly, so the shards together may evaluate more blocks than the single process), and the
// bytes between the node and its shards. PUENTE_SHARD_BENCH_NTT_BLOCKS keeps that many blocks in
// NTT form in the single process and that many divided among the shards (-memory-budget), the rest
// converted per search on both sides alike; unset, every block is kept. Both decisions must be the
// plaintext scan's; the figures are reported, never asserted.
//
//	go test -tags puente_testparams ./tests/shards -run '^$' -bench ShardedSearch -benchtime 1x -timeout 2h
//	PUENTE_SHARD_BENCH_N=1000000 PUENTE_SHARD_BENCH_NTT_BLOCKS=8 go test -tags puente_testparams ./tests/shards -run '^$' -bench ShardedSearch -benchtime 1x -timeout 2h
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
	nttBlocks := -1
	if v := os.Getenv("PUENTE_SHARD_BENCH_NTT_BLOCKS"); v != "" {
		var err error
		if nttBlocks, err = strconv.Atoi(v); err != nil || nttBlocks < 0 {
			b.Fatalf("PUENTE_SHARD_BENCH_NTT_BLOCKS=%q", v)
		}
	}
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		b.Fatal(err)
	}
	budget := func(blocks int) int64 { // bytes of that many blocks' NTT plaintexts; -1: no bound
		if nttBlocks < 0 {
			return -1
		}
		return int64(blocks) * blockNTTBytes(b, ps, dims)
	}
	dir := b.TempDir()
	keys := hetest.Ceremony(b, ps, dims, hetest.Reader(1), hetest.Reader(2))
	qr, _ := he.NewQuerier(keys.Querier)
	r, _ := he.NewResponder(keys.Eval, keys.Responder)
	ekb, _ := keys.Eval.MarshalBinary()
	rng := rand.New(rand.NewPCG(3, 3))
	probe := hetest.UnitVector(rng, dims)
	ts := hetest.UnitVectors(rng, n, dims)
	th := he.Threshold{Tau: 0.9234}
	ts[n/3] = perf.WithScore(rng, probe, 0.95)
	es := make([]shard.Entry, n)
	held := make([]int, shards)
	for i, t := range ts {
		es[i] = shard.Entry{Ref: fmt.Sprintf("ref-%07d", i), Template: t}
		held[shard.Owner(es[i].Ref, shards)]++
	}
	shardBlocks := 0
	for _, h := range held {
		shardBlocks += (h + ps.Slots() - 1) / ps.Slots()
	}
	plainPer, _, plainCount := perf.TimePlainScan(ts, probe, th.Tau, 0)
	plainHit := plainCount > 0
	ctx := context.Background()
	q, err := qr.EncryptProbe(probe, hetest.Reader(4))
	if err != nil {
		b.Fatal(err)
	}

	// One process.
	g, err := he.Pack(ps, dims, ts, he.PackOptions{MemoryBudget: budget(nttBlocks)})
	if err != nil {
		b.Fatal(err)
	}
	singleBlocks := g.Blocks()
	c0, w0 := selfCPU(), time.Now()
	a, sec, err := r.Respond(ctx, q, g, he.Options{Threshold: th}, hetest.Reader(5))
	if err != nil {
		b.Fatal(err)
	}
	singleCPU, singleWall := selfCPU()-c0, time.Since(w0)
	hit := hetest.Open(b, ps, qr, q, a, sec, 8)
	sec.Destroy()
	if hit != plainHit {
		b.Fatalf("single process: hit = %v, the plaintext scan says %v", hit, plainHit)
	}
	g, a, sec = nil, nil, nil
	runtime.GC()
	debug.FreeOSMemory()

	// Four shard processes.
	srv, cli := shardtest.PKI(b, dir)
	var procs []*shardtest.Proc
	var addrs []string
	for i := 0; i < shards; i++ {
		p := &shardtest.Proc{Bin: puente, Dir: filepath.Join(dir, fmt.Sprintf("shard-%d", i)), TLS: srv,
			Args: []string{"-memory-budget", strconv.FormatInt(budget(max(nttBlocks, 0)/shards), 10)}}
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
	want, _ := shard.Partitions(shard.Want{Agreement: "bench", Epoch: 1, KeySet: keys.Eval.KeySetID(), ParamSet: ps}, shards, dims, es)
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
		a, sec, err := r.Finish(q, p, parts, hetest.Reader(7))
		if err != nil {
			b.Fatal(err)
		}
		nodeCPU, shCPU, wall = nodeCPU+selfCPU()-c0, shCPU+shardCPU()-s0, wall+time.Since(w0)
		hit := hetest.Open(b, ps, qr, q, a, sec, 8)
		sec.Destroy()
		if hit != plainHit {
			b.Fatalf("%d shards: hit = %v, the plaintext scan says %v", shards, hit, plainHit)
		}
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
	b.ReportMetric(plainPer.Seconds()*1e3, "ms/plainscan")
	b.ReportMetric(float64(singleBlocks), "single-blocks")
	b.ReportMetric(float64(shardBlocks), "shard-blocks")
	b.Logf("N = %d, %d shards holding %v entries; NTT blocks kept %d (-1: all); single process %d blocks, %.1f CPU-s, %.1f s wall; "+
		"sharded %d blocks: node %.1f CPU-s, shards %.1f CPU-s, %.1f s wall",
		n, shards, held, nttBlocks, singleBlocks, singleCPU.Seconds(), singleWall.Seconds(), shardBlocks, per(nodeCPU), per(shCPU), per(wall))
}

// blockNTTBytes is the memory of one block's NTT plaintexts at m = dims.
func blockNTTBytes(b *testing.B, ps *he.ParamSet, dims int) int64 {
	one := [][]float64{make([]float64, dims)}
	kept, err := he.Pack(ps, dims, one, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		b.Fatal(err)
	}
	compact, err := he.Pack(ps, dims, one, he.PackOptions{MemoryBudget: 0})
	if err != nil {
		b.Fatal(err)
	}
	return kept.MemoryBytes() - compact.MemoryBytes()
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
