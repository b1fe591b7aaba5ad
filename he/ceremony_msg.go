package he

import (
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
)

// Ceremony messages (kind ceremony):
//
//	header | step kind u8 | sender role u8 | max dims u32 | key-set ID [32] | Galois element u64 | share
//
// The share is a polynomial over QP (public key) or a gadget ciphertext
// (degree 1 for relinearization round 1, degree 0 otherwise) at the level
// the key geometry fixes. Its shape comes from the parameter set and the
// step, never from the bytes.

const ceremonyHeader = headerSize + 1 + 1 + 4 + 32 + 8

// ceremonyBytes is what one party sends in a ceremony: every step's share.
func (ps *ParamSet) ceremonyBytes(maxDims int) int {
	c := &Ceremony{ps: ps, maxDims: maxDims}
	n := 0
	for _, s := range c.Steps() {
		n += ceremonyHeader + c.shareSize(s)
	}
	return n
}

// shareSize is the encoded size of a share for step s.
func (c *Ceremony) shareSize(s Step) int {
	ps := c.ps
	switch s.Kind {
	case StepPublicKey:
		return ps.polySizeQ(ps.topLevel()) + polySize(ps.params.N(), ps.pAll())
	case StepRelinRound1:
		return ps.gadgetSize(ps.relinLevel(), 1)
	case StepRelinRound2:
		return ps.gadgetSize(ps.relinLevel(), 0)
	}
	return ps.gadgetSize(ps.galoisLevel(c.maxDims, s.GaloisElement), 0)
}

func (ps *ParamSet) gadgetSize(levelQ, degree int) int {
	return (degree + 1) * ps.evkSize(levelQ) / 2
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

// makeShare generates this party's share for step s.
func (c *Ceremony) makeShare(s Step, st *stepState) (any, error) {
	ps := c.ps
	switch s.Kind {
	case StepPublicKey:
		sh := c.ckg.AllocateShare()
		c.ckg.GenShare(c.sk, c.ckgCRP, &sh)
		return &sh, nil
	case StepRelinRound1:
		eph, r1, _ := c.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
		c.rkg.GenShareRoundOne(c.sk, c.rkgCRP, eph, &r1)
		c.eph = eph
		return &r1, nil
	case StepRelinRound2:
		_, _, r2 := c.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
		c.rkg.GenShareRoundTwo(c.eph, c.sk, *c.r1Agg, &r2)
		zeroPoly(c.eph.Value.Q)
		zeroPoly(c.eph.Value.P)
		c.eph = nil
		return &r2, nil
	}
	sh := c.gkg.AllocateShare(ps.evkParams(ps.galoisLevel(c.maxDims, s.GaloisElement)))
	if err := c.gkg.GenShare(c.sk, s.GaloisElement, st.crp, &sh); err != nil {
		return nil, fmt.Errorf("he: ceremony: %s: %w", s, err)
	}
	return &sh, nil
}

func (c *Ceremony) encodeShare(s Step, share any) []byte {
	return c.encodeShareFrom(s, share, c.role)
}

// encodeShareFrom encodes a share of step s as sent by role from: the inverse of decodeShareFrom.
func (c *Ceremony) encodeShareFrom(s Step, share any, from Role) []byte {
	ps := c.ps
	e := newEncoder(kindCeremony, ps, ceremonyHeader+c.shareSize(s))
	e.u8(uint8(s.Kind))
	e.u8(uint8(from))
	e.u32(uint32(c.maxDims))
	e.raw(c.id[:])
	e.u64(s.GaloisElement)
	switch sh := share.(type) {
	case *multiparty.PublicKeyGenShare:
		e.polyQP(sh.Value, ps.qAt(ps.topLevel()), ps.pAll())
	case *multiparty.RelinearizationKeyGenShare:
		e.gadget(&sh.GadgetCiphertext, ps.qAt(ps.relinLevel()), ps.pAll())
	case *multiparty.GaloisKeyGenShare:
		e.gadget(&sh.GadgetCiphertext, ps.qAt(sh.LevelQ()), ps.pAll())
	}
	return e.b
}

// decodeShare parses and validates the peer's share for step s.
func (c *Ceremony) decodeShare(s Step, b []byte) (any, error) {
	return c.decodeShareFrom(s, b, c.role.peer())
}

// decodeShareFrom parses and validates a share of step s sent by role from.
func (c *Ceremony) decodeShareFrom(s Step, b []byte, from Role) (any, error) {
	ps := c.ps
	d := newDecoder(b, kindCeremony, ps)
	kind := StepKind(d.u8("step"))
	role := Role(d.u8("sender role"))
	maxDims := d.u32("max dims")
	id := KeySetID(d.bytes32("key-set ID"))
	galEl := d.u64("Galois element")
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case kind != s.Kind || galEl != s.GaloisElement:
		return nil, mismatch(d.obj, "step", "got %s, want %s", Step{kind, galEl}, s)
	case role != from:
		return nil, mismatch(d.obj, "sender role", "got %v, want %v", role, from)
	case int(maxDims) != c.maxDims:
		return nil, mismatch(d.obj, "max dims", "got %d, want %d", maxDims, c.maxDims)
	case id != c.id:
		return nil, mismatch(d.obj, "key-set ID", "the peer builds another key set")
	case len(b) != ceremonyHeader+c.shareSize(s):
		return nil, malformed(d.obj, "length", "got %d bytes, want %d for a %s", len(b), ceremonyHeader+c.shareSize(s), s)
	}
	var out any
	switch s.Kind {
	case StepPublicKey:
		sh := c.ckg.AllocateShare()
		d.polyQP("public-key share", ps.qAt(ps.topLevel()), ps.pAll(), sh.Value)
		out = &sh
	case StepRelinRound1, StepRelinRound2:
		_, r1, r2 := c.rkg.AllocateShare(ps.evkParams(ps.relinLevel()))
		sh := &r1
		if s.Kind == StepRelinRound2 {
			sh = &r2
		}
		d.gadget("relinearization share", &sh.GadgetCiphertext, ps.qAt(ps.relinLevel()), ps.pAll())
		out = sh
	case StepGalois:
		lvl := ps.galoisLevel(c.maxDims, s.GaloisElement)
		sh := c.gkg.AllocateShare(ps.evkParams(lvl))
		sh.GaloisElement = s.GaloisElement
		d.gadget("rotation-key share", &sh.GadgetCiphertext, ps.qAt(lvl), ps.pAll())
		out = &sh
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return out, nil
}

// maybeAggregate finishes a step once our share is revealed and the peer's
// absorbed: it checks the aggregate (see checkAggregate) and makes the key.
func (c *Ceremony) maybeAggregate(s Step, st *stepState) error {
	if !st.revealed || st.peer == nil || st.done {
		return nil
	}
	ps := c.ps
	ownAny, err := c.decodeShareFrom(s, st.own, c.role)
	if err != nil {
		return fmt.Errorf("he: ceremony: our own %s does not decode: %w", s, err)
	}
	switch s.Kind {
	case StepPublicKey:
		own, peer := ownAny.(*multiparty.PublicKeyGenShare), st.peer.(*multiparty.PublicKeyGenShare)
		c.ckg.AggregateShares(*own, *peer, own)
		if err := c.checkAggregate(s, own); err != nil {
			return err
		}
		c.ckg.GenPublicKey(*own, c.ckgCRP, c.keys.pk)
	case StepRelinRound1:
		own, peer := ownAny.(*multiparty.RelinearizationKeyGenShare), st.peer.(*multiparty.RelinearizationKeyGenShare)
		c.rkg.AggregateShares(*own, *peer, own)
		if err := c.checkAggregate(s, own); err != nil {
			return err
		}
		c.r1Agg = own
	case StepRelinRound2:
		own, peer := ownAny.(*multiparty.RelinearizationKeyGenShare), st.peer.(*multiparty.RelinearizationKeyGenShare)
		c.rkg.AggregateShares(*own, *peer, own)
		if err := c.checkAggregate(s, own); err != nil {
			return err
		}
		c.keys.rlk = rlwe.NewRelinearizationKey(ps.params, ps.evkParams(ps.relinLevel()))
		c.rkg.GenRelinearizationKey(*c.r1Agg, *own, c.keys.rlk)
		c.r1Agg = nil
	case StepGalois:
		own, peer := ownAny.(*multiparty.GaloisKeyGenShare), st.peer.(*multiparty.GaloisKeyGenShare)
		if err := c.gkg.AggregateShares(*own, *peer, own); err != nil {
			return fmt.Errorf("he: ceremony: %s: %w", s, err)
		}
		if err := c.checkAggregate(s, own); err != nil {
			return err
		}
		gk := rlwe.NewGaloisKey(ps.params, ps.evkParams(ps.galoisLevel(c.maxDims, s.GaloisElement)))
		if err := c.gkg.GenGaloisKey(*own, st.crp, gk); err != nil {
			return fmt.Errorf("he: ceremony: %s: %w", s, err)
		}
		c.keys.gks[s.GaloisElement] = gk
		st.crp = multiparty.GaloisKeyGenCRP{}
	}
	st.own, st.peer, st.done = nil, nil, true
	return nil
}
