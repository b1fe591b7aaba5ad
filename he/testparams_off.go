//go:build !puente_testparams

package he

// testParams is false in the default build: [NewParamSet] refuses every
// INSECURE parameter set, so a production binary cannot load one.
const testParams = false
