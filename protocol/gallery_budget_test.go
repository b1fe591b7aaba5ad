//go:build puente_testparams

package protocol

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
)

// TestGalleryMemoryBudget: beta, configured with gallery_memory_budget = 0, packs the gallery
// alpha searches with no block in NTT form (only the compact coefficients) and still answers
// alpha's searches as the plaintext scan does; alpha, without the option, keeps every block of
// the gallery beta searches in NTT form.
func TestGalleryMemoryBudget(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	appendFile(t, filepath.Join(b.home, "puente.hcl"), "\ngallery_memory_budget = 0\n")
	b.restart(t)
	if got := b.Config().GalleryMemoryBudget; got != 0 {
		t.Fatalf("beta's gallery_memory_budget is %d, want 0", got)
	}
	if got := a.Config().GalleryMemoryBudget; got != -1 {
		t.Fatalf("alpha's gallery_memory_budget is %d, want the default -1", got)
	}
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	galA, galB := rawVectors(60, 6), rawVectors(61, 6)
	if _, err := a.Enrol(ctx, "beta", refs("a", len(galA)), f32(galA), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Enrol(ctx, "alpha", refs("b", len(galB)), f32(galB), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}

	const tau = 0.9
	if !checkSearch(t, a, "beta", galB, near(62, galB[4], 0.1), tau) {
		t.Error("a mated probe against beta's gallery without NTT blocks: no hit")
	}
	if checkSearch(t, a, "beta", galB, rawVectors(63, 1)[0], tau) {
		t.Error("a non-mated probe against beta's gallery without NTT blocks: hit")
	}

	compact, full := packedBytes(t, b, "alpha")
	if got := packedFor(t, b, "alpha").MemoryBytes(); got != compact {
		t.Errorf("beta (budget 0) holds %d bytes of its packed gallery, want %d (no block in NTT form; %d with every block)", got, compact, full)
	}
	compact, full = packedBytes(t, a, "beta")
	if got := packedFor(t, a, "beta").MemoryBytes(); got != full {
		t.Errorf("alpha (default budget) holds %d bytes of its packed gallery, want %d (every block in NTT form; %d with none)", got, full, compact)
	}
}

// packedFor returns the node's gallery for the partner as packed for search.
func packedFor(t *testing.T, n *testNode, partner string) *he.Gallery {
	t.Helper()
	g := n.partners[partner].gallery()
	if g == nil {
		t.Fatalf("%s has no gallery for %s", n.name, partner)
	}
	pg, err := g.packed.Get()
	if err != nil {
		t.Fatal(err)
	}
	return pg.g
}

// packedBytes returns the bytes a gallery of the same shape as the node's packed gallery for the
// partner holds with no block in NTT form and with every block in NTT form.
func packedBytes(t *testing.T, n *testNode, partner string) (compact, full int64) {
	t.Helper()
	g := packedFor(t, n, partner)
	rows := make([][]float64, g.Len())
	for i := range rows {
		rows[i] = make([]float64, g.Dims())
	}
	for _, budget := range []int64{0, -1} {
		ref, err := he.Pack(n.partners[partner].ps, g.Dims(), rows, he.PackOptions{MemoryBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		if budget == 0 {
			compact = ref.MemoryBytes()
		} else {
			full = ref.MemoryBytes()
		}
	}
	if g.Blocks() < 1 || compact >= full {
		t.Fatalf("%d blocks: %d bytes without NTT forms, %d with: the test cannot tell them apart", g.Blocks(), compact, full)
	}
	return compact, full
}
