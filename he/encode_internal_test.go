package he

import (
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestEncodeIntMatchesLattigo checks the gallery's integer encoding against
// Lattigo's Encoder at the same scale.
func TestEncodeIntMatchesLattigo(t *testing.T) {
	ps, _ := Lookup(N15V2)
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float64, ps.Slots())
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	enc := ckks.NewEncoder(ps.params)
	got := ps.encodeInt(enc, v, make([]complex128, ps.Slots()))
	pt := ckks.NewPlaintext(ps.params, 0)
	pt.IsNTT = false
	pt.Scale = ps.galleryScale()
	if err := enc.Encode(v, pt); err != nil {
		t.Fatal(err)
	}
	q0 := ps.params.Q()[0]
	for i, c := range pt.Value.Coeffs[0] {
		want := int64(c)
		if c > q0/2 {
			want = -int64(q0 - c)
		}
		if int64(got[i]) != want {
			t.Fatalf("coefficient %d: %d, Lattigo %d", i, got[i], want)
		}
	}
}
