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
	y    *rlwe.Ciphertext
	tmp  *rlwe.Ciphertext
	pt   ring.Poly // diagonal converted on the fly
}

func (r *Responder) newScorer(eval *ckks.Evaluator, level int) *scorer {
	ps, top := r.ps, level
	return &scorer{
		r: r, eval: eval,
		acc: ckks.NewCiphertext(ps.params, 1, top),
		y:   ckks.NewCiphertext(ps.params, 1, top),
		tmp: ckks.NewCiphertext(ps.params, 1, top),
		pt:  ps.params.RingQ().AtLevel(top).NewPoly(),
	}
}

// score computes the block's scores Σ_g rot_{g·n1}(Σ_b diag'_{g,b} ⊙ rot_b(p)).
// The result holds <p, t_k> in slot k at scale Δ_p·Δ_g, not yet rescaled.
// With two scorers or more, the first and the second half of the giant
// steps are summed at the same time, and the second half's sum is rotated
// into place (one more rotation).
func (r *Responder) score(g *Gallery, bl *block, rots []*rlwe.Ciphertext, scorers []*scorer) (*rlwe.Ciphertext, error) {
	n2 := g.pad / g.n1
	if len(scorers) < 2 || n2 < 2 {
		return scorers[0].score(g, bl, rots, 0, n2)
	}
	half := n2 / 2
	bounds := [3]int{0, half, n2}
	var sums [2]*rlwe.Ciphertext
	var errs [2]error
	parallelWorkers(2, 2, func(_, i int) {
		sums[i], errs[i] = scorers[i].score(g, bl, rots, bounds[i], bounds[i+1])
	})
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	hi, err := scorers[0].eval.RotateNew(sums[1], half*g.n1)
	if err != nil {
		return nil, fmt.Errorf("he: giant-step rotation: %w", err)
	}
	if err := scorers[0].eval.Add(sums[0], hi, sums[0]); err != nil {
		return nil, fmt.Errorf("he: giant-step sum: %w", err)
	}
	return sums[0], nil
}

// score computes Σ_{lo<=g<hi} rot_{(g-lo)·n1}(Σ_b diag'_{g,b} ⊙ rot_b(p)) by
// Horner's rule over the giant steps, accumulating the products lazily
// (one modular reduction per giant step). Diagonals of giant step g are
// stored pre-rotated by -g·n1, so the sum is rot_{-lo·n1} of those giant
// steps' share of the scores.
func (s *scorer) score(g *Gallery, bl *block, rots []*rlwe.Ciphertext, lo, hi int) (*rlwe.Ciphertext, error) {
	ps := s.r.ps
	lvl := rots[0].Level()
	ringQ := ps.params.RingQ().AtLevel(lvl)
	first := true
	for gi := hi - 1; gi >= lo; gi-- {
		s.acc.Value[0].Zero()
		s.acc.Value[1].Zero()
		for b := 0; b < g.n1; b++ {
			j := gi*g.n1 + b
			d := s.pt
			if bl.ntt != nil {
				d = bl.ntt[j]
			} else {
				ps.diagNTT(bl.coeffs[j], lvl, d)
			}
			mulAdd(ringQ, rots[b].Value[0], d, s.acc.Value[0], g.n1)
			mulAdd(ringQ, rots[b].Value[1], d, s.acc.Value[1], g.n1)
		}
		ringQ.Reduce(s.acc.Value[0], s.acc.Value[0])
		ringQ.Reduce(s.acc.Value[1], s.acc.Value[1])
		if first {
			s.y.Value[0].Copy(s.acc.Value[0])
			s.y.Value[1].Copy(s.acc.Value[1])
			first = false
			continue
		}
		// y = rot_{n1}(y) + acc
		if err := s.eval.Rotate(s.y, g.n1, s.tmp); err != nil {
			return nil, fmt.Errorf("he: giant-step rotation: %w", err)
		}
		ringQ.Add(s.tmp.Value[0], s.acc.Value[0], s.y.Value[0])
		ringQ.Add(s.tmp.Value[1], s.acc.Value[1], s.y.Value[1])
	}
	out := ckks.NewCiphertext(ps.params, 1, lvl)
	out.Value[0].Copy(s.y.Value[0])
	out.Value[1].Copy(s.y.Value[1])
	*out.MetaData = *rots[0].MetaData
	out.Scale = rots[0].Scale.Mul(ps.galleryScale())
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
