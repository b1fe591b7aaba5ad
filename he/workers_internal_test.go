package he

import (
	"runtime"
	"testing"

	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestEvaluatorBuffersTrimmed checks that the evaluators a query uses do
// not keep the decomposition buffers Lattigo allocates for keys with a
// single P prime: the heap four evaluators retain, per evaluator, must be
// at least the unused buffers' size below that of Lattigo's own copies,
// and a trimmed evaluator must still rotate with hoisting at the top
// level, where its decomposition has the most digits.
func TestEvaluatorBuffersTrimmed(t *testing.T) {
	if testing.Short() {
		t.Skip("generates production-size keys")
	}
	ps, _ := Lookup(N15V2)
	eval, _ := keySwitchFixture(ps, 1, 2)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	const n = 4
	held := make([]*ckks.Evaluator, n)
	h0 := heap()
	for i := range held {
		held[i] = eval.ShallowCopy()
	}
	h1 := heap()
	unused := len(held[0].BuffDecompQP) - ps.keySwitchWorkers()
	for i := range held {
		held[i] = trimBuffers(ps, held[i])
	}
	h2 := heap()
	full, trimmed := float64(h1-h0)/n, float64(h2-h0)/n
	poly := float64(8 * ps.params.N() * (ps.params.QCount() + ps.params.PCount()))
	t.Logf("per evaluator: %.1f MB as Lattigo copies it, %.1f MB trimmed (%d of %d decomposition buffers of %.1f MB released)",
		full/1e6, trimmed/1e6, unused, unused+ps.keySwitchWorkers(), poly/1e6)
	if unused <= 0 || trimmed > full-0.9*float64(unused)*poly {
		t.Errorf("trimmed evaluators hold %.1f MB each, Lattigo's %.1f MB: want at least %d buffers of %.1f MB less", trimmed/1e6, full/1e6, unused, poly/1e6)
	}
	ct := ckks.NewCiphertext(ps.params, 1, ps.topLevel())
	if _, err := held[0].RotateHoistedNew(ct, []int{1, 2}); err != nil {
		t.Fatalf("hoisted rotation with a trimmed evaluator: %v", err)
	}
	runtime.KeepAlive(held)
}
