package he

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"

	"github.com/puente-id/puente/opening"
)

// Options of one evaluation.
type Options struct {
	Threshold Threshold
	// Workers bounds the goroutines used; 0 means GOMAXPROCS. Each worker
	// holds its own evaluator and buffers (about 65 MB at N = 2^15), and
	// an evaluation takes at most keySwitchWorkers (5 on
	// puente-ckks-n15-v2) per block of the gallery.
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
	mu    sync.Mutex // guards eval's buffers (pack, addZero), not safe for concurrent use
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
	return newResponder(keys, share), nil
}

// newResponder returns a responder for keys holding share, which is nil
// for a shard's (it decrypts nothing).
func newResponder(keys *EvaluationKeys, share *SecretShare) *Responder {
	ps := keys.ps
	return &Responder{ps: ps, keys: keys, share: share, eval: trimBuffers(ps, ckks.NewEvaluator(ps.params, keys.keySet())),
		enc: ckks.NewEncoder(ps.params)}
}

// Respond scores query q against every entry of g, thresholds the scores
// and returns the encrypted answer with the secrets of its opening:
//
//  1. The query becomes a ciphertext under the collective key, is
//     rerandomised with a fresh encryption of zero, and is projected onto
//     the probes of period M (the padded dimension): the sum of its
//     rotations by multiples of M. Every slot the responder scores is thus
//     built from the same M values, whatever the querier put in the other
//     slots: no probe can score a subset of entries or another period.
//  2. The squared norms of the projected probe over its m coordinates, y,
//     and over its padding coordinates m … M-1, p, are computed (a square
//     and two masks) and read at level 0.
//  3. Scores against every entry, the threshold polynomial per entry (0 or
//     1 outside the band), and the sum over all blocks: its constant
//     coefficient is the count c of entries at or above τ (divided by S).
//  4. The count and the two norms are packed into one ciphertext, which is
//     rerandomised, as is the tag T = K1·C + K2·Y + K4·P + K3, and the
//     responder's decryption shares of the four values are masked with
//     uniform values.
//
// The opening ([opening.Garble] with the returned secrets) then gives the
// querier one bit: c >= 1/2 and |y - 1| < 2^-11 and |p| < 2^-11 and the tag
// checks. All
// randomness comes from rand. Respond checks ctx between blocks and returns
// ctx.Err() when cancelled; an error leaves no state behind.
func (r *Responder) Respond(ctx context.Context, q *Query, g *Gallery, opts Options, rand io.Reader) (*Answer, *opening.Secrets, error) {
	ans, sec, err := r.RespondBatch(ctx, []*Query{q}, g, opts, rand)
	if err != nil {
		return nil, nil, err
	}
	return ans[0], sec[0], nil
}

// MaxBatch bounds the queries of one RespondBatch. In a batch against a
// gallery with blocks to convert, each query holds its n1 baby steps,
// ciphertexts at the top level (9.4 MB each on puente-ckks-n15-v2; n1 is
// 16 to 64 at m = 128, Gallery.BabySteps), until every block is scored:
// 16 queries at n1 = 32 hold 4.8 GB. Each worker also holds one top-level
// ciphertext per query and n1 converted diagonals (4.7 MB each).
const MaxBatch = 16

// RespondBatch answers several queries against the same gallery, each as
// Respond would: answer i and its opening's secrets are query i's alone,
// from randomness of its own (read from rand, query after query), and
// depend on no other query of the batch. What the queries share is the
// gallery: a block not kept in NTT form is converted once for the whole
// batch instead of once per query. When every block is kept there is
// nothing to share, and the queries are evaluated one after the other, so
// that the batch holds one query's baby steps at a time, not every
// query's. An error in any query fails the batch.
func (r *Responder) RespondBatch(ctx context.Context, qs []*Query, g *Gallery, opts Options, rand io.Reader) ([]*Answer, []*opening.Secrets, error) {
	if len(qs) == 0 || len(qs) > MaxBatch {
		return nil, nil, fmt.Errorf("he: respond: %d queries in a batch, want 1 to %d", len(qs), MaxBatch)
	}
	for _, q := range qs {
		if err := r.check(q, g, &opts); err != nil {
			return nil, nil, err
		}
	}
	prngs := make([]sampling.PRNG, len(qs))
	for i := range prngs {
		var err error
		if prngs[i], err = newPRNG(rand); err != nil {
			return nil, nil, err
		}
	}
	counts, norms, err := r.evaluateQueries(ctx, qs, g, opts, prngs)
	if err != nil {
		return nil, nil, err
	}
	answers := make([]*Answer, len(qs))
	secrets := make([]*opening.Secrets, len(qs))
	for i, q := range qs {
		if answers[i], secrets[i], err = r.answer(q, counts[i], norms[i], len(g.blocks)*r.ps.Slots(), g.pad, prngs[i]); err != nil {
			for _, sec := range secrets[:i] {
				sec.Destroy()
			}
			return nil, nil, err
		}
	}
	return answers, secrets, nil
}

// evaluateQueries runs evaluateBatch on the whole batch when g has blocks
// to convert, which is what the queries share, and on one query at a time
// when it has none.
func (r *Responder) evaluateQueries(ctx context.Context, qs []*Query, g *Gallery, opts Options, prngs []sampling.PRNG) (counts []*rlwe.Ciphertext, norms []probeNorms, err error) {
	evals := r.evaluators(r.blockWorkers(g, opts.Workers))
	if g.NTTBlocks() < len(g.blocks) {
		return r.evaluateBatch(ctx, qs, g, opts, prngs, evals)
	}
	for i := range qs {
		c, n, err := r.evaluateBatch(ctx, qs[i:i+1], g, opts, prngs[i:i+1], evals)
		if err != nil {
			return nil, nil, err
		}
		counts, norms = append(counts, c[0]), append(norms, n[0])
	}
	return counts, norms, nil
}

// evaluateBatch runs steps 1 to 3 of Respond for each query on evals,
// query i with prngs[i]: the counts and the norms at level 0.
func (r *Responder) evaluateBatch(ctx context.Context, qs []*Query, g *Gallery, opts Options, prngs []sampling.PRNG, evals []*ckks.Evaluator) (counts []*rlwe.Ciphertext, norms []probeNorms, err error) {
	rots := make([][]*rlwe.Ciphertext, len(qs))
	norms = make([]probeNorms, len(qs))
	for i, q := range qs {
		ct := r.toCollective(q)
		if err := r.addZero(ct, prngs[i]); err != nil {
			return nil, nil, err
		}
		if err := r.project(evals, ct, g.pad); err != nil {
			return nil, nil, err
		}
		if norms[i], err = r.norm(evals, ct, g.dims, g.pad); err != nil {
			return nil, nil, err
		}
		if rots[i], err = r.babySteps(ctx, ct, g.n1, evals); err != nil {
			return nil, nil, err
		}
	}
	steps, err := r.thresholdBlocks(ctx, g, rots, opts, evals)
	if err != nil {
		return nil, nil, err
	}
	if counts, err = sumBlocks(evals[0], steps); err != nil {
		return nil, nil, err
	}
	return counts, norms, nil
}

// sumBlocks sums thresholdBlocks' decisions over the blocks, per probe.
func sumBlocks(eval *ckks.Evaluator, steps [][]*rlwe.Ciphertext) ([]*rlwe.Ciphertext, error) {
	counts := steps[0]
	for _, s := range steps[1:] {
		for i, c := range counts {
			if err := eval.Add(c, s[i], c); err != nil {
				return nil, fmt.Errorf("he: sum blocks: %w", err)
			}
		}
	}
	return counts, nil
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
	case len(g.blocks)*r.ps.Slots() > r.ps.maxEntries():
		return fmt.Errorf("he: respond: %d blocks exceed the %d entries an answer counts", len(g.blocks), r.ps.maxEntries())
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return opts.Threshold.validate(r.ps)
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
	for i := range out {
		out[i] = trimBuffers(r.ps, r.eval.ShallowCopy())
	}
	return out
}

// blockWorkers is the number of evaluators an evaluation of g uses: the
// workers it is allowed, but at most one per digit of a top-level key
// switch for each block (keySwitchWorkers). An evaluator beyond that would
// find work only in the baby steps, while holding its buffers (about 65
// MB at N = 2^15) for the whole query: on a node with many cores, one per
// core would be gigabytes per query on a small gallery
// (TestRespondEvaluatorsBoundedByBlocks).
func (r *Responder) blockWorkers(g *Gallery, workers int) int {
	return max(1, min(workers, len(g.blocks)*r.ps.keySwitchWorkers()))
}

// trimBuffers releases the decomposition buffers e cannot use and returns
// e. Lattigo sizes them for keys with a single P prime, one ring element
// over QP per Q prime (19 of 6 MB each at N = 2^15); with this key set's P
// primes a hoisted decomposition has keySwitchWorkers digits, and the
// other key switches decompose into the first buffer only.
func trimBuffers(ps *ParamSet, e *ckks.Evaluator) *ckks.Evaluator {
	d := ps.keySwitchWorkers()
	if d < len(e.BuffDecompQP) {
		clear(e.BuffDecompQP[d:])
		e.BuffDecompQP = e.BuffDecompQP[:d:d]
	}
	return e
}

// thresholdBlocks scores and thresholds every block for every probe (rots[i]
// are probe i's baby steps) and returns the encrypted decisions (0/1 per
// slot) at level 0, indexed by block and then by probe. Blocks run in
// parallel; with fewer blocks than evaluators, each block gets a group of
// them, which split its giant steps and compute the powers of its
// threshold polynomials together. Cancellation is checked before each
// block.
func (r *Responder) thresholdBlocks(ctx context.Context, g *Gallery, rots [][]*rlwe.Ciphertext, opts Options, evals []*ckks.Evaluator) ([][]*rlwe.Ciphertext, error) {
	groups := groupEvaluators(evals, len(g.blocks))
	out := make([][]*rlwe.Ciphertext, len(g.blocks))
	errs := make([]error, len(groups))
	scorers := make([][]*scorer, len(groups))
	parallelWorkers(len(g.blocks), len(groups), func(w, b int) {
		if errs[w] != nil {
			return
		}
		if err := ctx.Err(); err != nil {
			errs[w] = err
			return
		}
		if scorers[w] == nil {
			for _, e := range groups[w] {
				scorers[w] = append(scorers[w], r.newScorer(e, rots[0][0].Level()))
			}
		}
		cts, err := r.score(g, g.blocks[b], rots, scorers[w])
		for i := 0; err == nil && i < len(cts); i++ {
			cts[i], err = r.step(groups[w], cts[i], g.blocks[b], opts.Threshold)
		}
		if err != nil {
			errs[w] = err
			return
		}
		out[b] = cts
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// absentX is where an absent slot's score is mapped: Step = 0 there, near
// the domain's left end, so that the noise a probe with a huge component
// adds there (the norm check's wrap, TestOneBitNormWrap) takes the slot
// out of the domain and makes the count meaningless.
const absentX = -63.0 / 64

// step maps scores s to x = c·s + d (absent slots to absentX) and evaluates
// the composite Step polynomial: 0/1 per slot, at level 0 and the count
// scale. The powers of each component are computed with every evaluator
// of evals; the rest runs on evals[0], with its key switches on all of
// evals.
func (r *Responder) step(evals []*ckks.Evaluator, ct *rlwe.Ciphertext, bl *block, t Threshold) (*rlwe.Ciphertext, error) {
	ps, eval := r.ps, evals[0]
	// x = c'·s + d at no extra level. The scores come at scale
	// S_s = R·Δ_p·Δ_g, at least 2^scoreHeadroom below c·Δ·q (q the
	// scoring prime). Multiply by the integer k = floor(c·Δ·q/S_s) (at
	// least 2^6), rescale by q, and declare the default scale Δ: the value
	// is then s·c' with c' = k·S_s/(q·Δ), within 2^-6 below c, so x stays
	// in [-1, 1]. The polynomial evaluator gets its input at exactly the
	// default scale, and the rescaling noise is relative to Δ.
	//
	// A set whose first component is a series in u = mul·x + add (a
	// polynomial fitted to an asymmetric domain, signSpec) gets u the same
	// way: c·mul in place of c, add to the offset.
	c, _ := t.affine()
	c *= ps.sign.mul
	q := ps.params.Q()[ct.Level()]
	delta := ps.params.DefaultScale()
	k := uint64(math.Max(1, math.Floor(c*delta.Float64()*float64(q)/ct.Scale.Float64())))
	cEff := float64(k) * ct.Scale.Float64() / (float64(q) * delta.Float64())
	ringQ := ps.params.RingQ().AtLevel(ct.Level())
	ringQ.MulScalar(ct.Value[0], k, ct.Value[0])
	ringQ.MulScalar(ct.Value[1], k, ct.Value[1])
	if err := rescale(eval, ct, ct); err != nil {
		return nil, fmt.Errorf("he: rescale scores: %w", err)
	}
	ct.Scale = delta
	d := -cEff*t.Tau + ps.sign.add
	if bl.absent == nil {
		if err := eval.Add(ct, d, ct); err != nil {
			return nil, fmt.Errorf("he: threshold offset: %w", err)
		}
	} else {
		bias, absent := make([]float64, ps.Slots()), ps.sign.mul*absentX+ps.sign.add
		for k := range bias {
			bias[k] = d
			if bl.absent[k] {
				bias[k] = absent
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
	// The Paterson–Stockmeyer steps run on evals[0]; their key switches
	// (the products' relinearizations) on all of evals.
	peval := polynomial.NewEvaluator(ps.params, eval)
	peval.Evaluator.Evaluator = newGroupEvaluator(evals)
	last := len(ps.sign.step) - 1
	for i, p := range ps.sign.step {
		target := ps.params.DefaultScale()
		if i == last {
			target = ps.countScale()
		}
		pb, err := powerBasis(ct, p.Degree(), p.IsOdd && !p.IsEven, evals)
		if err != nil {
			return nil, fmt.Errorf("he: threshold polynomial %d: %w", i, err)
		}
		if ct, err = peval.EvaluateFromPowerBasis(pb, p, target); err != nil {
			return nil, fmt.Errorf("he: threshold polynomial %d: %w", i, err)
		}
	}
	// Step = 1/2 + sign/2: the last component is sign/2.
	if err := eval.Add(ct, 0.5, ct); err != nil {
		return nil, fmt.Errorf("he: threshold offset: %w", err)
	}
	if ct.Level() != answerLevel || !ct.Scale.Equal(ps.countScale()) {
		return nil, fmt.Errorf("he: threshold ended at level %d, scale 2^%.3f; want level %d, scale 2^%d", ct.Level(), math.Log2(ct.Scale.Float64()), answerLevel, ps.spec.LogCountScale)
	}
	return ct, nil
}

func (ps *ParamSet) countScale() rlwe.Scale {
	return rlwe.NewScale(math.Exp2(float64(ps.spec.LogCountScale)))
}

// addZero adds to ct a fresh encryption of zero under the collective public
// key, made over QP and divided by P (as Lattigo's encryptor does), with
// randomness from prng: the plaintext gains only the rounding noise of the
// division, and the ciphertext is a fresh RLWE sample, whatever the querier
// (or the evaluation) made of it. It works in NTT form throughout (nttFull,
// modDown), where Lattigo's encryptor leaves it for the division: the same
// integers (TestAddZeroMatchesLattigo).
func (r *Responder) addZero(ct *rlwe.Ciphertext, prng sampling.PRNG) error {
	ps := r.ps
	level, levelP := ct.Level(), ps.params.MaxLevelP()
	ringQP := ps.params.RingQP().AtLevel(level, levelP)
	ringQ := ringQP.RingQ
	xs, err := ring.NewSampler(prng, ps.params.RingQ(), ps.params.Xs(), false)
	if err != nil {
		return fmt.Errorf("he: rerandomise: %w", err)
	}
	xe, err := ring.NewSampler(prng, ps.params.RingQ(), ps.params.Xe(), false)
	if err != nil {
		return fmt.Errorf("he: rerandomise: %w", err)
	}
	// Samples are drawn at the full level (the samplers' own level); only
	// the first level+1 rows are used.
	full := ps.params.RingQP()
	u, e := full.NewPoly(), full.NewPoly()
	c := ringQP.NewPoly()
	xs.Read(u.Q)
	ringQP.ExtendBasisSmallNormAndCenter(u.Q, levelP, u.Q, u.P)
	nttFullQP(ringQP, u)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range ct.Value[:2] {
		ringQP.MulCoeffsMontgomery(u, r.keys.pk.Value[i], c)
		xe.Read(e.Q)
		ringQP.ExtendBasisSmallNormAndCenter(e.Q, levelP, e.Q, e.P)
		nttFullQP(ringQP, e)
		addPolysQP(ringQP, c, e, c)
		modDown(r.eval.Evaluator, level, levelP, c.Q, c.P, c.Q)
		addPolys(ringQ, ct.Value[i], c.Q, ct.Value[i])
	}
	zeroPoly(u.Q)
	zeroPoly(u.P)
	zeroPoly(e.Q)
	zeroPoly(e.P)
	zeroPoly(c.Q)
	zeroPoly(c.P)
	return nil
}

// project replaces the probe by the sum of its rotations by multiples of
// pad (log2(S/pad) rotations and additions, no level): every slot k then
// holds Σ_t p[(k + t·pad) mod S], a vector of period pad. An honest probe
// is p repeated S/pad times, so the sum is (S/pad)·p: the scale is declared
// S/pad times larger and the value is p.
func (r *Responder) project(evals []*ckks.Evaluator, ct *rlwe.Ciphertext, pad int) error {
	S := r.ps.Slots()
	tmp := ckks.NewCiphertext(r.ps.params, 1, ct.Level())
	for k := pad; k < S; k <<= 1 {
		if err := rotate(evals, ct, k, tmp); err != nil {
			return fmt.Errorf("he: project: %w", err)
		}
		if err := evals[0].Add(ct, tmp, ct); err != nil {
			return fmt.Errorf("he: project: %w", err)
		}
	}
	ct.Scale = ct.Scale.Mul(rlwe.NewScale(float64(S / pad)))
	return nil
}

// probeNorms are the two squared norms of a projected probe, each a
// ciphertext at level 0 whose constant coefficient is Δ_Y·v/pad
// (Responder.norm): y over the template's m coordinates, p over the
// padding coordinates m … pad-1.
type probeNorms struct{ y, p *rlwe.Ciphertext }

// norm returns the squared norms of the projected probe over the
// template's m coordinates, y = Σ_{j<m} p_j², and over its padding
// coordinates, p = Σ_{m<=j<pad} p_j². The opening checks both: y pins the
// probe's scale, and p keeps the padding coordinates, which score nothing,
// near 0. Unchecked, they let a querier hide a longer probe: y's mask is a
// CKKS plaintext whose encoding error ε_j at a padding slot is not 0, so
// values V_j there move y by Σ ε_j·V_j², a shift the querier computes from
// the public mask, and add Σ V_j·g_j to every score through the gallery's
// own encoding error g_j there (he/padding_attack_test.go).
func (r *Responder) norm(evals []*ckks.Evaluator, p *rlwe.Ciphertext, m, pad int) (probeNorms, error) {
	ps, eval := r.ps, evals[0]
	// Bring the probe to about Δ at L-1: an integer multiplier, then the
	// rescale by the scoring prime.
	ct := p.CopyNew()
	q := ps.params.Q()[ct.Level()]
	k := uint64(math.Floor(ps.params.DefaultScale().Float64() * float64(q) / ct.Scale.Float64()))
	if k == 0 {
		return probeNorms{}, fmt.Errorf("he: norm: probe scale too large for the scoring prime")
	}
	ringQ := ps.params.RingQ().AtLevel(ct.Level())
	ringQ.MulScalar(ct.Value[0], k, ct.Value[0])
	ringQ.MulScalar(ct.Value[1], k, ct.Value[1])
	ct.Scale = ct.Scale.Mul(rlwe.NewScale(float64(k)))
	if err := rescale(eval, ct, ct); err != nil {
		return probeNorms{}, fmt.Errorf("he: norm: %w", err)
	}
	sq, err := mulRelinNew(evals, ct, ct)
	if err != nil {
		return probeNorms{}, fmt.Errorf("he: norm: %w", err)
	}
	if err := rescale(eval, sq, sq); err != nil {
		return probeNorms{}, fmt.Errorf("he: norm: %w", err)
	}
	// masked returns the sum of sq's slots where keep holds (of the
	// coordinate j = slot mod pad), weighted by weight, at level 0 times the
	// exact integer gain: the value (and its own noise) grows gain times, the
	// rounding noise Responder.pack adds does not. Its scale counts the
	// weight, so that it reads the unweighted sum: want.
	masked := func(keep func(j int) bool, weight float64, gain uint64, want rlwe.Scale) (*rlwe.Ciphertext, error) {
		mask := make([]float64, ps.Slots())
		for i := range mask {
			if keep(i % pad) {
				mask[i] = weight
			}
		}
		pt := ckks.NewPlaintext(ps.params, sq.Level())
		pt.Scale = rlwe.NewScale(ps.params.Q()[sq.Level()])
		if err := r.enc.ShallowCopy().Encode(mask, pt); err != nil {
			return nil, fmt.Errorf("he: norm: %w", err)
		}
		v, err := eval.MulNew(sq, pt)
		if err != nil {
			return nil, fmt.Errorf("he: norm: %w", err)
		}
		if err := rescale(eval, v, v); err != nil {
			return nil, fmt.Errorf("he: norm: %w", err)
		}
		eval.DropLevel(v, v.Level()-answerLevel)
		ringQ := ps.params.RingQ().AtLevel(answerLevel)
		ringQ.MulScalar(v.Value[0], gain, v.Value[0])
		ringQ.MulScalar(v.Value[1], gain, v.Value[1])
		v.Scale = v.Scale.Mul(rlwe.NewScale(float64(gain) * weight))
		if !v.Scale.Equal(want) {
			return nil, fmt.Errorf("he: norm at scale 2^%.3f, want 2^%.3f", math.Log2(v.Scale.Float64()), math.Log2(want.Float64()))
		}
		return v, nil
	}
	var n probeNorms
	if n.y, err = masked(func(j int) bool { return j < m }, 1, normGain, ps.normScale(pad)); err != nil {
		return probeNorms{}, err
	}
	if n.p, err = masked(func(j int) bool { return j >= m }, ps.paddingWeight(pad), 1, ps.paddingScale(pad)); err != nil {
		return probeNorms{}, err
	}
	return n, nil
}

// logPaddingUnit bounds the padding norm's unit at level 0: one unit of
// squared norm is at most 2^logPaddingUnit of q0's units (and more than
// half that), whatever the padded dimension. It sets the padding norm's
// wrap period, q0 / unit, to at least 2^(60-logPaddingUnit) = 2^36 units
// of squared norm: padding values that wrap it have ‖V‖ ≥ 2^18, and add to
// every score the gallery's encoding error at the padding slots times V,
// about 6.4·10^-6·‖V‖ ≥ 1.7 rms on the production ring (measured by a
// review at ‖V‖ = 2^14.5 and 2^15.5, docs/he-parameters.md), 0.9 in the
// threshold's x: every slot is likely to leave the polynomial's domain,
// and a block's 32,768 slots all staying in it is out of the question, so
// the count is not a count (TestPaddingNormWrap). The window, 2^-11 of the
// unit each side, is then at least 2^12 units, 14 times the rounding noise
// pack leaves at A[2] (about 2^8.2 units).
const logPaddingUnit = 24

// paddingWeight is the value the padding norm's mask holds at the padding
// coordinates: 2^-r, with r the least that brings the unit, the norm's
// without normGain (2^26 at pad 128 on the production sets), within
// 2^logPaddingUnit.
func (ps *ParamSet) paddingWeight(pad int) float64 {
	unit := ps.normScale(pad).Float64() / normGain / float64(pad)
	r := math.Max(0, math.Ceil(math.Log2(unit)-logPaddingUnit))
	return math.Exp2(-r)
}

// paddingScale is the scale of the padding norm's ciphertext: the norm's
// without normGain, times the mask's weight.
func (ps *ParamSet) paddingScale(pad int) rlwe.Scale {
	return ps.normScale(pad).Div(rlwe.NewScale(normGain)).Mul(rlwe.NewScale(ps.paddingWeight(pad)))
}

// normScale is the scale of the norm's ciphertext for padded dimension
// pad, as Responder.norm makes it: the projected probe at R·Δ_p times the
// integer k, divided by the scoring prime q_L, squared, divided by q_{L-1}
// (the mask's scale cancels its rescale), times normGain.
func (ps *ParamSet) normScale(pad int) rlwe.Scale {
	L := ps.topLevel()
	q := ps.params.Q()
	sp := rlwe.NewScale(math.Exp2(float64(ps.spec.LogProbeScale))).Mul(rlwe.NewScale(float64(ps.Slots() / pad)))
	k := math.Floor(ps.params.DefaultScale().Float64() * float64(q[L]) / sp.Float64())
	s1 := sp.Mul(rlwe.NewScale(k)).Div(rlwe.NewScale(q[L]))
	return s1.Mul(s1).Div(rlwe.NewScale(q[L-1])).Mul(rlwe.NewScale(normGain))
}

// countGain multiplies the count in Responder.pack, so that the rounding
// noise pack adds (about 2^8.6 units) is 2^-9.4 of an entry's 2^18 units,
// small beside the evaluation's 2^-8.4 per block. The count's window at
// the largest answer, 2^22 entries of 2^18 units, is then the opening's
// 2^CBits exactly.
const countGain = 4

// answerCountScale is the scale of the count as the opening reads it.
func (ps *ParamSet) answerCountScale() rlwe.Scale {
	return ps.countScale().Mul(rlwe.NewScale(countGain))
}

// normGain multiplies the norm at level 0, so that the rounding noise of
// Responder.pack (a few times 60 units) is below 2^-21 of the norm's unit, below
// the evaluation's own noise, and the window (2^-11 of the unit each side)
// still fits the opening's YBits. It shortens the norm's wrap period
// (NormPeriodForTest) by the same factor: 2^31 in units of the squared
// norm at pad 128 (2^34 without the gain).
const normGain = 8

// answer packs the count and the two norms into one ciphertext A
// (Responder.pack), rerandomises it, forms the tag from A's plaintext as
// the opening reads it, rerandomises the tag, and masks the responder's
// decryption shares of the four values.
func (r *Responder) answer(q *Query, count *rlwe.Ciphertext, norms probeNorms, entries, pad int, prng sampling.PRNG) (*Answer, *opening.Secrets, error) {
	ps := r.ps
	q0 := ps.params.Q()[0]
	var masks, k [4]uint64 // by answerNames; k: K1, K2, K4 by value, then K3
	for i := range masks {
		var err error
		if masks[i], err = uniformMod(prng, q0); err != nil {
			return nil, nil, err
		}
		if k[i], err = uniformMod(prng, q0); err != nil {
			return nil, nil, err
		}
	}
	defer clear(masks[:])
	defer clear(k[:])
	windows := [3]window{
		ps.countWindow(ps.answerCountScale(), entries),
		ps.normWindow(norms.y.Scale, pad),
		ps.paddingWindow(norms.p.Scale, pad),
	}
	a, err := r.pack(count, norms)
	if err != nil {
		return nil, nil, err
	}
	if err := r.addZero(a, prng); err != nil {
		return nil, nil, err
	}
	// T = K1·L_C(A) + K2·L_Y(A) + K4·L_P(A) + K3 exactly, on the polynomials
	// (scales play no part: the opening reads raw coefficients modulo q0).
	// L_i(z) = z[i] = (w_i·z)[0] (ps.coefficientReader), so the tag's
	// ciphertext is (K1 + K2·w_1 + K4·w_2)·A + K3, read at its constant
	// coefficient.
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	mac, w := ringQ.NewPoly(), ringQ.NewPoly()
	for i := 1; i < len(windows); i++ {
		ringQ.MulScalar(ps.coefficientReader(i), k[i], w)
		ringQ.Add(mac, w, mac)
	}
	ringQ.AddScalar(mac, k[0], mac)
	tag := ckks.NewCiphertext(ps.params, 1, answerLevel)
	for i := 0; i < 2; i++ {
		ringQ.MulCoeffsBarrett(a.Value[i], mac, tag.Value[i])
	}
	// + K3 in the constant coefficient: the NTT of a constant is that
	// constant in every position.
	ringQ.AddScalar(tag.Value[0], k[3], tag.Value[0])
	zeroPoly(mac)
	zeroPoly(w)
	if err := r.addZero(tag, prng); err != nil {
		return nil, nil, err
	}
	ans := &Answer{ps: ps, id: r.keys.id, digest: q.Digest()}
	tmp := ringQ.NewPoly()
	share := func(ct *rlwe.Ciphertext) []uint64 {
		ringQ.MulCoeffsMontgomery(ct.Value[1], r.share.sk.Value.Q, tmp)
		ringQ.Add(tmp, ct.Value[0], tmp)
		ringQ.INTT(tmp, tmp)
		return tmp.Coeffs[0]
	}
	z := share(a)
	for i := range windows {
		ans.d[i] = addMod(z[i], masks[i], q0)
	}
	ans.d[3] = addMod(share(tag)[0], masks[3], q0)
	ans.c1 = [2]ring.Poly{a.Value[1], tag.Value[1]}
	zeroPoly(tmp)
	ans.encode()
	sec, err := ps.secrets(masks, k, windows)
	if err != nil {
		return nil, nil, err
	}
	return ans, sec, nil
}

// pack returns one ciphertext at level 0 whose plaintext holds the count's
// constant coefficient at its constant coefficient, the norm's at
// coefficient 1 and the padding norm's at coefficient 2:
//
//	A = Tr₄(G·C/4) + e_1·Tr₄(Y/4) + e_2·Tr₈(P/8),   G = countGain,
//
// in the ConjugateInvariant ring's basis e_0 = 1, e_i = X^i + X^-i, where
// e_a·e_b = e_(a+b) + e_|a-b| for a ≠ b. σ₂, σ₄ and σ₈, the rotations by
// S/2, S/4 and S/8 slots (X -> X^(1+kN/2^t) with k odd, t = 0, 1, 2), map e_i to
// -e_i when i ≡ 1 (mod 2), i ≡ 2 (mod 4), i ≡ 4 (mod 8) respectively and
// fix it otherwise on the multiples of 2, 4, 8: Tr₂(z) = z + σ₂(z) is twice
// the even part of z, Tr₄(z) = Tr₂(z) + σ₄(Tr₂(z)) four times its part on
// the multiples of 4, Tr₈ eight times its part on the multiples of 8 (1/2,
// 1/4 and 1/8 are inverses modulo q0, so the kept coefficients are exact),
// each plus the key switch's rounding noise (σ ≈ 60 units per
// coefficient). So the three terms live on disjoint coefficients: the
// multiples of 4; the odd ones, e_1·e_4k = e_(4k+1) + e_(4k-1), with
// coefficient 1 equal to Tr₄(Y/4)[0]; and those ≡ 2 (mod 4),
// e_2·e_8k = e_(8k+2) + e_(8k-2), with coefficient 2 equal to
// Tr₈(P/8)[0]. A[0] = G·C[0], A[1] = Y[0] and A[2] = P[0], each up to a
// few rounding noises. A trace over t rotations leaves 2^t - 1 of them at
// each coefficient, and (e_i·z)[0] = 2·z[i], so A[0] holds 3 from the
// count's trace, 4·3 from the norm's and 4·7 from the padding norm's: a
// standard deviation of about 60·√43 ≈ 2^8.6 units, 2^-9.4 of an entry at
// the count's gain G, and far less on the norms' unit (normGain). Seven
// key switches at level 0, by rotation keys the projection has too.
func (r *Responder) pack(count *rlwe.Ciphertext, norms probeNorms) (*rlwe.Ciphertext, error) {
	ps := r.ps
	q0 := ps.params.Q()[0]
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	r.mu.Lock()
	defer r.mu.Unlock()
	// trace sums ct with its rotations by each of steps, in turn, after
	// multiplying it by gain over their number, modulo q0.
	trace := func(ct *rlwe.Ciphertext, gain uint64, steps ...int) (*rlwe.Ciphertext, error) {
		if ct.Level() != answerLevel {
			return nil, fmt.Errorf("he: pack: ciphertext at level %d, want %d", ct.Level(), answerLevel)
		}
		inv := mulMod(gain, ring.ModExp(uint64(1)<<uint(len(steps)), q0-2, q0), q0)
		h := ct.CopyNew()
		for i := range h.Value {
			ringQ.MulScalar(h.Value[i], inv, h.Value[i])
		}
		rot := ckks.NewCiphertext(ps.params, 1, answerLevel)
		for _, k := range steps {
			if err := rotate([]*ckks.Evaluator{r.eval}, h, k, rot); err != nil {
				return nil, fmt.Errorf("he: pack: %w", err)
			}
			for i := range h.Value {
				ringQ.Add(h.Value[i], rot.Value[i], h.Value[i])
			}
		}
		return h, nil
	}
	S := ps.Slots()
	a, err := trace(count, countGain, S/2, S/4)
	if err != nil {
		return nil, err
	}
	for i, v := range []struct {
		ct    *rlwe.Ciphertext
		steps []int
	}{{norms.y, []int{S / 2, S / 4}}, {norms.p, []int{S / 2, S / 4, S / 8}}} {
		t, err := trace(v.ct, 1, v.steps...)
		if err != nil {
			return nil, err
		}
		e := ps.basisElement(i + 1)
		for j := range a.Value {
			ringQ.MulCoeffsBarrett(t.Value[j], e, t.Value[j])
			ringQ.Add(a.Value[j], t.Value[j], a.Value[j])
		}
	}
	return a, nil
}

// basisElement returns e_i = X^i + X^-i (i >= 1) at level 0, in the NTT
// domain.
func (ps *ParamSet) basisElement(i int) ring.Poly {
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	p := ringQ.NewPoly()
	p.Coeffs[0][i] = 1
	ringQ.NTT(p, p)
	return p
}

// coefficientReader returns w_i (i >= 1) at level 0, in the NTT domain: the
// polynomial with (w_i·z)[0] = z[i] for every z. The constant coefficient
// of a product is w[0]·z[0] + 2·Σ_{j≥1} w[j]·z[j] (e_j·e_k has a constant
// term only for j = k ≥ 1, namely 2), so w_i = e_i/2.
func (ps *ParamSet) coefficientReader(i int) ring.Poly {
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	q0 := ps.params.Q()[0]
	p := ringQ.NewPoly()
	p.Coeffs[0][i] = (q0 + 1) / 2
	ringQ.NTT(p, p)
	return p
}

// uniformMod returns a uniform value in [0, q) read from rand.
func uniformMod(rand io.Reader, q uint64) (uint64, error) {
	var b [8]byte
	// reduce, not %: v is the secret itself, and a division's latency
	// depends on its operands (modarith.go). The values are those of v % q.
	limit := ^uint64(0) - reduce(^uint64(0), q)
	for {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("he: reading randomness: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			return reduce(v, q), nil
		}
	}
}
