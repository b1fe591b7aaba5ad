package gallery

import (
	"fmt"
	"path/filepath"
	"testing"
)

// benchStore makes a gallery of n subjects with m = d = 128 (dlib-sized raw features).
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Create(filepath.Join(b.TempDir(), "g.db"), Params{Scheme: testScheme, Dim: 128, RawDim: 128, Epoch: 1},
		testKey(b, 0xD1), testOptions(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	p := &testProtector{epoch: 1, scheme: testScheme, dim: 128}
	for from := 0; from < n; from += 1000 {
		batch := make([]Enrolment, 0, 1000)
		for i := from; i < min(from+1000, n); i++ {
			batch = append(batch, Enrolment{Ref: refFor(i), Raw: rawFor(i, 128)})
		}
		if err := s.Enrol(p, batch); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkSnapshot measures loading the current epoch from disk (decrypt, decode, check) with
// the cache dropped each time, beside the plaintext scan of the same templates (one probe's
// inner products with every row), the computation the snapshot feeds. Compare the two ns/op.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		s := benchStore(b, n)
		b.Run(fmt.Sprintf("load/N=%d", n), func(b *testing.B) {
			for b.Loop() {
				s.mu.Lock()
				s.snapshot = nil
				s.mu.Unlock()
				if _, err := s.Snapshot(); err != nil {
					b.Fatal(err)
				}
			}
		})
		snap, err := s.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		probe := snap.Row(0)
		b.Run(fmt.Sprintf("plainscan/N=%d", n), func(b *testing.B) {
			best := 0.0
			for b.Loop() {
				for i := range snap.Count() {
					var dot float64
					for j, v := range snap.Row(i) {
						dot += v * probe[j]
					}
					best = max(best, dot)
				}
			}
			if best < 0.999 {
				b.Fatalf("probe's own row scored %v", best)
			}
		})
	}
}

// BenchmarkEnrol measures enrolling batches of 1000 subjects (protect, seal twice, one commit).
func BenchmarkEnrol(b *testing.B) {
	s := benchStore(b, 0)
	p := &testProtector{epoch: 1, scheme: testScheme, dim: 128}
	next := 0
	for b.Loop() {
		batch := make([]Enrolment, 0, 1000)
		for i := next; i < next+1000; i++ {
			batch = append(batch, Enrolment{Ref: refFor(i), Raw: rawFor(i, 128)})
		}
		next += 1000
		if err := s.Enrol(p, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReprotect measures re-protecting a gallery of 10,000 subjects under a new epoch.
func BenchmarkReprotect(b *testing.B) {
	s := benchStore(b, 10000)
	epoch := uint64(1)
	for b.Loop() {
		epoch++
		if err := s.Reprotect(b.Context(), &testProtector{epoch: epoch, scheme: testScheme, dim: 128}); err != nil {
			b.Fatal(err)
		}
	}
}
