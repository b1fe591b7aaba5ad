package he_test

import (
	"fmt"

	"github.com/puente-id/puente/he"
)

// The numbers of the production parameter set, as docs/he-parameters.md
// gives them.
func ExampleParamSet_Info() {
	ps, _ := he.Lookup(he.N15V2)
	printInfo(ps)
	// Output:
	// puente-ckks-n15-v2: N = 2^15, 32768 slots, 18 levels
	// log Q = 673.0, log P = 192.0, log QP = 865.0 <= 868 (128-bit)
	// Q primes [60 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 52]
	// P primes [48 48 48 48]
	// threshold: degrees [7 15 31 31], depth 17, band |x| < 2^-11, every tau
	// norm window |y - 1| < 0.00048828125; an answer counts up to 4194304 entries
	// query 2781258 B, answer 491624 B
	// opening: 9790 AND gates, garbled circuit 531952 B, transfer request 286464 B, answer 7680 B
	// rotation key 35758080 B, relinearization key 33628160 B
	// evaluation keys for max dims 128: 305389732 B, 512: 305389732 B
	// ceremony, sent by each party, max dims 128: 322204620 B, 512: 322204620 B
	// secret share 8237 B
}

// The set for thresholds from 0.9233: two levels fewer, digits of five P primes.
func ExampleParamSet_Info_highTau() {
	ps, _ := he.Lookup(he.N15V3)
	printInfo(ps)
	// Output:
	// puente-ckks-n15-v3: N = 2^15, 32768 slots, 16 levels
	// log Q = 607.0, log P = 240.0, log QP = 847.0 <= 868 (128-bit)
	// Q primes [60 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 52]
	// P primes [48 48 48 48 48]
	// threshold: degrees [7 7 15 31], depth 15, band |x| < 2^-11, tau >= 0.923271
	// norm window |y - 1| < 0.00048828125; an answer counts up to 2097152 entries
	// query 2506826 B, answer 491624 B
	// opening: 9790 AND gates, garbled circuit 531952 B, transfer request 286464 B, answer 7680 B
	// rotation key 27983872 B, relinearization key 26279936 B
	// evaluation keys for max dims 128: 239657124 B, 512: 239657124 B
	// ceremony, sent by each party, max dims 128: 252797900 B, 512: 252797900 B
	// secret share 8237 B
}

// The same circuit as v3 with key-switching digits of six P primes: three
// digits at the top level instead of four, and smaller keys.
func ExampleParamSet_Info_highTauThreeDigits() {
	ps, _ := he.Lookup(he.N15V4)
	printInfo(ps)
	// Output:
	// puente-ckks-n15-v4: N = 2^15, 32768 slots, 16 levels
	// log Q = 607.0, log P = 258.0, log QP = 865.0 <= 868 (128-bit)
	// Q primes [60 33 33 33 33 33 33 33 33 33 33 33 33 33 33 33 52]
	// P primes [43 43 43 43 43 43]
	// threshold: degrees [7 7 15 31], depth 15, band |x| < 2^-11, tau >= 0.923271
	// norm window |y - 1| < 0.00048828125; an answer counts up to 2097152 entries
	// query 2506826 B, answer 491624 B
	// opening: 9790 AND gates, garbled circuit 531952 B, transfer request 286464 B, answer 7680 B
	// rotation key 21405696 B, relinearization key 20127744 B
	// evaluation keys for max dims 128: 184238244 B, 512: 184238244 B
	// ceremony, sent by each party, max dims 128: 194302924 B, 512: 194302924 B
	// secret share 8237 B
}

func printInfo(ps *he.ParamSet) {
	i := ps.Info()
	fmt.Printf("%s: N = 2^%d, %d slots, %d levels\n", i.Name, i.LogN, i.Slots, i.Levels)
	fmt.Printf("log Q = %.1f, log P = %.1f, log QP = %.1f <= %.0f (%d-bit)\n", i.LogQ, i.LogP, i.LogQP, i.BoundLogQP, i.SecurityBits)
	fmt.Printf("Q primes %v\nP primes %v\n", i.QPrimes, i.PPrimes)
	taus := "every tau"
	if lo := i.MinTau; lo > -1 {
		taus = fmt.Sprintf("tau >= %.6f", lo)
	}
	fmt.Printf("threshold: degrees %v, depth %d, band |x| < 2^-%d, %s\n", i.StepDegrees, i.StepDepth, i.StepLogAlpha, taus)
	fmt.Printf("norm window |y - 1| < %g; an answer counts up to %d entries\n", i.NormWindow, i.MaxEntries)
	fmt.Printf("query %d B, answer %d B\n", i.QueryBytes, i.AnswerBytes)
	fmt.Printf("opening: %d AND gates, garbled circuit %d B, transfer request %d B, answer %d B\n", i.OpeningANDGates, i.GarbledBytes, i.TransferRequestBytes, i.TransferAnswerBytes)
	fmt.Printf("rotation key %d B, relinearization key %d B\n", i.GaloisKeyBytes, i.RelinKeyBytes)
	fmt.Printf("evaluation keys for max dims 128: %d B, 512: %d B\n", i.KeysBytes128, i.KeysBytes512)
	fmt.Printf("ceremony, sent by each party, max dims 128: %d B, 512: %d B\n", i.CeremonyBytes128, i.CeremonyBytes512)
	fmt.Printf("secret share %d B\n", i.ShareBytes)
}
