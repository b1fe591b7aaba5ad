package he_test

import (
	"fmt"

	"github.com/puente-id/puente/he"
)

// The numbers of the production parameter set, as docs/he-parameters.md
// gives them.
func ExampleParamSet_Info() {
	ps, _ := he.Lookup(he.N15V1)
	i := ps.Info()
	fmt.Printf("%s: N = 2^%d, %d slots, %d levels\n", i.Name, i.LogN, i.Slots, i.Levels)
	fmt.Printf("log Q = %.1f, log P = %.1f, log QP = %.1f <= %.0f (%d-bit)\n", i.LogQ, i.LogP, i.LogQP, i.BoundLogQP, i.SecurityBits)
	fmt.Printf("Q primes %v\nP primes %v\n", i.QPrimes, i.PPrimes)
	fmt.Printf("threshold: degrees %v, depth %d, band |x| < 2^-%d\n", i.StepDegrees, i.StepDepth, i.StepLogAlpha)
	fmt.Printf("flooding: sigma = 2^%.2f\n", i.FloodLogSigma)
	fmt.Printf("query %d B, response %d B\n", i.QueryBytes, i.ResponseBytes)
	fmt.Printf("rotation key %d B (top level), %d B (aggregation level), relinearization key %d B\n", i.TopGaloisKeyBytes, i.LowGaloisKeyBytes, i.RelinKeyBytes)
	fmt.Printf("evaluation keys for max dims 128: %d B, 512: %d B\n", i.KeysBytes128, i.KeysBytes512)
	fmt.Printf("ceremony, sent by each party, max dims 128: %d B, 512: %d B\n", i.CeremonyBytes128, i.CeremonyBytes512)
	fmt.Printf("secret share %d B\n", i.ShareBytes)
	// Output:
	// puente-ckks-n15-v1: N = 2^15, 32768 slots, 17 levels
	// log Q = 655.0, log P = 225.0, log QP = 880.0 <= 881 (128-bit)
	// Q primes [60 35 35 35 35 35 35 35 35 35 35 35 35 35 35 35 35 35]
	// P primes [45 45 45 45 45]
	// threshold: degrees [7 7 15 15], depth 14, band |x| < 2^-8
	// flooding: sigma = 2^22.00
	// query 2711626 B, response 491597 B
	// rotation key 29196288 B (top level), 2949120 B (aggregation level), relinearization key 28049408 B
	// evaluation keys for max dims 128: 145682596 B, 512: 171929764 B
	// ceremony, sent by each party, max dims 128: 159708108 B, 512: 185955276 B
	// secret share 8237 B
}
