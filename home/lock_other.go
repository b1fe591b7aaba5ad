//go:build !unix

package home

import "os"

// flock is a no-op where flock is not available: one process per home is then the operator's
// responsibility.
func flock(*os.File) error { return nil }
