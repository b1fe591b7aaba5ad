package he

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// Ceremony is one party's side of the key generation for one direction:
// the two parties jointly generate a key set whose secret is the sum of
// their shares (Mouchet, Troncoso-Pastoriza, Bossuat and Hubaux,
// "Multiparty Homomorphic Encryption from Ring-Learning-with-Errors",
// PETS 2021; Lattigo's multiparty package).
//
// The ceremony is a list of [Step]s, in the order of [Ceremony.Steps]:
// the public key (CKG), the relinearization key in two rounds (RKG), and
// one rotation key per Galois element (GKG). The steps fall in two
// [Round]s: every step but the second relinearization round depends only on
// the party's own secret and the common reference string (round 1); the
// second relinearization round depends on the aggregate of the first
// (round 2).
//
// # Commit, then reveal
//
// Lattigo's protocols are proven for passive parties. A peer that chooses
// its share after seeing ours controls the aggregate: answering the first
// relinearization round with (C - h0, -h1) makes the aggregate (C, 0), and
// our second-round share is then C·s + e, which gives our secret away
// (the rushing attack). So no share leaves this party before the peer is
// bound to its own share of the same round:
//
//  1. [Ceremony.Commit] draws every share of a round at once and returns a
//     binding commitment to each (SHA-256 over the caller's binding, the
//     transcript so far, and the exact share bytes; see commitShare).
//  2. [Ceremony.PeerCommitments] records the peer's commitments for the
//     round.
//  3. Only then does [Ceremony.Reveal] hand out a share of the round, and
//     [Ceremony.Absorb] accepts the peer's share of a step only if it opens
//     the peer's commitment.
//
// Absorb also refuses shares no honest party sends (see checkShare): all
// zero, constant, mostly small, equal to ours, a replay of a share seen
// earlier in the ceremony (in either direction, see [Ceremony.Link]), or
// one that makes the aggregate degenerate (it cancels ours). When every
// step is absorbed the ceremony is done and both parties hold the same
// public [EvaluationKeys]; before either party uses them, [Ceremony.KeyCheck]
// runs the joint functional check of the keys. Each party keeps its
// [SecretShare], which appears in no message.
//
// The common reference string comes from a 32-byte seed the caller derives
// from both parties' contributions, committed before they are revealed (so
// that neither chooses it); it also names the key set ([KeySetID]).
//
// Every share is made once from fresh randomness and never again: a second
// commitment to a round, a second reveal or absorb of a step, or any
// failure ends the ceremony ([ErrState]) and wipes its secrets; the parties
// start a new one with new shares (Lattigo's SECURITY.md). The party's
// secret share comes from the io.Reader given to [NewCeremony]; the noise
// inside the protocol shares is drawn by Lattigo from crypto/rand.
//
// What remains outside these checks (a peer whose shares are well formed
// but computed from a non-ternary secret or a larger noise, which only a
// zero-knowledge proof of well-formed shares would exclude) is discussed in
// SECURITY.md, section "The key ceremony against a cheating partner".
type Ceremony struct {
	ps      *ParamSet
	role    Role
	maxDims int
	id      KeySetID
	failed  error
	sk      *rlwe.SecretKey
	eph     *rlwe.SecretKey // ephemeral secret between the relinearization rounds

	ckg    multiparty.PublicKeyGenProtocol
	ckgCRP multiparty.PublicKeyGenCRP
	rkg    multiparty.RelinearizationKeyGenProtocol
	rkgCRP multiparty.RelinearizationKeyGenCRP
	gkg    multiparty.GaloisKeyGenProtocol
	r1Agg  *multiparty.RelinearizationKeyGenShare // aggregated round 1, kept for round 2

	steps  map[Step]*stepState
	rounds [3]roundState // by Round; index 0 unused
	seen   *shareLog     // every share of this ceremony, ours and the peer's
	keys   *EvaluationKeys
}

// StepKind is a kind of ceremony step.
type StepKind uint8

const (
	StepPublicKey   StepKind = 1 // collective public key (CKG)
	StepRelinRound1 StepKind = 2 // relinearization key, round 1 (RKG)
	StepRelinRound2 StepKind = 3 // relinearization key, round 2 (RKG)
	StepGalois      StepKind = 4 // one rotation key (GKG)
)

// Step names one step: its kind and, for StepGalois, the Galois element.
type Step struct {
	Kind          StepKind
	GaloisElement uint64
}

func (s Step) String() string {
	switch s.Kind {
	case StepPublicKey:
		return "public-key share"
	case StepRelinRound1:
		return "relinearization share (round 1)"
	case StepRelinRound2:
		return "relinearization share (round 2)"
	case StepGalois:
		return fmt.Sprintf("rotation-key share for Galois element %d", s.GaloisElement)
	}
	return fmt.Sprintf("step kind %d", uint8(s.Kind))
}

// Round is a round of commitments: every share of a round is committed
// before any share of it is revealed.
type Round uint8

const (
	Round1 Round = 1 // every step but the second relinearization round
	Round2 Round = 2 // the second relinearization round
)

// Round returns the round the step belongs to.
func (s Step) Round() Round {
	if s.Kind == StepRelinRound2 {
		return Round2
	}
	return Round1
}

// stepState is one step's state: our encoded share from Commit until the
// step is aggregated, both commitments, and the peer's decoded share.
type stepState struct {
	own        []byte // our share, encoded; nil once aggregated
	ownCommit  Commitment
	peerCommit Commitment
	revealed   bool
	peer       any // *PublicKeyGenShare, *RelinearizationKeyGenShare or *GaloisKeyGenShare
	done       bool
	crp        multiparty.GaloisKeyGenCRP
}

// roundState is one round's commitment state.
type roundState struct {
	committed bool   // our commitments made
	peer      bool   // the peer's recorded
	bind      []byte // the caller's binding of the round's commitments
}

// NewCeremony starts a ceremony for one direction. maxDims (a power of two)
// is the largest template dimension the key set will support; it fixes the
// rotation keys. crs seeds the common reference string and becomes the
// key-set ID; both parties must pass the same value. rand supplies the
// party's secret share.
func NewCeremony(ps *ParamSet, role Role, maxDims int, crs KeySetID, rand io.Reader) (*Ceremony, error) {
	if !role.valid() {
		return nil, fmt.Errorf("he: ceremony: unknown role %d", uint8(role))
	}
	if err := ps.checkMaxDims(maxDims); err != nil {
		return nil, fmt.Errorf("he: ceremony: %v", err)
	}
	sk, err := ps.newSecret(rand)
	if err != nil {
		return nil, err
	}
	c := &Ceremony{ps: ps, role: role, maxDims: maxDims, id: crs, sk: sk, steps: map[Step]*stepState{}, seen: newShareLog()}
	c.ckg = multiparty.NewPublicKeyGenProtocol(ps.params)
	c.ckgCRP = c.ckg.SampleCRP(crsFor(crs, "ckg", 0))
	c.rkg = multiparty.NewRelinearizationKeyGenProtocol(ps.params)
	c.rkgCRP = c.rkg.SampleCRP(crsFor(crs, "rkg", 0), ps.evkParams(ps.relinLevel()))
	c.gkg = multiparty.NewGaloisKeyGenProtocol(ps.params)
	for _, s := range c.Steps() {
		st := &stepState{}
		if s.Kind == StepGalois {
			st.crp = c.gkg.SampleCRP(crsFor(crs, "gkg", s.GaloisElement), ps.evkParams(ps.galoisLevel(maxDims, s.GaloisElement)))
		}
		c.steps[s] = st
	}
	c.keys = &EvaluationKeys{ps: ps, id: crs, maxDims: maxDims, pk: rlwe.NewPublicKey(ps.params), gks: map[uint64]*rlwe.GaloisKey{}}
	return c, nil
}

// Steps lists the ceremony's steps in their canonical order.
func (c *Ceremony) Steps() []Step {
	out := []Step{{Kind: StepPublicKey}, {Kind: StepRelinRound1}, {Kind: StepRelinRound2}}
	for _, g := range c.ps.GaloisElements(c.maxDims) {
		out = append(out, Step{Kind: StepGalois, GaloisElement: g})
	}
	return out
}

// Role returns this party's role.
func (c *Ceremony) Role() Role { return c.role }

// KeySetID returns the key set the ceremony builds.
func (c *Ceremony) KeySetID() KeySetID { return c.id }

// Done reports whether every step has been absorbed.
func (c *Ceremony) Done() bool {
	for _, st := range c.steps {
		if !st.done {
			return false
		}
	}
	return c.failed == nil
}

// SecretShare returns the party's secret share once the ceremony is done.
// The ceremony keeps no copy; a second call fails.
func (c *Ceremony) SecretShare() (*SecretShare, error) {
	if !c.Done() || c.sk == nil {
		return nil, fmt.Errorf("%w: secret share not available (done=%v)", ErrState, c.Done())
	}
	s := &SecretShare{ps: c.ps, role: c.role, maxDims: c.maxDims, id: c.id, sk: c.sk}
	c.sk = nil
	return s, nil
}

// EvaluationKeys returns the collective public keys once the ceremony is
// done. Both parties get the same keys; only the responder needs them.
func (c *Ceremony) EvaluationKeys() (*EvaluationKeys, error) {
	if !c.Done() {
		return nil, fmt.Errorf("%w: evaluation keys not available before the ceremony is done", ErrState)
	}
	return c.keys, nil
}

// Abort ends the ceremony at once: its secrets are wiped and every later
// call fails with [ErrState]. It is safe to call on a finished or failed
// ceremony (a finished one keeps nothing but what SecretShare has not yet
// handed out, which it wipes).
func (c *Ceremony) Abort() {
	_ = c.fail(fmt.Errorf("%w: ceremony aborted", ErrState))
}

func (c *Ceremony) state(s Step) (*stepState, error) {
	if c.failed != nil {
		return nil, fmt.Errorf("%w: ceremony failed earlier: %v", ErrState, c.failed)
	}
	st, ok := c.steps[s]
	if !ok {
		return nil, c.fail(fmt.Errorf("%w: %s is not a step of this ceremony", ErrState, s))
	}
	return st, nil
}

// fail ends the ceremony: its secrets are wiped, its shares dropped, and
// every later call returns ErrState.
func (c *Ceremony) fail(err error) error {
	if c.failed == nil {
		c.failed = err
	}
	for _, sk := range []*rlwe.SecretKey{c.sk, c.eph} {
		if sk != nil {
			zeroPoly(sk.Value.Q)
			zeroPoly(sk.Value.P)
		}
	}
	c.sk, c.eph = nil, nil
	for _, st := range c.steps {
		st.own, st.peer = nil, nil
	}
	c.r1Agg = nil
	return err
}

// crsFor is a keyed XOF over the key-set ID, a label and a Galois element:
// each protocol object gets its own stream, so the order in which objects
// are sampled does not matter.
func crsFor(id KeySetID, label string, galEl uint64) multiparty.CRS {
	key := make([]byte, 0, 64)
	key = append(key, id[:]...)
	key = append(key, label...)
	key = binary.BigEndian.AppendUint64(key, galEl)
	prng, err := sampling.NewKeyedPRNG(key)
	if err != nil {
		panic(err) // BLAKE2b rejects only keys over 64 bytes
	}
	return prng
}

// GaloisElements lists, in the order the ceremony runs them, the Galois
// elements of a key set: rotations by every power of two below the slot
// count. All are generated at the top level: those below the padded
// dimension rotate the probe (baby steps, giant steps), those from it up
// project the probe onto its period (Responder.project).
func (ps *ParamSet) GaloisElements(maxDims int) []uint64 {
	var out []uint64
	for r := 1; r < ps.Slots(); r <<= 1 {
		out = append(out, ps.params.GaloisElement(r))
	}
	return out
}

// galoisLevel is the Q level of the key for rotation galEl: the top.
func (ps *ParamSet) galoisLevel(maxDims int, galEl uint64) int { return ps.topLevel() }

func (ps *ParamSet) evkParams(levelQ int) rlwe.EvaluationKeyParameters {
	lp := ps.params.MaxLevelP()
	return rlwe.EvaluationKeyParameters{LevelQ: &levelQ, LevelP: &lp}
}
