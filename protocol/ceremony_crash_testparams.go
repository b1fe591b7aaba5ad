//go:build puente_testparams

package protocol

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
)

// CrashEnv names a file that a node of a test build reads at every crash point of the key
// ceremony: when the file holds that point's name, the node kills itself (SIGKILL: no deferred
// cleanup, no flush). tests/ uses it to stop real `puente` processes at every step of the
// ceremony without restarting them first. Production builds (without -tags puente_testparams)
// do not read it.
const CrashEnv = "PUENTE_TEST_CRASH_FILE"

func init() {
	path := os.Getenv(CrashEnv)
	if path == "" {
		return
	}
	envCrash = func(p string) {
		b, err := os.ReadFile(path)
		if err != nil || string(bytes.TrimSpace(b)) != p {
			return
		}
		fmt.Fprintf(os.Stderr, "puente: test crash at %s\n", p)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
