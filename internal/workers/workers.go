// Package workers runs goroutines whose panics reach the goroutine that
// waits for them.
//
// A panic can only be recovered on the goroutine where it happens. The node's
// handlers turn a panic (a bug) into an Internal error for that call alone,
// but work they hand to goroutines of their own (a search's blocks, a key
// switch's digits, a count's calls to the shards) runs elsewhere, and a panic
// there would end the process, which serves every other partner too. A
// [Group] recovers such a panic, lets the other goroutines finish, and panics
// again in the goroutine that calls [Group.Wait], with a [*Panic] that keeps
// the first panic's value and the stack where it happened.
package workers

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Panic is what [Group.Wait] panics with when one of the group's goroutines
// panicked: that panic's value and the goroutine's stack at the panic.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) String() string { return fmt.Sprintf("%v (in a worker goroutine)", p.Value) }

// Stack returns the stack to log for a panic value r recovered by a caller:
// the worker's for a *Panic, else the stack of the goroutine that calls
// Stack (the one that recovered r).
func Stack(r any) []byte {
	if p, ok := r.(*Panic); ok {
		return p.Stack
	}
	return debug.Stack()
}

// A Group is a set of goroutines to wait for. Its zero value is ready to use;
// do not copy it once used.
type Group struct {
	// OnPanic, if set, is called (once, on the panicking goroutine) when the
	// first of the group's goroutines panics: to stop or cancel the others'
	// work early.
	OnPanic func()

	wg    sync.WaitGroup
	once  sync.Once
	first *Panic
}

// Go runs f on a new goroutine of the group.
func (g *Group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				g.once.Do(func() {
					g.first = &Panic{Value: r, Stack: debug.Stack()}
					if g.OnPanic != nil {
						g.OnPanic()
					}
				})
			}
		}()
		f()
	}()
}

// Wait waits for every goroutine started by Go. If any panicked, Wait then
// panics with a *Panic of the first.
func (g *Group) Wait() {
	g.wg.Wait()
	if g.first != nil {
		panic(g.first)
	}
}
