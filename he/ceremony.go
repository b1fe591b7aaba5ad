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
// one rotation key per Galois element (GKG). For each step a party makes
// its share with [Ceremony.Share], sends it, and hands the peer's share to
// [Ceremony.Absorb]; the two may come in either order, except that the
// second relinearization round needs the first one absorbed. When every
// step is absorbed the ceremony is done and both parties hold the same
// public [EvaluationKeys]; each keeps its [SecretShare], which appears in
// no message.
//
// The common reference string comes from a 32-byte seed the caller derives
// from both parties' contributions (so that neither chooses it alone); it
// also names the key set ([KeySetID]). A party should commit to its
// contribution before seeing the other's, or it could grind the seed.
//
// Every share is made once from fresh randomness and never again: asking
// twice for a step's share, absorbing a step twice, or any failure ends the
// ceremony ([ErrState]); the parties start a new one with new shares
// (Lattigo's SECURITY.md). The party's secret share comes from the
// io.Reader given to [NewCeremony]; the noise inside the protocol shares is
// drawn by Lattigo from crypto/rand.
//
// The security model is Lattigo's: both parties follow the protocol
// (passive adversaries); nothing here proves that a peer's share is well
// formed, and a malformed one yields keys that do not work.
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

	steps map[Step]*stepState
	keys  *EvaluationKeys
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

// stepState holds a step's shares until both are there.
type stepState struct {
	shared, absorbed, done bool
	own, peer              any // *PublicKeyGenShare, *RelinearizationKeyGenShare or *GaloisKeyGenShare
	crp                    multiparty.GaloisKeyGenCRP
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
	c := &Ceremony{ps: ps, role: role, maxDims: maxDims, id: crs, sk: sk, steps: map[Step]*stepState{}}
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

// Share returns this party's share for step s, encoded for the peer. It may
// be called once per step: regenerating a share would reuse the party's
// secret with new noise.
func (c *Ceremony) Share(s Step) ([]byte, error) {
	st, err := c.state(s)
	if err != nil {
		return nil, err
	}
	if st.shared {
		return nil, c.fail(fmt.Errorf("%w: %s already made", ErrState, s))
	}
	if s.Kind == StepRelinRound2 && !c.steps[Step{Kind: StepRelinRound1}].done {
		return nil, c.fail(fmt.Errorf("%w: %s needs round 1 absorbed first", ErrState, s))
	}
	st.shared = true
	own, err := c.makeShare(s, st)
	if err != nil {
		return nil, c.fail(err)
	}
	st.own = own
	msg := c.encodeShare(s, own)
	if err := c.maybeAggregate(s, st); err != nil {
		return nil, c.fail(err)
	}
	return msg, nil
}

// Absorb takes the peer's share for step s. A share that fails validation,
// belongs to another step or key set, or repeats one already absorbed ends
// the ceremony.
func (c *Ceremony) Absorb(s Step, msg []byte) error {
	st, err := c.state(s)
	if err != nil {
		return err
	}
	if st.peer != nil || st.done {
		return c.fail(fmt.Errorf("%w: %s already absorbed", ErrState, s))
	}
	if s.Kind == StepRelinRound2 && !c.steps[Step{Kind: StepRelinRound1}].done {
		return c.fail(fmt.Errorf("%w: %s needs round 1 absorbed first", ErrState, s))
	}
	peer, err := c.decodeShare(s, msg)
	if err != nil {
		return c.fail(err)
	}
	st.peer = peer
	if err := c.maybeAggregate(s, st); err != nil {
		return c.fail(err)
	}
	return nil
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

// fail ends the ceremony: its secrets are wiped and every later call
// returns ErrState.
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
