package he

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// Ceremony is one party's side of the key ceremony for one direction: the
// two parties jointly generate a key set whose secret is the sum of their
// shares (Mouchet et al., "Multiparty Homomorphic Encryption from
// Ring-Learning-with-Errors", PETS 2021; Lattigo's multiparty package).
//
// The ceremony runs in four rounds. In each round a party first takes its
// [Ceremony.Outgoing] messages (exactly once) and sends them, then passes
// every message received from the peer to [Ceremony.Receive]; the round
// ends when all of them have arrived.
//
//  1. commit: H(role, context, r) for a fresh 32-byte contribution r;
//  2. reveal: r. Both contributions are hashed into the key-set ID, which
//     seeds the common reference string (neither party chooses it alone,
//     and the commitment stops either from choosing r after seeing the
//     other's);
//  3. shares: the public-key share (CKG) and the first relinearization
//     round (RKG) both ways; the querier also sends one rotation-key share
//     (GKG) per rotation the evaluation needs;
//  4. the querier sends the second relinearization round. The responder
//     then holds the [EvaluationKeys]; the querier holds only its share.
//
// Each share is generated once from fresh randomness and never again: any
// failure ends the ceremony for good ([ErrState]) and the parties start a
// new one with new shares (Lattigo's SECURITY.md). Secret shares never
// appear in a message. The noise inside the protocol shares is drawn by
// Lattigo from crypto/rand; the secret share and the contribution come from
// the io.Reader given to [NewCeremony].
//
// The security model is that of Lattigo's multiparty package: both parties
// follow the protocol (passive adversaries); nothing here proves that a
// peer's shares are well formed.
type Ceremony struct {
	ps      *ParamSet
	role    Role
	maxDims int
	ctxHash [32]byte
	round   int  // 1..4, 5 when done
	sent    bool // Outgoing taken this round
	expect  map[msgKey]bool
	failed  error

	sk         *rlwe.SecretKey
	contrib    [32]byte
	peerCommit [32]byte
	peerRev    [32]byte
	id         KeySetID

	ckg    multiparty.PublicKeyGenProtocol
	ckgCRP multiparty.PublicKeyGenCRP
	pk     [2]*multiparty.PublicKeyGenShare // own, peer

	rkg    multiparty.RelinearizationKeyGenProtocol
	rkgCRP multiparty.RelinearizationKeyGenCRP
	eph    *rlwe.SecretKey                           // ephemeral secret between the relinearization rounds
	r1     [2]*multiparty.RelinearizationKeyGenShare // own, peer; own holds the aggregate after round 3
	r2     [2]*multiparty.RelinearizationKeyGenShare // own, peer

	gkg    multiparty.GaloisKeyGenProtocol
	gkgCRP map[uint64]multiparty.GaloisKeyGenCRP
	gal    map[uint64]*[2]*multiparty.GaloisKeyGenShare // responder: own, peer

	pubKey *rlwe.PublicKey
	keys   *EvaluationKeys
}

// NewCeremony starts a ceremony for one direction. maxDims (a power of two)
// is the largest template dimension the key set will support; it fixes the
// rotation keys. context binds the key set to the partner agreement and
// direction (for example "agreement-42/us->co"); both parties must pass the
// same bytes. rand supplies the party's secret share and contribution.
func NewCeremony(ps *ParamSet, role Role, maxDims int, context []byte, rand io.Reader) (*Ceremony, error) {
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
	c := &Ceremony{ps: ps, role: role, maxDims: maxDims, round: 1, sk: sk}
	if _, err := io.ReadFull(rand, c.contrib[:]); err != nil {
		return nil, fmt.Errorf("he: ceremony: reading randomness: %w", err)
	}
	c.ctxHash = sha256.Sum256(append([]byte("puente/he/ceremony-context/v1\x00"), context...))
	c.expect = map[msgKey]bool{{typ: msgCommit}: true}
	return c, nil
}

// Role returns this party's role.
func (c *Ceremony) Role() Role { return c.role }

// Done reports whether the ceremony finished for this party.
func (c *Ceremony) Done() bool { return c.round == 5 }

// KeySetID returns the key-set ID once both contributions are revealed.
func (c *Ceremony) KeySetID() (KeySetID, error) {
	if c.round < 3 {
		return KeySetID{}, fmt.Errorf("%w: key-set ID not known before round 3", ErrState)
	}
	return c.id, nil
}

// Share returns the party's secret share once the ceremony is done. The
// ceremony keeps no copy.
func (c *Ceremony) Share() (*SecretShare, error) {
	if !c.Done() || c.sk == nil {
		return nil, fmt.Errorf("%w: share not available (done=%v)", ErrState, c.Done())
	}
	s := &SecretShare{ps: c.ps, role: c.role, maxDims: c.maxDims, id: c.id, sk: c.sk}
	c.sk = nil
	return s, nil
}

// EvaluationKeys returns the collective evaluation keys; only the
// responder has them, once the ceremony is done.
func (c *Ceremony) EvaluationKeys() (*EvaluationKeys, error) {
	if !c.Done() || c.role != RoleResponder {
		return nil, fmt.Errorf("%w: evaluation keys are the responder's, after round 4", ErrState)
	}
	return c.keys, nil
}

// Outgoing returns this round's messages, to be sent to the peer. It may be
// called once per round; a second call is an error, because regenerating a
// share would reuse the party's secret with new noise.
func (c *Ceremony) Outgoing() ([][]byte, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if c.sent {
		return nil, c.fail(fmt.Errorf("%w: round %d messages already taken", ErrState, c.round))
	}
	c.sent = true
	var out [][]byte
	var err error
	switch c.round {
	case 1:
		h := c.commitment(c.role, c.contrib)
		out = [][]byte{c.encodeSmall(msgCommit, h[:])}
	case 2:
		out = [][]byte{c.encodeSmall(msgReveal, c.contrib[:])}
	case 3:
		out, err = c.round3()
	case 4:
		out, err = c.round4()
	}
	if err != nil {
		return nil, c.fail(err)
	}
	c.maybeAdvance()
	return out, nil
}

// Receive consumes one message from the peer. A message that does not
// belong to the current round, repeats one already received, or fails
// validation ends the ceremony.
func (c *Ceremony) Receive(msg []byte) error {
	if err := c.usable(); err != nil {
		return err
	}
	m, err := c.decode(msg)
	if err != nil {
		return c.fail(err)
	}
	delete(c.expect, m.key) // decode accepts only expected messages
	if err := c.absorb(m); err != nil {
		return c.fail(err)
	}
	c.maybeAdvance()
	return nil
}

func (c *Ceremony) usable() error {
	switch {
	case c.failed != nil:
		return fmt.Errorf("%w: ceremony failed earlier: %v", ErrState, c.failed)
	case c.Done():
		return fmt.Errorf("%w: ceremony already done", ErrState)
	}
	return nil
}

// fail ends the ceremony: its ephemeral secrets are wiped and every later
// call returns ErrState.
func (c *Ceremony) fail(err error) error {
	c.failed = err
	for _, sk := range []*rlwe.SecretKey{c.sk, c.eph} {
		if sk != nil {
			zeroPoly(sk.Value.Q)
			zeroPoly(sk.Value.P)
		}
	}
	c.sk, c.eph = nil, nil
	return err
}

func (c *Ceremony) maybeAdvance() {
	if !c.sent || len(c.expect) > 0 {
		return
	}
	c.endRound()
	if c.failed != nil {
		return
	}
	c.round++
	c.sent = false
	peer := RoleQuerier
	if c.role == RoleQuerier {
		peer = RoleResponder
	}
	switch c.round {
	case 2:
		c.expect = map[msgKey]bool{{typ: msgReveal}: true}
	case 3:
		c.setupProtocols()
		c.expect = map[msgKey]bool{{typ: msgPublicKey}: true, {typ: msgRelinRound1}: true}
		if peer == RoleQuerier {
			for _, g := range c.ps.galoisElements(c.maxDims) {
				c.expect[msgKey{typ: msgGalois, galEl: g}] = true
			}
		}
	case 4:
		c.expect = map[msgKey]bool{}
		if peer == RoleQuerier {
			c.expect[msgKey{typ: msgRelinRound2}] = true
		}
	}
}

// commitment binds a contribution to its role and the context.
func (c *Ceremony) commitment(role Role, r [32]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("puente/he/commit/v1\x00"))
	h.Write([]byte{byte(role)})
	h.Write(c.ctxHash[:])
	h.Write(r[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// deriveKeySetID hashes both contributions (querier's first) with the
// parameter set, key geometry and context into the key-set ID.
func (c *Ceremony) deriveKeySetID() {
	q, r := c.contrib, c.peerRev
	if c.role == RoleResponder {
		q, r = r, q
	}
	h := sha256.New()
	h.Write([]byte("puente/he/key-set/v1\x00"))
	var b [6]byte
	binary.BigEndian.PutUint16(b[:2], uint16(c.ps.ID()))
	binary.BigEndian.PutUint32(b[2:], uint32(c.maxDims))
	h.Write(b[:])
	h.Write(c.ctxHash[:])
	h.Write(q[:])
	h.Write(r[:])
	h.Sum(c.id[:0])
}

// crs returns the common reference string for one protocol object.
func (c *Ceremony) crs(label string, galEl uint64) multiparty.CRS { return crsFor(c.id, label, galEl) }

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

// galoisElements lists, in increasing order of rotation, the Galois
// elements of a key set: rotations by every power of two below the slot
// count. Those below maxDims are generated at the top level (probe
// rotations), the others at the aggregation level.
func (ps *ParamSet) galoisElements(maxDims int) []uint64 {
	var out []uint64
	for r := 1; r < ps.Slots(); r <<= 1 {
		out = append(out, ps.params.GaloisElement(r))
	}
	return out
}

// galoisLevel is the Q level of the key for rotation galEl.
func (ps *ParamSet) galoisLevel(maxDims int, galEl uint64) int {
	for r := 1; r < maxDims; r <<= 1 {
		if ps.params.GaloisElement(r) == galEl {
			return ps.topLevel()
		}
	}
	return ps.stepOutLevel()
}

func (ps *ParamSet) evkParams(levelQ int) rlwe.EvaluationKeyParameters {
	lp := ps.params.MaxLevelP()
	return rlwe.EvaluationKeyParameters{LevelQ: &levelQ, LevelP: &lp}
}

func sortedKeys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
