//go:build puente_testparams

package hetest

import (
	"sync"

	"github.com/puente-id/puente/he"
)

// IDs of the insecure test sets.
const (
	InsecureN12ID        he.ParamSetID = he.FirstTestID + 12
	InsecureN11ID        he.ParamSetID = he.FirstTestID + 11
	InsecureN12HighTauID he.ParamSetID = he.FirstTestID + 0x32
	InsecureN11HighTauID he.ParamSetID = he.FirstTestID + 0x31
)

// spec is a production set's spec on a ring too small for its modulus:
// the same primes, levels, scales and circuit, no security at all.
func spec(prod he.ParamSetID, logN int, id he.ParamSetID, name string) he.ParamSpec {
	ps, err := he.Lookup(prod)
	if err != nil {
		panic(err)
	}
	s := ps.Spec()
	s.ID, s.Name, s.Insecure, s.LogN = id, name, true, logN
	return s
}

var (
	once                   sync.Once
	n12, n11, n12hi, n11hi *he.ParamSet
	initErr                error
)

func load() {
	once.Do(func() {
		for _, s := range []struct {
			ps   **he.ParamSet
			spec he.ParamSpec
		}{
			{&n12, spec(he.N15V2, 12, InsecureN12ID, "INSECURE-test-n12")},
			{&n11, spec(he.N15V2, 11, InsecureN11ID, "INSECURE-test-n11")},
			{&n12hi, spec(he.N15V3, 12, InsecureN12HighTauID, "INSECURE-test-n12-v3")},
			{&n11hi, spec(he.N15V3, 11, InsecureN11HighTauID, "INSECURE-test-n11-v3")},
		} {
			if *s.ps, initErr = he.NewParamSet(s.spec); initErr != nil {
				return
			}
		}
	})
	if initErr != nil {
		panic(initErr)
	}
}

// InsecureN12 returns an INSECURE set with ring degree 2^12 (4096 slots).
func InsecureN12() *he.ParamSet { load(); return n12 }

// InsecureN11 returns an INSECURE set with ring degree 2^11 (2048 slots).
func InsecureN11() *he.ParamSet { load(); return n11 }

// InsecureN12HighTau returns an INSECURE set with ring degree 2^12 and the
// circuit of he.N15V3, which he.N15V4 shares (the two differ in their P
// primes only): thresholds τ ≥ he.N15V3's MinTau only.
func InsecureN12HighTau() *he.ParamSet { load(); return n12hi }

// InsecureN11HighTau returns an INSECURE set with ring degree 2^11 and the
// circuit of he.N15V3.
func InsecureN11HighTau() *he.ParamSet { load(); return n11hi }
