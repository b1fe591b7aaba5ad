package home

import (
	"fmt"
	"strings"

	"github.com/puente-id/puente/he"
)

// testParamSets lists the INSECURE test parameter sets of package hetest. It is nil in the
// default build; a build made with -tags puente_testparams sets it (params_testparams.go), and
// only a node configured with test_node = true may then use them.
var testParamSets func() []*he.ParamSet

// LookupParams returns the HE parameter set with the given name: a production set
// (he.N15V2, "puente-ckks-n15-v2", for every threshold; he.N15V4, "puente-ckks-n15-v4", for
// thresholds of at least its MinTau, 0.9233, and faster; he.N15V3, its predecessor with the same
// circuit and larger keys), or, in a build made with -tags puente_testparams only, one
// of the INSECURE test sets. The default build refuses an INSECURE set by name.
func LookupParams(name string) (*he.ParamSet, error) {
	if ps, err := he.LookupName(name); err == nil {
		return ps, nil
	}
	if why, ok := he.Retired(name); ok {
		return nil, fmt.Errorf("protocol: HE parameter set %q is retired: %s", name, why)
	}
	if testParamSets == nil {
		if strings.HasPrefix(name, "INSECURE-") {
			return nil, fmt.Errorf("protocol: HE parameter set %q: %w (build with -tags puente_testparams for tests)", name, he.ErrInsecureParams)
		}
	} else {
		for _, ps := range testParamSets() {
			if ps.Name() == name {
				return ps, nil
			}
		}
	}
	return nil, fmt.Errorf("protocol: unknown HE parameter set %q (want puente-ckks-n15-v2, or puente-ckks-n15-v4 or puente-ckks-n15-v3 for thresholds from 0.9233)", name)
}
