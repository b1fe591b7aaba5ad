package he

import (
	"sync/atomic"

	"github.com/puente-id/puente/internal/workers"
)

// Worker goroutines.
//
// he runs a search's blocks, a key switch's digits and other independent
// parts on goroutines of its own. A panic on one of them (a bug: inputs are
// checked before they reach them) is carried to the goroutine that started
// them (workers.Group), as a *workers.Panic with the worker's stack, where
// the node's handlers turn it into an Internal error for that call alone.

// goWorkers runs f(0, stop), ..., f(n-1, stop) on n goroutines and waits for
// all of them. stop is set once one has panicked; if any did, goWorkers then
// panics with a *workers.Panic of the first.
func goWorkers(n int, f func(w int, stop *atomic.Bool)) {
	var stop atomic.Bool
	g := workers.Group{OnPanic: func() { stop.Store(true) }}
	for w := range n {
		g.Go(func() { f(w, &stop) })
	}
	g.Wait()
}

// parallelWorkers runs f(w, i) for i in 0..n-1 on at most workers
// goroutines; w identifies the goroutine (for per-worker state). After a
// panic in f, the workers take no further i (goWorkers).
func parallelWorkers(n, workers int, f func(w, i int)) {
	var next atomic.Int64
	goWorkers(min(workers, n), func(w int, stop *atomic.Bool) {
		for !stop.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(w, i)
		}
	})
}
