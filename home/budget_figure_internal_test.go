package home

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/puente-id/puente/he"
)

// TestDefaultConfigBlockFigure: the puente.hcl that puente init writes tells
// the operator how many bytes one block's NTT plaintexts take, to size
// gallery_memory_budget. The budget keeps floor(budget / per-block) blocks
// (he.Gallery.precompute), so the figure must not be below what a block
// takes on a production parameter set: a budget of k times a smaller figure
// keeps fewer than k blocks (576 MiB keeps none on puente-ckks-n15-v2).
func TestDefaultConfigBlockFigure(t *testing.T) {
	text := defaultConfig(InitOptions{Node: "n"})
	m := regexp.MustCompile(`about (\d+) MiB per block`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("no per-block figure in the default configuration")
	}
	mib, _ := strconv.ParseInt(m[1], 10, 64)
	for _, id := range []he.ParamSetID{he.N15V2, he.N15V3, he.N15V4} {
		ps, err := he.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		_, per := ps.PackedBytes(32768, 128)
		if stated := mib << 20; stated < per {
			t.Errorf("%s: the default configuration says %d MiB per block, a block takes %d MiB: a budget of %d bytes keeps %d blocks, not 1",
				ps.Name(), mib, per>>20, stated, stated/per)
		}
	}
}
