package he

import (
	"crypto/subtle"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
)

// setupProtocols creates Lattigo's protocol objects and samples every
// common reference polynomial from the key-set ID (round 3 entry).
func (c *Ceremony) setupProtocols() {
	ps := c.ps
	c.ckg = multiparty.NewPublicKeyGenProtocol(ps.params)
	c.ckgCRP = c.ckg.SampleCRP(c.crs("ckg", 0))
	c.rkg = multiparty.NewRelinearizationKeyGenProtocol(ps.params)
	c.rkgCRP = c.rkg.SampleCRP(c.crs("rkg", 0), ps.evkParams(ps.scoreOutLevel()))
	c.gkg = multiparty.NewGaloisKeyGenProtocol(ps.params)
	c.gkgCRP = map[uint64]multiparty.GaloisKeyGenCRP{}
	c.gal = map[uint64]*[2]*multiparty.GaloisKeyGenShare{}
	for _, g := range ps.galoisElements(c.maxDims) {
		c.gkgCRP[g] = c.gkg.SampleCRP(c.crs("gkg", g), ps.evkParams(ps.galoisLevel(c.maxDims, g)))
		c.gal[g] = new([2]*multiparty.GaloisKeyGenShare)
	}
}

// round3 makes this party's public-key share, first relinearization share
// and (all of them; the querier sends, the responder keeps) rotation-key
// shares.
func (c *Ceremony) round3() ([][]byte, error) {
	ps := c.ps
	pk := c.ckg.AllocateShare()
	c.ckg.GenShare(c.sk, c.ckgCRP, &pk)
	c.pk[0] = &pk

	eph, r1, r2 := c.rkg.AllocateShare(ps.evkParams(ps.scoreOutLevel()))
	c.rkg.GenShareRoundOne(c.sk, c.rkgCRP, eph, &r1)
	c.eph, c.r1[0], c.r2[0] = eph, &r1, &r2

	out := [][]byte{c.encodePK(pk), c.encodeRelin(msgRelinRound1, &r1)}
	for _, g := range ps.galoisElements(c.maxDims) {
		share := c.gkg.AllocateShare(ps.evkParams(ps.galoisLevel(c.maxDims, g)))
		if err := c.gkg.GenShare(c.sk, g, c.gkgCRP[g], &share); err != nil {
			return nil, fmt.Errorf("he: ceremony: rotation-key share: %w", err)
		}
		if c.role == RoleQuerier {
			out = append(out, c.encodeGalois(&share))
		} else {
			c.gal[g][0] = &share
		}
	}
	return out, nil
}

// round4 makes the second relinearization share from the aggregated first
// round; the querier sends it, the responder keeps it. The ephemeral
// secret is wiped right after.
func (c *Ceremony) round4() ([][]byte, error) {
	c.rkg.GenShareRoundTwo(c.eph, c.sk, *c.r1[0], c.r2[0])
	zeroPoly(c.eph.Value.Q)
	zeroPoly(c.eph.Value.P)
	c.eph = nil
	if c.role == RoleQuerier {
		return [][]byte{c.encodeRelin(msgRelinRound2, c.r2[0])}, nil
	}
	return nil, nil
}

// absorb stores a validated peer message.
func (c *Ceremony) absorb(m *ceremonyMsg) error {
	switch m.key.typ {
	case msgCommit:
		c.peerCommit = m.small
	case msgReveal:
		peer := RoleQuerier
		if c.role == RoleQuerier {
			peer = RoleResponder
		}
		want := c.commitment(peer, m.small)
		if subtle.ConstantTimeCompare(want[:], c.peerCommit[:]) != 1 {
			return mismatch("ceremony message", "reveal", "does not open the peer's commitment")
		}
		c.peerRev = m.small
	case msgPublicKey:
		c.pk[1] = &m.pk
	case msgRelinRound1:
		c.r1[1] = &m.relin
	case msgRelinRound2:
		c.r2[1] = &m.relin
	case msgGalois:
		c.gal[m.key.galEl][1] = &m.gal
	}
	return nil
}

// endRound aggregates what the round produced.
func (c *Ceremony) endRound() {
	switch c.round {
	case 2:
		c.deriveKeySetID()
	case 3:
		c.ckg.AggregateShares(*c.pk[0], *c.pk[1], c.pk[0])
		c.pubKey = rlwe.NewPublicKey(c.ps.params)
		c.ckg.GenPublicKey(*c.pk[0], c.ckgCRP, c.pubKey)
		c.rkg.AggregateShares(*c.r1[0], *c.r1[1], c.r1[0])
		c.pk, c.r1[1] = [2]*multiparty.PublicKeyGenShare{}, nil
	case 4:
		if c.role == RoleResponder {
			if err := c.finishResponder(); err != nil {
				c.fail(err)
			}
		}
		c.r1, c.r2, c.gal, c.gkgCRP = [2]*multiparty.RelinearizationKeyGenShare{}, [2]*multiparty.RelinearizationKeyGenShare{}, nil, nil
	}
}

// finishResponder assembles the collective evaluation keys.
func (c *Ceremony) finishResponder() error {
	ps := c.ps
	c.rkg.AggregateShares(*c.r2[0], *c.r2[1], c.r2[0])
	rlk := rlwe.NewRelinearizationKey(ps.params, ps.evkParams(ps.scoreOutLevel()))
	c.rkg.GenRelinearizationKey(*c.r1[0], *c.r2[0], rlk)
	keys := &EvaluationKeys{ps: ps, id: c.id, maxDims: c.maxDims, pk: c.pubKey, rlk: rlk, gks: map[uint64]*rlwe.GaloisKey{}}
	for g, pair := range c.gal {
		if err := c.gkg.AggregateShares(*pair[0], *pair[1], pair[0]); err != nil {
			return fmt.Errorf("he: ceremony: rotation key %d: %w", g, err)
		}
		gk := rlwe.NewGaloisKey(ps.params, ps.evkParams(ps.galoisLevel(c.maxDims, g)))
		if err := c.gkg.GenGaloisKey(*pair[0], c.gkgCRP[g], gk); err != nil {
			return fmt.Errorf("he: ceremony: rotation key %d: %w", g, err)
		}
		keys.gks[g] = gk
	}
	c.keys = keys
	return nil
}
