package he

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// The key switch's NTTs on nttTable (ntt.go). A key switch at the top
// level runs about ninety forward NTTs and thirty inverse ones: the
// switched polynomial is taken out of NTT form, each digit of its
// decomposition to every other prime of QP and into NTT form
// (decomposeSingleNTT), and ModDown takes the P part out of NTT form and
// its quotient to every prime of Q (modDown). These functions do what
// Lattigo's rlwe.Evaluator.DecomposeSingleNTT and
// ring.BasisExtender.ModDownQPtoQNTT do, with Lattigo's basis extensions
// (which reduce every input first, so they do not depend on which
// representative below 4q they get) and nttTable's transforms in place of
// Lattigo's; the key switch's result is Lattigo's ciphertext coefficient for
// coefficient (TestParallelKeySwitchMatchesLattigo, TestBabyStepsMatchLattigo).

// nttKey names a prime's transform: its modulus, degree and root.
type nttKey struct {
	q, nthRoot, root uint64
	n                int
}

// nttTables holds every table built, by nttKey (nil for a ring forwardNTT
// does not serve).
var nttTables sync.Map

// nttTableOf returns s's table for forwardNTT, or nil, built on first use.
func nttTableOf(s *ring.SubRing) *nttTable {
	k := nttKey{q: s.Modulus, nthRoot: s.NthRoot, root: s.PrimitiveRoot, n: s.N}
	if t, ok := nttTables.Load(k); ok {
		return t.(*nttTable)
	}
	t, _ := nttTables.LoadOrStore(k, newNTTTable(s))
	return t.(*nttTable)
}

// nttLazy replaces p (values below 2q) by its NTT mod s's prime, each value
// below 4q.
func nttLazy(s *ring.SubRing, p []uint64) {
	if t := nttTableOf(s); t != nil {
		t.forward(p)
		return
	}
	s.NTTLazy(p, p)
}

// nttFull replaces p (values below 2q) by its NTT mod s's prime, each value
// below q, as s.NTT leaves them.
func nttFull(s *ring.SubRing, p []uint64) {
	t := nttTableOf(s)
	if t == nil {
		s.NTT(p, p)
		return
	}
	t.forward(p)
	q := s.Modulus
	for k, v := range p {
		if v = below2q(v, 2*q); v >= q {
			v -= q
		}
		p[k] = v
	}
}

// nttFullQP is nttFull on every row of p up to r's levels.
func nttFullQP(r ringqp.Ring, p ringqp.Poly) {
	for i, s := range r.RingQ.SubRings[:r.RingQ.Level()+1] {
		nttFull(s, p.Q.Coeffs[i])
	}
	for i, s := range r.RingP.SubRings[:r.RingP.Level()+1] {
		nttFull(s, p.P.Coeffs[i])
	}
}

// intt sets out to in (NTT form) out of it, row by row over the primes of
// subRings, each value below q if full (as ring.Ring.INTT leaves them),
// below 2q if not (INTTLazy). out may be in.
func intt(subRings []*ring.SubRing, in, out ring.Poly, full bool) {
	for i, s := range subRings {
		row := out.Coeffs[i]
		if &row[0] != &in.Coeffs[i][0] {
			copy(row, in.Coeffs[i])
		}
		switch t := nttTableOf(s); {
		case t != nil:
			t.inverse(row, full)
		case full:
			s.INTT(row, row)
		default:
			s.INTTLazy(row, row)
		}
	}
}

// decomposeSingleNTT sets c2Q, c2P to digit i of cx (NTT form; cxInvNTT is
// cx out of it) over QP, in NTT form, as rlwe.Evaluator.DecomposeSingleNTT
// does, with the values of the primes outside the digit left below 4q.
func decomposeSingleNTT(e *rlwe.Evaluator, levelQ, levelP, nbPi, i int, cx, cxInvNTT, c2Q, c2P ring.Poly) {
	params := e.GetRLWEParameters()
	decomposeDigit(e, levelQ, levelP, nbPi, i, cxInvNTT, c2Q, c2P)
	first, end := i*nbPi, i*nbPi+nbPi
	for x, s := range params.RingQ().SubRings[:levelQ+1] {
		if first <= x && x < end {
			copy(c2Q.Coeffs[x], cx.Coeffs[x])
		} else {
			nttLazy(s, c2Q.Coeffs[x])
		}
	}
	for x, s := range params.RingP().SubRings[:levelP+1] {
		nttLazy(s, c2P.Coeffs[x])
	}
}

// modDownKey names the constants of ModDown from QP to Q at one P level.
type modDownKey struct {
	ringQ, ringP *ring.Ring
	levelP       int
}

// modDownConstants holds, by modDownKey, -(p_0 ⋯ p_levelP)^-1 mod each
// prime of Q in Montgomery form: what Lattigo's ModDownQPtoQNTT multiplies
// by.
var modDownConstants sync.Map

func modDownConstantsOf(ringQ, ringP *ring.Ring, levelP int) []uint64 {
	k := modDownKey{ringQ: ringQ, ringP: ringP, levelP: levelP}
	if c, ok := modDownConstants.Load(k); ok {
		return c.([]uint64)
	}
	c := make([]uint64, len(ringQ.SubRings))
	for i, s := range ringQ.SubRings {
		q := s.Modulus
		inv := ring.MForm(1, q, s.BRedConstant)
		for _, p := range ringP.SubRings[:levelP+1] {
			pInv := ring.MForm(ring.ModExp(p.Modulus%q, q-2, q), q, s.BRedConstant)
			inv = ring.MRed(inv, pInv, q, s.MRedConstant)
		}
		c[i] = q - inv
	}
	v, _ := modDownConstants.LoadOrStore(k, c)
	return v.([]uint64)
}

// modDownScratch holds buffers of one parameter set's size for modDown, by
// its rings (modDownKey with levelP 0).
var modDownScratch sync.Map

func scratchPool(ringQ, ringP *ring.Ring) *sync.Pool {
	k := modDownKey{ringQ: ringQ, ringP: ringP}
	if p, ok := modDownScratch.Load(k); ok {
		return p.(*sync.Pool)
	}
	p, _ := modDownScratch.LoadOrStore(k, &sync.Pool{New: func() any {
		b := ringqp.Ring{RingQ: ringQ, RingP: ringP}.NewPoly()
		return &b
	}})
	return p.(*sync.Pool)
}

// modDown sets p2Q to (p1Q, p1P) mod QP divided by P and rounded, in NTT
// form, as ring.BasisExtender.ModDownQPtoQNTT does (the same integers);
// p2Q may be p1Q. It uses e's basis extender.
func modDown(e *rlwe.Evaluator, levelQ, levelP int, p1Q, p1P, p2Q ring.Poly) {
	params := e.GetRLWEParameters()
	ringQ, ringP := params.RingQ(), params.RingP()
	pool := scratchPool(ringQ, ringP)
	buf := pool.Get().(*ringqp.Poly)
	defer pool.Put(buf)
	intt(ringP.SubRings[:levelP+1], p1P, buf.P, false)
	modUpPtoQ(e, levelP, levelQ, buf.P, buf.Q)
	c := modDownConstantsOf(ringQ, ringP, levelP)
	for i, s := range ringQ.SubRings[:levelQ+1] {
		nttLazy(s, buf.Q.Coeffs[i])
		// (p1 - buf)·P^-1 as (2q - p1 + buf)·(-P^-1), reduced: buf's values
		// below 4q keep the sum below 6q, within the product's bound.
		subThenMulScalar(s, buf.Q.Coeffs[i], p1Q.Coeffs[i], c[i], p2Q.Coeffs[i])
	}
}

// subThenMulScalar sets out to (x + 2q - y)·c mod s's prime q, in [0, q),
// as s.SubThenMulScalarMontgomeryTwoModulus(x, y, cMont, out) does, cMont
// being c in Lattigo's Montgomery form: x below 4q, y below 2q, out may be
// either. With IFMA, on a prime below 2^49 (the sum below 2^52), by Shoup's
// product in base 2^52.
func subThenMulScalar(s *ring.SubRing, x, y []uint64, cMont uint64, out []uint64) {
	q := s.Modulus
	if !useIFMA || q >= 1<<49 || len(out)%8 != 0 {
		s.SubThenMulScalarMontgomeryTwoModulus(x, y, cMont, out)
		return
	}
	w := ring.IMForm(cMont, q, s.MRedConstant)
	wq, _ := bits.Div64(w>>12, w<<52, q)
	subScaleIFMA(&out[0], &x[0], &y[0], len(out), w, wq, q)
}

// automorphismHoisted sets out to ct's rotation by the Galois element
// galEl, from the digits of ct's second polynomial (decomp, NTT form), as
// rlwe.Evaluator.AutomorphismHoisted does, with sumDigits's products and
// modDown. It uses e's
// buffers BuffQP[0] and BuffQP[1]; out may not be ct.
func automorphismHoisted(e *ckks.Evaluator, level int, ct *rlwe.Ciphertext, decomp []ringqp.Poly, galEl uint64, out *rlwe.Ciphertext) error {
	if ct.Degree() != 1 || out.Degree() != 1 || !ct.IsNTT {
		return fmt.Errorf("he: hoisted rotation of a ciphertext of degree %d (NTT %v), want 1 in NTT form", ct.Degree(), ct.IsNTT)
	}
	if galEl == 1 {
		out.Copy(ct)
		return nil
	}
	evk, err := galoisKey(e, "hoisted rotation", galEl, level)
	if err != nil {
		return err
	}
	if evk.BaseTwoDecomposition != 0 {
		return fmt.Errorf("he: hoisted rotation: a key with a base-two decomposition, which Puente's keys never have")
	}
	gadgetProductHoisted(e.GetRLWEParameters(), level, decomp, &evk.GadgetCiphertext, [2]ringqp.Poly{e.BuffQP[0], e.BuffQP[1]})
	for _, b := range e.BuffQP[:2] {
		modDown(e.Evaluator, level, evk.LevelP(), b.Q, b.P, b.Q)
	}
	finishRotation(e, level, ct, [2]ring.Poly{e.BuffQP[0].Q, e.BuffQP[1].Q}, galEl, out)
	return nil
}
