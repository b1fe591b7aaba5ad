package he

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Worker goroutines.
//
// he runs a search's blocks, a key switch's digits and other independent
// parts on goroutines of its own. A panic on one of them (a bug: inputs are
// checked before they reach them) would end the process, since only the
// goroutine that panics can recover it, and the node's handlers, which turn
// a panic into an Internal error for that call alone, run on another.
// goWorkers recovers a worker's panic, stops the loop of every worker of
// parallelWorkers, waits for all of them, and panics again in the goroutine
// that started them, with the worker's value and stack (WorkerPanic).

// WorkerPanic is what he panics with, in the goroutine that called it, when
// one of its worker goroutines panicked: that panic's value and the worker's
// stack at the panic.
type WorkerPanic struct {
	Value any
	Stack []byte
}

func (p *WorkerPanic) String() string { return fmt.Sprintf("%v (in an he worker goroutine)", p.Value) }

// PanicStack returns the stack to log for a panic value r recovered by a
// caller of he: the worker's for a *WorkerPanic, else the stack of the
// goroutine that calls PanicStack.
func PanicStack(r any) []byte {
	if wp, ok := r.(*WorkerPanic); ok {
		return wp.Stack
	}
	return debug.Stack()
}

// goWorkers runs f(0, stop), ..., f(n-1, stop) on n goroutines and waits for
// all of them. stop is set once one has panicked; if any did, goWorkers then
// panics with a *WorkerPanic of the first.
func goWorkers(n int, f func(w int, stop *atomic.Bool)) {
	var (
		wg    sync.WaitGroup
		stop  atomic.Bool
		once  sync.Once
		first *WorkerPanic
	)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					stop.Store(true)
					once.Do(func() { first = &WorkerPanic{Value: r, Stack: debug.Stack()} })
				}
			}()
			f(w, &stop)
		}()
	}
	wg.Wait()
	if first != nil {
		panic(first)
	}
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
