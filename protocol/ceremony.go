package protocol

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protect"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// The key ceremony (ceremony.proto) sets up one epoch of an agreement: the two HE key sets, one
// per direction, and the agreement secret from which the epoch's transform seed comes. Both
// sides keep a ceremonyState; the initiator drives the rounds, the responder answers them.

// ceremonyPurpose is the purpose code of every ceremony request.
const ceremonyPurpose = "key-ceremony"

// ceremonyTTL bounds how long a responder keeps an unfinished ceremony.
const ceremonyTTL = 30 * time.Minute

// Round sizes of the seed exchange.
const (
	ceremonyIDLen  = 16
	crsContribLen  = 32
	maxSealedSize  = 8 << 10
	commitmentLen  = 32
	confirmLen     = 64
	maxAbortReason = 256
)

// ceremonyState is one side's state of one ceremony. The responder serves one round of it at a
// time, holding mu.
type ceremonyState struct {
	mu         sync.Mutex // held by the round being served
	aborted    bool
	id         []byte
	p          *partner
	initiator  bool
	epoch      uint64
	ps         *he.ParamSet
	maxDims    int
	crs        [2]he.KeySetID
	hec        [2]*he.Ceremony // by direction: 0 initiator queries, 1 responder queries
	steps      []he.Step
	pos        int // next key-share exchange: direction pos/len(steps), step pos%len(steps)
	mine       *keys.Contribution
	peerCommit [32]byte
	stage      int // 1 after Hello, 2 after CommitSeed, 3 after RevealSeed (secret derived)
	secret     *keys.AgreementSecret
	transcript hash.Hash
	expires    time.Time
	bytesOut   int64
	bytesIn    int64
}

const (
	stageHello = iota + 1
	stageCommitted
	stageRevealed
)

// newCeremonyState starts a ceremony's state from the two CRS contributions.
func newCeremonyState(p *partner, initiator bool, id []byte, epoch uint64, crsI, crsR []byte, rnd io.Reader, now time.Time) (*ceremonyState, error) {
	c := &ceremonyState{id: id, p: p, initiator: initiator, epoch: epoch, ps: p.ps, maxDims: p.maxDims,
		transcript: sha512.New(), expires: now.Add(ceremonyTTL), stage: stageHello}
	for d := range 2 {
		crs, err := crsSeed(crsI, crsR, id, pb.KeySetDirection(d+1))
		if err != nil {
			return nil, err
		}
		c.crs[d] = crs
		if c.hec[d], err = he.NewCeremony(p.ps, c.role(d), p.maxDims, crs, rnd); err != nil {
			c.destroy()
			return nil, err
		}
	}
	c.steps = c.hec[0].Steps()
	return c, nil
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

// record adds one round to the transcript.
func (c *ceremonyState) record(req, resp proto.Message) {
	c.transcript.Write(canonical(req))
	c.transcript.Write(canonical(resp))
}

// digest returns the transcript digest so far.
func (c *ceremonyState) digest() []byte { return c.transcript.Sum(nil) }

// nextStep returns the direction and step of the next key-share exchange.
func (c *ceremonyState) nextStep() (int, he.Step, bool) {
	if c.pos >= 2*len(c.steps) {
		return 0, he.Step{}, false
	}
	return c.pos / len(c.steps), c.steps[c.pos%len(c.steps)], true
}

// done reports whether every round but Confirm has run.
func (c *ceremonyState) done() bool {
	return c.stage == stageRevealed && c.pos == 2*len(c.steps) && c.hec[0].Done() && c.hec[1].Done()
}

// destroy wipes the ceremony's secrets. An HE ceremony has no abort of its own; asking it for a
// step it does not have fails it for good, and failing wipes its secret share.
func (c *ceremonyState) destroy() {
	for _, h := range c.hec {
		if h == nil {
			continue
		}
		if h.Done() {
			if s, err := h.SecretShare(); err == nil {
				s.Destroy()
			}
			continue
		}
		_, _ = h.Share(he.Step{})
	}
	c.hec = [2]*he.Ceremony{}
	if c.mine != nil {
		c.mine.Zero()
	}
	if c.secret != nil {
		c.secret.Zero()
	}
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
func helloPayload(p *partner, epoch uint64, crs []byte) (*pb.HelloPayload, error) {
	scheme, err := protectScheme(p.cfg.Transform)
	if err != nil {
		return nil, err
	}
	return &pb.HelloPayload{Epoch: epoch, ParamSet: p.ps.Name(), ParamSetDigest: paramDigest(p.ps), Protect: scheme,
		GaloisElements: p.ps.GaloisElements(p.maxDims), CrsContribution: crs}, nil
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
	case len(got.CrsContribution) != crsContribLen:
		return fmt.Errorf("crs_contribution is %d bytes, want %d", len(got.CrsContribution), crsContribLen)
	}
	for i := range got.GaloisElements {
		if got.GaloisElements[i] != want.GaloisElements[i] {
			return errors.New("list of Galois elements differs")
		}
	}
	return nil
}

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
	return last + 1, nil
}
