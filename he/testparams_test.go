package he_test

import (
	"errors"
	"testing"

	"github.com/puente-id/puente/he"
)

// TestInsecureSetsNeedTheBuildTag checks that only a build made with -tags puente_testparams can
// build an INSECURE parameter set: the default build refuses one by name.
func TestInsecureSetsNeedTheBuildTag(t *testing.T) {
	prod, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	spec := prod.Spec()
	spec.ID, spec.Name, spec.Insecure, spec.LogN = he.FirstTestID+99, "INSECURE-probe", true, 11
	_, err = he.NewParamSet(spec)
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
