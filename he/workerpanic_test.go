package he

import (
	"bytes"
	"sync/atomic"
	"testing"

	"github.com/puente-id/puente/internal/workers"
)

// TestWorkerPanicReachesCaller: a panic on one of he's worker goroutines
// reaches the goroutine that started them, as a *workers.Panic with the
// worker's value and stack, after every worker has stopped, where a
// handler's recover can catch it; before, it ended the process.
func TestWorkerPanicReachesCaller(t *testing.T) {
	for _, nw := range []int{1, 2, 4} {
		var ran [64]atomic.Int32
		r := catch(func() {
			parallelWorkers(len(ran), nw, func(_, i int) {
				ran[i].Add(1)
				if i == 5 {
					panicInItem()
				}
			})
		})
		wp, ok := r.(*workers.Panic)
		if !ok {
			t.Fatalf("%d nw: recovered %#v, want a *workers.Panic", nw, r)
		}
		if wp.Value != "item 5" || !bytes.Contains(wp.Stack, []byte("panicInItem")) {
			t.Errorf("%d nw: value %v, stack without the panicking function:\n%s", nw, wp.Value, wp.Stack)
		}
		total := 0
		for i := range ran {
			if n := ran[i].Load(); n > 1 {
				t.Errorf("%d nw: item %d ran %d times", nw, i, n)
			}
			total += int(ran[i].Load())
		}
		// One worker takes the items in order and none after the panic.
		if nw == 1 && total != 6 {
			t.Errorf("one worker: %d items ran, want 0 to 5 and none after the panic", total)
		}
	}
	r := catch(func() {
		goWorkers(3, func(w int, _ *atomic.Bool) {
			if w == 1 {
				panic("digit worker")
			}
		})
	})
	if wp, ok := r.(*workers.Panic); !ok || wp.Value != "digit worker" {
		t.Errorf("goWorkers: recovered %#v", r)
	}
}

// TestParallelWorkersRunsEachOnce: without a panic every item runs once.
func TestParallelWorkersRunsEachOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 100} {
		var ran [37]atomic.Int32
		parallelWorkers(len(ran), workers, func(_, i int) { ran[i].Add(1) })
		for i := range ran {
			if n := ran[i].Load(); n != 1 {
				t.Errorf("%d workers: item %d ran %d times", workers, i, n)
			}
		}
	}
	parallelWorkers(0, 2, func(_, i int) { t.Errorf("item %d of none ran", i) })
}

func panicInItem() { panic("item 5") }

// catch runs f and returns what it panicked with, or nil.
func catch(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
