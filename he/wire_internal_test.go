package he

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

func TestPackRowRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps, _ := Lookup(N15V2)
	for _, q := range append(ps.params.Q(), ps.params.P()...) {
		w := uint(bits.Len64(q - 1))
		src := make([]uint64, 256)
		want := make([]uint64, len(src))
		for i := range src {
			src[i] = rng.Uint64N(q)
			if i%3 == 0 {
				// Lattigo leaves some residues lazily reduced in [q, 2q):
				// they must be reduced, not truncated (regression).
				src[i] += q
			}
			want[i] = src[i] % q
		}
		b := packRow(nil, src, w, q)
		if len(b) != rowBytes(len(src), w) {
			t.Fatalf("q=%#x: %d bytes, want %d", q, len(b), rowBytes(len(src), w))
		}
		got := make([]uint64, len(src))
		if !unpackRow(got, b, w, q) {
			t.Fatalf("q=%#x: residue out of range after a round trip", q)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("q=%#x i=%d: got %d, want %d", q, i, got[i], want[i])
			}
		}
		// A residue >= q on the wire is refused.
		bad := packRow(nil, []uint64{0, 0, 0, 0, 0, 0, 0, q - 1}, w, q)
		setTopResidue(bad, w, 7, q)
		if unpackRow(make([]uint64, 8), bad, w, q) {
			t.Errorf("q=%#x: residue q accepted", q)
		}
	}
}

// setTopResidue overwrites residue i of a packed row with v (< 2^w).
func setTopResidue(b []byte, w uint, i int, v uint64) {
	for k := uint(0); k < w; k++ {
		bit := uint(i)*w + k
		b[bit/8] &^= 1 << (bit % 8)
		b[bit/8] |= byte(v>>k&1) << (bit % 8)
	}
}
