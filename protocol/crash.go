package protocol

// crashHook, set only in builds with the INSECURE test parameter sets (crash_testparams.go),
// kills the process at a named point of a query, for the tests that prove a crash there leaves
// the node's records consistent. It is nil in the default build.
var crashHook func(point string)

// crashPoint marks a point where the crash tests may kill the process.
func crashPoint(point string) {
	if crashHook != nil {
		crashHook(point)
	}
}
