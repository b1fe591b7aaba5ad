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
)

// TestResponseHoldsOnlyTheDecision decodes responses at full precision
// (what a querier could do instead of DecodePublic) and checks that every
// slot but the decision's is zero up to the flooding noise, that the noise
// has the standard deviation the parameter set promises (2^-5 per slot),
// and that the decision slot carries the same noise around the integer.
func TestResponseHoldsOnlyTheDecision(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(21, 21))
	gal, probe := galleryWithScores(rng, 500, 128, map[int]float64{42: 0.9})
	g, err := he.Pack(ps, 128, gal, he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(22))
	if err != nil {
		t.Fatal(err)
	}
	var slot0 []float64
	for _, mode := range []he.Mode{he.ModeCount, he.ModeAny} {
		for seed := uint64(0); seed < 4; seed++ {
			resp, _, err := f.r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Mode: mode}, hetest.Reader(100+seed))
			if err != nil {
				t.Fatal(err)
			}
			v := f.qr.DecodeRaw(resp, 0)
			var s2, worst float64
			for _, x := range v[1:] {
				s2 += x * x
				worst = math.Max(worst, math.Abs(x))
			}
			std := math.Sqrt(s2 / float64(len(v)-1))
			if math.Abs(math.Log2(std)+5) > 0.1 {
				t.Errorf("%v: noise of the empty slots 2^%.3f, want 2^-5", mode, math.Log2(std))
			}
			if worst > 0.25 {
				t.Errorf("%v: an empty slot decodes to %.3f, beyond the 1/4 that rounds to 0", mode, worst)
			}
			slot0 = append(slot0, v[0]-1)
		}
	}
	// The decision slot is 1 plus noise of the same size: the querier
	// does not see the evaluation error at finer precision.
	var m, s2 float64
	for _, x := range slot0 {
		m += x / float64(len(slot0))
	}
	for _, x := range slot0 {
		s2 += (x - m) * (x - m) / float64(len(slot0)-1)
	}
	if sd := math.Sqrt(s2); sd < 0.01 || math.Abs(m) > 0.1 {
		t.Errorf("decision slot around 1: mean offset %.4f, spread %.4f over %d responses", m, sd, len(slot0))
	}
}

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

func TestDecideRefusesTamperedResponses(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(25, 25))
	gal := hetest.UnitVectors(rng, 50, 64)
	g, _ := he.Pack(ps, 64, gal, he.PackOptions{})
	q, _ := f.qr.EncryptProbe(gal[0], hetest.Reader(26))
	resp, _, err := f.r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}}, hetest.Reader(27))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := resp.MarshalBinary()
	// Change residues of d: the result no longer decodes to a decision.
	for i := 200; i < 4000; i += 7 {
		b[len(b)/2+i] ^= 0x5a
	}
	bad, err := he.ReadResponse(ps, b)
	if err == nil {
		_, err = f.qr.Decide(q, bad)
	}
	if !errors.Is(err, he.ErrResult) && !errors.Is(err, he.ErrMalformed) {
		t.Errorf("tampered response: %v, want ErrResult or ErrMalformed", err)
	}
	// A response to another query is refused.
	q2, _ := f.qr.EncryptProbe(gal[1], hetest.Reader(28))
	if _, err := f.qr.Decide(q2, resp); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("response to another query: %v, want ErrMismatch", err)
	}
}
