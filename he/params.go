package he

import (
	"crypto/sha512"
	"fmt"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// ParamSetID names a parameter set on the wire and in stored shares. A
// set's numbers never change once released; a change is a new ID.
type ParamSetID uint16

const (
	// N15V2 is the production set: ring degree 2^15 (ConjugateInvariant,
	// 32768 real slots), 18 levels, log QP = 865 <= 868. See [ParamInfo]
	// and docs/he-parameters.md.
	N15V2 ParamSetID = 0x0102

	// N15V3 is the production set for thresholds τ ≥ 0.9233 (raw cosine
	// and PolyProtect at FMR 10^-3 use 0.9234): the same ring, scales and
	// band as N15V2, a threshold polynomial fitted to the scores such
	// thresholds can meet (StepHighTau, depth 15 instead of 17), hence two
	// levels fewer, and key-switching digits of five P primes instead of
	// four: 16 levels, log QP = 847 <= 868.
	N15V3 ParamSetID = 0x0103

	// N15V4 is N15V3 with key-switching digits of six P primes of 43
	// bits instead of five of 48: three digits at the top level instead
	// of four, the same Q, circuit and band; log QP = 865 <= 868. It is
	// the set recommended for thresholds τ ≥ 0.9233 (docs/he-parameters.md).
	N15V4 ParamSetID = 0x0104

	// FirstTestID is the first ID reserved for insecure test sets. Sets
	// with IDs at or above it are never returned by [Lookup] and must be
	// marked Insecure.
	FirstTestID ParamSetID = 0xff00
)

// retired names released sets that this build refuses, with the reason.
var retired = map[string]string{
	"puente-ckks-n15-v1": "its answer revealed more than one bit (a count, scores near the threshold, single entries); run a new ceremony on puente-ckks-n15-v2",
}

// maxLogQP128 is the largest log2(QP) with 128-bit classical security for
// a uniform ternary secret and σ = 3.19, by ring degree, from the lattice
// estimator's primal uSVP and dual hybrid (MATZOV 2022) attacks with the
// BDGL16 cost model (Bossuat et al., "Security Guidelines for
// Implementing Homomorphic Encryption", ePrint 2024/463, Table 5.2). The
// 2018 HE standard's 881 at N = 2^15 predates the improved dual attack.
// Production sets use N = 2^15 or 2^16 only; smaller rings are for the
// INSECURE test sets.
var maxLogQP128 = map[int]float64{15: 868, 16: 1747}

// ParamSpec describes a parameter set. Production sets are built into this
// package; tests build small insecure ones through package hetest.
type ParamSpec struct {
	ID       ParamSetID
	Name     string // e.g. "puente-ckks-n15-v2"
	Insecure bool   // required for sets above the HE standard bound; test use only

	LogN int      // ring degree 2^LogN; the ConjugateInvariant ring gives 2^LogN real slots
	Q, P []uint64 // explicit primes: q0 = 2^A - 2^B + 1 (the answer's modulus), the level primes, the scoring prime last

	LogScale        int // scale of the threshold evaluation (≈ the size of the level primes)
	LogProbeScale   int // scale at which each copy of the probe is encoded
	LogGalleryScale int // scale of the gallery plaintexts (coefficients fit in int32)
	LogCountScale   int // scale of the count at level 0

	Step StepPoly // the threshold polynomial, which fixes the threshold's depth and the thresholds the set serves
}

// StepPoly names a set's threshold polynomial: a composite approximation of
// sign(x) on x = c·(s - τ) with the band |x| < 2^-11.
type StepPoly uint8

const (
	// StepAnyTau is odd, of degrees 7, 15, 31, 31 (depth 17), within 2^-31
	// of sign on [-1, -2^-11] ∪ [2^-11, 1]: every threshold.
	StepAnyTau StepPoly = iota
	// StepHighTau has a first component fitted to [-1, -2^-11] ∪
	// [2^-11, 0.042], of degrees 7, 7, 15, 31 (depth 15), within 2^-31.2 of
	// sign there: thresholds at which no score maps above 0.0405, which
	// leaves 0.0015 of the domain for noise (τ ≥ 0.9233; ParamSet.MinTau).
	StepHighTau
)

func (s StepPoly) spec() (signSpec, error) {
	switch s {
	case StepAnyTau:
		return signA11, nil
	case StepHighTau:
		return signA11B042, nil
	}
	return signSpec{}, fmt.Errorf("he: unknown threshold polynomial %d", s)
}

// ParamSet is a validated, ready-to-use parameter set. It is immutable and
// safe for concurrent use.
type ParamSet struct {
	spec   ParamSpec
	params ckks.Parameters
	sign   *signPoly
}

var n15v2Spec = ParamSpec{
	ID:   N15V2,
	Name: "puente-ckks-n15-v2",
	LogN: 15,
	Q: []uint64{
		0xffffffffffc0001, // q0 = 2^60 - 2^18 + 1: the answer's modulus (the opening reduces with additions)
		0x200080001, 0x1fff60001, 0x200100001, 0x1fff00001, 0x1ffe60001, 0x2002e0001,
		0x2004a0001, 0x1ffb60001, 0x1ffa20001, 0x1ff780001, 0x1ff740001, 0x1ff4a0001,
		0x1ff2c0001, 0x200dc0001, 0x1ff2a0001, 0x200e00001, 0x1ff1e0001, // 17 × 33 bits: the threshold
		0xffffffff00001, // 52 bits: the scoring level (room for the projected probe's scale)
	},
	P: []uint64{ // 4 × 48 bits: key-switching digits of 4 primes
		0xfffffffa0001, 0xfffffff00001, 0x10000001a0001, 0x10000001e0001,
	},
	LogScale:        33,
	LogProbeScale:   40,
	LogGalleryScale: 24,
	LogCountScale:   31,
}

// n15v3Spec is n15v2Spec with the threshold primes of the two levels its
// threshold polynomial does not use taken off (the last two, one above and one
// below 2^33, so that the scale stays balanced) and a fifth P prime.
var n15v3Spec = ParamSpec{
	ID:   N15V3,
	Name: "puente-ckks-n15-v3",
	LogN: 15,
	Q: []uint64{
		0xffffffffffc0001, // q0 = 2^60 - 2^18 + 1: the answer's modulus (the opening reduces with additions)
		0x200080001, 0x1fff60001, 0x200100001, 0x1fff00001, 0x1ffe60001, 0x2002e0001,
		0x2004a0001, 0x1ffb60001, 0x1ffa20001, 0x1ff780001, 0x1ff740001, 0x1ff4a0001,
		0x1ff2c0001, 0x200dc0001, 0x1ff2a0001, // 15 × 33 bits: the threshold
		0xffffffff00001, // 52 bits: the scoring level (room for the projected probe's scale)
	},
	P: []uint64{ // 5 × 48 bits: key-switching digits of 5 primes (4 digits at the top level)
		0xfffffffa0001, 0xfffffff00001, 0x10000001a0001, 0x10000001e0001, 0xffffffde0001,
	},
	LogScale:        33,
	LogProbeScale:   40,
	LogGalleryScale: 24,
	LogCountScale:   31,
	Step:            StepHighTau,
}

// n15v4Spec is n15v3Spec with six P primes of 43 bits (each 1 mod 2^17,
// the nearest to 2^43) in place of its five of 48: a key switch at the top
// level has three digits of six Q primes instead of four of five, and the
// largest digit (q0 and five threshold primes, 225 bits) stays below P
// (258 bits), as v3's (192 bits) below its 240.
var n15v4Spec = func() ParamSpec {
	s := n15v3Spec
	s.ID, s.Name = N15V4, "puente-ckks-n15-v4"
	s.P = []uint64{ // 6 × 43 bits: key-switching digits of 6 primes (3 digits at the top level)
		0x7ffffd20001, 0x7ffffaa0001, 0x7ffffa80001, 0x7ffff8c0001, 0x800009a0001, 0x7ffff620001,
	}
	return s
}()

var builtin = map[ParamSetID]*ParamSet{}

// Retired reports whether name is a released set this build refuses, and why.
func Retired(name string) (string, bool) {
	why, ok := retired[name]
	return why, ok
}

func init() {
	for _, spec := range []ParamSpec{n15v2Spec, n15v3Spec, n15v4Spec} {
		ps, err := NewParamSet(spec)
		if err != nil {
			panic(err) // a built-in set that does not validate is a programming error
		}
		builtin[spec.ID] = ps
	}
}

// Lookup returns the built-in parameter set with the given ID.
func Lookup(id ParamSetID) (*ParamSet, error) {
	if ps, ok := builtin[id]; ok {
		return ps, nil
	}
	return nil, fmt.Errorf("%w: %#04x", ErrUnknownParamSet, uint16(id))
}

// LookupName returns the built-in parameter set with the given name.
func LookupName(name string) (*ParamSet, error) {
	for _, ps := range builtin {
		if ps.spec.Name == name {
			return ps, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownParamSet, name)
}

// Digest returns SHA-512 of the set's canonical description: ID, name,
// ring, moduli, scales, the coefficients of the threshold polynomial and
// the constants of the answer. Two builds that name the same ID with
// different numbers have different digests; the key ceremony compares them.
func (ps *ParamSet) Digest() [64]byte {
	h := sha512.New()
	fmt.Fprintf(h, "puente/he/param-set/v2\x00%d\x00%s\x00%v\x00%d\x00%v\x00%v\x00%d,%d,%d,%d\x00", ps.spec.ID, ps.spec.Name, ps.spec.Insecure, ps.spec.LogN, ps.params.Q(), ps.params.P(), ps.spec.LogScale, ps.spec.LogProbeScale, ps.spec.LogGalleryScale, ps.spec.LogCountScale)
	o := ps.OpeningParams()
	step, _ := ps.spec.Step.spec() // NewParamSet checked it
	fmt.Fprintf(h, "sign %d %v %v\x00norm %d tol %g\x00opening %d %d %d %d\x00", step.logAlpha, step.degrees, step.coeffs, logNormWindow, normTolerance, o.Q, o.CBits, o.YBits, o.Tol)
	if step.beta != 0 { // (absent from the sets of an odd composite, whose digests are unchanged)
		fmt.Fprintf(h, "sign domain end %g\x00answer blocks %d\x00", step.beta, ps.maxAnswerBlocks())
	}
	// The opening's messages: garbled circuit, transfer request and answer
	// (their sizes name the construction: since the OT extension, they
	// differ from the first release's direct transfers).
	fmt.Fprintf(h, "opening messages %d %d %d\x00", o.GarbledBytes(), o.TransferRequestBytes(), o.TransferResponseBytes())
	// The decision circuit itself, gate by gate (opening.Params.Digest): a
	// circuit of the same size that computes otherwise is another set.
	fmt.Fprintf(h, "opening circuit %x\x00", o.Digest())
	// The padding coordinates' norm: its unit's bound (its window is the norm's 2^-logNormWindow of it).
	fmt.Fprintf(h, "padding norm unit %d\x00", logPaddingUnit)
	var d [64]byte
	h.Sum(d[:0])
	return d
}

// NewParamSet validates spec and builds the parameter set. A set that is
// not marked Insecure must meet the HE standard bound for its ring degree
// and use an ID below [FirstTestID]; an Insecure set must use an ID at or
// above it, and only builds made with -tags puente_testparams build one
// ([TestParamsEnabled]); the default build refuses it with
// [ErrInsecureParams].
func NewParamSet(spec ParamSpec) (*ParamSet, error) {
	if spec.Insecure != (spec.ID >= FirstTestID) {
		return nil, fmt.Errorf("he: parameter set %q: IDs >= %#04x are for insecure test sets only", spec.Name, uint16(FirstTestID))
	}
	if spec.Insecure && !testParams {
		return nil, fmt.Errorf("%w: %q is an INSECURE test parameter set, and this build was made without -tags puente_testparams", ErrInsecureParams, spec.Name)
	}
	lit := ckks.ParametersLiteral{
		LogN: spec.LogN, Q: spec.Q, P: spec.P,
		RingType:        ring.ConjugateInvariant,
		LogDefaultScale: spec.LogScale,
		Xs:              rlwe.DefaultXs, // uniform ternary, as the HE standard table assumes
		Xe:              rlwe.DefaultXe, // discrete Gaussian σ = 3.2
	}
	params, err := ckks.NewParametersFromLiteral(lit)
	if err != nil {
		return nil, fmt.Errorf("he: parameter set %q: %w", spec.Name, err)
	}
	if !spec.Insecure {
		bound, ok := maxLogQP128[spec.LogN]
		if !ok || params.LogQP() > bound {
			return nil, fmt.Errorf("he: parameter set %q: log QP = %.1f exceeds the 128-bit bound for N = 2^%d (docs/he-parameters.md)", spec.Name, params.LogQP(), spec.LogN)
		}
	}
	if params.PCount() == 0 {
		return nil, fmt.Errorf("he: parameter set %q: needs at least one P prime", spec.Name)
	}
	// A key switch splits a ciphertext into digits of PCount Q primes each
	// and divides the digits' products with the key by P: its noise is
	// about the largest digit over P times N·σ, below the division's own
	// rounding only while every digit is below P.
	if d, p := largestDigit(params), params.LogP(); d >= p {
		return nil, fmt.Errorf("he: parameter set %q: a key-switching digit of %.1f bits is not below P (%.1f bits)", spec.Name, d, p)
	}
	step, err := spec.Step.spec()
	if err != nil {
		return nil, fmt.Errorf("he: parameter set %q: %w", spec.Name, err)
	}
	sign, err := newSignPoly(step)
	if err != nil {
		return nil, err
	}
	ps := &ParamSet{spec: spec, params: params, sign: sign}
	if want := sign.depth + 1; params.MaxLevel() != want {
		return nil, fmt.Errorf("he: parameter set %q: %d levels, the circuit needs exactly %d", spec.Name, params.MaxLevel(), want)
	}
	if err := ps.OpeningParams().Validate(); err != nil {
		return nil, fmt.Errorf("he: parameter set %q: %w", spec.Name, err)
	}
	// Scores of the projected probe come out at scale R·Δ_p·Δ_g, R up to
	// S/2; an integer multiplier of at least 2^6 must bring c·s to Δ after
	// the rescale by the scoring prime (Responder.step), with c >= 1/2.
	logR := bits.Len(uint(ps.Slots()/2)) - 1
	if d := spec.LogScale + bits.Len64(params.Q()[params.MaxLevel()]) - 1 - logR - spec.LogProbeScale - spec.LogGalleryScale; d < scoreHeadroom {
		return nil, fmt.Errorf("he: parameter set %q: the scoring prime leaves 2^%d of headroom for the projected probe, want 2^%d", spec.Name, d, scoreHeadroom)
	}
	if spec.LogGalleryScale > 29 {
		return nil, fmt.Errorf("he: parameter set %q: gallery scale above 2^29 does not fit int32 coefficients", spec.Name)
	}
	if spec.LogCountScale < spec.LogN+10 || spec.LogCountScale+4 > bits.Len64(params.Q()[0]) {
		return nil, fmt.Errorf("he: parameter set %q: count scale 2^%d outside [2^%d, q0/16]", spec.Name, spec.LogCountScale, spec.LogN+10)
	}
	return ps, nil
}

// largestDigit returns log2 of the largest key-switching digit: the product
// of PCount consecutive Q primes, from q0 up.
func largestDigit(params ckks.Parameters) float64 {
	q, k := params.Q(), params.PCount()
	var largest float64
	for i := 0; i < len(q); i += k {
		var d float64
		for _, qi := range q[i:min(i+k, len(q))] {
			d += math.Log2(float64(qi))
		}
		largest = max(largest, d)
	}
	return largest
}

// Spec returns a copy of the set's description.
func (ps *ParamSet) Spec() ParamSpec {
	s := ps.spec
	s.Q = append([]uint64(nil), s.Q...)
	s.P = append([]uint64(nil), s.P...)
	return s
}

// ID returns the set's wire identifier.
func (ps *ParamSet) ID() ParamSetID { return ps.spec.ID }

// Name returns the set's human-readable name.
func (ps *ParamSet) Name() string { return ps.spec.Name }

// TestParamsEnabled reports whether this binary was built with -tags
// puente_testparams, the only builds that may use INSECURE parameter sets.
func TestParamsEnabled() bool { return testParams }

// Insecure reports whether the set is a test set below 128-bit security.
func (ps *ParamSet) Insecure() bool { return ps.spec.Insecure }

// Slots returns the number of real slots per ciphertext: gallery entries
// per block.
func (ps *ParamSet) Slots() int { return ps.params.MaxSlots() }

// Levels of the evaluation circuit. The probe arrives at the top level L,
// where the responder projects it (rotations, no level) and scores it; the
// rescale by the scoring prime takes the scores to L-1, and the threshold
// polynomial (its depth) to level 0, where the count is read. The norm
// takes the projected probe down three levels (rescale, square, mask) and
// is then dropped to level 0.
func (ps *ParamSet) topLevel() int { return ps.params.MaxLevel() }

// relinLevel is the level of the relinearization key: the threshold's
// first products and the norm's square happen at L-1.
func (ps *ParamSet) relinLevel() int { return ps.topLevel() - 1 }

const answerLevel = 0

// scoreHeadroom is log2 of the smallest integer multiplier that maps the
// scores to x = c·(s - τ) (see NewParamSet).
const scoreHeadroom = 6

// logNormWindow: a probe passes the norm check when ‖p‖² is within
// 2^-logNormWindow of 1 (honest protected probes are unit vectors, within
// float32 rounding).
const logNormWindow = 11

// ParamInfo describes a parameter set for documentation and audit.
type ParamInfo struct {
	ID           ParamSetID
	Name         string
	Insecure     bool
	SecurityBits int // 128 by the HE standard bound, 0 for insecure sets
	LogN         int
	Slots        int
	Levels       int // multiplicative levels of the top modulus
	LogQ, LogP   float64
	LogQP        float64
	BoundLogQP   float64 // largest log QP with 128-bit security at this ring degree (0: none)
	QPrimes      []int   // bit sizes of the Q primes, q0 first
	PPrimes      []int
	LogScale     int
	StepLogAlpha int // band of the threshold in x = c·(s - τ): |x| < 2^-StepLogAlpha
	StepDegrees  []int
	StepDepth    int
	NormWindow   float64 // a probe passes when |‖p‖² - 1| < NormWindow (and its padding coordinates' squared norm is below it)
	MinTau       float64 // the lowest threshold the set serves (-1: every threshold)
	MaxEntries   int     // the largest gallery (all shards) one answer counts

	QueryBytes           int // wire size of one query
	AnswerBytes          int // wire size of one answer (the four masked shares and two c1)
	OpeningANDGates      int // AND gates of the opening's garbled circuit
	GarbledBytes         int // the opening's garbled circuit, as sent
	TransferRequestBytes int // the querier's oblivious-transfer request
	TransferAnswerBytes  int // the responder's oblivious-transfer answer
	GaloisKeyBytes       int // one rotation key (all at the top level), as held by the responder
	RelinKeyBytes        int
	CiphertextBytesLevel int // a full (c0, c1) ciphertext at the top level, bit-packed
	KeysBytes128         int // encoded EvaluationKeys of a key set with max dims 128
	KeysBytes512         int // ... with max dims 512
	ShareBytes           int // encoded SecretShare
	CeremonyBytes128     int // bytes one party sends in a ceremony for max dims 128
	CeremonyBytes512     int // ... for max dims 512
}

// Info returns the set's numbers.
func (ps *ParamSet) Info() ParamInfo {
	p := ps.params
	o := ps.OpeningParams()
	info := ParamInfo{
		ID: ps.spec.ID, Name: ps.spec.Name, Insecure: ps.spec.Insecure,
		LogN: p.LogN(), Slots: p.MaxSlots(), Levels: p.MaxLevel(),
		LogQ: p.LogQ(), LogP: p.LogP(), LogQP: p.LogQP(), BoundLogQP: maxLogQP128[p.LogN()],
		QPrimes: p.LogQi(), PPrimes: p.LogPi(), LogScale: ps.spec.LogScale,
		StepLogAlpha: ps.sign.logAlpha, StepDegrees: append([]int(nil), ps.sign.degrees...), StepDepth: ps.sign.depth,
		NormWindow: math.Exp2(-logNormWindow), MinTau: ps.MinTau(), MaxEntries: ps.maxEntries(),
	}
	if !ps.spec.Insecure {
		info.SecurityBits = 128
	}
	info.QueryBytes = ps.queryWireSize()
	info.AnswerBytes = ps.answerWireSize()
	info.OpeningANDGates = o.ANDGates()
	info.GarbledBytes = o.GarbledBytes()
	info.TransferRequestBytes = o.TransferRequestBytes()
	info.TransferAnswerBytes = o.TransferResponseBytes()
	info.GaloisKeyBytes = ps.evkSize(ps.topLevel())
	info.RelinKeyBytes = ps.evkSize(ps.relinLevel())
	info.CiphertextBytesLevel = 2 * ps.polySizeQ(ps.topLevel())
	info.KeysBytes128 = ps.keysWireSize(min(128, ps.Slots()/2))
	info.KeysBytes512 = ps.keysWireSize(min(512, ps.Slots()/2))
	info.ShareBytes = ps.shareWireSize()
	info.CeremonyBytes128 = ps.ceremonyBytes(min(128, ps.Slots()/2))
	info.CeremonyBytes512 = ps.ceremonyBytes(min(512, ps.Slots()/2))
	return info
}
