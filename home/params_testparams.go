//go:build puente_testparams

package home

import (
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func init() {
	testParamSets = func() []*he.ParamSet {
		return []*he.ParamSet{hetest.InsecureN12(), hetest.InsecureN11(), hetest.InsecureN12HighTau(), hetest.InsecureN11HighTau()}
	}
}
