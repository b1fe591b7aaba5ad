package he

import (
	"context"
	"errors"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// babySteps returns rot_b(ct) for b = 0 … n1-1, using only power-of-two
// rotation keys: rot_j = rot_{2^t}(rot_{j - 2^t}) with 2^t the highest bit
// of j. Each source ciphertext is decomposed once per worker and rotated by
// its powers of two (hoisting). Wave 0 is source 0, wave w >= 1 the
// sources in [2^(w-1), 2^w); a source s yields s + 2^t for every 2^t > s,
// all in later waves. Within a wave the work is split so that every worker
// is busy, even when the wave has a single source.
func (r *Responder) babySteps(ctx context.Context, ct *rlwe.Ciphertext, n1 int, evals []*ckks.Evaluator) ([]*rlwe.Ciphertext, error) {
	out := make([]*rlwe.Ciphertext, n1)
	out[0] = ct
	type item struct {
		src  int
		rots []int
	}
	for lo, hi := 0, 1; lo < n1/2; lo, hi = hi, 2*hi {
		var items []item
		for s := lo; s < min(hi, n1/2); s++ {
			var rots []int
			for p := 1; s+p < n1; p <<= 1 {
				if p > s {
					rots = append(rots, p)
				}
			}
			// Split a source's rotations when the wave has fewer
			// sources than workers.
			parts := max(1, min(len(rots), len(evals)/(min(hi, n1/2)-lo)))
			for k := 0; k < parts; k++ {
				items = append(items, item{src: s, rots: rots[k*len(rots)/parts : (k+1)*len(rots)/parts]})
			}
		}
		errs := make([]error, len(items))
		parallelWorkers(len(items), len(evals), func(w, i int) {
			it := items[i]
			res, err := evals[w].RotateHoistedNew(out[it.src], it.rots)
			if err != nil {
				errs[i] = fmt.Errorf("he: baby-step rotation: %w", err)
				return
			}
			for _, p := range it.rots {
				out[it.src+p] = res[p]
			}
		})
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scorer holds one worker's buffers for scoring blocks.
type scorer struct {
	r    *Responder
	eval *ckks.Evaluator
	acc  *rlwe.Ciphertext
	tmp  *rlwe.Ciphertext
	pts  []ring.Poly // diagonals converted on the fly: one, or n1 for a batch
}

func (r *Responder) newScorer(eval *ckks.Evaluator, level int) *scorer {
	return &scorer{
		r: r, eval: eval,
		acc: ckks.NewCiphertext(r.ps.params, 1, level),
		tmp: ckks.NewCiphertext(r.ps.params, 1, level),
	}
}

// score computes, for each probe i with baby steps rots[i], the block's
// scores Σ_g rot_{g·n1}(Σ_b diag'_{g,b} ⊙ rot_b(p_i)). A result holds
// <p_i, t_k> in slot k at scale Δ_p·Δ_g, not yet rescaled. With two
// scorers or more, the first and the second half of the giant steps are
// summed at the same time, and the second half's sums are rotated into
// place (one more rotation per probe).
func (r *Responder) score(g *Gallery, bl *block, rots [][]*rlwe.Ciphertext, scorers []*scorer) ([]*rlwe.Ciphertext, error) {
	n2 := g.pad / g.n1
	if len(scorers) < 2 || n2 < 2 {
		return scorers[0].score(g, bl, rots, 0, n2)
	}
	half := n2 / 2
	bounds := [3]int{0, half, n2}
	var sums [2][]*rlwe.Ciphertext
	var errs [2]error
	parallelWorkers(2, 2, func(_, i int) {
		sums[i], errs[i] = scorers[i].score(g, bl, rots, bounds[i], bounds[i+1])
	})
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	evals := []*ckks.Evaluator{scorers[0].eval, scorers[1].eval}
	for i, lo := range sums[0] {
		hi := ckks.NewCiphertext(r.ps.params, 1, sums[1][i].Level())
		if err := rotate(evals, sums[1][i], half*g.n1, hi); err != nil {
			return nil, fmt.Errorf("he: giant-step rotation: %w", err)
		}
		if err := scorers[0].eval.Add(lo, hi, lo); err != nil {
			return nil, fmt.Errorf("he: giant-step sum: %w", err)
		}
	}
	return sums[0], nil
}

// score computes, for each probe, Σ_{lo<=g<hi} rot_{(g-lo)·n1}(Σ_b
// diag'_{g,b} ⊙ rot_b(p)) by Horner's rule over the giant steps,
// accumulating the products lazily (one modular reduction per giant step).
// Diagonals of giant step g are stored pre-rotated by -g·n1, so the sum is
// rot_{-lo·n1} of those giant steps' share of the scores. A diagonal not
// kept in NTT form is converted once per call, whatever the number of
// probes: for a batch, the n1 diagonals of a giant step are converted and
// then used by every probe.
func (s *scorer) score(g *Gallery, bl *block, rots [][]*rlwe.Ciphertext, lo, hi int) ([]*rlwe.Ciphertext, error) {
	ps := s.r.ps
	lvl := rots[0][0].Level()
	ringQ := ps.params.RingQ().AtLevel(lvl)
	// Converted diagonals go to one buffer for one probe (each is used at
	// once), to n1 buffers for several (each is used by every probe).
	slots := 1
	if len(rots) > 1 {
		slots = g.n1
	}
	for bl.ntt == nil && len(s.pts) < slots {
		s.pts = append(s.pts, ringQ.NewPoly())
	}
	ds := make([]ring.Poly, g.n1)
	out := make([]*rlwe.Ciphertext, len(rots))
	for i := range out {
		out[i] = ckks.NewCiphertext(ps.params, 1, lvl)
	}
	for gi := hi - 1; gi >= lo; gi-- {
		for i, rs := range rots {
			s.acc.Value[0].Zero()
			s.acc.Value[1].Zero()
			for b := 0; b < g.n1; b++ {
				if i == 0 { // the first probe fetches the giant step's diagonals
					if j := gi*g.n1 + b; bl.ntt != nil {
						ds[b] = bl.ntt[j]
					} else {
						ds[b] = s.pts[b%slots]
						ps.diagNTT(bl.coeffs[j], lvl, ds[b])
					}
				}
				mulAdd(ringQ, rs[b].Value[0], ds[b], s.acc.Value[0], g.n1)
				mulAdd(ringQ, rs[b].Value[1], ds[b], s.acc.Value[1], g.n1)
			}
			ringQ.Reduce(s.acc.Value[0], s.acc.Value[0])
			ringQ.Reduce(s.acc.Value[1], s.acc.Value[1])
			y := out[i]
			if gi == hi-1 {
				y.Value[0].Copy(s.acc.Value[0])
				y.Value[1].Copy(s.acc.Value[1])
				continue
			}
			// y = rot_{n1}(y) + acc
			if err := s.eval.Rotate(y, g.n1, s.tmp); err != nil {
				return nil, fmt.Errorf("he: giant-step rotation: %w", err)
			}
			ringQ.Add(s.tmp.Value[0], s.acc.Value[0], y.Value[0])
			ringQ.Add(s.tmp.Value[1], s.acc.Value[1], y.Value[1])
		}
	}
	for i, rs := range rots {
		*out[i].MetaData = *rs[0].MetaData
		out[i].Scale = rs[0].Scale.Mul(ps.galleryScale())
	}
	return out, nil
}

// mulAdd computes acc += a·b coefficient-wise, where b is in Montgomery
// form. A row is accumulated lazily (each term in [0, 2q), no reduction)
// when the n terms of a sum cannot overflow 64 bits; rows of larger primes
// (the 60-bit q0) are reduced at every term.
func mulAdd(ringQ *ring.Ring, a, b, acc ring.Poly, n int) {
	for i, s := range ringQ.SubRings[:ringQ.Level()+1] {
		if s.Modulus < (1<<63)/uint64(n) {
			s.MulCoeffsMontgomeryLazyThenAddLazy(a.Coeffs[i], b.Coeffs[i], acc.Coeffs[i])
		} else {
			s.MulCoeffsMontgomeryThenAdd(a.Coeffs[i], b.Coeffs[i], acc.Coeffs[i])
		}
	}
}
