//go:build !unix

package audit

import "os"

// lockFile is a no-op where flock is not available; one writer per file
// is then the operator's responsibility.
func lockFile(*os.File) error { return nil }
