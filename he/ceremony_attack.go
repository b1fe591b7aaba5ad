//go:build puente_testparams

package he

import (
	"crypto/rand"
	"fmt"
	"io"
	"math"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

// The tools of a cheating peer, for the tests of the ceremony's defences
// (SECURITY.md, "The key ceremony against a cheating partner"). They exist
// only in builds made with -tags puente_testparams.

// Forgery names a share a cheating peer sends instead of its honest one.
type Forgery uint8

const (
	ForgeZero     Forgery = iota + 1 // every polynomial zero
	ForgeConstant                    // every polynomial the constant 1
	ForgeSmall                       // every value below 2^10: an RLWE sample without its mask
	// ForgeBlindRushing is the rushing answer to round 1 of the
	// relinearization key aimed without the victim's share, which the
	// commitments hide: (C - h0', -h1') for a fresh honest-looking (h0', h1')
	// of the attacker's own. It is the best a rushing attacker can do once
	// it must commit first.
	ForgeBlindRushing
	// ForgeOtherSecret is an honest share computed from a fresh secret
	// instead of the party's own: well formed, but the keys it yields are
	// not keys of the secret the party decrypts with.
	ForgeOtherSecret
)

// RushingC is the constant the rushing attacker gives the round-1
// aggregate: with the aggregate (C, 0), the victim's round-2 share is
// C·s + e, and s = round((C·s + e)/C).
const RushingC = 1 << 40

// ForgeShare returns the message of step s that this party sends in place
// of its honest share.
func (c *Ceremony) ForgeShare(s Step, f Forgery) ([]byte, error) {
	if _, err := c.state(s); err != nil {
		return nil, err
	}
	ps := c.ps
	var share any
	switch s.Kind {
	case StepPublicKey:
		sh := c.ckg.AllocateShare()
		share = &sh
	case StepRelinRound1, StepRelinRound2:
		_, r1, r2 := c.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
		if s.Kind == StepRelinRound1 {
			share = &r1
		} else {
			share = &r2
		}
	case StepGalois:
		sh := c.gkg.AllocateShare(ps.evkParams(ps.galoisLevel(c.maxDims, s.GaloisElement)))
		sh.GaloisElement = s.GaloisElement
		share = &sh
	}
	switch f {
	case ForgeZero:
	case ForgeConstant:
		c.fillShare(share, func(q uint64, row []uint64) {
			for i := range row {
				row[i] = 1
			}
		})
	case ForgeSmall:
		k := uint64(0)
		c.fillShare(share, func(q uint64, row []uint64) {
			for i := range row {
				k = k*6364136223846793005 + 1442695040888963407
				row[i] = (k >> 54) % q
			}
		})
	case ForgeBlindRushing:
		if s.Kind != StepRelinRound1 {
			return nil, fmt.Errorf("he: blind rushing forges round 1 of the relinearization key only")
		}
		eph, own, _ := c.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
		c.rkg.GenShareRoundOne(c.sk, c.rkgCRP, eph, &own)
		zeroPoly(eph.Value.Q)
		zeroPoly(eph.Value.P)
		c.rushing(&own, share.(*multiparty.RelinearizationKeyGenShare))
	case ForgeOtherSecret:
		o, err := NewCeremony(ps, c.role, c.maxDims, c.id, rand.Reader)
		if err != nil {
			return nil, err
		}
		defer o.Abort()
		if s.Kind == StepRelinRound2 {
			return nil, fmt.Errorf("he: ForgeOtherSecret does not forge round 2")
		}
		sh, err := o.makeShare(s, o.steps[s])
		if err != nil {
			return nil, err
		}
		share = sh
	default:
		return nil, fmt.Errorf("he: unknown forgery %d", f)
	}
	return c.encodeShare(s, share), nil
}

// NegatedShare returns the negation of the victim's share of step s,
// encoded as this party's: the share that cancels the victim's in the
// aggregate.
func (c *Ceremony) NegatedShare(s Step, victim []byte) ([]byte, error) {
	v, err := c.decodeShare(s, victim)
	if err != nil {
		return nil, err
	}
	for _, p := range sharePolys(v) {
		rqp := c.ps.params.RingQP().AtLevel(p.LevelQ(), p.LevelP())
		rqp.Neg(p, p)
	}
	return c.encodeShare(s, v), nil
}

// RushingShare is the rushing attack of issue 10 itself: the answer
// (C - h0, -h1) to the victim's round-1 message, which makes the aggregate
// (C, 0). The ceremony refuses it (the attacker committed to another
// share before it saw the victim's).
func (c *Ceremony) RushingShare(victim []byte) ([]byte, error) {
	s := Step{Kind: StepRelinRound1}
	v, err := c.decodeShare(s, victim)
	if err != nil {
		return nil, err
	}
	_, out, _ := c.rkg.AllocateShare(c.ps.evkParams(c.ps.relinLevel()))
	c.rushing(v.(*multiparty.RelinearizationKeyGenShare), &out)
	return c.encodeShare(s, &out), nil
}

// rushing sets out = (C - in[0], -in[1]) component-wise.
func (c *Ceremony) rushing(in, out *multiparty.RelinearizationKeyGenShare) {
	ps := c.ps
	rqp := ps.params.RingQP().AtLevel(ps.relinLevel(), ps.params.MaxLevelP())
	for i := range in.Value {
		for j := range in.Value[i] {
			cst := out.Value[i][j][0]
			setConstant(cst.Q, ps.params.Q()[:ps.relinLevel()+1], RushingC)
			setConstant(cst.P, ps.params.P(), RushingC)
			rqp.Sub(cst, in.Value[i][j][0], out.Value[i][j][0])
			rqp.Neg(in.Value[i][j][1], out.Value[i][j][1])
		}
	}
}

// setConstant writes the constant polynomial v in the NTT domain (every
// evaluation equal to v).
func setConstant(p ring.Poly, moduli []uint64, v uint64) {
	for i, q := range moduli {
		for j := range p.Coeffs[i] {
			p.Coeffs[i][j] = v % q
		}
	}
}

func (c *Ceremony) fillShare(share any, f func(q uint64, row []uint64)) {
	moduli := func(p ringqp.Poly) ([]uint64, []uint64) {
		return c.ps.params.Q()[:p.LevelQ()+1], c.ps.params.P()[:p.LevelP()+1]
	}
	for _, p := range sharePolys(share) {
		qs, pp := moduli(p)
		for i, q := range qs {
			f(q, p.Q.Coeffs[i])
		}
		for i, q := range pp {
			f(q, p.P.Coeffs[i])
		}
	}
}

// RelabelShare re-encodes the body of msg, a share this party sent, as its
// share of step s: the replay of an earlier share under a new header.
func (c *Ceremony) RelabelShare(msg []byte, s Step) []byte {
	e := newEncoder(kindCeremony, c.ps, len(msg))
	e.u8(uint8(s.Kind))
	e.u8(uint8(c.role))
	e.u32(uint32(c.maxDims))
	e.raw(c.id[:])
	e.u64(s.GaloisElement)
	e.raw(msg[min(len(msg), ceremonyHeader):])
	return e.b
}

// CommittedShare returns the share this party committed to for step s,
// without revealing it: a cheater holds its own shares.
func (c *Ceremony) CommittedShare(s Step) []byte {
	if st, ok := c.steps[s]; ok {
		return st.own
	}
	return nil
}

// CommitmentOf returns the commitment to msg under bind: what a cheating
// peer sends to commit to a forged share.
func CommitmentOf(bind, msg []byte) Commitment { return commitShare(bind, msg) }

// RecoverFromRound2 is the rushing attacker's recovery from the victim's
// round-2 message: if the round-1 aggregate was (C, 0), the share is
// C·s + e in the coefficient domain and s_j = round(v_j / C). It returns
// the attacker's guess of every coefficient of the victim's secret.
func RecoverFromRound2(ps *ParamSet, victim []byte, victimRole Role) ([]int8, error) {
	c := &Ceremony{ps: ps, role: victimRole.peer(), maxDims: 0}
	// Decode with the fixed header fields the message itself names.
	if len(victim) < ceremonyHeader {
		return nil, malformed("ceremony message", "length", "too short")
	}
	d := newDecoder(victim, kindCeremony, ps)
	d.u8("step")
	d.u8("sender role")
	c.maxDims = int(d.u32("max dims"))
	c.id = KeySetID(d.bytes32("key-set ID"))
	if d.err != nil {
		return nil, d.err
	}
	c.rkg = multiparty.NewRelinearizationKeyGenProtocol(ps.params)
	sh, err := c.decodeShare(Step{Kind: StepRelinRound2}, victim)
	if err != nil {
		return nil, err
	}
	r2 := sh.(*multiparty.RelinearizationKeyGenShare)
	return recoverFromPoly(ps, r2.Value[0][0][0].Q), nil
}

// recoverFromPoly rounds row 0 of an NTT-domain polynomial C·s + e to s.
func recoverFromPoly(ps *ParamSet, p ring.Poly) []int8 {
	r0 := ps.params.RingQ().AtLevel(0)
	v := r0.NewPoly()
	copy(v.Coeffs[0], p.Coeffs[0])
	r0.INTT(v, v)
	q0 := ps.params.Q()[0]
	out := make([]int8, ps.params.N())
	for j, x := range v.Coeffs[0] {
		c := int64(x % q0)
		if uint64(c) > q0/2 {
			c -= int64(q0)
		}
		g := math.Round(float64(c) / RushingC)
		out[j] = int8(max(-1, min(1, g)))
	}
	return out
}

// SecretMatches counts the coefficients of this party's secret share that
// equal guess: the measure of an attack's success. It needs the secret
// share still held (before SecretShare or a failure wipes it).
func (c *Ceremony) SecretMatches(guess []int8) (int, error) {
	if c.sk == nil {
		return 0, fmt.Errorf("%w: the secret share is gone", ErrState)
	}
	return secretMatches(c.ps, c.sk, guess), nil
}

func secretMatches(ps *ParamSet, sk *rlwe.SecretKey, guess []int8) int {
	r0 := ps.params.RingQ().AtLevel(0)
	v := r0.NewPoly()
	defer zeroPoly(v)
	copy(v.Coeffs[0], sk.Value.Q.Coeffs[0])
	r0.IMForm(v, v)
	r0.INTT(v, v)
	q0 := ps.params.Q()[0]
	n := 0
	for j, x := range v.Coeffs[0] {
		var s int8
		switch x % q0 {
		case 1:
			s = 1
		case q0 - 1:
			s = -1
		}
		if j < len(guess) && guess[j] == s {
			n++
		}
	}
	return n
}

// ChanceMatches is how many coefficients a guess matches in expectation
// without any information: the secret's most likely coefficient value has
// probability 1/3 (uniform ternary).
func ChanceMatches(ps *ParamSet) float64 { return float64(ps.params.N()) / 3 }

// RushingControl mounts the rushing attack the way it worked before
// commitments, on Lattigo's protocol alone: the attacker answers the
// victim's round-1 share with (C - h0, -h1), the victim computes its
// round-2 share from the aggregate (C, 0), and the attacker recovers the
// victim's secret from it. It returns how many of the N coefficients the
// recovery gets right, so that the tests show the recovery works whenever
// the attack is possible.
func RushingControl(ps *ParamSet, rand io.Reader) (recovered int, err error) {
	victim, err := NewCeremony(ps, RoleQuerier, 2, KeySetID{1}, rand)
	if err != nil {
		return 0, err
	}
	defer victim.Abort()
	attacker := &Ceremony{ps: ps, role: RoleResponder, rkg: victim.rkg}
	eph, r1, r2 := victim.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
	victim.rkg.GenShareRoundOne(victim.sk, victim.rkgCRP, eph, &r1)
	_, agg, _ := victim.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
	attacker.rushing(&r1, &agg)
	victim.rkg.AggregateShares(r1, agg, &agg) // (C, 0)
	victim.rkg.GenShareRoundTwo(eph, victim.sk, agg, &r2)
	guess := recoverFromPoly(ps, r2.Value[0][0][0].Q)
	return secretMatches(ps, victim.sk, guess), nil
}

// NewScaledCeremony starts a ceremony for a cheating party whose secret is
// scale times a fresh ternary one: every share it makes is well formed and
// consistent with that secret, so the keys work for s_peer + scale·s. The
// joint key check bounds how large such a secret can be.
func NewScaledCeremony(ps *ParamSet, role Role, maxDims int, crs KeySetID, rand io.Reader, scale int64) (*Ceremony, error) {
	c, err := NewCeremony(ps, role, maxDims, crs, rand)
	if err != nil {
		return nil, err
	}
	rqp := ps.params.RingQP()
	tmp := rqp.NewPoly()
	rqp.MulScalar(c.sk.Value, uint64(scale), tmp)
	c.sk.Value.Copy(tmp)
	return c, nil
}
