//go:build puente_testparams

package protocol

import (
	"context"
	"fmt"
	"testing"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/protect"
)

// BenchmarkSearch measures one Search over loopback TLS between two in-process nodes (protect,
// encrypt, stream, evaluate, answer, decide) beside the plaintext scan of the same protected
// gallery, on the INSECURE N = 2^12 set. The ratio is the figure; absolute times move with the
// machine. Run: go test ./protocol -run '^$' -bench Search -benchtime 5x
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		a, r := newPair(b, pairOptions{params: hetest.InsecureN12().Name()})
		ctx := context.Background()
		if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
			b.Fatal(err)
		}
		gal := rawVectors(60, n)
		if _, err := r.Enrol(ctx, "alpha", refs("s", n), f32(gal), EnrolOptions{}); err != nil {
			b.Fatal(err)
		}
		probe := near(61, gal[n/2], 0.1)
		if _, err := a.Search(ctx, "beta", Probe{Raw: probe}, ""); err != nil { // packs the gallery
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("encrypted/gallery=%d", n), func(b *testing.B) {
			var res *Result
			for i := 0; i < b.N; i++ {
				var err error
				if res, err = a.Search(ctx, "beta", Probe{Raw: probe}, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.BytesSent), "query-bytes")
			b.ReportMetric(float64(res.BytesRecv), "answer-bytes")
		})
		pg, _, err := a.Protect(ctx, "beta", gal)
		if err != nil {
			b.Fatal(err)
		}
		pp, _, _ := a.Protect(ctx, "beta", [][]float64{probe})
		b.Run(fmt.Sprintf("plaintext/gallery=%d", n), func(b *testing.B) {
			hits := 0
			for i := 0; i < b.N; i++ {
				for _, g := range pg {
					if protect.Dot(pp[0], g) >= 0.9 {
						hits++
					}
				}
			}
			if hits == 0 {
				b.Fatal("the mated probe hits nothing in plaintext")
			}
		})
		a.stop(b)
		r.stop(b)
	}
}
