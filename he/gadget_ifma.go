package he

import (
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

// The gadget product's coefficient-wise products with IFMA. accumulate sums
// Σ_i decomp_i(cx)·gct_i row by row; on a prime whose nttTable runs with
// IFMA (below 2^50) and whose sum stays within IFMA's 52 bits, each product
// is Montgomery's in base 2^52 (mulMont52IFMA: a·b·2^-52 mod q up to one q,
// where Lattigo's MulCoeffsMontgomeryLazy gives a·b·2^-64, the keys being in
// Lattigo's Montgomery form), summed without reduction, and the sum is
// multiplied by 2^-12 and reduced fully at the end: the same integers as
// Lattigo's reduced sum. Other primes (q0, the scoring prime) keep
// Lattigo's products and its lazy reductions.

// gadgetRow is one prime's row of a gadget product's sum: t is its table
// if the row runs with IFMA, nil if it takes Lattigo's products.
type gadgetRow struct {
	s *ring.SubRing
	t *nttTable
}

// sumRows returns the rows of primes subRings for sums of terms
// products.
func sumRows(subRings []*ring.SubRing, terms int) []gadgetRow {
	rows := make([]gadgetRow, len(subRings))
	for i, s := range subRings {
		rows[i].s = s
		// Each product below 2q: the sum below 2q·terms must stay below
		// 2^52 for the final product by 2^-12.
		if t := nttTableOf(s); t != nil && t.vector() && uint64(terms)*2*t.q < 1<<52 {
			rows[i].t = t
		}
	}
	return rows
}

// mulAdd sets acc (or adds to it, if add) the products k·x of one row: by
// mulMont52IFMA on an IFMA row (k below q, x below 4q), by Lattigo's lazy
// Montgomery products on the others.
func (r gadgetRow) mulAdd(k, x, acc []uint64, add bool) {
	switch {
	case r.t != nil:
		mulMont52IFMA(&acc[0], &k[0], &x[0], len(acc), r.t.q, r.t.qInvNeg52, add)
	case add:
		r.s.MulCoeffsMontgomeryLazyThenAddLazy(k, x, acc)
	default:
		r.s.MulCoeffsMontgomeryLazy(k, x, acc)
	}
}

// mulAddRows sets acc (or adds to it, if add) the products key·c, row by
// row.
func mulAddRows(rows []gadgetRow, key, c, acc ring.Poly, add bool) {
	for i, r := range rows {
		r.mulAdd(key.Coeffs[i], c.Coeffs[i], acc.Coeffs[i], add)
	}
}

// reduceLazyRows reduces acc's rows that take Lattigo's lazy products.
func reduceLazyRows(rows []gadgetRow, acc ring.Poly) {
	for i, r := range rows {
		if r.t == nil {
			r.s.Reduce(acc.Coeffs[i], acc.Coeffs[i])
		}
	}
}

// finishRows reduces acc's rows at the end of a sum: the IFMA rows
// multiplied by 2^-12, Lattigo's if a lazy sum is left (lazy).
func finishRows(rows []gadgetRow, acc ring.Poly, lazy bool) {
	for i, r := range rows {
		a := acc.Coeffs[i]
		switch {
		case r.t != nil:
			scaleIFMA(&a[0], len(a), r.t.r12, r.t.r12q52, r.t.q, true)
		case lazy:
			r.s.Reduce(a, a)
		}
	}
}

// accumulate sets acc to Σ decomp_i(cx)·gct_i over the digits i ≡ first
// (mod step), reduced (sumDigits), decomposing each digit as it goes.
func accumulate(e *rlwe.Evaluator, ringQP ringqp.Ring, lvl, levelP int, cx, cxInvNTT ring.Poly, gct *rlwe.GadgetCiphertext, acc [2]ringqp.Poly, first, step, digits int) {
	c2 := e.BuffDecompQP[0]
	sumDigits(e.GetRLWEParameters(), ringQP, lvl, levelP, gct, first, step, digits, func(i int) ringqp.Poly {
		decomposeSingleNTT(e, lvl, levelP, levelP+1, i, cx, cxInvNTT, c2.Q, c2.P)
		return c2
	}, acc)
}

// gadgetProductHoisted sets acc to Σ decomp_i·gct_i over every digit,
// reduced (sumDigits), as rlwe.Evaluator.GadgetProductHoistedLazy does for
// a ciphertext in NTT form.
func gadgetProductHoisted(params *rlwe.Parameters, lvl int, decomp []ringqp.Poly, gct *rlwe.GadgetCiphertext, acc [2]ringqp.Poly) {
	levelP := gct.LevelP()
	ringQP := params.RingQP().AtLevel(lvl, levelP)
	digits := params.BaseRNSDecompositionVectorSize(lvl, levelP)
	sumDigits(params, ringQP, lvl, levelP, gct, 0, 1, digits, func(i int) ringqp.Poly { return decomp[i] }, acc)
}

// sumDigits sets acc to Σ digit(i)·gct_i over the digits i ≡ first (mod
// step), reduced, as Lattigo's gadget products accumulate them: on the
// primes that take Lattigo's products lazily, with a reduction as often as
// the moduli's overflow margins require; on the others with IFMA (above).
func sumDigits(params *rlwe.Parameters, ringQP ringqp.Ring, lvl, levelP int, gct *rlwe.GadgetCiphertext, first, step, digits int, digit func(i int) ringqp.Poly, acc [2]ringqp.Poly) {
	qOver := params.QiOverflowMargin(lvl) >> 1
	pOver := params.PiOverflowMargin(levelP) >> 1
	terms := (digits - first + step - 1) / step
	rowsQ := sumRows(ringQP.RingQ.SubRings[:lvl+1], terms)
	rowsP := sumRows(ringQP.RingP.SubRings[:levelP+1], terms)
	n := 0
	for i := first; i < digits; i += step {
		c := digit(i)
		for k := range acc {
			mulAddRows(rowsQ, gct.Value[i][0][k].Q, c.Q, acc[k].Q, n > 0)
			mulAddRows(rowsP, gct.Value[i][0][k].P, c.P, acc[k].P, n > 0)
		}
		if n%qOver == qOver-1 {
			reduceLazyRows(rowsQ, acc[0].Q)
			reduceLazyRows(rowsQ, acc[1].Q)
		}
		if n%pOver == pOver-1 {
			reduceLazyRows(rowsP, acc[0].P)
			reduceLazyRows(rowsP, acc[1].P)
		}
		n++
	}
	for k := range acc {
		finishRows(rowsQ, acc[k].Q, n%qOver != 0)
		finishRows(rowsP, acc[k].P, n%pOver != 0)
	}
}
