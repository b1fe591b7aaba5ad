package he

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"

	"github.com/puente-id/puente/opening"
)

// An Answer is the responder's encrypted answer to one query, before the
// opening: two ciphertexts at level 0 and four masked decryption shares.
//
// The first ciphertext, A, holds the count C in its constant coefficient,
// the squared norm Y of the probe's template coordinates in its
// coefficient 1 and the squared norm P of its padding coordinates in its
// coefficient 2 (Responder.pack puts them there). The second holds the tag
// T = K1·C + K2·Y + K4·P + K3 (a MAC under the responder's secret keys) in
// its constant coefficient. For each of C, Y, P, T the answer carries the
// responder's decryption share of that coefficient of its ciphertext,
//
//	d = (c0 + c1·s_R)[i] + r  (mod q0),
//
// masked by a uniform r that only the responder knows, and each
// ciphertext's second component c1. Adding (c1·s_Q)[i], the querier obtains
// the value plus r: a uniformly random value that the opening
// ([opening.Garble]) turns into one bit. Both ciphertexts are rerandomised
// with a fresh encryption of zero before their c1 is sent, so each c1 is a
// fresh RLWE sample that says nothing of the gallery (circuit privacy);
// the querier learns no other coefficient of either ciphertext, since it
// never sees c0.
type Answer struct {
	ps     *ParamSet
	id     KeySetID
	digest [32]byte
	d      [4]uint64    // masked shares of C, Y, P, T (answerNames)
	c1     [2]ring.Poly // c1 of A (count and norms) and of the tag, level 0, NTT domain
	raw    []byte
}

// Answer encoding (kind answer):
//
//	header | key-set ID [32] | query digest [32] |
//	masked shares d_C, d_Y, d_P, d_T (u64 each) | c1 of A | c1 of the tag (level 0)

const answerHeader = headerSize + 32 + 32

func (ps *ParamSet) answerWireSize() int {
	return answerHeader + len(answerNames)*8 + 2*ps.polySizeQ(answerLevel)
}

// MarshalBinary returns the answer's wire encoding.
func (a *Answer) MarshalBinary() ([]byte, error) { return append([]byte(nil), a.raw...), nil }

func (a *Answer) encode() {
	ps := a.ps
	e := newEncoder(kindAnswer, ps, ps.answerWireSize())
	e.raw(a.id[:])
	e.raw(a.digest[:])
	for _, d := range a.d {
		e.u64(d)
	}
	for i := range a.c1 {
		e.poly(a.c1[i], ps.qAt(answerLevel))
	}
	a.raw = e.b
}

// ReadAnswer decodes and validates an answer for parameter set ps.
func ReadAnswer(ps *ParamSet, b []byte) (*Answer, error) {
	d := newDecoder(b, kindAnswer, ps)
	a := &Answer{ps: ps}
	a.id = d.bytes32("key-set ID")
	a.digest = d.bytes32("query digest")
	if d.err != nil {
		return nil, d.err
	}
	if len(b) != ps.answerWireSize() {
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), ps.answerWireSize())
	}
	q0 := ps.params.Q()[0]
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	for i, name := range answerNames {
		a.d[i] = d.u64(name + " share")
		if d.err == nil && a.d[i] >= q0 {
			return nil, malformed(d.obj, name+" share", "not reduced modulo q0")
		}
	}
	for i, name := range []string{"count and norms", "tag"} {
		a.c1[i] = ringQ.NewPoly()
		d.poly(name+" c1", ps.qAt(answerLevel), a.c1[i])
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	a.raw = append([]byte(nil), b...)
	return a, nil
}

// answerNames are the answer's four values: the first three are
// coefficients 0, 1, 2 of A, the tag is the constant coefficient of its own
// ciphertext.
var answerNames = [4]string{"count", "norm", "padding norm", "tag"}

// Shares returns the querier's four inputs to the opening: for the count
// and the two norms, the answer's share plus the same coefficient of
// c1·s_Q for the first ciphertext; for the tag, its share plus (c1·s_Q)[0]
// for the second. They are uniformly random (the responder's masks): alone
// they say nothing; the opening turns them into the decision.
func (qr *Querier) Shares(q *Query, a *Answer) (opening.Inputs, error) {
	ps := qr.ps
	var out opening.Inputs
	switch {
	case a.ps != ps || q.ps != ps:
		return out, mismatch("answer", "parameter set", "decoded for another set")
	case a.id != qr.share.id:
		return out, mismatch("answer", "key-set ID", "made for another key set")
	case a.digest != q.Digest():
		return out, mismatch("answer", "query digest", "answers another query")
	}
	ringQ := ps.params.RingQ().AtLevel(answerLevel)
	p := ringQ.NewPoly()
	q0 := ps.params.Q()[0]
	ringQ.MulCoeffsMontgomery(a.c1[0], qr.share.sk.Value.Q, p)
	ringQ.INTT(p, p)
	for i := 0; i < 3; i++ {
		out[i] = addMod(a.d[i], p.Coeffs[0][i], q0)
	}
	ringQ.MulCoeffsMontgomery(a.c1[1], qr.share.sk.Value.Q, p)
	ringQ.INTT(p, p)
	out[3] = addMod(a.d[3], p.Coeffs[0][0], q0)
	zeroPoly(p)
	return out, nil
}

// OpeningParams returns the public numbers of the opening of this set's
// answers: the answer's modulus q0 and the widths of the windows.
func (ps *ParamSet) OpeningParams() opening.Params {
	return opening.Params{
		Q:     ps.params.Q()[0],
		CBits: openingCBits,
		YBits: ps.spec.LogScale - 8,
		Tol:   ps.tagTolerance(),
	}
}

// openingCBits bounds the count's window: the largest gallery an answer
// counts is 2^openingCBits / (count scale / slots).
const openingCBits = 40

// maxAnswerBlocks bounds the blocks of S entries one answer counts. The
// count's noise grows with the square root of the blocks (rms 2^-8.5 per
// block on puente-ckks-n15-v2, BenchmarkAnswerError; 2^-8.06 measured
// again since the padding norm, within two sampling errors); at 128 blocks
// the decision's margin of 1/2 is 16 standard deviations, a wrong bit
// below 2^-180, and still below 2^-40 if the noise were twice the first
// figure (11.8 and 2^-98 at the second; docs/he-parameters.md). At 512
// blocks it would be 8 standard deviations, 2^-45 at the measured noise
// and no room for its estimate.
// The threshold polynomial of StepHighTau leaves more noise (rms 2^-8.0
// per block on puente-ckks-n15-v3): the same rule allows 64 blocks there.
func (ps *ParamSet) maxAnswerBlocks() int {
	if ps.spec.Step == StepHighTau {
		return 64
	}
	return 128
}

// maxEntries is the largest number of gallery entries (all shards
// together) one answer counts: maxAnswerBlocks() blocks, within the
// opening's window.
func (ps *ParamSet) maxEntries() int {
	logPer := ps.spec.LogCountScale + bits.Len(countGain) - bits.Len(uint(ps.Slots())) // log2 of an entry's units
	window := 1 << uint(openingCBits-logPer)
	return min(window, ps.maxAnswerBlocks()*ps.Slots())
}

// tagTolerance is log2 of the bound on the rerandomisation noise of the
// tag's ciphertext: the decryption of a fresh encryption of zero made over
// QP and divided by P (Responder.addZero). Its coefficients are the
// rounding of that division, r0 + r1·s with r0, r1 uniform in [-1/2, 1/2]
// and s the collective secret (the sum of two ternary shares of density
// 2/3, variance 4/3), of variance (1 + N·4/3)/12, plus
// (u·e_pk + e0 + e1·s)/P, whose variance N·σ²·(2/3·2 + 4/3)/P² is
// negligible. The bound is 9.5 standard deviations plus one: exceeded with
// probability below 2^-60 per answer, in which case an honest answer opens
// to no-hit.
func (ps *ParamSet) tagTolerance() int {
	sigma := ps.params.Xe().(ring.DiscreteGaussian).Sigma
	n := float64(ps.params.N())
	logP := 0.0
	for _, p := range ps.params.P() {
		logP += math.Log2(float64(p))
	}
	v := (1+n*4.0/3)/12 + n*sigma*sigma*(2.0/3*2+4.0/3)/math.Exp2(2*logP)
	return int(math.Ceil(math.Log2(9.5*math.Sqrt(v) + 1)))
}

// window describes how the opening reads a coefficient: a value v is in the
// window when lo <= v < lo + width (mod q0), and one unit of the quantity
// (a count, a squared norm) is per.
type window struct {
	lo, width uint64
	per       float64
}

// countWindow is the window of the count: c in [1/2, n + 1/2) for a
// gallery of n padded entries, at per = Δ_C / S per entry.
func (ps *ParamSet) countWindow(scale rlwe.Scale, n int) window {
	per := scale.Float64() / float64(ps.Slots())
	return window{lo: uint64(math.Round(per / 2)), width: uint64(math.Round(per * float64(n))), per: per}
}

// normWindow is the window of the squared norm: y in [1 - w, 1 + w) with
// w = 2^-logNormWindow, at per = Δ_Y / pad.
func (ps *ParamSet) normWindow(scale rlwe.Scale, pad int) window {
	per := scale.Float64() / float64(pad)
	w := math.Exp2(-logNormWindow)
	return window{lo: uint64(math.Round(per * (1 - w))), width: uint64(math.Round(per * 2 * w)), per: per}
}

// paddingWindow is the window of the padding coordinates' squared norm:
// p in [-w, w) with the norm's w and unit, its low end taken modulo q0.
// An honest probe has p = 0 up to the evaluation's noise.
func (ps *ParamSet) paddingWindow(scale rlwe.Scale, pad int) window {
	per := scale.Float64() / float64(pad)
	w := math.Round(per * math.Exp2(-logNormWindow))
	return window{lo: ps.params.Q()[0] - uint64(w), width: uint64(2 * w), per: per}
}

// secrets assembles the opening's inputs from the masks r, the MAC keys k
// (K1, K2, K4 by value, then K3) and the values' windows:
// Off_X = r_X + lo_X and K3' = K3 + K1·lo_C + K2·lo_Y + K4·lo_P, so that the
// opening works on values relative to each window.
func (ps *ParamSet) secrets(r, k [4]uint64, w [3]window) (*opening.Secrets, error) {
	q := ps.params.Q()[0]
	o := ps.OpeningParams()
	for i, bits := range []int{o.CBits, o.YBits, o.YBits} {
		if w[i].width == 0 || w[i].width > 1<<uint(bits) {
			return nil, fmt.Errorf("he: the %s's answer window (%d units) is outside the opening's", answerNames[i], w[i].width)
		}
	}
	// In words, not big.Int, so that nothing of K3 is left in memory the
	// caller cannot clear, and without a division on the secrets
	// (modarith.go).
	var off [3]uint64
	k3 := reduce(k[3], q)
	for i := range w {
		lo := reduce(w[i].lo, q) // public, but no division left to audit here
		off[i] = addMod(reduce(r[i], q), lo, q)
		k3 = addMod(k3, mulMod(k[i], lo, q), q)
	}
	return &opening.Secrets{
		OffC: off[0], OffY: off[1], OffP: off[2], OffT: r[3],
		WidthC: w[0].width, WidthY: w[1].width, WidthP: w[2].width,
		K1: k[0], K2: k[1], K4: k[2], K3: k3,
	}, nil
}
