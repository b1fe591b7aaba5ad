// Package crashpoint marks the points of a node's work where the crash tests kill the process
// (tests/records), to prove that a crash there leaves every store and log consistent. Only a
// build with the INSECURE test parameter sets (-tags puente_testparams) can be told to crash
// (testparams.go); in the default build [Reach] does nothing.
package crashpoint

// hook, set only in test builds (testparams.go), kills the process at a named point.
var hook func(point string)

// Reach marks a point where the crash tests may kill the process.
func Reach(point string) {
	if hook != nil {
		hook(point)
	}
}
