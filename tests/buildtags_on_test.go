//go:build puente_testparams

package tests

// buildFlags build the puente binary the way this test binary was built: with the INSECURE test
// parameter sets, which the two-node tests use.
var buildFlags = []string{"-tags", "puente_testparams"}
