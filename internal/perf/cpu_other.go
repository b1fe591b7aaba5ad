//go:build !unix

package perf

import "time"

// CPUTime reports no CPU time on systems without getrusage.
func CPUTime() (time.Duration, bool) { return 0, false }
