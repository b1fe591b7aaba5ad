package he

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/big"
	mrand "math/rand/v2"
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
const KeyCheckGrids = 24

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
// exchange SHA-256 digests of the rounded vectors (each value modulo 2^64),
// bound to the caller's
// binding, the key set and the sender's role (so a digest cannot be echoed
// back), on KeyCheckGrids independent grids (independent offsets). The
// check passes when at least one grid agrees.
//
// Each of the C outputs has its own width W = 2^w ≥ 4·C·N·σ_δ (σ_δ an
// upper bound on the standard deviation, and so on E|δ_j|, of its honest
// noise, see checkOutputs; TestKeyCheck measures it). The two roundings of
// a coefficient differ with probability |δ_j|/W over the offset, so one
// grid disagrees with probability at most Σ N·E|δ|/W ≤ C·N·σ_δ/W ≤ 1/4,
// and all 24 grids (independent given δ) with probability at most
// 4^-24 = 2^-48: an honest ceremony passes. Wrong keys make a - b uniform
// modulo Q_L ≫ W, and no grid agrees. A key error that adds ν per
// coefficient of one output lets a grid agree with probability about
// exp(-N·ν/W), so some grid agrees with probability at most
// 24·exp(-N·ν/W): errors above 31·W/N ≤ 248·C·σ_δ (about 2^10·σ_δ for the
// C = 4 outputs of the current key geometry) are caught with probability
// 1 - 2^-40. Since the honest noise of the rotation checks is dominated by
// key-switching rounding terms r·s, this also bounds the peer's effective
// secret to about 2^10 times an honest one.
//
// What a party learns from the check is whether each grid agrees: at most
// KeyCheckGrids bits about the honest noise δ per ceremony (whose secrets
// are never reused). Unlike noise-flooded decryption shares, this does not
// depend on the peer's behaviour: a peer whose shares are computed from a
// huge secret s_R gets keys correct for s_Q + s_R, and the decryption of a
// relinearised product then carries the cross term s_R·s_Q·c1·c1', which a
// flooded decryption share of ours would reveal once s_R exceeds the
// flooding; here it only makes the grids disagree.
func (c *Ceremony) KeyCheck(seed [32]byte, bind []byte) (*KeyCheck, error) {
	if !c.Done() || c.sk == nil {
		return nil, fmt.Errorf("%w: the key check needs a finished ceremony whose secret share is still held", ErrState)
	}
	outs, err := c.checkOutputs(seed)
	if err != nil {
		return nil, c.fail(err)
	}
	var mine, expect [KeyCheckGrids]hash.Hash
	for g := range mine {
		mine[g], expect[g] = c.checkHash(bind, c.role, g), c.checkHash(bind, c.role.peer(), g)
	}
	for i, o := range outs {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(i))
		err := c.roundCheck(seed, i, len(outs), o, func(g int, rounded []byte) {
			mine[g].Write(n[:])
			mine[g].Write(rounded)
			expect[g].Write(n[:])
			expect[g].Write(rounded)
		})
		if err != nil {
			return nil, c.fail(err)
		}
	}
	k := &KeyCheck{}
	for g := range mine {
		mine[g].Sum(k.mine[g][:0])
		expect[g].Sum(k.expect[g][:0])
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

	eval := trimBuffers(ps, ckks.NewEvaluator(params, keys.keySet()))
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

// checkLogW is log2 of the rounding width W of one of n check outputs
// whose honest noise has standard deviation at most sigma: W ≥ 4·n·N·sigma.
func (c *Ceremony) checkLogW(n int, sigma float64) int {
	return int(math.Ceil(math.Log2(4 * float64(n) * float64(c.ps.params.N()) * sigma)))
}

// roundCheck computes this party's part of one check and hands its rounding
// on every grid to write, each rounded coefficient modulo 2^64 as a
// big-endian word (the buffer is reused: write must not keep it).
func (c *Ceremony) roundCheck(seed [32]byte, index, outputs int, o checkOutput, write func(g int, rounded []byte)) error {
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
	logW := c.checkLogW(outputs, o.sigma)
	q := rq.ModulusAtLevel[l]
	if logW > 62 || q.BitLen() < logW+40 {
		return fmt.Errorf("he: key check: %s: rounding width 2^%d does not fit the %d-bit modulus at level %d", o.name, logW, q.BitLen(), l)
	}
	// A grid's rounded value of a coefficient x is floor((x + t)/W), which is
	// floor(x/W) + 1 when (x mod W) + t ≥ W and floor(x/W) otherwise; the digest
	// covers it modulo 2^64 (two honest values differ by at most one, and wrong keys
	// make the values uniform, so agreement modulo 2^64 is agreement, but for a
	// chance of 2^-64 per coefficient).
	wmask := new(big.Int).Lsh(big.NewInt(1), uint(logW))
	wmask.Sub(wmask, big.NewInt(1))
	lo := make([]uint64, len(coeffs)) // x mod W
	hi := make([]uint64, len(coeffs)) // floor(x/W) mod 2^64
	defer clear(lo)
	defer clear(hi)
	t, two64 := new(big.Int), new(big.Int).Lsh(big.NewInt(1), 64)
	for j, x := range coeffs {
		lo[j] = t.And(x, wmask).Uint64() // two's-complement semantics: x mod W for either sign
		t.Rsh(x, uint(logW))             // floor division: Rsh is an arithmetic shift
		hi[j] = t.Mod(t, two64).Uint64()
	}
	clear(t.Bits())
	w := uint64(1) << logW
	buf := make([]byte, 8*len(coeffs))
	defer clear(buf)
	for g := range KeyCheckGrids {
		shifts := checkShifts(seed, index, g)
		for j := range coeffs {
			r := hi[j]
			if lo[j]+shifts.Uint64()&(w-1) >= w {
				r++
			}
			binary.BigEndian.PutUint64(buf[8*j:], r)
		}
		write(g, buf)
	}
	return nil
}

// checkShifts is the stream of public random offsets of one check output
// on one grid: ChaCha8 keyed by SHA-256 of the seed, the output and grid.
func checkShifts(seed [32]byte, index, grid int) *mrand.ChaCha8 {
	b := append([]byte("puente/he/key-check-shift/v1\x00"), seed[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(index))
	b = binary.BigEndian.AppendUint32(b, uint32(grid))
	return mrand.NewChaCha8(sha256.Sum256(b))
}

// checkHash starts the digest a party of role sends for grid g; the
// rounded vectors of every check follow, each after its u32 index.
func (c *Ceremony) checkHash(bind []byte, role Role, g int) hash.Hash {
	h := sha256.New()
	h.Write([]byte(keyCheckDomain))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(bind)))
	h.Write(n[:])
	h.Write(bind)
	h.Write(c.id[:])
	h.Write([]byte{byte(role), byte(g)})
	return h
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
