// Package lfwtest gives tests the LFW evaluation set of package lfw. The set
// is not part of the repository, so a fresh clone has none: a test that
// needs it skips with one line naming $PUENTE_DATA, unless
// $PUENTE_REQUIRE_DATA is 1 (CI sets it), which turns the missing data into
// a failure so that CI never passes by skipping.
package lfwtest

import (
	"os"
	"sync"
	"testing"

	"github.com/puente-id/puente/internal/lfw"
)

// EnvRequire names the environment variable that, set to 1, makes a
// missing evaluation set fail the tests that need it instead of skipping
// them.
const EnvRequire = "PUENTE_REQUIRE_DATA"

// Required reports whether $PUENTE_REQUIRE_DATA asks for the data.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Dir returns the evaluation data directory (lfw.FindDataDir). Without
// it, t is skipped with one line naming $PUENTE_DATA, or fails when
// [Required].
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := lfw.FindDataDir()
	if err != nil {
		missing(t, err)
	}
	return dir
}

var (
	once   sync.Once
	theSet *lfw.Set
	setErr error
)

// Set returns the lfw-dlib128 set, loaded once per test process and
// shared: callers must not modify it. A missing data directory skips t
// as [Dir] does; a directory that holds a damaged set fails t.
func Set(t testing.TB) *lfw.Set {
	t.Helper()
	dir := Dir(t)
	once.Do(func() { theSet, setErr = lfw.Load(dir) })
	if setErr != nil {
		t.Fatalf("evaluation data: %v", setErr)
	}
	return theSet
}

func missing(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%v (%s=1: the tests on the LFW data must run)", err, EnvRequire)
	}
	t.Skipf("skipped: %v ($%s=1 makes this a failure)", err, EnvRequire)
}
