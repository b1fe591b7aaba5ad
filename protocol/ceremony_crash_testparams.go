//go:build puente_testparams

package protocol

import (
	"fmt"
	"os"
	"syscall"
)

// CrashEnv names the crash point at which a node of a test build kills itself (SIGKILL: no
// deferred cleanup, no flush) the first time it reaches it: tests/ uses it to stop real `puente`
// processes at every step of the key ceremony. Production builds (without -tags
// puente_testparams) do not read it.
const CrashEnv = "PUENTE_TEST_CRASH_AT"

func init() {
	point := os.Getenv(CrashEnv)
	if point == "" {
		return
	}
	envCrash = func(p string) {
		if p == point {
			fmt.Fprintf(os.Stderr, "puente: test crash at %s\n", p)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
