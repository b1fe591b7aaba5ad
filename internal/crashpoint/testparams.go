//go:build puente_testparams && unix

package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// PUENTE_TEST_CRASH=POINT[:N] makes a test build kill itself with SIGKILL the N-th time (default
// the first) it reaches crash point POINT, as a crash or `kill -9` there would.
func init() {
	spec := os.Getenv("PUENTE_TEST_CRASH")
	if spec == "" {
		return
	}
	point, nth, _ := strings.Cut(spec, ":")
	want, err := strconv.Atoi(nth)
	if err != nil || want < 1 {
		want = 1
	}
	var hits atomic.Int64
	hook = func(p string) {
		if p == point && hits.Add(1) == int64(want) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
