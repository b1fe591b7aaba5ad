//go:build puente_testparams

package he_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// TestRespondEvaluatorsBoundedByBlocks checks that a query does not
// allocate an evaluator per worker it is allowed when its gallery cannot
// keep them busy. Each evaluator holds its own buffers (about 65 MB at
// N = 2^15), so a node with many cores that gave every query one per core
// would spend gigabytes on a one-block gallery. The test measures the
// bytes Respond allocates on a one-block gallery with 2, 1, 8 and 64
// workers: 64 must cost no more than 8 (both beyond what one block uses),
// to within one evaluator's worth, measured as the difference between 2
// workers and 1.
func TestRespondEvaluatorsBoundedByBlocks(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	const m = 32
	rng := rand.New(rand.NewPCG(41, 42))
	g, err := he.Pack(ps, m, hetest.UnitVectors(rng, 100, m), he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	if g.Blocks() != 1 {
		t.Fatalf("%d blocks, want 1", g.Blocks())
	}
	q, err := f.qr.EncryptProbe(hetest.UnitVector(rng, m), hetest.Reader(43))
	if err != nil {
		t.Fatal(err)
	}
	allocated := func(workers int) uint64 {
		opts := onebitOpts()
		opts.Workers = workers
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, sec, err := f.r.Respond(context.Background(), q, g, opts, hetest.Reader(44))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		sec.Destroy()
		return after.TotalAlloc - before.TotalAlloc
	}
	two, one := allocated(2), allocated(1)
	if two <= one {
		t.Fatalf("2 workers allocated %d bytes, 1 worker %d: no evaluator's worth to compare with", two, one)
	}
	perWorker := two - one
	eight, many := allocated(8), allocated(64)
	t.Logf("allocated: 1 worker %d B, 2 workers %d B, 8 workers %d B, 64 workers %d B", one, two, eight, many)
	if many > eight+perWorker {
		t.Errorf("64 workers allocated %d bytes, 8 workers %d: %.1f workers' worth more on a one-block gallery",
			many, eight, float64(many-eight)/float64(perWorker))
	}
}
