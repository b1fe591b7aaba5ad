package he

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// A key switch on several cores.
//
// Lattigo runs a key switch on one core: the decomposition of the switched
// polynomial into its digits (a basis extension and the NTTs of each
// digit), the products with the key's digits, and the division by P
// (ModDown) of the result's two polynomials. The digits are independent
// until they are summed, and so are the two polynomials of ModDown, so a
// key switch whose evaluators would otherwise wait (the projection's chain
// of rotations, the norm's square, the threshold's products when a single
// block has the whole machine) splits them: evaluator w takes the digits
// w, w + W, w + 2W, … and accumulates its products in its own buffers, the
// W sums are added, and the first two evaluators divide one polynomial
// each. The result equals Lattigo's coefficient for coefficient, since
// every partial sum is reduced before it is added
// (TestParallelKeySwitchMatchesLattigo).
//
// A key switch on one evaluator takes the same path, for its NTTs, which
// run on nttTable (keyswitch_ntt.go), a sixth cheaper than Lattigo's.

// keySwitchWorkers is the most evaluators a key switch at the top level
// keeps busy: one per digit of its decomposition (5 on puente-ckks-n15-v2).
// Each evaluator holds about 65 MB of buffers at N = 2^15, so steps that
// only switch keys (a shard's Prepare and Finish) take no more than this.
func (ps *ParamSet) keySwitchWorkers() int {
	return ps.params.BaseRNSDecompositionVectorSize(ps.topLevel(), ps.params.MaxLevelP())
}

// keySwitchEvaluators returns evaluators for steps that only switch keys:
// one per core, at most keySwitchWorkers.
func (r *Responder) keySwitchEvaluators() []*ckks.Evaluator {
	return r.evaluators(min(runtime.GOMAXPROCS(0), r.ps.keySwitchWorkers()))
}

// gadgetProduct sets out[0], out[1] (level lvl, NTT form) to the key switch
// of cx (NTT form) by the gadget ciphertext gct: Σ_i decomp_i(cx)·gct_i,
// divided by P. Each evaluator it uses accumulates in its BuffQP[2] and
// BuffQP[3] and decomposes into its BuffDecompQP[0]; cx out of NTT form goes
// to evals[0].BuffInvNTT, and the first two evaluators' basis extenders
// divide by P. out must not alias any of these. lvl must not exceed the
// key's level (checkKeyLevel).
func gadgetProduct(evals []*ckks.Evaluator, lvl int, cx ring.Poly, gct *rlwe.GadgetCiphertext, out [2]ring.Poly) {
	params := *evals[0].GetRLWEParameters()
	levelP := gct.LevelP()
	ringQP := params.RingQP().AtLevel(lvl, levelP)
	digits := params.BaseRNSDecompositionVectorSize(lvl, levelP)
	workers := min(len(evals), digits)

	cxInvNTT := evals[0].BuffInvNTT
	intt(params.RingQ().SubRings[:lvl+1], cx, cxInvNTT, true)

	accs := make([][2]ringqp.Poly, workers)
	for w := range workers {
		accs[w] = [2]ringqp.Poly{evals[w].BuffQP[2], evals[w].BuffQP[3]}
	}
	goWorkers(workers, func(w int, _ *atomic.Bool) {
		accumulate(evals[w].Evaluator, ringQP, lvl, levelP, cx, cxInvNTT, gct, accs[w], w, workers, digits)
	})
	for _, acc := range accs[1:] {
		addPolysQP(ringQP, accs[0][0], acc[0], accs[0][0])
		addPolysQP(ringQP, accs[0][1], acc[1], accs[0][1])
	}
	parallelWorkers(2, min(2, len(evals)), func(w, i int) {
		modDown(evals[w].Evaluator, lvl, levelP, accs[0][i].Q, accs[0][i].P, out[i])
	})
}

// checkKeyLevel refuses a key switch at a level above the key's: Lattigo
// would clamp it to the key's level, and the split one would index past
// the key's rows.
func checkKeyLevel(what string, lvl int, gct *rlwe.GadgetCiphertext) error {
	if lvl > gct.LevelQ() {
		return fmt.Errorf("he: %s: ciphertext at level %d, above the key's level %d", what, lvl, gct.LevelQ())
	}
	return nil
}

// rotate sets out to ct rotated by k slots, as ckks.Evaluator.Rotate does,
// with the key switch on every evaluator of evals. out may be ct.
func rotate(evals []*ckks.Evaluator, ct *rlwe.Ciphertext, k int, out *rlwe.Ciphertext) error {
	e := evals[0]
	params := e.GetRLWEParameters()
	galEl := params.GaloisElement(k)
	if ct.Degree() != 1 || out.Degree() != 1 {
		return fmt.Errorf("he: rotate: ciphertexts of degree %d and %d, want 1", ct.Degree(), out.Degree())
	}
	if galEl == 1 {
		if out != ct {
			out.Copy(ct)
		}
		return nil
	}
	lvl := min(ct.Level(), out.Level())
	evk, err := galoisKey(e, "rotate", galEl, lvl)
	if err != nil {
		return err
	}
	tmp := [2]ring.Poly{e.BuffQP[0].Q, e.BuffQP[1].Q}
	gadgetProduct(evals, lvl, ct.Value[1], &evk.GadgetCiphertext, tmp)
	finishRotation(e, lvl, ct, tmp, galEl, out)
	return nil
}

// galoisKey returns e's key for the Galois element galEl, refusing a key
// switch at level lvl above the key's (checkKeyLevel).
func galoisKey(e *ckks.Evaluator, what string, galEl uint64, lvl int) (*rlwe.GaloisKey, error) {
	evk, err := e.CheckAndGetGaloisKey(galEl)
	if err != nil {
		return nil, fmt.Errorf("he: %s: %w", what, err)
	}
	if err := checkKeyLevel(what, lvl, &evk.GadgetCiphertext); err != nil {
		return nil, err
	}
	return evk, nil
}

// finishRotation sets out (level lvl) to ct's rotation by galEl from ks,
// the key switch of ct's second polynomial: (ks[0] + ct[0], ks[1]) permuted
// by the automorphism. ks[0] is overwritten; out may be ct.
func finishRotation(e *ckks.Evaluator, lvl int, ct *rlwe.Ciphertext, ks [2]ring.Poly, galEl uint64, out *rlwe.Ciphertext) {
	out.Resize(1, lvl)
	ringQ := e.GetRLWEParameters().RingQ().AtLevel(lvl)
	addPolys(ringQ, ks[0], ct.Value[0], ks[0])
	idx := e.AutomorphismIndex(galEl)
	ringQ.AutomorphismNTTWithIndex(ks[0], idx, out.Value[0])
	ringQ.AutomorphismNTTWithIndex(ks[1], idx, out.Value[1])
	*out.MetaData = *ct.MetaData
}

// relinearize sets out to the degree-2 ciphertext ct relinearised, as
// rlwe.Evaluator.Relinearize does, with the key switch on every evaluator
// of evals. out may be ct.
func relinearize(evals []*ckks.Evaluator, ct, out *rlwe.Ciphertext) error {
	if ct.Degree() != 2 {
		return fmt.Errorf("he: relinearize: ciphertext of degree %d, want 2", ct.Degree())
	}
	e := evals[0]
	rlk, err := e.CheckAndGetRelinearizationKey()
	if err != nil {
		return fmt.Errorf("he: relinearize: %w", err)
	}
	params := e.GetRLWEParameters()
	lvl := min(ct.Level(), out.Level())
	if err := checkKeyLevel("relinearize", lvl, &rlk.GadgetCiphertext); err != nil {
		return err
	}
	ringQ := params.RingQ().AtLevel(lvl)
	tmp := [2]ring.Poly{e.BuffQP[0].Q, e.BuffQP[1].Q}
	gadgetProduct(evals, lvl, ct.Value[2], &rlk.GadgetCiphertext, tmp)
	addPolys(ringQ, ct.Value[0], tmp[0], out.Value[0])
	addPolys(ringQ, ct.Value[1], tmp[1], out.Value[1])
	out.Resize(1, lvl)
	*out.MetaData = *ct.MetaData
	return nil
}

// mulRelinNew returns a·b relinearised, as ckks.Evaluator.MulRelinNew does
// for two ciphertexts, with the key switch on every evaluator of evals.
func mulRelinNew(evals []*ckks.Evaluator, a, b *rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
	t, err := mulNew(evals[0], a, b)
	if err != nil {
		return nil, err
	}
	if err := relinearize(evals, t, t); err != nil {
		return nil, err
	}
	return t, nil
}

// mulNew returns a·b of degree 2, as ckks.Evaluator.MulNew does for two
// ciphertexts of degree 1 (mulInto).
func mulNew(e *ckks.Evaluator, a, b *rlwe.Ciphertext) (*rlwe.Ciphertext, error) {
	if a.Degree() != 1 || b.Degree() != 1 {
		return e.MulNew(a, b)
	}
	t := ckks.NewCiphertext(*e.GetParameters(), a.Degree(), a.Level())
	if err := mulInto(e, a, b, t); err != nil {
		return nil, err
	}
	return t, nil
}

// mulInto sets out to a·b of degree 2, as ckks.Evaluator.Mul does for two
// ciphertexts of degree 1 (the same integers and metadata), each prime
// whose table runs with IFMA by tensorIFMA, the others (q0, the scoring
// prime) as Lattigo computes them. out may be a or b.
func mulInto(e *ckks.Evaluator, a, b, out *rlwe.Ciphertext) error {
	_, level, err := e.InitOutputBinaryOp(a.El(), b.El(), 2, out.El())
	if err != nil {
		return fmt.Errorf("he: mul: %w", err)
	}
	params := e.GetParameters()
	out.Scale = a.Scale.Mul(b.Scale)
	out.Resize(2, level)
	ringQ := params.RingQ()
	pool := scratchPool(ringQ, params.RingP())
	buf := pool.Get().(*ringqp.Poly)
	defer pool.Put(buf)
	for i, s := range ringQ.SubRings[:level+1] {
		a0, a1, b0, b1 := a.Value[0].Coeffs[i], a.Value[1].Coeffs[i], b.Value[0].Coeffs[i], b.Value[1].Coeffs[i]
		c0, c1, c2 := out.Value[0].Coeffs[i], out.Value[1].Coeffs[i], out.Value[2].Coeffs[i]
		if tb := nttTableOf(s); tb != nil && tb.vector() {
			tensorIFMA(&c0[0], &c1[0], &c2[0], &a0[0], &a1[0], &b0[0], &b1[0], len(c0), s.Modulus, tb.qInvNeg52, tb.r104)
			continue
		}
		// Lattigo's products, into scratch first: out may be a or b.
		m0, m1, d0, d1, d2 := buf.Q.Coeffs[0], buf.Q.Coeffs[1], buf.Q.Coeffs[2], buf.Q.Coeffs[3], buf.Q.Coeffs[4]
		s.MForm(a0, m0)
		s.MForm(a1, m1)
		s.MulCoeffsMontgomery(m0, b0, d0)
		s.MulCoeffsMontgomery(m1, b1, d2)
		s.MulCoeffsMontgomery(m0, b1, d1)
		s.MulCoeffsMontgomeryThenAdd(m1, b0, d1)
		copy(c0, d0)
		copy(c1, d1)
		copy(c2, d2)
	}
	return nil
}

// groupEvaluators deals evals round-robin into min(n, len(evals)) groups.
func groupEvaluators(evals []*ckks.Evaluator, n int) [][]*ckks.Evaluator {
	groups := make([][]*ckks.Evaluator, min(n, len(evals)))
	for i, e := range evals {
		groups[i%len(groups)] = append(groups[i%len(groups)], e)
	}
	return groups
}

// groupEvaluator is evals[0] with its key switches (Relinearize,
// MulRelin, MulRelinNew) run on every evaluator of the group, its products
// of two ciphertexts by mulInto and its Rescale on nttTable (rescale), for
// Lattigo's polynomial evaluator, which calls them through the
// schemes.Evaluator interface. The group's other evaluators must be idle
// while it is in use.
type groupEvaluator struct {
	*ckks.Evaluator
	evals []*ckks.Evaluator
}

func newGroupEvaluator(evals []*ckks.Evaluator) groupEvaluator {
	return groupEvaluator{Evaluator: evals[0], evals: evals}
}

func (g groupEvaluator) Relinearize(ct, out *rlwe.Ciphertext) error {
	return relinearize(g.evals, ct, out)
}

func (g groupEvaluator) Rescale(op0, opOut *rlwe.Ciphertext) error {
	return rescale(g.Evaluator, op0, opOut)
}

func (g groupEvaluator) MulRelin(a *rlwe.Ciphertext, b rlwe.Operand, out *rlwe.Ciphertext) error {
	ct, ok := b.(*rlwe.Ciphertext)
	if !ok || a.Degree() != 1 || ct.Degree() != 1 {
		return g.Evaluator.MulRelin(a, b, out)
	}
	if err := mulInto(g.Evaluator, a, ct, out); err != nil {
		return err
	}
	return relinearize(g.evals, out, out)
}

func (g groupEvaluator) Mul(a *rlwe.Ciphertext, b rlwe.Operand, out *rlwe.Ciphertext) error {
	if ct, ok := b.(*rlwe.Ciphertext); ok && a.Degree() == 1 && ct.Degree() == 1 {
		return mulInto(g.Evaluator, a, ct, out)
	}
	return g.Evaluator.Mul(a, b, out)
}

func (g groupEvaluator) MulRelinNew(a *rlwe.Ciphertext, b rlwe.Operand) (*rlwe.Ciphertext, error) {
	ct, ok := b.(*rlwe.Ciphertext)
	if !ok || a.Degree() != 1 || ct.Degree() != 1 {
		return g.Evaluator.MulRelinNew(a, b)
	}
	return mulRelinNew(g.evals, a, ct)
}
