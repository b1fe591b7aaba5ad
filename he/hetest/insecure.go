//go:build puente_testparams

package hetest

import (
	"fmt"
	"sync"

	"github.com/puente-id/puente/he"
)

// IDs of the insecure test sets.
const (
	InsecureN12ID he.ParamSetID = he.FirstTestID + 12
	InsecureN11ID he.ParamSetID = he.FirstTestID + 11
)

// spec is the production set's spec on a ring too small for its modulus:
// the same primes, levels, scales and circuit, no security at all.
func spec(logN int, id he.ParamSetID) he.ParamSpec {
	prod, err := he.Lookup(he.N15V2)
	if err != nil {
		panic(err)
	}
	s := prod.Spec()
	s.ID, s.Name, s.Insecure, s.LogN = id, fmt.Sprintf("INSECURE-test-n%d", logN), true, logN
	return s
}

var (
	once     sync.Once
	n12, n11 *he.ParamSet
	initErr  error
)

func load() {
	once.Do(func() {
		if n12, initErr = he.NewParamSet(spec(12, InsecureN12ID)); initErr != nil {
			return
		}
		n11, initErr = he.NewParamSet(spec(11, InsecureN11ID))
	})
	if initErr != nil {
		panic(initErr)
	}
}

// InsecureN12 returns an INSECURE set with ring degree 2^12 (4096 slots).
func InsecureN12() *he.ParamSet { load(); return n12 }

// InsecureN11 returns an INSECURE set with ring degree 2^11 (2048 slots).
func InsecureN11() *he.ParamSet { load(); return n11 }
