package he

import (
	"crypto/sha512"
	"fmt"
	"math"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/circuits/ckks/polynomial"
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// ParamSetID names a parameter set on the wire and in stored shares. A
// set's numbers never change once released; a change is a new ID.
type ParamSetID uint16

const (
	// N15V1 is the production set: ring degree 2^15 (ConjugateInvariant,
	// 32768 real slots), log QP = 876 <= 881, 16 levels. See [ParamInfo]
	// and docs/he-parameters.md.
	N15V1 ParamSetID = 0x0101

	// FirstTestID is the first ID reserved for insecure test sets. Sets
	// with IDs at or above it are never returned by [Lookup] and must be
	// marked Insecure.
	FirstTestID ParamSetID = 0xff00
)

// heStandardMaxLogQP is the largest log2(QP) with 128-bit classical
// security for a uniform ternary secret and σ = 3.2, by ring degree, from
// the Homomorphic Encryption Security Standard (Albrecht et al., 2018,
// Table 1).
var heStandardMaxLogQP = map[int]float64{10: 27, 11: 54, 12: 109, 13: 218, 14: 438, 15: 881}

// ParamSpec describes a parameter set. Production sets are built into this
// package; tests build small insecure ones through package hetest.
type ParamSpec struct {
	ID       ParamSetID
	Name     string // e.g. "puente-ckks-n15-v1"
	Insecure bool   // required for sets above the HE standard bound; test use only

	LogN int      // ring degree 2^LogN; the ConjugateInvariant ring gives 2^LogN real slots
	Q, P []uint64 // explicit primes (production sets), or
	LogQ []int    // bit sizes from which Lattigo generates primes (test sets)
	LogP []int

	LogScale        int // scale of the threshold evaluation (≈ the size of the level primes)
	LogProbeScale   int // scale at which the probe is encoded
	LogGalleryScale int // scale of the gallery plaintexts (coefficients fit in int32)
}

// ParamSet is a validated, ready-to-use parameter set. It is immutable and
// safe for concurrent use.
type ParamSet struct {
	spec    ParamSpec
	params  ckks.Parameters
	sign    *signPoly
	anyPoly polynomial.PolynomialVector
}

var n15v1Spec = ParamSpec{
	ID:   N15V1,
	Name: "puente-ckks-n15-v1",
	LogN: 15,
	Q: []uint64{
		0xffffffffffc0001, // 60 bits: holds count·2^35 and the flooding noise
		0x7fff80001, 0x800260001, 0x800280001, 0x7ffd80001, 0x7ffc80001, 0x7ff9c0001,
		0x7ff900001, 0x800760001, 0x8007a0001, 0x8007c0001, 0x800820001, 0x7ff860001,
		0x7ff6c0001, 0x7ff300001, 0x800f40001, 0x7ff120001, 0x7fef40001, // 17 × 35-36 bits
	},
	P: []uint64{ // 5 × 45 bits: key-switching digits of 5 primes
		0x2000000a0001, 0x2000000e0001, 0x1fffffc20001, 0x200000440001, 0x200000500001,
	},
	LogScale:        35,
	LogProbeScale:   40,
	LogGalleryScale: 24,
}

var builtin = map[ParamSetID]*ParamSet{}

func init() {
	ps, err := NewParamSet(n15v1Spec)
	if err != nil {
		panic(err) // a built-in set that does not validate is a programming error
	}
	builtin[N15V1] = ps
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
// ring, moduli, scales and the coefficients of the threshold polynomial.
// Two builds that name the same ID with different numbers have different
// digests; the key ceremony compares them.
func (ps *ParamSet) Digest() [64]byte {
	h := sha512.New()
	fmt.Fprintf(h, "puente/he/param-set/v1\x00%d\x00%s\x00%v\x00%d\x00%v\x00%v\x00%d,%d,%d\x00", ps.spec.ID, ps.spec.Name, ps.spec.Insecure, ps.spec.LogN, ps.params.Q(), ps.params.P(), ps.spec.LogScale, ps.spec.LogProbeScale, ps.spec.LogGalleryScale)
	fmt.Fprintf(h, "sign %d %v %v\x00any %d\x00flood %v decode %v headroom %d\x00", signA8.logAlpha, signA8.degrees, signA8.coeffs, AnyBound, logFloodSlot, decodeLogPrec, scoreHeadroom)
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
		LogN: spec.LogN, Q: spec.Q, P: spec.P, LogQ: spec.LogQ, LogP: spec.LogP,
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
		bound, ok := heStandardMaxLogQP[spec.LogN]
		if !ok || params.LogQP() > bound {
			return nil, fmt.Errorf("he: parameter set %q: log QP = %.1f exceeds the 128-bit HE standard bound for N = 2^%d", spec.Name, params.LogQP(), spec.LogN)
		}
	}
	if params.PCount() == 0 {
		return nil, fmt.Errorf("he: parameter set %q: needs at least one P prime", spec.Name)
	}
	sign, err := newSignPoly(signA8)
	if err != nil {
		return nil, err
	}
	anyPoly, err := newAnyPoly()
	if err != nil {
		return nil, fmt.Errorf("he: bounded OR: %w", err)
	}
	ps := &ParamSet{spec: spec, params: params, sign: sign, anyPoly: anyPoly}
	if want := sign.depth + 3; params.MaxLevel() != want {
		return nil, fmt.Errorf("he: parameter set %q: %d levels, the circuit needs exactly %d", spec.Name, params.MaxLevel(), want)
	}
	// Scores come out about 2^scoreHeadroom below Δ·q, so that an integer
	// multiplier can bring c·s to Δ after the rescale (Responder.step).
	if d := spec.LogScale + bits.Len64(params.Q()[params.MaxLevel()]) - (spec.LogProbeScale + spec.LogGalleryScale); d < scoreHeadroom-2 || d > scoreHeadroom+2 {
		return nil, fmt.Errorf("he: parameter set %q: probe and gallery scales put scores 2^%d below the default scale, want about 2^%d", spec.Name, d, scoreHeadroom)
	}
	if spec.LogGalleryScale > 29 {
		return nil, fmt.Errorf("he: parameter set %q: gallery scale above 2^29 does not fit int32 coefficients", spec.Name)
	}
	return ps, nil
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

// Levels of the evaluation circuit. The probe arrives at the top level L.
// ModeAny uses all of them: one for scoring, the threshold's depth, and
// two for the bounded OR with the mask folded in. ModeCount and ModeSlots
// start one level lower (the query is dropped on arrival) and spend one
// level on the mask (count) or none (slots). Every mode ends at level 0.
func (ps *ParamSet) topLevel() int { return ps.params.MaxLevel() }

func (ps *ParamSet) startLevel(m Mode) int {
	if m == ModeAny {
		return ps.topLevel()
	}
	return ps.topLevel() - 1
}

func (ps *ParamSet) scoreOutLevel(m Mode) int { return ps.startLevel(m) - 1 }
func (ps *ParamSet) stepOutLevel(m Mode) int  { return ps.scoreOutLevel(m) - ps.sign.depth }

// relinLevel is the level of the relinearization key: the first product of
// ciphertexts happens right after scoring in ModeAny.
func (ps *ParamSet) relinLevel() int { return ps.scoreOutLevel(ModeAny) }

// aggLevel is the level of the aggregation rotation keys: the highest level
// at which decisions are summed.
func (ps *ParamSet) aggLevel() int { return ps.stepOutLevel(ModeAny) }

const resultLevel = 0

// scoreHeadroom is log2 of how far the product of the probe and gallery
// scales lies below Δ·q_top.
const scoreHeadroom = 6

// floodSigma is the standard deviation, in the coefficient domain, of the
// noise the responder adds to its decryption share: it gives each decoded
// slot a Gaussian error of standard deviation 2^logFloodSlot (see
// docs/he-parameters.md for the choice).
func (ps *ParamSet) floodSigma() float64 {
	return math.Exp2(float64(ps.spec.LogScale)+logFloodSlot) / math.Sqrt(float64(2*ps.params.N()))
}

// logFloodSlot is log2 of the standard deviation of the flooding noise as
// seen in one decoded slot. Decisions are integers decoded at precision
// 1/2 (decodeLogPrec), so they are exact while |noise| < 1/4, i.e. for
// 8 standard deviations: a slot fails with probability < 2^-49.
const logFloodSlot = -5

// decodeLogPrec is the precision, in bits, at which the querier decodes
// with DecodePublic: values are rounded to multiples of 1/2.
const decodeLogPrec = 1

// ParamInfo describes a parameter set for documentation and audit.
type ParamInfo struct {
	ID            ParamSetID
	Name          string
	Insecure      bool
	SecurityBits  int // 128 by the HE standard bound, 0 for insecure sets
	LogN          int
	Slots         int
	Levels        int // multiplicative levels of the top modulus
	LogQ, LogP    float64
	LogQP         float64
	BoundLogQP    float64 // HE standard bound for this ring degree
	QPrimes       []int   // bit sizes of the Q primes, q0 first
	PPrimes       []int
	LogScale      int
	StepLogAlpha  int // band of the threshold in x = c·(s - τ): |x| < 2^-StepLogAlpha
	StepDegrees   []int
	StepDepth     int
	FloodLogSigma float64 // log2 of the flooding standard deviation (coefficients)

	QueryBytes           int // wire size of one query
	ResponseBytes        int // wire size of one count or 0/1 response
	TopGaloisKeyBytes    int // one rotation key at the top level, as held by the responder
	LowGaloisKeyBytes    int // one aggregation rotation key at the low level
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
	info := ParamInfo{
		ID: ps.spec.ID, Name: ps.spec.Name, Insecure: ps.spec.Insecure,
		LogN: p.LogN(), Slots: p.MaxSlots(), Levels: p.MaxLevel(),
		LogQ: p.LogQ(), LogP: p.LogP(), LogQP: p.LogQP(), BoundLogQP: heStandardMaxLogQP[p.LogN()],
		QPrimes: p.LogQi(), PPrimes: p.LogPi(), LogScale: ps.spec.LogScale,
		StepLogAlpha: ps.sign.logAlpha, StepDegrees: append([]int(nil), ps.sign.degrees...), StepDepth: ps.sign.depth,
		FloodLogSigma: math.Log2(ps.floodSigma()),
	}
	if !ps.spec.Insecure {
		info.SecurityBits = 128
	}
	info.QueryBytes = ps.queryWireSize()
	info.ResponseBytes = ps.responseWireSize(1)
	info.TopGaloisKeyBytes = ps.evkSize(ps.topLevel())
	info.LowGaloisKeyBytes = ps.evkSize(ps.aggLevel())
	info.RelinKeyBytes = ps.evkSize(ps.relinLevel())
	info.CiphertextBytesLevel = 2 * ps.polySizeQ(ps.topLevel())
	info.KeysBytes128 = ps.keysWireSize(min(128, ps.Slots()/2))
	info.KeysBytes512 = ps.keysWireSize(min(512, ps.Slots()/2))
	info.ShareBytes = ps.shareWireSize()
	info.CeremonyBytes128 = ps.ceremonyBytes(min(128, ps.Slots()/2))
	info.CeremonyBytes512 = ps.ceremonyBytes(min(512, ps.Slots()/2))
	return info
}
