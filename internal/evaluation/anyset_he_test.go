//go:build puente_testparams

package evaluation

import (
	"context"
	"math"
	"testing"

	"github.com/puente-id/puente/he/hetest"
)

// TestRunSample512 runs real encrypted searches (on the INSECURE test
// set) with the recommended PolyProtect templates of a 512-d set, m = 508
// packed at max dims 512, and checks them against the emulation.
func TestRunSample512(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a key ceremony and real encrypted searches")
	}
	c := reduced(synthetic(t, 60, 4, 512, 1))
	c.HEParams, c.HESearches = hetest.InsecureN12(), 4
	rep, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	sm := rep.Sections[secSample-1].(*sampleSection).enc.Sample
	if sm == nil || len(sm.Items) != 4 || sm.MaxDims != 512 || sm.Params.OutputDim() != 508 {
		t.Fatalf("sample %+v", sm)
	}
	// The emulation draws its own noise: an item whose noise-free count is
	// within the noise of 1/2 (a tenth, some ten standard deviations) may open
	// either way in each.
	for _, it := range sm.Items {
		near := math.Abs(it.Value-0.5) < 0.1
		if it.Encrypted != it.Emulated && !near {
			t.Errorf("%+v: the encrypted outcome differs from the emulated one, %v from 1/2", it, math.Abs(it.Value-0.5))
		}
	}
	if outside, wrong := sm.OutsideBand(); outside == 0 || wrong != 0 {
		t.Errorf("%d items outside the band, %d of them decided otherwise than exactly", outside, wrong)
	}
}
