package he

import (
	"context"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// babySteps returns rot_b(ct) for b = 0 … n1-1, using only power-of-two
// rotation keys: rot_j = rot_{2^t}(rot_{j - 2^t}) with 2^t the highest bit
// of j. Every source ciphertext is decomposed once and rotated by all its
// powers of two (hoisting). Sources of one wave are independent and run in
// parallel.
func (r *Responder) babySteps(ctx context.Context, ct *rlwe.Ciphertext, n1 int, evals []*ckks.Evaluator) ([]*rlwe.Ciphertext, error) {
	out := make([]*rlwe.Ciphertext, n1)
	out[0] = ct
	// Wave 0 is source 0, wave w >= 1 the sources in [2^(w-1), 2^w); a
	// source s yields s + 2^t for every 2^t > s, all in later waves.
	for lo, hi := 0, 1; lo < n1/2; lo, hi = hi, 2*hi {
		srcs := make([]int, 0, hi-lo)
		for s := lo; s < min(hi, n1/2); s++ {
			srcs = append(srcs, s)
		}
		errs := make([]error, len(srcs))
		parallelWorkers(len(srcs), len(evals), func(w, i int) {
			s := srcs[i]
			var rots []int
			for p := 1; s+p < n1; p <<= 1 {
				if p > s {
					rots = append(rots, p)
				}
			}
			res, err := evals[w].RotateHoistedNew(out[s], rots)
			if err != nil {
				errs[i] = fmt.Errorf("he: baby-step rotation: %w", err)
				return
			}
			for _, p := range rots {
				out[s+p] = res[p]
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

// score computes the block's scores Σ_g rot_{g·n1}(Σ_b diag'_{g,b} ⊙ rot_b(p))
// by Horner's rule over the giant steps, accumulating the products lazily
// (one modular reduction per giant step). The result holds <p, t_k> in
// slot k at scale Δ_p·Δ_g, not yet rescaled.
func (s *scorer) score(g *Gallery, bl *block, rots []*rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
	ps := s.r.ps
	lvl := rots[0].Level()
	ringQ := ps.params.RingQ().AtLevel(lvl)
	n2 := g.pad / g.n1
	first := true
	for gi := n2 - 1; gi >= 0; gi-- {
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
			ringQ.MulCoeffsMontgomeryLazyThenAddLazy(rots[b].Value[0], d, s.acc.Value[0])
			ringQ.MulCoeffsMontgomeryLazyThenAddLazy(rots[b].Value[1], d, s.acc.Value[1])
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
