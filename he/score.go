package he

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// babySteps returns rot_b(ct) for b = 0 … n1-1, using only power-of-two
// rotation keys: each rot_b is rot_p of an earlier source rot_s, b = s + p
// with p a power of two (babyStepPlan). Each source is decomposed once,
// its digits shared among the workers, and the workers then rotate it by
// its powers of two from that one decomposition (hoisting). The plan
// needs 6 sources for n1 = 16, 9 for n1 = 32 and 18 for n1 = 64, where
// taking every b < n1/2 as a source needed 8, 16 and 32 (and a source split
// between two workers was decomposed twice).
func (r *Responder) babySteps(ctx context.Context, ct *rlwe.Ciphertext, n1 int, evals []*ckks.Evaluator) ([]*rlwe.Ciphertext, error) {
	out := make([]*rlwe.Ciphertext, n1)
	out[0] = ct
	if ct.Degree() != 1 || !ct.IsNTT {
		return nil, fmt.Errorf("he: baby steps of a ciphertext of degree %d (NTT %v), want 1 in NTT form", ct.Degree(), ct.IsNTT)
	}
	params := r.ps.params
	level, levelP := ct.Level(), params.MaxLevelP()
	digits := params.BaseRNSDecompositionVectorSize(level, levelP)
	// The decomposition goes to the first evaluator's buffers: its own
	// digits' buffers (trimBuffers keeps one per digit at the top level)
	// and its buffer for the source out of NTT form.
	decomp, invNTT := evals[0].BuffDecompQP[:digits], evals[0].BuffInvNTT
	for _, src := range babyStepPlanFor(n1) {
		c1 := out[src.from].Value[1]
		intt(params.RingQ().SubRings[:level+1], c1, invNTT, true)
		parallelWorkers(digits, len(evals), func(w, i int) {
			decomposeSingleNTT(evals[w].Evaluator, level, levelP, levelP+1, i, c1, invNTT, decomp[i].Q, decomp[i].P)
		})
		errs := make([]error, len(src.by))
		parallelWorkers(len(src.by), len(evals), func(w, i int) {
			o := ckks.NewCiphertext(params, 1, level)
			if err := automorphismHoisted(evals[w], level, out[src.from], decomp, params.GaloisElement(src.by[i]), o); err != nil {
				errs[i] = fmt.Errorf("he: baby-step rotation: %w", err)
				return
			}
			out[src.from+src.by[i]] = o
		})
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// babySource is one source of the baby steps: rot_from, rotated by each
// power of two in by.
type babySource struct {
	from int
	by   []int
}

// babyPlans holds babyStepPlan's plans by n1, each computed once: a query
// uses its gallery's n1, and the plans are never modified.
var babyPlans sync.Map // int → []babySource

// babyStepPlanFor returns babyStepPlan(n1), computed once per n1.
func babyStepPlanFor(n1 int) []babySource {
	if p, ok := babyPlans.Load(n1); ok {
		return p.([]babySource)
	}
	p, _ := babyPlans.LoadOrStore(n1, babyStepPlan(n1))
	return p.([]babySource)
}

// babyStepPlan returns the sources that make rot_b for every b < n1 from
// rot_0 with power-of-two rotations, in an order in which every source is
// made before it is used. It is greedy: the next source is the one made
// already that yields the most steps not yet made (the shallowest, then
// the smallest, on a tie), among those less than log2 n1 rotations deep,
// so that no chain is longer than the binary expansion's (each rotation
// adds its key switch's noise). For n1 ≤ 16 it needs as few sources as an
// exhaustive search finds (TestBabyStepPlan).
func babyStepPlan(n1 int) []babySource {
	maxDepth := bits.Len(uint(n1)) - 1
	depth := map[int]int{0: 0}
	used := map[int]bool{}
	var plan []babySource
	for len(depth) < n1 {
		best, bestN := -1, 0
		for s := 0; s < n1; s++ {
			d, made := depth[s]
			if !made || used[s] || d >= maxDepth {
				continue
			}
			n := 0
			for p := 1; s+p < n1; p <<= 1 {
				if _, done := depth[s+p]; !done {
					n++
				}
			}
			if n > bestN || (n == bestN && n > 0 && d < depth[best]) {
				best, bestN = s, n
			}
		}
		src := babySource{from: best}
		for p := 1; best+p < n1; p <<= 1 {
			if _, done := depth[best+p]; !done {
				src.by = append(src.by, p)
				depth[best+p] = depth[best] + 1
			}
		}
		used[best] = true
		plan = append(plan, src)
	}
	return plan
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
	rows := sumRows(ringQ.SubRings[:lvl+1], g.n1)
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
						ps.diagNTTLazy(bl.coeffs[j], lvl, ds[b])
					}
				}
				mulAdd(rows, rs[b].Value[0], ds[b], s.acc.Value[0], g.n1)
				mulAdd(rows, rs[b].Value[1], ds[b], s.acc.Value[1], g.n1)
			}
			// Kept diagonals are in Montgomery form; those converted here
			// are not (diagNTTLazy).
			finishSum(rows, s.acc.Value[0], bl.ntt != nil)
			finishSum(rows, s.acc.Value[1], bl.ntt != nil)
			y := out[i]
			if gi == hi-1 {
				y.Value[0].Copy(s.acc.Value[0])
				y.Value[1].Copy(s.acc.Value[1])
				continue
			}
			// y = rot_{n1}(y) + acc
			if err := rotate([]*ckks.Evaluator{s.eval}, y, g.n1, s.tmp); err != nil {
				return nil, fmt.Errorf("he: giant-step rotation: %w", err)
			}
			addPolys(ringQ, s.tmp.Value[0], s.acc.Value[0], y.Value[0])
			addPolys(ringQ, s.tmp.Value[1], s.acc.Value[1], y.Value[1])
		}
	}
	for i, rs := range rots {
		*out[i].MetaData = *rs[0].MetaData
		out[i].Scale = rs[0].Scale.Mul(ps.galleryScale())
	}
	return out, nil
}

// mulAdd adds the products a·b to acc row by row, one of n terms of a sum
// that finishSum completes, for a below q on every row. On a row of rows
// that runs with IFMA (sumRows: a prime below 2^50 whose sum of n terms
// below 2q stays within 52 bits) the product is Montgomery's in base 2^52
// (mulMont52IFMA: a·b·2^-52 mod q, up to one q), for b below 4q. Other rows
// take Lattigo's, a·b·2^-64 mod q for any 64-bit b (a·b < q·2^64, so a
// Montgomery reduction's result is below 2q; diagNTTLazy's b are not
// reduced): accumulated lazily (each term in [0, 2q), no reduction) when
// the n terms cannot overflow 64 bits, reduced at every term on rows of
// larger primes (the 60-bit q0).
func mulAdd(rows []gadgetRow, a, b, acc ring.Poly, n int) {
	for i, r := range rows {
		x, y, z := a.Coeffs[i], b.Coeffs[i], acc.Coeffs[i]
		if r.t == nil && r.s.Modulus >= (1<<63)/uint64(n) {
			r.s.MulCoeffsMontgomeryThenAdd(x, y, z)
			continue
		}
		r.mulAdd(x, y, z, true)
	}
}

// finishSum reduces a sum of mulAdd's products to Σ a·b mod q, b having
// been in Lattigo's Montgomery form (b·2^64 mod q) if mont: on an IFMA row
// by one product by 2^-12 (mont) or 2^52 (not), on the others by
// Lattigo's reduction and, if not mont, the factor 2^64 that MForm puts
// back once for the sum.
func finishSum(rows []gadgetRow, acc ring.Poly, mont bool) {
	if mont {
		finishRows(rows, acc, true)
		return
	}
	for i, r := range rows {
		z := acc.Coeffs[i]
		if r.t != nil {
			scaleIFMA(&z[0], len(z), r.t.r52, r.t.r52q52, r.t.q, true)
			continue
		}
		r.s.Reduce(z, z)
		r.s.MForm(z, z)
	}
}
