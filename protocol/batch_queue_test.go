package protocol

import (
	"slices"
	"testing"
)

// TestSearchQueueTake: the call that took the evaluation slot is always in the batch it takes,
// with the first other calls of the queue, whatever its place; the others keep their order; a
// call another batch took already takes nothing. (A caller beyond the first limit calls once
// took a batch without itself and waited with nobody left to answer it.)
func TestSearchQueueTake(t *testing.T) {
	calls := make([]*waitingSearch, 5)
	for i := range calls {
		calls[i] = &waitingSearch{}
	}
	name := func(ws []*waitingSearch) []int {
		var out []int
		for _, w := range ws {
			out = append(out, slices.Index(calls, w))
		}
		return out
	}
	for _, c := range []struct {
		caller, limit int
		batch, left   []int
	}{
		{0, 1, []int{0}, []int{1, 2, 3, 4}},
		{3, 1, []int{3}, []int{0, 1, 2, 4}},
		{1, 2, []int{0, 1}, []int{2, 3, 4}},
		{4, 2, []int{0, 4}, []int{1, 2, 3}},
		{4, 3, []int{0, 1, 4}, []int{2, 3}},
		{2, 16, []int{0, 1, 2, 3, 4}, nil},
		{2, 0, []int{2}, []int{0, 1, 3, 4}},
	} {
		sq := &searchQueue{waiting: slices.Clone(calls)}
		got := sq.take(calls[c.caller], c.limit)
		if !slices.Equal(name(got), c.batch) || !slices.Equal(name(sq.waiting), c.left) {
			t.Errorf("call %d takes at most %d: batch %v, left %v; want %v, %v", c.caller, c.limit, name(got), name(sq.waiting), c.batch, c.left)
		}
		if again := sq.take(calls[c.caller], c.limit); again != nil {
			t.Errorf("call %d, already taken, took %v", c.caller, name(again))
		}
	}
}
