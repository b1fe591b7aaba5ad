package main

import (
	"testing"

	"github.com/puente-id/puente/internal/clitest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the puente-lab command in the scripts of
// testdata/script: each `exec puente-lab ...` is a separate process of this package's main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"puente-lab": main})
}

// TestScripts runs the CLI scripts: bad usage, missing input and help of each command,
// checked for exit code and message.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": clitest.Exits},
	})
}
