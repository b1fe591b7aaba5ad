package he

import (
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// TestAddZeroMatchesLattigo checks that addZero, which works in NTT form
// with Puente's transforms and ModDown, adds the same integers as Lattigo's
// encryptor's way (addZeroLattigo: out of NTT form for the division by P),
// from the same randomness, at the top level and the answer's, in Go and
// with IFMA.
func TestAddZeroMatchesLattigo(t *testing.T) {
	if testing.Short() {
		t.Skip("generates production-size keys")
	}
	ps, err := Lookup(N15V4)
	if err != nil {
		t.Fatal(err)
	}
	eval, sk := keySwitchFixture(ps)
	pk := rlwe.NewKeyGenerator(ps.params).GenPublicKeyNew(sk)
	r := &Responder{ps: ps, keys: &EvaluationKeys{ps: ps, pk: pk}, eval: eval}
	eachArithmetic(t, func(t *testing.T) {
		for _, level := range []int{ps.topLevel(), answerLevel} {
			prng, _ := sampling.NewKeyedPRNG([]byte("ciphertext"))
			ct := ckks.NewCiphertext(ps.params, 1, level)
			ring.NewUniformSampler(prng, ps.params.RingQ().AtLevel(level)).Read(ct.Value[0])
			ring.NewUniformSampler(prng, ps.params.RingQ().AtLevel(level)).Read(ct.Value[1])
			want := ct.CopyNew()
			p1, _ := sampling.NewKeyedPRNG([]byte("zero"))
			p2, _ := sampling.NewKeyedPRNG([]byte("zero"))
			if err := r.addZero(ct, p1); err != nil {
				t.Fatal(err)
			}
			if err := addZeroLattigo(r, want, p2); err != nil {
				t.Fatal(err)
			}
			for i := range want.Value {
				if !ct.Value[i].Equal(&want.Value[i]) {
					t.Fatalf("level %d: polynomial %d differs from Lattigo's", level, i)
				}
			}
		}
	})
}

// addZeroLattigo is addZero as Lattigo's encryptor computes it: the
// products in NTT form, then out of it, the error added, divided by P
// (ModDownQPtoQ) and back into NTT form.
func addZeroLattigo(r *Responder, ct *rlwe.Ciphertext, prng sampling.PRNG) error {
	ps := r.ps
	level, levelP := ct.Level(), ps.params.MaxLevelP()
	ringQP := ps.params.RingQP().AtLevel(level, levelP)
	ringQ := ringQP.RingQ
	xs, err := ring.NewSampler(prng, ps.params.RingQ(), ps.params.Xs(), false)
	if err != nil {
		return err
	}
	xe, err := ring.NewSampler(prng, ps.params.RingQ(), ps.params.Xe(), false)
	if err != nil {
		return err
	}
	ext := ring.NewBasisExtender(ps.params.RingQ(), ps.params.RingP())
	full := ps.params.RingQP()
	u, e := full.NewPoly(), full.NewPoly()
	c := [2]ringqp.Poly{ringQP.NewPoly(), ringQP.NewPoly()}
	xs.Read(u.Q)
	ringQP.ExtendBasisSmallNormAndCenter(u.Q, levelP, u.Q, u.P)
	ringQP.NTT(u, u)
	for i := range c {
		ringQP.MulCoeffsMontgomery(u, r.keys.pk.Value[i], c[i])
		ringQP.INTT(c[i], c[i])
		xe.Read(e.Q)
		ringQP.ExtendBasisSmallNormAndCenter(e.Q, levelP, e.Q, e.P)
		ringQP.Add(c[i], e, c[i])
		tmp := ringQ.NewPoly()
		ext.ModDownQPtoQ(level, levelP, c[i].Q, c[i].P, tmp)
		ringQ.NTT(tmp, tmp)
		ringQ.Add(ct.Value[i], tmp, ct.Value[i])
	}
	return nil
}
