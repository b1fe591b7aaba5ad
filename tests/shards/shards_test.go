//go:build puente_testparams

// Package shards tests the sharded responder with real `puente shard` processes on loopback, on
// the INSECURE N = 2^11 set: the node's side (prepare, fan-out, final step) runs in the test,
// the shards as separate processes over mutual TLS, as inside an agency.
package shards

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/opening"
	"github.com/puente-id/puente/shard"
	"github.com/puente-id/puente/shard/shardtest"
)

// puente is the test build of the binary (-tags puente_testparams), made once by TestMain.
var puente string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "puente-shards-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	puente = filepath.Join(dir, "puente")
	build := exec.Command("go", "build", "-tags", "puente_testparams", "-o", puente, "../../cmd/puente")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building puente:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup is the node's side: keys, the querier's share (for opening answers in the test), and a
// pool of n running shards.
type setup struct {
	ps    *he.ParamSet
	keys  hetest.Keys
	qr    *he.Querier
	r     *he.Responder
	ekb   []byte
	procs []*shardtest.Proc
	cli   shard.TLSFiles
	srv   shard.TLSFiles
	dir   string
}

func newSetup(t *testing.T, n int) *setup {
	t.Helper()
	s := &setup{ps: hetest.InsecureN11(), dir: t.TempDir()}
	s.keys = hetest.Ceremony(t, s.ps, 64, hetest.Reader(1), hetest.Reader(2))
	var err error
	if s.qr, err = he.NewQuerier(s.keys.Querier); err != nil {
		t.Fatal(err)
	}
	if s.r, err = he.NewResponder(s.keys.Eval, s.keys.Responder); err != nil {
		t.Fatal(err)
	}
	if s.ekb, err = s.keys.Eval.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	s.srv, s.cli = shardtest.PKI(t, s.dir)
	for i := 0; i < n; i++ {
		s.addShard(t)
	}
	return s
}

func (s *setup) addShard(t *testing.T) {
	p := &shardtest.Proc{Bin: puente, Dir: filepath.Join(s.dir, fmt.Sprintf("shard-%d", len(s.procs))), TLS: s.srv}
	p.Start(t)
	s.procs = append(s.procs, p)
}

func (s *setup) pool(t *testing.T, n int) *shard.Pool {
	t.Helper()
	tc, err := s.cli.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, p := range s.procs[:n] {
		addrs = append(addrs, p.Addr)
	}
	pl, err := shard.Dial(addrs, tc, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pl.Close)
	return pl
}

// want names generation gen for each of n shards.
// want is what the node wants of n shards for entries: their partitions and the generations
// that name them (shard.Partitions).
func (s *setup) want(n, dims int, entries []shard.Entry) (shard.Want, [][]shard.Entry) {
	return shard.Partitions(shard.Want{Agreement: "us-co", Epoch: 1, KeySet: s.keys.Eval.KeySetID(), ParamSet: s.ps}, n, dims, entries)
}

const tau = 0.5

// decide opens an answer as the querier does.
func (s *setup) decide(t *testing.T, q *he.Query, ans *he.Answer, sec *opening.Secrets, seed uint64) bool {
	t.Helper()
	return hetest.Open(t, s.ps, s.qr, q, ans, sec, seed)
}

// sharded answers q through the pool, as a node's evaluate does.
func (s *setup) sharded(ctx context.Context, pl *shard.Pool, want shard.Want, q *he.Query, seed uint64) (*he.Answer, *opening.Secrets, error) {
	p, err := s.r.Prepare(q, hetest.Reader(seed))
	if err != nil {
		return nil, nil, err
	}
	parts, err := pl.Count(ctx, want, tau, p)
	if err != nil {
		return nil, nil, err
	}
	return s.r.Finish(q, p, parts, hetest.Reader(seed+1))
}

// gallery is a gallery of n entries with references, and probes: mated ones (an entry scores
// 0.9 against each) and non-mated ones (every score at least two bands below tau).
func gallery(ps *he.ParamSet, n, dims int) ([]shard.Entry, [][]float64, []bool) {
	rng := mrand.New(mrand.NewPCG(7, 7))
	band := he.Threshold{Tau: tau}.Band(ps)
	ts := hetest.UnitVectors(rng, n, dims)
	var probes [][]float64
	var mated []bool
	for _, at := range []int{3, n - 1} {
		p := hetest.UnitVector(rng, dims)
		ts[at] = perf.WithScore(rng, p, 0.9)
		probes, mated = append(probes, p), append(mated, true)
	}
	for len(probes) < 4 {
		p := hetest.UnitVector(rng, dims)
		ok := true
		for _, g := range ts {
			s := 0.0
			for i := range g {
				s += g[i] * p[i]
			}
			if s > tau-2*band {
				ok = false
				break
			}
		}
		if ok {
			probes, mated = append(probes, p), append(mated, false)
		}
	}
	es := make([]shard.Entry, n)
	for i, t := range ts {
		es[i] = shard.Entry{Ref: fmt.Sprintf("ref-%05d", i), Template: t}
	}
	return es, probes, mated
}

// TestShardedNode: four `puente shard` processes answer every probe as the single process does;
// a shard killed during a search fails the search (Unavailable), never answers no-hit; after
// its restart searches succeed; a rebalance from four to five shards loses and duplicates no
// entry and answers as before.
func TestShardedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five shard processes")
	}
	const dims = 64
	s := newSetup(t, 4)
	ctx := context.Background()
	es, probes, mated := gallery(s.ps, s.ps.Slots()+300, dims)
	var ts [][]float64
	for _, e := range es {
		ts = append(ts, e.Template)
	}
	whole, err := he.Pack(s.ps, dims, ts, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	pl := s.pool(t, 4)
	w4, _ := s.want(4, dims, es)
	if err := pl.InstallAll(ctx, w4, dims, s.ekb, es); err != nil {
		t.Fatal(err)
	}
	queries := make([]*he.Query, len(probes))
	single := make([]bool, len(probes))
	for i, p := range probes {
		if queries[i], err = s.qr.EncryptProbe(p, hetest.Reader(uint64(100+i))); err != nil {
			t.Fatal(err)
		}
		ans, sec, err := s.r.Respond(ctx, queries[i], whole, he.Options{Threshold: he.Threshold{Tau: tau}}, hetest.Reader(uint64(200+i)))
		if err != nil {
			t.Fatal(err)
		}
		single[i] = s.decide(t, queries[i], ans, sec, uint64(300+i))
		if single[i] != mated[i] {
			t.Fatalf("probe %d: single process decided %v, want %v", i, single[i], mated[i])
		}
	}
	searchAll := func(pl *shard.Pool, want shard.Want, label string) {
		t.Helper()
		for i, q := range queries {
			ans, sec, err := s.sharded(ctx, pl, want, q, uint64(400+i))
			if err != nil {
				t.Fatalf("%s: probe %d: %v", label, i, err)
			}
			if got := s.decide(t, q, ans, sec, uint64(500+i)); got != single[i] {
				t.Errorf("%s: probe %d: sharded %v, single process %v", label, i, got, single[i])
			}
		}
	}
	searchAll(pl, w4, "4 shards")

	// A generation the shards do not hold: FailedPrecondition from every shard, no answer.
	stale := w4
	stale.Generations = make([]uint64, len(w4.Generations))
	for i, g := range w4.Generations {
		stale.Generations[i] = g + 1
	}
	if _, _, err := s.sharded(ctx, pl, stale, queries[0], 600); shardCode(err) != codes.FailedPrecondition {
		t.Errorf("stale generation: got %v, want FailedPrecondition", err)
	}

	// SIGKILL of shard 2 while it counts: the search fails, Unavailable.
	victim := s.procs[2]
	done := make(chan error, 1)
	go func() {
		_, _, err := s.sharded(ctx, pl, w4, queries[1], 700)
		done <- err
	}()
	<-victim.Counting
	victim.Kill()
	if err := <-done; shardCode(err) != codes.Unavailable {
		t.Fatalf("search with a shard killed: got %v, want a shard error Unavailable", err)
	}
	// Down: still Unavailable, never an answer.
	if _, _, err := s.sharded(ctx, pl, w4, queries[1], 710); shardCode(err) != codes.Unavailable {
		t.Fatalf("search with a shard down: got %v, want Unavailable", err)
	}
	// Restarted on the same address and directory: it reloads its partition and searches succeed.
	victim.Start(t)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := pl.Ready(rctx); err != nil {
		t.Fatal(err)
	}
	searchAll(pl, w4, "after restart")

	// Rebalance to five shards: new partitions, new generations.
	s.addShard(t)
	pl5 := s.pool(t, 5)
	w5, _ := s.want(5, dims, es)
	if err := pl5.InstallAll(ctx, w5, dims, s.ekb, es); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, h := range pl5.Status(ctx) {
		if h.Err != nil || !h.Serving || len(h.Parts) != 1 {
			t.Fatalf("shard %d: %+v", i, h)
		}
		p := h.Parts[0]
		if p.Partition.Generation != w5.Generations[i] || p.Partition.Index != uint32(i) || p.Partition.Count != 5 {
			t.Errorf("shard %d holds %v", i, p.Partition)
		}
		total += int(p.Entries)
	}
	// Every shard refuses an entry that is not its own (Install checks Owner), so entries that
	// add up to the gallery's size are each held exactly once.
	if total != len(es) {
		t.Errorf("after rebalance the shards hold %d entries, the gallery %d", total, len(es))
	}
	searchAll(pl5, w5, "5 shards")
	// The old pool's generation is gone: refused.
	if _, _, err := s.sharded(ctx, pl, w4, queries[0], 800); shardCode(err) != codes.FailedPrecondition {
		t.Errorf("query of the old generation after rebalance: got %v, want FailedPrecondition", err)
	}
}

// TestInstallRefusesForeignEntries: a shard refuses a partition holding an entry that belongs
// to another shard, and keeps the partition it had.
func TestInstallRefusesForeignEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a shard process")
	}
	s := newSetup(t, 2)
	pl := s.pool(t, 2)
	ctx := context.Background()
	es, _, _ := gallery(s.ps, 40, 64)
	w, parts := s.want(2, 64, es)
	if err := pl.Install(ctx, 0, w, 64, s.ekb, parts[0]); err != nil {
		t.Fatal(err)
	}
	// Shard 1's entries, under the generation that names them, sent to shard 0.
	foreign := w
	foreign.Generations = []uint64{w.Generations[1], w.Generations[1]}
	if err := pl.Install(ctx, 0, foreign, 64, s.ekb, parts[1]); err == nil {
		t.Fatal("shard 0 accepted shard 1's entries")
	}
	h := pl.Status(ctx)[0]
	if len(h.Parts) != 1 || h.Parts[0].Partition.Generation != w.Generations[0] || h.Parts[0].Entries != uint64(len(parts[0])) {
		t.Errorf("after a refused install the shard holds %+v", h.Parts)
	}
}

func shardCode(err error) codes.Code {
	var se *shard.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return codes.OK
}
