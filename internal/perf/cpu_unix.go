//go:build unix

package perf

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time (user + system) the process has used, and
// whether the system reported it.
func CPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
