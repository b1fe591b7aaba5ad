//go:build !puente_testparams

package tests

// buildFlags build the puente binary the way this test binary was built: the default build,
// which refuses the INSECURE test parameter sets.
var buildFlags []string
