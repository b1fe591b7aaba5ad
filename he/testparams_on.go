//go:build puente_testparams

package he

// testParams is true in builds made with -tags puente_testparams: only they
// may build INSECURE parameter sets (package hetest's), for tests.
const testParams = true
