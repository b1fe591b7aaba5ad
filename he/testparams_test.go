package he_test

import (
	"errors"
	"testing"

	"github.com/puente-id/puente/he"
)

// TestInsecureSetsNeedTheBuildTag checks that only a build made with -tags puente_testparams can
// build an INSECURE parameter set: the default build refuses one by name.
func TestInsecureSetsNeedTheBuildTag(t *testing.T) {
	spec := he.ParamSpec{
		ID: he.FirstTestID + 99, Name: "INSECURE-probe", Insecure: true, LogN: 11,
		LogQ: []int{60, 35}, LogP: []int{45}, LogScale: 35, LogProbeScale: 40, LogGalleryScale: 24,
	}
	_, err := he.NewParamSet(spec)
	if he.TestParamsEnabled() {
		if errors.Is(err, he.ErrInsecureParams) {
			t.Fatalf("a build with the tag refused an insecure set for the tag: %v", err)
		}
		return
	}
	if !errors.Is(err, he.ErrInsecureParams) {
		t.Fatalf("the default build built or refused an INSECURE set for another reason: %v", err)
	}
}
