package he

import (
	"crypto/subtle"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
)

// Ceremony messages (kind ceremony):
//
//	header | type u8 | sender role u8 | max dims u32 | context hash [32] | key-set ID [32] | body
//
// The key-set ID is zero in rounds 1 and 2. Bodies: commit and reveal hold
// 32 bytes; the public-key share one polynomial over QP; relinearization
// shares a gadget ciphertext (degree 1 in round 1, degree 0 in round 2); a
// rotation-key share its Galois element (u64) and a degree-0 gadget
// ciphertext at the level given by the key geometry.

type msgType uint8

const (
	msgCommit      msgType = 1
	msgReveal      msgType = 2
	msgPublicKey   msgType = 3
	msgRelinRound1 msgType = 4
	msgGalois      msgType = 5
	msgRelinRound2 msgType = 6
)

var msgNames = map[msgType]string{
	msgCommit: "commitment", msgReveal: "reveal", msgPublicKey: "public-key share",
	msgRelinRound1: "relinearization share (round 1)", msgGalois: "rotation-key share",
	msgRelinRound2: "relinearization share (round 2)",
}

type msgKey struct {
	typ   msgType
	galEl uint64
}

func (k msgKey) String() string {
	if k.typ == msgGalois {
		return fmt.Sprintf("%s for Galois element %d", msgNames[k.typ], k.galEl)
	}
	if n, ok := msgNames[k.typ]; ok {
		return n
	}
	return fmt.Sprintf("message type %d", uint8(k.typ))
}

type ceremonyMsg struct {
	key   msgKey
	small [32]byte
	pk    multiparty.PublicKeyGenShare
	relin multiparty.RelinearizationKeyGenShare
	gal   multiparty.GaloisKeyGenShare
}

const ceremonyHeader = headerSize + 1 + 1 + 4 + 32 + 32

func (c *Ceremony) encodeHeader(t msgType, size int) *encoder {
	e := newEncoder(kindCeremony, c.ps, ceremonyHeader+size)
	e.u8(uint8(t))
	e.u8(uint8(c.role))
	e.u32(uint32(c.maxDims))
	e.raw(c.ctxHash[:])
	e.raw(c.id[:])
	return e
}

func (c *Ceremony) encodeSmall(t msgType, p []byte) []byte {
	e := c.encodeHeader(t, 32)
	e.raw(p)
	return e.b
}

func (e *encoder) gadget(g *rlwe.GadgetCiphertext, qs, ps []uint64) {
	for i := range g.Value {
		for j := range g.Value[i] {
			for k := range g.Value[i][j] {
				e.polyQP(g.Value[i][j][k], qs, ps)
			}
		}
	}
}

func (d *decoder) gadget(field string, g *rlwe.GadgetCiphertext, qs, ps []uint64) {
	for i := range g.Value {
		for j := range g.Value[i] {
			for k := range g.Value[i][j] {
				d.polyQP(field, qs, ps, g.Value[i][j][k])
			}
		}
	}
}

func (ps *ParamSet) gadgetSize(levelQ, degree int) int {
	return (degree + 1) * ps.evkSize(levelQ) / 2
}

func (c *Ceremony) encodePK(s multiparty.PublicKeyGenShare) []byte {
	ps := c.ps
	e := c.encodeHeader(msgPublicKey, ps.polySizeQ(ps.topLevel())+polySize(ps.params.N(), ps.pAll()))
	e.polyQP(s.Value, ps.qAt(ps.topLevel()), ps.pAll())
	return e.b
}

func (c *Ceremony) encodeRelin(t msgType, s *multiparty.RelinearizationKeyGenShare) []byte {
	ps := c.ps
	e := c.encodeHeader(t, ps.gadgetSize(ps.scoreOutLevel(), s.Degree()))
	e.gadget(&s.GadgetCiphertext, ps.qAt(ps.scoreOutLevel()), ps.pAll())
	return e.b
}

func (c *Ceremony) encodeGalois(s *multiparty.GaloisKeyGenShare) []byte {
	ps := c.ps
	lvl := ps.galoisLevel(c.maxDims, s.GaloisElement)
	e := c.encodeHeader(msgGalois, 8+ps.gadgetSize(lvl, 0))
	e.u64(s.GaloisElement)
	e.gadget(&s.GadgetCiphertext, ps.qAt(lvl), ps.pAll())
	return e.b
}

// decode parses and validates a peer message. Shapes come from the
// parameter set and the message type, never from the bytes.
func (c *Ceremony) decode(b []byte) (*ceremonyMsg, error) {
	ps := c.ps
	d := newDecoder(b, kindCeremony, ps)
	m := &ceremonyMsg{key: msgKey{typ: msgType(d.u8("type"))}}
	role := Role(d.u8("sender role"))
	maxDims := d.u32("max dims")
	ctx := d.bytes32("context hash")
	id := d.bytes32("key-set ID")
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case role == c.role || !role.valid():
		return nil, mismatch(d.obj, "sender role", "got %v, want the peer of a %v", role, c.role)
	case int(maxDims) != c.maxDims:
		return nil, mismatch(d.obj, "max dims", "got %d, want %d", maxDims, c.maxDims)
	case subtle.ConstantTimeCompare(ctx[:], c.ctxHash[:]) != 1:
		return nil, mismatch(d.obj, "context", "the peer runs the ceremony for another context")
	case id != c.id: // zero in rounds 1 and 2 on both sides
		return nil, mismatch(d.obj, "key-set ID", "the peer derived another key set")
	}
	if m.key.typ == msgGalois {
		m.key.galEl = d.u64("Galois element")
	}
	if d.err != nil {
		return nil, d.err
	}
	// Nothing is allocated for a message this round does not expect.
	if !c.expect[m.key] {
		if _, known := msgNames[m.key.typ]; !known {
			return nil, malformed(d.obj, "type", "unknown message type %d", uint8(m.key.typ))
		}
		return nil, fmt.Errorf("%w: unexpected %s in round %d", ErrState, m.key, c.round)
	}
	qs, pq := ps.qAt(ps.scoreOutLevel()), ps.pAll()
	switch m.key.typ {
	case msgCommit, msgReveal:
		m.small = d.bytes32("body")
	case msgPublicKey:
		m.pk = c.ckg.AllocateShare()
		d.polyQP("public-key share", ps.qAt(ps.topLevel()), pq, m.pk.Value)
	case msgRelinRound1, msgRelinRound2:
		_, r1, r2 := c.rkg.AllocateShare(ps.evkParams(ps.scoreOutLevel()))
		m.relin = r1
		if m.key.typ == msgRelinRound2 {
			m.relin = r2
		}
		d.gadget("relinearization share", &m.relin.GadgetCiphertext, qs, pq)
	case msgGalois:
		lvl := ps.galoisLevel(c.maxDims, m.key.galEl)
		m.gal = c.gkg.AllocateShare(ps.evkParams(lvl))
		m.gal.GaloisElement = m.key.galEl
		d.gadget("rotation-key share", &m.gal.GadgetCiphertext, ps.qAt(lvl), pq)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return m, nil
}
