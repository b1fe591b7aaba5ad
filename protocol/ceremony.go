package protocol

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protect"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// The key ceremony (ceremony.proto) sets up one epoch of an agreement: the two HE key sets, one
// per direction, and the agreement secret from which the epoch's transform seed comes. Both
// sides keep a ceremonyState; the initiator drives the rounds, the responder answers them.
//
// Against a partner that deviates (docs/protocol.md, "The key ceremony"; SECURITY.md): every
// contribution and share is committed before either party reveals its own (the CRS in Hello and
// CommitSeed, the transform seed in CommitSeed and RevealSeed, the HE shares in CommitShares
// before ExchangeKeyShare, the key-check seed in CommitShares before CheckKeys); every share is
// checked by the he package; the keys pass a joint key check before the epoch is prepared; and
// the switch to the new epoch is a two-phase commit that the initiator coordinates.

// ceremonyPurpose is the purpose code of every ceremony request.
const ceremonyPurpose = "key-ceremony"

// ceremonyTTL bounds how long a responder keeps an unfinished ceremony.
const ceremonyTTL = 30 * time.Minute

// Round sizes of the ceremony.
const (
	ceremonyIDLen  = 16
	crsContribLen  = 32
	maxSealedSize  = 8 << 10
	commitmentLen  = 32
	confirmLen     = 64
	maxAbortReason = 256
	checkLen       = 32
)

// ceremonyState is one side's state of one ceremony. The responder serves one round of it at a
// time, holding mu.
type ceremonyState struct {
	mu        sync.Mutex // held by the round being served
	aborted   bool       // set, with the secrets destroyed, by the holder of mu (dropCeremony)
	id        []byte
	p         *partner
	initiator bool
	epoch     uint64
	ps        *he.ParamSet
	maxDims   int

	crsMine   []byte   // this node's CRS contribution
	crsCommit [32]byte // the initiator's commitment to its CRS contribution
	crs       [2]he.KeySetID
	hec       [2]*he.Ceremony // by direction: 0 initiator queries, 1 responder queries; nil before the CRS
	plan      []exchange      // the key-share exchanges, in order
	pos       int             // next exchange
	committed [3]bool         // by he.Round: both parties' commitments exchanged

	mine       *keys.Contribution // transform-seed contributions
	theirs     *keys.Contribution
	peerCommit [32]byte
	secret     *keys.AgreementSecret

	checkMine       [checkLen]byte // key-check contribution
	checkPeerCommit [32]byte
	checkTranscript []byte // transcript digest when the check contributions were committed
	check           [2]*he.KeyCheck

	stage      int
	transcript hash.Hash
	bytesOut   int64
	bytesIn    int64

	// expires is when the ceremony is dropped if no round comes (unix nanoseconds): read
	// without the lock by dropExpiredCeremonies, which cannot take the lock of a round that
	// waits on the partner.
	expires atomic.Int64
	// stop is closed to make a round that waits on the partner (an upload's chunks) give the
	// ceremony up: on expiry, or when a new Hello replaces it (interrupt).
	stop     chan struct{}
	stopOnce sync.Once
	// refusals counts the rounds of it this node refused as the responder (refusalAudited),
	// without the lock: admitRound refuses after releasing it.
	refusals atomic.Uint64
}

// setExpiry sets when the ceremony is dropped if no round comes.
func (c *ceremonyState) setExpiry(t time.Time) { c.expires.Store(t.UnixNano()) }

// expired reports whether the ceremony is past its expiry at now.
func (c *ceremonyState) expired(now time.Time) bool { return now.UnixNano() > c.expires.Load() }

// interrupt makes the round being served, if it waits on the partner, fail and abort the
// ceremony, so that its lock is released and its state destroyed.
func (c *ceremonyState) interrupt() { c.stopOnce.Do(func() { close(c.stop) }) }

// exchange is one key-share exchange: a direction and a step.
type exchange struct {
	dir  int
	step he.Step
}

const (
	stageHello     = iota + 1 // responder: after Hello (the HE ceremonies wait for the CRS)
	stageCommitted            // after CommitSeed
	stageRevealed             // after RevealSeed (agreement secret derived)
	stageChecked              // after CheckKeys
)

// newCeremonyState starts a ceremony's state; the HE ceremonies start once the CRS is known
// (startHE).
func newCeremonyState(p *partner, initiator bool, id []byte, epoch uint64, now time.Time) *ceremonyState {
	c := &ceremonyState{id: id, p: p, initiator: initiator, epoch: epoch, ps: p.ps, maxDims: p.maxDims,
		transcript: sha512.New(), stage: stageHello, stop: make(chan struct{})}
	c.setExpiry(now.Add(ceremonyTTL))
	return c
}

// startHE derives both directions' CRS seeds from the two contributions and starts the HE
// ceremonies; rnd supplies this node's secret shares.
func (c *ceremonyState) startHE(crsI, crsR []byte, rnd io.Reader) error {
	for d := range 2 {
		crs, err := crsSeed(crsI, crsR, c.id, pb.KeySetDirection(d+1))
		if err != nil {
			return err
		}
		c.crs[d] = crs
		if c.hec[d], err = he.NewCeremony(c.ps, c.role(d), c.maxDims, crs, rnd); err != nil {
			return err
		}
	}
	c.hec[0].Link(c.hec[1])
	c.plan = nil
	for _, r := range []he.Round{he.Round1, he.Round2} {
		for d := range 2 {
			for _, s := range c.hec[d].RoundSteps(r) {
				c.plan = append(c.plan, exchange{dir: d, step: s})
			}
		}
	}
	return nil
}

// role is this node's role in direction d: the initiator queries in direction 0.
func (c *ceremonyState) role(d int) he.Role {
	if (d == 0) == c.initiator {
		return he.RoleQuerier
	}
	return he.RoleResponder
}

// crsSeed derives one direction's CRS seed (ceremony.proto, Derivations).
func crsSeed(crsI, crsR, id []byte, dir pb.KeySetDirection) (he.KeySetID, error) {
	var out he.KeySetID
	ikm := append(append([]byte(nil), crsI...), crsR...)
	k, err := hkdf.Key(sha512.New, ikm, id, "puente/v1 crs "+strconv.Itoa(int(dir)), len(out))
	if err != nil {
		return out, err
	}
	copy(out[:], k)
	return out, nil
}

// appendLP appends a u8 length and s.
func appendLP(b []byte, s string) []byte { return append(append(b, byte(len(s))), s...) }

// crsCommitment is the initiator's commitment to its CRS contribution (ceremony.proto,
// Derivations).
func crsCommitment(agreement string, epoch uint64, initiator, responder string, crs []byte) [32]byte {
	b := []byte("puente/v2 crs commitment\x00")
	b = appendLP(b, agreement)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = appendLP(appendLP(b, initiator), responder)
	return sha256.Sum256(append(b, crs...))
}

// parties returns the initiator's and the responder's names.
func (c *ceremonyState) parties(self string) (string, string) {
	if c.initiator {
		return self, c.p.name
	}
	return c.p.name, self
}

// shareBind is the binding of direction d's share commitments of round r (ceremony.proto,
// Derivations): computed before the round's CommitShares is recorded.
func (c *ceremonyState) shareBind(d int, r he.Round) []byte {
	b := []byte("puente/v2 share\x00")
	b = append(b, c.id...)
	b = binary.BigEndian.AppendUint32(b, uint32(d+1))
	b = append(b, byte(r))
	return append(b, c.digest()...)
}

// checkCommitment is a party's commitment to its key-check contribution.
func (c *ceremonyState) checkCommitment(initiator bool, transcript, contrib []byte) [32]byte {
	b := []byte("puente/v2 check commitment\x00")
	b = append(b, c.id...)
	role := byte(2)
	if initiator {
		role = 1
	}
	b = append(append(b, role), transcript...)
	return sha256.Sum256(append(b, contrib...))
}

// checkSeed is the joint key-check seed.
func (c *ceremonyState) checkSeed(transcript, contribI, contribR []byte) [32]byte {
	b := append([]byte("puente/v2 check seed\x00"), transcript...)
	b = append(append(b, contribI...), contribR...)
	return sha256.Sum256(b)
}

// checkBind is the key-check binding of direction d.
func (c *ceremonyState) checkBind(d int) []byte {
	b := append([]byte("puente/v2 key check\x00"), c.id...)
	return binary.BigEndian.AppendUint32(b, uint32(d+1))
}

// runKeyChecks computes this node's half of the key check of both directions.
func (c *ceremonyState) runKeyChecks(seed [32]byte) error {
	for d := range 2 {
		k, err := c.hec[d].KeyCheck(seed, c.checkBind(d))
		if err != nil {
			return err
		}
		c.check[d] = k
	}
	return nil
}

// checkDigests lays out this node's key-check digests as KeyCheckPayload.digests.
func (c *ceremonyState) checkDigests() [][]byte {
	var out [][]byte
	for d := range 2 {
		ds := c.check[d].Digests()
		for g := range ds {
			out = append(out, append([]byte(nil), ds[g][:]...))
		}
	}
	return out
}

// verifyCheck checks the partner's key-check digests of both directions.
func (c *ceremonyState) verifyCheck(digests [][]byte) error {
	if len(digests) != 2*he.KeyCheckGrids {
		return fmt.Errorf("%d key-check digests, want %d", len(digests), 2*he.KeyCheckGrids)
	}
	for d := range 2 {
		var peer he.KeyCheckDigests
		for g := range peer {
			if len(digests[d*he.KeyCheckGrids+g]) != 32 {
				return fmt.Errorf("key-check digest %d is %d bytes, want 32", d*he.KeyCheckGrids+g, len(digests[d*he.KeyCheckGrids+g]))
			}
			copy(peer[g][:], digests[d*he.KeyCheckGrids+g])
		}
		if _, err := c.check[d].Verify(peer); err != nil {
			return fmt.Errorf("key set %v: %w", pb.KeySetDirection(d+1), err)
		}
	}
	return nil
}

// commitments lays out this node's commitments of round r as ShareCommitmentsPayload.commitments,
// after recording the partner's.
func (c *ceremonyState) commitRound(r he.Round, peer [][]byte) ([][]byte, error) {
	var out [][]byte
	off := 0
	for d := range 2 {
		n := len(c.hec[d].RoundSteps(r))
		if peer != nil {
			cms := make([]he.Commitment, n)
			for i := range cms {
				copy(cms[i][:], peer[off+i])
			}
			if err := c.hec[d].PeerCommitments(r, cms); err != nil {
				return nil, err
			}
			off += n
		}
		own, err := c.hec[d].Commit(r, c.shareBind(d, r))
		if err != nil {
			return nil, err
		}
		for _, cm := range own {
			out = append(out, append([]byte(nil), cm[:]...))
		}
	}
	return out, nil
}

// recordPeerCommitments records the partner's commitments of round r (the initiator's side).
func (c *ceremonyState) recordPeerCommitments(r he.Round, peer [][]byte) error {
	off := 0
	for d := range 2 {
		n := len(c.hec[d].RoundSteps(r))
		cms := make([]he.Commitment, n)
		for i := range cms {
			copy(cms[i][:], peer[off+i])
		}
		off += n
		if err := c.hec[d].PeerCommitments(r, cms); err != nil {
			return err
		}
	}
	return nil
}

// checkCommitmentList checks the shape of a ShareCommitmentsPayload for round r.
func (c *ceremonyState) checkCommitmentList(pl *pb.ShareCommitmentsPayload, r he.Round) error {
	want := len(c.hec[0].RoundSteps(r)) + len(c.hec[1].RoundSteps(r))
	switch {
	case pl.Round != uint32(r):
		return fmt.Errorf("round %d, want %d", pl.Round, r)
	case len(pl.Commitments) != want:
		return fmt.Errorf("%d commitments, want %d", len(pl.Commitments), want)
	case r == he.Round1 && len(pl.CheckCommitment) != commitmentLen:
		return fmt.Errorf("key-check commitment is %d bytes, want %d", len(pl.CheckCommitment), commitmentLen)
	case r == he.Round2 && len(pl.CheckCommitment) != 0:
		return errors.New("a round-2 payload carries a key-check commitment")
	}
	for i, cm := range pl.Commitments {
		if len(cm) != commitmentLen {
			return fmt.Errorf("commitment %d is %d bytes, want %d", i, len(cm), commitmentLen)
		}
	}
	return nil
}

// roundDone reports whether every exchange of round r has run.
func (c *ceremonyState) roundDone(r he.Round) bool {
	for i, x := range c.plan {
		if x.step.Round() == r && i >= c.pos {
			return false
		}
	}
	return true
}

// record adds one round to the transcript.
func (c *ceremonyState) record(req, resp proto.Message) {
	c.transcript.Write(wire.Canonical(req))
	c.transcript.Write(wire.Canonical(resp))
}

// digest returns the transcript digest so far.
func (c *ceremonyState) digest() []byte { return c.transcript.Sum(nil) }

// nextStep returns the direction and step of the next key-share exchange.
func (c *ceremonyState) nextStep() (int, he.Step, bool) {
	if c.pos >= len(c.plan) {
		return 0, he.Step{}, false
	}
	return c.plan[c.pos].dir, c.plan[c.pos].step, true
}

// sharesDone reports whether every key share has been exchanged.
func (c *ceremonyState) sharesDone() bool {
	return c.hec[0] != nil && c.pos == len(c.plan) && c.hec[0].Done() && c.hec[1].Done()
}

// destroy wipes the ceremony's secrets.
func (c *ceremonyState) destroy() {
	for _, h := range c.hec {
		if h != nil {
			h.Abort()
		}
	}
	c.hec = [2]*he.Ceremony{}
	c.check = [2]*he.KeyCheck{}
	for _, k := range []*keys.Contribution{c.mine, c.theirs} {
		if k != nil {
			k.Zero()
		}
	}
	if c.secret != nil {
		c.secret.Zero()
	}
	clear(c.checkMine[:])
}

// seedConfirmation is the responder's proof that it derived the same agreement secret.
func seedConfirmation(s *keys.AgreementSecret, id []byte) ([]byte, error) {
	k, err := s.Derive("puente/v1 seed confirmation", confirmLen)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	m := hmac.New(sha512.New, k)
	m.Write(id)
	return m.Sum(nil), nil
}

// protectScheme describes the agreement's transform for Hello.
func protectScheme(p protect.Params) (*pb.ProtectScheme, error) {
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &pb.ProtectScheme{SchemeId: p.Scheme.String(), InputDim: uint32(p.InputDim), OutputDim: uint32(p.OutputDim()), Params: b}, nil
}

// helloPayload is what this node proposes, or expects to be proposed, for partner p's epoch.
func helloPayload(p *partner, epoch uint64, crsCommit []byte) (*pb.HelloPayload, error) {
	scheme, err := protectScheme(p.cfg.Transform)
	if err != nil {
		return nil, err
	}
	return &pb.HelloPayload{Epoch: epoch, ParamSet: p.ps.Name(), ParamSetDigest: paramDigest(p.ps), Protect: scheme,
		GaloisElements: p.ps.GaloisElements(p.maxDims), CrsCommitment: crsCommit}, nil
}

// checkHello compares a proposal with what this node expects, field by field, and names the
// first that differs (never a secret: every field is public).
func checkHello(got, want *pb.HelloPayload) error {
	switch {
	case got.ParamSet != want.ParamSet || !hmac.Equal(got.ParamSetDigest, want.ParamSetDigest):
		return fmt.Errorf("parameter set %q differs from this node's %q", got.ParamSet, want.ParamSet)
	case got.Protect == nil || !proto.Equal(got.Protect, want.Protect):
		return errors.New("protect scheme or its parameters differ")
	case len(got.GaloisElements) != len(want.GaloisElements):
		return errors.New("list of Galois elements differs")
	case len(got.CrsCommitment) != commitmentLen:
		return fmt.Errorf("crs_commitment is %d bytes, want %d", len(got.CrsCommitment), commitmentLen)
	}
	for i := range got.GaloisElements {
		if got.GaloisElements[i] != want.GaloisElements[i] {
			return errors.New("list of Galois elements differs")
		}
	}
	return nil
}

// maxEpochSkip bounds how far past the agreement's next epoch a ceremony may set up: enough for
// an operator to skip epochs the partner's view holds and this node's lacks, never so far that
// no epoch is left after it. Epochs only go up (keys.Agreements.Begin), so an epoch near 2⁶⁴
// accepted from a partner would leave the agreement unable to revoke it or re-key, for good.
const maxEpochSkip = 1 << 16

// nextEpoch returns the epoch a new ceremony with p sets up: one after every epoch the
// agreement has had.
func (n *Node) nextEpoch(ctx context.Context, p *partner) (uint64, error) {
	st, _, err := n.agree.State(ctx, p.cfg.Agreement)
	if errors.Is(err, keys.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	var last uint64
	for _, e := range st.Epochs {
		last = max(last, e.Epoch)
	}
	if last > math.MaxUint64-maxEpochSkip-1 {
		return 0, fmt.Errorf("protocol: agreement %s has reached epoch %d: no epoch is left after it", p.cfg.Agreement, last)
	}
	return last + 1, nil
}

// checkEpochProposal refuses a ceremony's epoch below next (the agreement has had it) or more
// than maxEpochSkip above it. Its message starts "epoch must be at least".
func checkEpochProposal(epoch, next uint64) error {
	if epoch < next || epoch-next > maxEpochSkip {
		return fmt.Errorf("epoch must be at least %d and at most %d (proposed %d)", next, next+maxEpochSkip, epoch)
	}
	return nil
}
