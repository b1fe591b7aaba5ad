//go:build puente_testparams

package he

import (
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// TestPackOnCiphertexts runs Responder.pack itself (its rotations, gains
// and basis elements) on encryptions of plaintexts whose every coefficient
// is uniform mod q0, and checks A[0] = G·C[0], A[1] = Y[0] and A[2] = P[0]
// up to the key switches' rounding noise: another coefficient leaking into
// one of them would be off by about q0/2 on average. It also checks the
// Galois elements of the rotations by S/2, S/4 and S/8 that
// TestPackReadsCountAndNorms and the pack's comment rely on. The
// production sets and the same chains on N = 2^11 and 2^12.
func TestPackOnCiphertexts(t *testing.T) {
	var sets []*ParamSet
	for _, base := range []ParamSpec{n15v2Spec, n15v3Spec} {
		sets = append(sets, builtin[base.ID])
		for _, logN := range []int{11, 12} {
			s := base
			s.ID, s.Name, s.Insecure, s.LogN = FirstTestID+0x70+ParamSetID(logN)+ParamSetID(base.ID&0xf)<<4, "INSECURE-pack-test", true, logN
			ps, err := NewParamSet(s)
			if err != nil {
				t.Fatal(err)
			}
			sets = append(sets, ps)
		}
	}
	for i, ps := range sets {
		params := ps.params
		N, S := uint64(params.N()), ps.Slots()
		g2, g4, g8 := params.GaloisElement(S/2), params.GaloisElement(S/4), params.GaloisElement(S/8)
		ok8 := false
		for _, k := range []uint64{1, 3, 5, 7} {
			ok8 = ok8 || g8 == (1+k*N/2)%(4*N)
		}
		if g2 != 2*N+1 || (g4 != N+1 && g4 != 3*N+1) || !ok8 {
			t.Errorf("%s, N = %d: rotations by S/2, S/4, S/8 are X -> X^%d, X^%d, X^%d", ps.Name(), N, g2, g4, g8)
		}
		kg := rlwe.NewKeyGenerator(params)
		sk := kg.GenSecretKeyNew()
		lvl, lp := answerLevel, params.MaxLevelP()
		evp := rlwe.EvaluationKeyParameters{LevelQ: &lvl, LevelP: &lp}
		var gks []*rlwe.GaloisKey
		for _, g := range []uint64{g2, g4, g8} {
			gks = append(gks, kg.GenGaloisKeyNew(g, sk, evp))
		}
		r := &Responder{ps: ps, eval: ckks.NewEvaluator(params, rlwe.NewMemEvaluationKeySet(nil, gks...))}
		ringQ := params.RingQ().AtLevel(answerLevel)
		q0 := params.Q()[0]
		rng := rand.New(rand.NewPCG(5, uint64(i)))
		enc, dec := rlwe.NewEncryptor(params, sk), rlwe.NewDecryptor(params, sk)
		random := func() (*rlwe.Ciphertext, uint64) {
			pt := rlwe.NewPlaintext(params, answerLevel)
			for j := range pt.Value.Coeffs[0] {
				pt.Value.Coeffs[0][j] = rng.Uint64N(q0)
			}
			c0 := pt.Value.Coeffs[0][0]
			ringQ.NTT(pt.Value, pt.Value)
			pt.IsNTT = true
			ct, err := enc.EncryptNew(pt)
			if err != nil {
				t.Fatal(err)
			}
			return ct, c0
		}
		c, wc := random()
		y, wy := random()
		p, wp := random()
		a, err := r.pack(c, probeNorms{y, p})
		if err != nil {
			t.Fatal(err)
		}
		pt := dec.DecryptNew(a)
		ringQ.INTT(pt.Value, pt.Value)
		want := [3]uint64{mulMod(countGain, wc, q0), wy, wp}
		for k, name := range answerNames[:3] {
			d := int64(pt.Value.Coeffs[0][k] - want[k]) // two's complement: the signed difference when small
			if d > 1<<12 || d < -(1<<12) {
				t.Errorf("%s, N = %d: A[%d] is %d units from the %s's coefficient, want the key switches' noise (below 2^12)", ps.Name(), N, k, d, name)
			}
		}
	}
}
