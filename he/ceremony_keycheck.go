package he

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// ErrKeyCheck reports a joint key check whose two halves do not agree: the
// keys of the ceremony do not decrypt what they should under the sum of
// the two shares. The keys must not be used; the ceremony is over.
var ErrKeyCheck = errors.New("he: joint key check failed")

// KeyCheckGrids is the number of independent rounding grids of a key
// check (see [Ceremony.KeyCheck]).
const KeyCheckGrids = 4

// KeyCheckDigests are one party's digests of one direction's key check,
// one per rounding grid.
type KeyCheckDigests [KeyCheckGrids][32]byte

// KeyCheck is one party's half of the joint functional check of a finished
// ceremony's keys. It holds no secret: only this party's digests and the
// digests it expects from the peer.
type KeyCheck struct {
	mine, expect KeyCheckDigests
}

// Digests returns this party's digests, to send to the peer.
func (k *KeyCheck) Digests() KeyCheckDigests { return k.mine }

// Verify compares the peer's digests with the ones an honest peer holding
// keys that work would send. It returns the number of grids on which they
// agree, and [ErrKeyCheck] when none does. The comparison is constant time.
func (k *KeyCheck) Verify(peer KeyCheckDigests) (int, error) {
	n := 0
	for g := range peer {
		n += subtle.ConstantTimeCompare(peer[g][:], k.expect[g][:])
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: none of the %d rounding grids agrees with the peer's", ErrKeyCheck, KeyCheckGrids)
	}
	return n, nil
}

// keyCheckDomain separates the key-check digests from every other hash.
const keyCheckDomain = "puente/he/key-check/v1\x00"

// KeyCheck runs this party's half of the joint functional check of the
// finished ceremony's keys, before either party uses them. Both parties
// call it with the same seed (drawn jointly: each commits to a contribution
// before either reveals one) and the same binding; each sends the peer its
// [KeyCheck.Digests] and checks the peer's with [KeyCheck.Verify].
//
// # What is checked
//
// From the seed, both parties derive the same random ternary message M and
// the test ciphertext x = (p0 + M, a) under the new collective public key
// (p0, a): an encryption with randomness u = 1 and no added noise, which
// decrypts to M + e with e the public key's own noise. Each party then
// computes, itself and identically, one output ciphertext per check:
//
//   - the public key: x itself, expecting M;
//   - the rotation keys, one check per key level: the sum over the Galois
//     elements g whose keys have that level of the automorphism σ_g(x)
//     computed with the new key at its own level, expecting Σ σ_g(M);
//   - the relinearization key: x·x relinearized at the key's level,
//     expecting M².
//
// Every key is used at its own level, so a key wrong in any residue is
// caught; the check works for whatever [Ceremony.Steps] lists.
//
// # What is compared, and what is revealed
//
// For an output (c0, c1) with expected plaintext E, the querier holds
// a = c0 + c1·s_Q - E and the responder b = -c1·s_R; a - b = c0 + c1·s - E
// is the output's small noise δ when the keys work, and a uniform element
// of R_Q when a key is wrong. No decryption share is sent. Each party
// lifts its value to centred integers, shifts each coefficient by a public
// random offset t in [0, W) and rounds down to a multiple of W; the parties
// exchange SHA-256 digests of the rounded vectors, bound to the caller's
// binding, the key set and the sender's role (so a digest cannot be echoed
// back), on KeyCheckGrids independent grids (independent offsets).
//
// With W = 2^w ≥ 2^11·N·σ_δ (σ_δ an upper bound on the standard deviation
// of an honest δ, see checkNoise), the two roundings of a coefficient
// differ with probability |δ_j|/W over the offset, so a grid disagrees with
// probability at most N·E|δ|/W < 2^-11 and all KeyCheckGrids grids with
// probability below 2^-44: an honest ceremony passes. Wrong keys make
// a - b uniform modulo Q_L ≫ W, and no grid agrees. A key error that adds
// ν per coefficient passes a grid with probability about exp(-N·ν/W), so
// errors above about 7W/N = 2^14·σ_δ are caught with probability 1 - 2^-40.
//
// What a party learns from the check is whether each grid agrees: at most
// KeyCheckGrids bits, about the honest noise δ, per ceremony. Unlike
// noise-flooded decryption shares, this does not depend on the peer's
// behaviour: a peer whose shares are computed from a huge secret s_R can
// make the decrypted product carry s_R·s·c1² terms that a flooded share
// would reveal, but here it only makes the grids disagree.
func (c *Ceremony) KeyCheck(seed [32]byte, bind []byte) (*KeyCheck, error) {
	if !c.Done() || c.sk == nil {
		return nil, fmt.Errorf("%w: the key check needs a finished ceremony whose secret share is still held", ErrState)
	}
	outs, err := c.checkOutputs(seed)
	if err != nil {
		return nil, c.fail(err)
	}
	k := &KeyCheck{}
	var rounded [KeyCheckGrids][][]byte
	for i, o := range outs {
		r, err := c.roundCheck(seed, i, o)
		if err != nil {
			return nil, c.fail(err)
		}
		for g := range rounded {
			rounded[g] = append(rounded[g], r[g])
		}
	}
	for g := range rounded {
		k.mine[g] = c.checkDigest(bind, c.role, g, rounded[g])
		k.expect[g] = c.checkDigest(bind, c.role.peer(), g, rounded[g])
		for _, b := range rounded[g] {
			clear(b)
		}
	}
	return k, nil
}

// checkOutput is one check: the output ciphertext, its expected plaintext
// (NTT domain, at the output's level) and the bound on an honest δ.
type checkOutput struct {
	name  string
	ct    *rlwe.Ciphertext
	want  ring.Poly
	sigma float64
}

// checkOutputs computes the check ciphertexts from the seed and the keys.
func (c *Ceremony) checkOutputs(seed [32]byte) ([]checkOutput, error) {
	ps, params, keys := c.ps, c.ps.params, c.keys
	top := ps.topLevel()
	ringQ := params.RingQ().AtLevel(top)
	prng, err := checkPRNG(seed, "message", 0, 0)
	if err != nil {
		return nil, err
	}
	ts, err := ring.NewSampler(prng, ringQ, ring.Ternary{P: 2.0 / 3}, false)
	if err != nil {
		return nil, fmt.Errorf("he: key check: %w", err)
	}
	m := ringQ.NewPoly()
	ts.Read(m)
	ringQ.NTT(m, m)
	// Lattigo keeps public keys in the NTT and Montgomery domains, and
	// ciphertexts in the NTT domain only.
	x := ckks.NewCiphertext(params, 1, top)
	ringQ.IMForm(keys.pk.Value[0].Q, x.Value[0])
	ringQ.Add(x.Value[0], m, x.Value[0])
	ringQ.IMForm(keys.pk.Value[1].Q, x.Value[1])
	x.IsNTT = true

	n := float64(params.N())
	se2 := 2 * 3.2 * 3.2 // variance of the public key's noise: two parties' Gaussians
	outs := []checkOutput{{name: "public key", ct: x, want: m, sigma: math.Sqrt(se2)}}

	eval := ckks.NewEvaluator(params, keys.keySet())
	byLevel := map[int][]uint64{}
	for _, s := range c.Steps() {
		if s.Kind == StepGalois {
			l := ps.galoisLevel(c.maxDims, s.GaloisElement)
			byLevel[l] = append(byLevel[l], s.GaloisElement)
		}
	}
	levels := make([]int, 0, len(byLevel))
	for l := range byLevel {
		levels = append(levels, l)
	}
	slices.Sort(levels)
	for _, l := range levels {
		rq := params.RingQ().AtLevel(l)
		sum := ckks.NewCiphertext(params, 1, l)
		sum.IsNTT = true
		want := rq.NewPoly()
		xl := x.CopyNew()
		xl.Resize(1, l)
		ml := truncate(m, l)
		rot := ckks.NewCiphertext(params, 1, l)
		tmp := rq.NewPoly()
		// The rotations of one level share the decomposition of c1 (hoisting).
		lp := params.MaxLevelP()
		decomp := make([]ringqp.Poly, params.BaseRNSDecompositionVectorSize(l, lp))
		for i := range decomp {
			decomp[i] = params.RingQP().AtLevel(l, lp).NewPoly()
		}
		eval.DecomposeNTT(l, lp, lp+1, xl.Value[1], true, decomp)
		for _, g := range byLevel[l] {
			if err := eval.AutomorphismHoisted(l, xl, decomp, g, rot); err != nil {
				return nil, fmt.Errorf("he: key check: rotation key %d: %w", g, err)
			}
			rq.Add(sum.Value[0], rot.Value[0], sum.Value[0])
			rq.Add(sum.Value[1], rot.Value[1], sum.Value[1])
			rq.AutomorphismNTT(ml, g, tmp)
			rq.Add(want, tmp, want)
		}
		k := float64(len(byLevel[l]))
		outs = append(outs, checkOutput{name: fmt.Sprintf("rotation keys at level %d", l), ct: sum, want: want,
			sigma: math.Sqrt(k * (se2 + n/4))})
	}

	rl := ps.relinLevel()
	xr := x.CopyNew()
	xr.Resize(1, rl)
	prod, err := eval.MulRelinNew(xr, xr)
	if err != nil {
		return nil, fmt.Errorf("he: key check: relinearization key: %w", err)
	}
	mr := truncate(m, rl)
	want := params.RingQ().AtLevel(rl).NewPoly()
	params.RingQ().AtLevel(rl).MulCoeffsBarrett(mr, mr, want)
	outs = append(outs, checkOutput{name: "relinearization key", ct: prod, want: want,
		sigma: math.Sqrt(n * (8*se2 + 4*se2*se2 + 0.25))})
	return outs, nil
}

// truncate returns the first level+1 residues of p, copied.
func truncate(p ring.Poly, level int) ring.Poly {
	out := ring.Poly{Coeffs: make([][]uint64, level+1)}
	for i := range out.Coeffs {
		out.Coeffs[i] = slices.Clone(p.Coeffs[i])
	}
	return out
}

// checkLogW is log2 of the rounding width W of a check whose honest noise
// has standard deviation at most sigma: W ≥ 2^11·N·sigma.
func (c *Ceremony) checkLogW(sigma float64) int {
	return int(math.Ceil(math.Log2(float64(c.ps.params.N())*sigma))) + 11
}

// roundCheck computes this party's part of one check and its rounding on
// every grid, each encoded as fixed-width big-endian integers.
func (c *Ceremony) roundCheck(seed [32]byte, index int, o checkOutput) ([KeyCheckGrids][]byte, error) {
	var out [KeyCheckGrids][]byte
	params := c.ps.params
	l := o.ct.Level()
	rq := params.RingQ().AtLevel(l)
	v := rq.NewPoly()
	defer zeroPoly(v)
	sk := truncate(c.sk.Value.Q, l)
	defer zeroPoly(sk)
	rq.MulCoeffsMontgomery(o.ct.Value[1], sk, v) // c1·s (s is in Montgomery form)
	if c.role == RoleQuerier {
		rq.Add(v, o.ct.Value[0], v)
		rq.Sub(v, o.want, v)
	} else {
		rq.Neg(v, v)
	}
	rq.INTT(v, v)
	coeffs := make([]*big.Int, params.N())
	for i := range coeffs {
		coeffs[i] = new(big.Int)
	}
	rq.PolyToBigintCentered(v, 1, coeffs)
	defer func() {
		for _, x := range coeffs {
			if x != nil {
				clear(x.Bits())
			}
		}
	}()
	logW := c.checkLogW(o.sigma)
	q := rq.ModulusAtLevel[l]
	if logW > 62 || q.BitLen() < logW+40 {
		return out, fmt.Errorf("he: key check: %s: rounding width 2^%d does not fit the %d-bit modulus at level %d", o.name, logW, q.BitLen(), l)
	}
	// Rounded values lie in [-Q/2^(w+1) - 1, Q/2^(w+1)]; offset them to be non-negative.
	offset := new(big.Int).Rsh(q, uint(logW+1))
	offset.Add(offset, big.NewInt(1))
	width := (q.BitLen() - logW + 1 + 7) / 8
	mask := uint64(1)<<logW - 1
	r := new(big.Int)
	t := new(big.Int)
	for g := range out {
		prng, err := checkPRNG(seed, "shift", index, g)
		if err != nil {
			return out, err
		}
		buf := make([]byte, len(coeffs)*width)
		var word [8]byte
		for j, x := range coeffs {
			if _, err := prng.Read(word[:]); err != nil {
				return out, fmt.Errorf("he: key check: %w", err)
			}
			t.SetUint64(binary.LittleEndian.Uint64(word[:]) & mask)
			r.Add(x, t)
			r.Rsh(r, uint(logW)) // floor division: Rsh is an arithmetic shift
			r.Add(r, offset)
			r.FillBytes(buf[j*width : (j+1)*width])
		}
		clear(r.Bits())
		out[g] = buf
	}
	return out, nil
}

// checkDigest is the digest a party of role sends for grid g.
func (c *Ceremony) checkDigest(bind []byte, role Role, g int, rounded [][]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(keyCheckDomain))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(bind)))
	h.Write(n[:])
	h.Write(bind)
	h.Write(c.id[:])
	h.Write([]byte{byte(role), byte(g)})
	for i, b := range rounded {
		binary.BigEndian.PutUint32(n[:], uint32(i))
		h.Write(n[:])
		h.Write(b)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// checkPRNG is the key check's keyed XOF for one use of the seed.
func checkPRNG(seed [32]byte, label string, index, grid int) (*sampling.KeyedPRNG, error) {
	key := make([]byte, 0, 64)
	key = append(key, seed[:]...)
	key = append(key, label...)
	key = binary.BigEndian.AppendUint32(key, uint32(index))
	key = binary.BigEndian.AppendUint32(key, uint32(grid))
	return sampling.NewKeyedPRNG(key)
}
