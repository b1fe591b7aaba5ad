package he

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// Mode selects what a response reveals to the querier.
type Mode uint8

const (
	// ModeCount reveals the number of gallery entries scored at or above
	// the threshold, in one slot; every other slot is zero.
	ModeCount Mode = 1
	// ModeAny reveals only whether some entry scored at or above the
	// threshold: the count c is reduced to 0/1 by the cubic that
	// interpolates 0, 1, 1, 1 at c = 0, 1, 2, 3 (exact for c <= AnyBound).
	// For c > AnyBound the decoded value is 1 + C(c-1, 3) and reveals c;
	// see the package documentation. It is the default.
	ModeAny Mode = 2
	// ModeSlots reveals one decision per gallery slot, blocks in a
	// per-query random order and each block rotated by a per-query random
	// offset. The responder keeps the [Trace] to resolve a hit position to
	// an entry for a lawful follow-up; the position alone names no entry.
	ModeSlots Mode = 3
)

func (m Mode) String() string {
	switch m {
	case ModeCount:
		return "count"
	case ModeAny:
		return "any"
	case ModeSlots:
		return "slots"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Options of one evaluation.
type Options struct {
	Threshold Threshold
	Mode      Mode // zero means ModeAny
	// Workers bounds the goroutines used; 0 means GOMAXPROCS. Each worker
	// holds its own evaluator and buffers (a few hundred MB at N = 2^15).
	Workers int
}

// Responder evaluates queries against a gallery on the responder's side of
// one key set. It is safe for concurrent use: each call of Respond works
// on its own evaluators and buffers.
type Responder struct {
	ps    *ParamSet
	keys  *EvaluationKeys
	share *SecretShare
	eval  *ckks.Evaluator
	enc   *ckks.Encoder
}

// NewResponder returns a responder for the key set of keys, holding the
// responder-role share of the same key set.
func NewResponder(keys *EvaluationKeys, share *SecretShare) (*Responder, error) {
	if keys == nil || share == nil || share.sk == nil {
		return nil, fmt.Errorf("he: responder: missing keys or share")
	}
	if share.role != RoleResponder {
		return nil, mismatch("secret share", "role", "got %v, want %v", share.role, RoleResponder)
	}
	if share.ps != keys.ps || share.id != keys.id {
		return nil, mismatch("secret share", "key set", "share and evaluation keys come from different ceremonies")
	}
	ps := keys.ps
	return &Responder{ps: ps, keys: keys, share: share, eval: ckks.NewEvaluator(ps.params, keys.keySet()), enc: ckks.NewEncoder(ps.params)}, nil
}

// Respond scores query q against every entry of g, thresholds the scores,
// aggregates the decisions as opts.Mode says and returns the response:
// the result ciphertext together with the responder's decryption share,
// flooded with noise (randomness from rand). It checks ctx between blocks
// and returns ctx.Err() when cancelled. An error leaves no state behind;
// a failed or cancelled query is not retried with the same query: the
// querier sends a new one.
func (r *Responder) Respond(ctx context.Context, q *Query, g *Gallery, opts Options, rand io.Reader) (*Response, *Trace, error) {
	if err := r.check(q, g, &opts); err != nil {
		return nil, nil, err
	}
	evals := r.evaluators(opts.Workers)
	ct := r.toCollective(q)
	evals[0].DropLevel(ct, ct.Level()-r.ps.startLevel(opts.Mode))
	rots, err := r.babySteps(ctx, ct, g.n1, evals)
	if err != nil {
		return nil, nil, err
	}
	steps, err := r.thresholdBlocks(ctx, g, rots, opts, evals)
	if err != nil {
		return nil, nil, err
	}
	rots = nil
	var results []*rlwe.Ciphertext
	var trace *Trace
	switch opts.Mode {
	case ModeCount, ModeAny:
		ct, err := r.aggregate(evals[0], steps, opts.Mode)
		if err != nil {
			return nil, nil, err
		}
		results = []*rlwe.Ciphertext{ct}
	case ModeSlots:
		if results, trace, err = r.slots(evals[0], steps, g.size, rand); err != nil {
			return nil, nil, err
		}
	}
	resp, err := r.seal(q, opts.Mode, results, rand)
	if err != nil {
		return nil, nil, err
	}
	return resp, trace, nil
}

func (r *Responder) check(q *Query, g *Gallery, opts *Options) error {
	switch {
	case q == nil || g == nil:
		return fmt.Errorf("he: respond: nil query or gallery")
	case q.ps != r.ps:
		return mismatch("query", "parameter set", "decoded for %s, responder uses %s", q.ps.Name(), r.ps.Name())
	case q.id != r.keys.id:
		return mismatch("query", "key-set ID", "encrypted for another key set")
	case g.ps != r.ps:
		return mismatch("gallery", "parameter set", "packed for %s, responder uses %s", g.ps.Name(), r.ps.Name())
	case q.dims != g.dims:
		return mismatch("query", "dims", "probe has %d, gallery %d", q.dims, g.dims)
	case g.pad > r.keys.maxDims:
		return mismatch("gallery", "dims", "padded dims %d exceed the key set's %d", g.pad, r.keys.maxDims)
	case g.size == 0:
		return fmt.Errorf("he: respond: empty gallery")
	}
	if opts.Mode == 0 {
		opts.Mode = ModeAny
	}
	if opts.Mode != ModeCount && opts.Mode != ModeAny && opts.Mode != ModeSlots {
		return fmt.Errorf("he: respond: unsupported mode %v", opts.Mode)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return opts.Threshold.validate()
}

// toCollective turns the query into a ciphertext under s_Q + s_R:
// (c0 - a·s_R, a).
func (r *Responder) toCollective(q *Query) *rlwe.Ciphertext {
	ps, top := r.ps, r.ps.topLevel()
	ringQ := ps.params.RingQ().AtLevel(top)
	ct := ckks.NewCiphertext(ps.params, 1, top)
	ct.Value[1] = ps.queryA(q.seed)
	ringQ.MulCoeffsMontgomery(ct.Value[1], r.share.sk.Value.Q, ct.Value[0])
	ringQ.Sub(q.c0, ct.Value[0], ct.Value[0])
	ct.Scale = rlwe.NewScale(float64(uint64(1) << ps.spec.LogProbeScale))
	return ct
}

// evaluators returns n evaluators that can run concurrently.
func (r *Responder) evaluators(n int) []*ckks.Evaluator {
	out := make([]*ckks.Evaluator, n)
	out[0] = r.eval.ShallowCopy()
	for i := 1; i < n; i++ {
		out[i] = r.eval.ShallowCopy()
	}
	return out
}

// thresholdBlocks scores and thresholds every block and returns the
// encrypted decisions (0/1 per slot), one ciphertext per block. Blocks
// run in parallel, one evaluator per worker; cancellation is checked
// before each block.
func (r *Responder) thresholdBlocks(ctx context.Context, g *Gallery, rots []*rlwe.Ciphertext, opts Options, evals []*ckks.Evaluator) ([]*rlwe.Ciphertext, error) {
	out := make([]*rlwe.Ciphertext, len(g.blocks))
	errs := make([]error, len(evals))
	scorers := make([]*scorer, len(evals))
	parallelWorkers(len(g.blocks), len(evals), func(w, b int) {
		if errs[w] != nil {
			return
		}
		if err := ctx.Err(); err != nil {
			errs[w] = err
			return
		}
		if scorers[w] == nil {
			scorers[w] = r.newScorer(evals[w], rots[0].Level())
		}
		ct, err := scorers[w].score(g, g.blocks[b], rots)
		if err == nil {
			ct, err = r.step(evals[w], ct, g.blocks[b], opts.Threshold, opts.Mode)
		}
		if err != nil {
			errs[w] = err
			return
		}
		out[b] = ct
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// step maps scores s to x = c·s + d (absent slots to -63/64) and evaluates
// the composite Step polynomial: 0/1 per slot, at the step output level.
func (r *Responder) step(eval *ckks.Evaluator, ct *rlwe.Ciphertext, bl *block, t Threshold, m Mode) (*rlwe.Ciphertext, error) {
	ps := r.ps
	// x = c'·s + d at no extra level. The scores come at scale S = Δ_p·Δ_g,
	// about 2^6 below Δ·q. Multiply by the integer k = floor(c·Δ·q/S)
	// (between 2^5 and 2^6), rescale by q, and declare the default scale
	// Δ: the value is then s·c' with c' = k·S/(q·Δ), within 2^-5 below c,
	// so x stays in [-1, 1]. The polynomial evaluator gets its input at
	// exactly the default scale, and the rescaling noise is relative to Δ.
	c, _ := t.affine()
	q := ps.params.Q()[ct.Level()]
	delta := ps.params.DefaultScale()
	k := uint64(math.Max(1, math.Floor(c*delta.Float64()*float64(q)/ct.Scale.Float64())))
	cEff := float64(k) * ct.Scale.Float64() / (float64(q) * delta.Float64())
	ringQ := ps.params.RingQ().AtLevel(ct.Level())
	ringQ.MulScalar(ct.Value[0], k, ct.Value[0])
	ringQ.MulScalar(ct.Value[1], k, ct.Value[1])
	if err := eval.Rescale(ct, ct); err != nil {
		return nil, fmt.Errorf("he: rescale scores: %w", err)
	}
	ct.Scale = delta
	d := -cEff * t.Tau
	if bl.absent == nil {
		if err := eval.Add(ct, d, ct); err != nil {
			return nil, fmt.Errorf("he: threshold offset: %w", err)
		}
	} else {
		bias := make([]float64, ps.Slots())
		for k := range bias {
			bias[k] = d
			if bl.absent[k] {
				bias[k] = -63.0 / 64
			}
		}
		pt := ckks.NewPlaintext(ps.params, ct.Level())
		pt.Scale = ct.Scale
		if err := r.enc.ShallowCopy().Encode(bias, pt); err != nil {
			return nil, fmt.Errorf("he: threshold offset: %w", err)
		}
		if err := eval.Add(ct, pt, ct); err != nil {
			return nil, fmt.Errorf("he: threshold offset: %w", err)
		}
	}
	peval := polynomial.NewEvaluator(ps.params, eval)
	var err error
	for i, p := range ps.sign.step {
		if ct, err = peval.Evaluate(ct, p, ps.params.DefaultScale()); err != nil {
			return nil, fmt.Errorf("he: threshold polynomial %d: %w", i, err)
		}
	}
	if ct.Level() != ps.stepOutLevel(m) {
		return nil, fmt.Errorf("he: threshold ended at level %d, want %d", ct.Level(), ps.stepOutLevel(m))
	}
	return ct, nil
}

// aggregate sums the decisions of all blocks, then all slots (log2 S
// rotations), so that every slot holds the count c. ModeCount then keeps
// slot 0 only (a plaintext mask, one level); ModeAny evaluates the bounded
// OR with the mask folded into its coefficients (two levels). Either way
// every other slot encrypts zero, and the result is at level 0 at the
// default scale.
func (r *Responder) aggregate(eval *ckks.Evaluator, steps []*rlwe.Ciphertext, m Mode) (*rlwe.Ciphertext, error) {
	ps := r.ps
	sum := steps[0]
	for _, ct := range steps[1:] {
		if err := eval.Add(sum, ct, sum); err != nil {
			return nil, fmt.Errorf("he: sum blocks: %w", err)
		}
	}
	tmp := ckks.NewCiphertext(ps.params, 1, sum.Level())
	for k := 1; k < ps.Slots(); k <<= 1 {
		if err := eval.Rotate(sum, k, tmp); err != nil {
			return nil, fmt.Errorf("he: sum slots: %w", err)
		}
		if err := eval.Add(sum, tmp, sum); err != nil {
			return nil, fmt.Errorf("he: sum slots: %w", err)
		}
	}
	if m == ModeAny {
		out, err := polynomial.NewEvaluator(ps.params, eval).Evaluate(sum, ps.anyPoly, ps.params.DefaultScale())
		if err != nil {
			return nil, fmt.Errorf("he: bounded OR: %w", err)
		}
		return out, nil
	}
	mask := make([]float64, ps.Slots())
	mask[0] = 1
	pt := ckks.NewPlaintext(ps.params, sum.Level())
	pt.Scale = rlwe.NewScale(ps.params.Q()[sum.Level()])
	if err := r.enc.ShallowCopy().Encode(mask, pt); err != nil {
		return nil, fmt.Errorf("he: mask: %w", err)
	}
	if err := eval.Mul(sum, pt, sum); err != nil {
		return nil, fmt.Errorf("he: mask: %w", err)
	}
	if err := eval.Rescale(sum, sum); err != nil {
		return nil, fmt.Errorf("he: mask: %w", err)
	}
	return sum, nil
}

// decryptionShare returns c0 + c1·s_R + e for ct, with e drawn from a
// discrete Gaussian of standard deviation floodSigma (the noise flooding
// that hides the evaluation noise from the querier; see
// docs/he-parameters.md). The querier adds c1·s_Q and decodes.
func (r *Responder) decryptionShare(ct *rlwe.Ciphertext, prng io.Reader) (ring.Poly, error) {
	ps := r.ps
	lvl := ct.Level()
	ringQ := ps.params.RingQ().AtLevel(lvl)
	sigma := ps.floodSigma()
	xe, err := ring.NewSampler(prng, ringQ, ring.DiscreteGaussian{Sigma: sigma, Bound: 12 * sigma}, false)
	if err != nil {
		return ring.Poly{}, fmt.Errorf("he: flooding sampler: %w", err)
	}
	e := ringQ.NewPoly()
	xe.Read(e)
	ringQ.NTT(e, e)
	d := ringQ.NewPoly()
	ringQ.MulCoeffsMontgomery(ct.Value[1], r.share.sk.Value.Q, d)
	ringQ.Add(d, e, d)
	ringQ.Add(d, ct.Value[0], d)
	zeroPoly(e)
	return d, nil
}

// parallelWorkers runs f(w, i) for i in 0..n-1 on at most workers
// goroutines; w identifies the goroutine (for per-worker state).
func parallelWorkers(n, workers int, f func(w, i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range next {
				f(w, i)
			}
		}(w)
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
