package he

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

// Commitment binds a party to one share before the share is revealed:
//
//	SHA-256("puente/he/ceremony-share-commitment/v1" || 0x00 || u32 len(bind) || bind || share)
//
// where share is the exact encoded message [Ceremony.Reveal] returns (its
// header names the sender's role, the step, the Galois element and the key
// set) and bind is the caller's binding: Puente's protocol passes the
// ceremony ID, the direction and the digest of the transcript so far. The
// commitment is binding by SHA-256's collision resistance, and hiding
// because the share it covers is a fresh RLWE sample with thousands of
// bits of min-entropy (its Gaussian noise alone).
type Commitment [32]byte

const commitDomain = "puente/he/ceremony-share-commitment/v1\x00"

func commitShare(bind, msg []byte) Commitment {
	h := sha256.New()
	h.Write([]byte(commitDomain))
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(bind)))
	h.Write(n[:])
	h.Write(bind)
	h.Write(msg)
	var c Commitment
	h.Sum(c[:0])
	return c
}

// RoundSteps lists the steps of round r, in the order of [Ceremony.Steps]:
// the order of the commitments [Ceremony.Commit] returns and
// [Ceremony.PeerCommitments] expects.
func (c *Ceremony) RoundSteps(r Round) []Step {
	var out []Step
	for _, s := range c.Steps() {
		if s.Round() == r {
			out = append(out, s)
		}
	}
	return out
}

// Commit draws this party's shares for every step of round r and returns
// a commitment to each, in the order of [Ceremony.RoundSteps]. It may be
// called once per round; round 2 needs every step of round 1 absorbed.
// bind is the caller's binding (see [Commitment]); both parties must pass
// the same value for the same round.
func (c *Ceremony) Commit(r Round, bind []byte) ([]Commitment, error) {
	rs, err := c.round(r)
	if err != nil {
		return nil, err
	}
	if rs.committed {
		return nil, c.fail(fmt.Errorf("%w: round %d already committed", ErrState, r))
	}
	if r == Round2 {
		for _, s := range c.RoundSteps(Round1) {
			if !c.steps[s].done {
				return nil, c.fail(fmt.Errorf("%w: round 2 needs every share of round 1 absorbed, %s is not", ErrState, s))
			}
		}
	}
	rs.committed = true
	rs.bind = append([]byte(nil), bind...)
	var out []Commitment
	for _, s := range c.RoundSteps(r) {
		st := c.steps[s]
		share, err := c.makeShare(s, st)
		if err != nil {
			return nil, c.fail(err)
		}
		st.own = c.encodeShare(s, share)
		c.seen.add(c.shareBody(st.own))
		st.ownCommit = commitShare(bind, st.own)
		out = append(out, st.ownCommit)
	}
	return out, nil
}

// PeerCommitments records the peer's commitments for round r, in the order
// of [Ceremony.RoundSteps]. It may be called once per round, before or
// after [Ceremony.Commit].
func (c *Ceremony) PeerCommitments(r Round, cms []Commitment) error {
	rs, err := c.round(r)
	if err != nil {
		return err
	}
	if rs.peer {
		return c.fail(fmt.Errorf("%w: the peer's commitments for round %d are already recorded", ErrState, r))
	}
	steps := c.RoundSteps(r)
	if len(cms) != len(steps) {
		return c.fail(malformed("ceremony commitments", "count", "got %d for round %d, want %d", len(cms), r, len(steps)))
	}
	rs.peer = true
	for i, s := range steps {
		c.steps[s].peerCommit = cms[i]
	}
	return nil
}

// Reveal returns this party's share for step s, encoded for the peer. It
// refuses (and ends the ceremony) unless both parties' commitments for the
// step's round are known: the peer is then bound to its share of the round
// before it sees any of ours. A share is revealed once. The caller must not
// modify the returned bytes.
func (c *Ceremony) Reveal(s Step) ([]byte, error) {
	st, err := c.state(s)
	if err != nil {
		return nil, err
	}
	rs := &c.rounds[s.Round()]
	switch {
	case !rs.committed:
		return nil, c.fail(fmt.Errorf("%w: %s revealed before this party committed to round %d", ErrState, s, s.Round()))
	case !rs.peer:
		return nil, c.fail(fmt.Errorf("%w: %s revealed before the peer committed to round %d", ErrState, s, s.Round()))
	case st.revealed:
		return nil, c.fail(fmt.Errorf("%w: %s already revealed", ErrState, s))
	}
	st.revealed = true
	msg := st.own
	if err := c.maybeAggregate(s, st); err != nil {
		return nil, c.fail(err)
	}
	return msg, nil
}

// Absorb takes the peer's share for step s. It ends the ceremony if the
// share does not open the peer's commitment ([ErrCommitment]), fails
// validation ([ErrMalformed], [ErrMismatch]), is one no honest party sends
// ([ErrRejectedShare]: see checkShare), or arrives out of order or twice
// ([ErrState]).
func (c *Ceremony) Absorb(s Step, msg []byte) error {
	st, err := c.state(s)
	if err != nil {
		return err
	}
	rs := &c.rounds[s.Round()]
	switch {
	case !rs.peer:
		return c.fail(fmt.Errorf("%w: %s arrived before the peer committed to round %d", ErrState, s, s.Round()))
	case st.peer != nil || st.done:
		return c.fail(fmt.Errorf("%w: %s already absorbed", ErrState, s))
	}
	if got := commitShare(rs.bind, msg); subtle.ConstantTimeCompare(got[:], st.peerCommit[:]) != 1 {
		return c.fail(&FieldError{Object: "ceremony message", Field: "commitment",
			Reason: fmt.Sprintf("the %s does not open the peer's commitment for it", s), Kind: ErrCommitment})
	}
	peer, err := c.decodeShare(s, msg)
	if err != nil {
		return c.fail(err)
	}
	if !c.seen.add(c.shareBody(msg)) {
		return c.fail(rejected(s, "repeats a share already seen in this ceremony (a replay or a reflection of ours)"))
	}
	if err := c.checkShare(s, peer); err != nil {
		return c.fail(err)
	}
	st.peer = peer
	if err := c.maybeAggregate(s, st); err != nil {
		return c.fail(err)
	}
	return nil
}

func (c *Ceremony) round(r Round) (*roundState, error) {
	if c.failed != nil {
		return nil, fmt.Errorf("%w: ceremony failed earlier: %v", ErrState, c.failed)
	}
	if r != Round1 && r != Round2 {
		return nil, c.fail(fmt.Errorf("%w: no round %d", ErrState, r))
	}
	return &c.rounds[r], nil
}

// Link makes two ceremonies (the two directions of one Puente ceremony)
// share their record of the shares seen, so that a share of one direction
// replayed in the other is refused too. Call it before either commits.
func (c *Ceremony) Link(o *Ceremony) {
	for k := range c.seen.m {
		o.seen.m[k] = true
	}
	c.seen = o.seen
}

// shareLog records the SHA-256 of the body of every share of a ceremony.
type shareLog struct{ m map[[32]byte]bool }

func newShareLog() *shareLog { return &shareLog{m: map[[32]byte]bool{}} }

// add records a body and reports whether it was new.
func (l *shareLog) add(d [32]byte) bool {
	if l.m[d] {
		return false
	}
	l.m[d] = true
	return true
}

// shareBody is the digest of a share message without its header, so that
// a share re-labelled as another step or key set is recognised.
func (c *Ceremony) shareBody(msg []byte) [32]byte {
	if len(msg) < ceremonyHeader {
		return sha256.Sum256(msg)
	}
	return sha256.Sum256(msg[ceremonyHeader:])
}
