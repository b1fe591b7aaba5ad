//go:build puente_testparams

package he_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/opening"
)

// TestResponderAloneCannotDecrypt decrypts the probe with the responder's
// share alone: the result must look like noise, uncorrelated with the
// probe, and orders of magnitude larger than it.
func TestResponderAloneCannotDecrypt(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(23, 23))
	probe := hetest.UnitVector(rng, 128)
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(24))
	if err != nil {
		t.Fatal(err)
	}
	v := f.r.DecodeWithOneShare(q)
	var sxy, sxx, syy, sv float64
	for k, x := range v {
		y := probe[k%128]
		sxy += x * y
		sxx += x * x
		syy += y * y
		sv += x * x
	}
	corr := sxy / math.Sqrt(sxx*syy)
	if math.Abs(corr) > 0.08 {
		t.Errorf("decryption with the responder's share correlates with the probe: %.3f", corr)
	}
	if rms := math.Sqrt(sv / float64(len(v))); rms < 1e3 {
		t.Errorf("decryption with the responder's share has rms %.3g: not noise", rms)
	}
}

// TestSharesRefuseWrongAnswers: an answer to another query is refused, and
// an answer changed in transit cannot open to a hit: the tag no longer
// matches (the opening's MAC), whatever was changed.
func TestSharesRefuseWrongAnswers(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(25, 25))
	gal := hetest.UnitVectors(rng, 50, 64)
	g, _ := he.Pack(ps, 64, gal, he.PackOptions{})
	q, _ := f.qr.EncryptProbe(gal[0], hetest.Reader(26))
	ans, sec, err := f.r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(27))
	if err != nil {
		t.Fatal(err)
	}
	x, err := f.qr.Shares(q, ans)
	if err != nil || !opening.Reference(ps.OpeningParams(), sec, x) {
		t.Fatalf("the untouched answer does not open to a hit: %v", err)
	}
	b, _ := ans.MarshalBinary()
	// Change a residue of the count's c1, then of the tag's.
	for _, at := range []int{len(b) / 3, len(b) - 5} {
		bad := append([]byte(nil), b...)
		bad[at] ^= 0x01
		a2, err := he.ReadAnswer(ps, bad)
		if err != nil {
			continue // refused outright: a residue out of range
		}
		x2, err := f.qr.Shares(q, a2)
		if err != nil {
			t.Fatal(err)
		}
		if opening.Reference(ps.OpeningParams(), sec, x2) {
			t.Errorf("byte %d changed: still opens to a hit", at)
		}
	}
	// An answer to another query is refused.
	q2, _ := f.qr.EncryptProbe(gal[1], hetest.Reader(28))
	if _, err := f.qr.Shares(q2, ans); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("answer to another query: %v, want ErrMismatch", err)
	}
}
