package protocol

import (
	"testing"
	"time"
)

// hangLimit is how long the tests wait before they call an operation hung. It bounds a wait for
// a property (the operation finishes at all), not a timing.
const hangLimit = 2 * time.Minute

// await waits for n signals on ch, sent by a node's hook at the named point of its work. The
// limit bounds a hang (the point is never reached), not a timing.
func await[T any](t *testing.T, ch <-chan T, n int, point string) {
	t.Helper()
	limit := time.After(hangLimit)
	for i := range n {
		select {
		case <-ch:
		case <-limit:
			t.Fatalf("%q reached %d times of %d", point, i, n)
		}
	}
}
