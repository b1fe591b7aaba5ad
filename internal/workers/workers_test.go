package workers

import (
	"bytes"
	"sync/atomic"
	"testing"
)

// TestGroupPanicReachesWait: the first panic of a group's goroutines reaches
// Wait's caller as a *Panic with its value and stack, after every goroutine
// ended; OnPanic runs once however many panic.
func TestGroupPanicReachesWait(t *testing.T) {
	var onPanic, ended atomic.Int32
	g := Group{OnPanic: func() { onPanic.Add(1) }}
	release := make(chan struct{})
	for i := range 4 {
		g.Go(func() {
			defer ended.Add(1)
			if i%2 == 1 {
				<-release
				panicInWorker()
			}
		})
	}
	close(release)
	r := func() (r any) {
		defer func() { r = recover() }()
		g.Wait()
		return nil
	}()
	p, ok := r.(*Panic)
	if !ok || p.Value != "worker bug" || !bytes.Contains(p.Stack, []byte("panicInWorker")) {
		t.Fatalf("recovered %#v, want a *Panic with the worker's value and stack", r)
	}
	if !bytes.Equal(Stack(r), p.Stack) {
		t.Error("Stack does not return the worker's stack")
	}
	if n := ended.Load(); n != 4 {
		t.Errorf("%d of 4 goroutines ended before Wait returned", n)
	}
	if n := onPanic.Load(); n != 1 {
		t.Errorf("OnPanic ran %d times, want once", n)
	}
}

// TestGroupWithoutPanic: Wait returns once every goroutine has run.
func TestGroupWithoutPanic(t *testing.T) {
	var g Group
	var ran atomic.Int32
	for range 10 {
		g.Go(func() { ran.Add(1) })
	}
	g.Wait()
	if n := ran.Load(); n != 10 {
		t.Fatalf("%d of 10 ran", n)
	}
}

func panicInWorker() { panic("worker bug") }
