package he

import (
	"crypto/subtle"
	"fmt"
	"io"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// Role is a party's role in one direction's key set: the querier encrypts
// probes, the responder evaluates them against its gallery. Each party
// holds one key set per direction, with a different role in each.
type Role uint8

const (
	RoleQuerier   Role = 1
	RoleResponder Role = 2
)

func (r Role) String() string {
	switch r {
	case RoleQuerier:
		return "querier"
	case RoleResponder:
		return "responder"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

func (r Role) valid() bool { return r == RoleQuerier || r == RoleResponder }

// KeySetID names the key set produced by one ceremony: the hash of both
// parties' seed contributions (it also seeds the common reference string).
// It is public and travels in every query and response.
type KeySetID [32]byte

// SecretShare is one party's share of a key set's secret key. The collective
// secret is the sum of both shares; neither share alone decrypts anything.
// It leaves the party only as the opaque bytes of [SecretShare.MarshalBinary],
// for an encrypted key store.
type SecretShare struct {
	ps      *ParamSet
	role    Role
	maxDims int
	id      KeySetID
	sk      *rlwe.SecretKey // NTT and Montgomery form over QP
}

// Role returns the role this share plays in its key set.
func (s *SecretShare) Role() Role { return s.role }

// KeySetID returns the key set this share belongs to.
func (s *SecretShare) KeySetID() KeySetID { return s.id }

// ParamSet returns the share's parameter set.
func (s *SecretShare) ParamSet() *ParamSet { return s.ps }

// MaxDims returns the largest template dimension the key set supports.
func (s *SecretShare) MaxDims() int { return s.maxDims }

// Equal reports in constant time whether two shares hold the same secret.
func (s *SecretShare) Equal(o *SecretShare) bool {
	a, _ := s.MarshalBinary()
	b, _ := o.MarshalBinary()
	defer clear(a)
	defer clear(b)
	return subtle.ConstantTimeCompare(a, b) == 1
}

// Destroy zeroes the share's key material. The share is unusable afterwards.
func (s *SecretShare) Destroy() {
	if s.sk == nil {
		return
	}
	zeroPoly(s.sk.Value.Q)
	zeroPoly(s.sk.Value.P)
	s.sk = nil
}

func zeroPoly(p ring.Poly) {
	for _, row := range p.Coeffs {
		clear(row)
	}
}

// Encoding of a secret share (kind share):
//
//	header | role u8 | maxDims u32 | key-set ID [32] | ternary coefficients, 2 bits each (N/4 bytes)
//
// Coefficient c in {-1, 0, 1} is stored as c+1.

func (ps *ParamSet) shareWireSize() int { return headerSize + 1 + 4 + 32 + ps.params.N()/4 }

// MarshalBinary returns the share as opaque bytes for a key store. The bytes
// are secret: store them encrypted and zero them after use.
func (s *SecretShare) MarshalBinary() ([]byte, error) {
	if s.sk == nil {
		return nil, fmt.Errorf("he: secret share was destroyed")
	}
	ps := s.ps
	ringQ := ps.params.RingQ().AtLevel(0)
	c := ringQ.NewPoly()
	defer zeroPoly(c)
	ringQ.IMForm(s.sk.Value.Q, c)
	ringQ.INTT(c, c)
	q0 := ps.params.Q()[0]
	e := newEncoder(kindShare, ps, ps.shareWireSize())
	e.u8(uint8(s.role))
	e.u32(uint32(s.maxDims))
	e.raw(s.id[:])
	packed := make([]byte, ps.params.N()/4)
	for i, v := range c.Coeffs[0] {
		var t byte // 0: -1, 1: 0, 2: +1
		switch v {
		case 0:
			t = 1
		case 1:
			t = 2
		case q0 - 1:
			t = 0
		default:
			return nil, fmt.Errorf("he: secret share is not ternary") // cannot happen for shares made here
		}
		packed[i/4] |= t << (2 * (i % 4))
	}
	e.raw(packed)
	clear(packed)
	return e.b, nil
}

// ReadSecretShare decodes a share made by [SecretShare.MarshalBinary] for
// parameter set ps.
func ReadSecretShare(ps *ParamSet, b []byte) (*SecretShare, error) {
	d := newDecoder(b, kindShare, ps)
	role := Role(d.u8("role"))
	maxDims := int(d.u32("max dims"))
	id := KeySetID(d.bytes32("key-set ID"))
	packed := d.take("coefficients", ps.params.N()/4)
	if err := d.finish(); err != nil {
		return nil, err
	}
	if !role.valid() {
		return nil, malformed("secret share", "role", "unknown role %d", uint8(role))
	}
	if err := ps.checkMaxDims(maxDims); err != nil {
		return nil, malformed("secret share", "max dims", "%v", err)
	}
	coeffs := make([]int8, ps.params.N())
	defer clear(coeffs)
	for i := range coeffs {
		t := packed[i/4] >> (2 * (i % 4)) & 3
		if t == 3 {
			return nil, malformed("secret share", "coefficients", "coefficient %d is not ternary", i)
		}
		coeffs[i] = int8(t) - 1
	}
	return &SecretShare{ps: ps, role: role, maxDims: maxDims, id: id, sk: ps.secretFromTernary(coeffs)}, nil
}

// secretFromTernary builds an rlwe secret key (NTT, Montgomery, over QP)
// from its coefficients.
func (ps *ParamSet) secretFromTernary(c []int8) *rlwe.SecretKey {
	sk := rlwe.NewSecretKey(ps.params)
	fill := func(p ring.Poly, moduli []uint64) {
		for i, q := range moduli {
			row := p.Coeffs[i]
			for j, v := range c {
				switch v {
				case 1:
					row[j] = 1
				case -1:
					row[j] = q - 1
				default:
					row[j] = 0
				}
			}
		}
	}
	fill(sk.Value.Q, ps.params.Q())
	fill(sk.Value.P, ps.params.P())
	rqp := ps.params.RingQP()
	rqp.NTT(sk.Value, sk.Value)
	rqp.MForm(sk.Value, sk.Value)
	return sk
}

// newSecret samples a fresh uniform ternary share (density 2/3, the
// distribution the HE standard table assumes) from rand.
func (ps *ParamSet) newSecret(rand io.Reader) (*rlwe.SecretKey, error) {
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, err
	}
	ringQ := ps.params.RingQ().AtLevel(0)
	s, err := ring.NewSampler(prng, ringQ, ps.params.Xs(), false)
	if err != nil {
		return nil, fmt.Errorf("he: secret sampler: %w", err)
	}
	p := ringQ.NewPoly()
	defer zeroPoly(p)
	s.Read(p)
	q0 := ps.params.Q()[0]
	c := make([]int8, ps.params.N())
	defer clear(c)
	for i, v := range p.Coeffs[0] {
		switch v {
		case 0:
		case 1:
			c[i] = 1
		case q0 - 1:
			c[i] = -1
		default:
			return nil, fmt.Errorf("he: secret sampler returned a non-ternary coefficient")
		}
	}
	return ps.secretFromTernary(c), nil
}

// newPRNG draws a 64-byte key from rand and expands it with Lattigo's
// keyed BLAKE2b XOF, so that a failing reader is reported here instead of
// inside a sampler (which would panic).
func newPRNG(rand io.Reader) (*sampling.KeyedPRNG, error) {
	var key [64]byte
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return nil, fmt.Errorf("he: reading randomness: %w", err)
	}
	defer clear(key[:])
	return sampling.NewKeyedPRNG(key[:])
}

// checkMaxDims checks a key set's maximum template dimension: a power of
// two between 2 and half the slot count.
func (ps *ParamSet) checkMaxDims(m int) error {
	if m < 2 || m > ps.Slots()/2 || bits.OnesCount(uint(m)) != 1 {
		return fmt.Errorf("max dims %d is not a power of two in [2, %d]", m, ps.Slots()/2)
	}
	return nil
}
