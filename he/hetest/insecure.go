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

func spec(logN int, id he.ParamSetID) he.ParamSpec {
	logQ := []int{60}
	for i := 0; i < 17; i++ {
		logQ = append(logQ, 35)
	}
	return he.ParamSpec{
		ID:              id,
		Name:            fmt.Sprintf("INSECURE-test-n%d", logN),
		Insecure:        true,
		LogN:            logN,
		LogQ:            logQ,
		LogP:            []int{45, 45, 45, 45, 45},
		LogScale:        35,
		LogProbeScale:   40,
		LogGalleryScale: 24,
	}
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
