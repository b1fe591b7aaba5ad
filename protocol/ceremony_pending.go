package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/puente-id/puente/keys"
)

// A prepared epoch is the durable state of a ceremony between Prepare and its resolution: the
// HE material stored under the epoch's names (storeEpochKeys) and this record, sealed in the key
// store under agreement/<agreement>/epoch/<n>/pending. The record holds what making the epoch
// current needs besides the HE material: the two transform-seed contributions, from which the
// agreement secret is derived again; and the ceremony it came from and this node's role in it.
//
// The agreement state (keys.Agreements) is the commit point: an epoch it names is current (or
// was); a prepared epoch it does not name is not. So after a crash a node resolves each record
// by role and state (recoverCeremonies):
//
//	role       epoch in state   meaning                            resolution
//	initiator  no               prepared, never decided            abort: discard it, tell the partner
//	initiator  yes              committed, partner not yet told    send Commit until acknowledged
//	responder  no               prepared, outcome unknown          ask the initiator (Outcome)
//	responder  yes              committed                          drop the record
//
// Encoding (sealed by the key store; the contributions are secret):
//
//	"PPE1" | role u8 (1 initiator, 2 responder) | u8-len partner | partner | u8-len ceremony ID |
//	ceremony ID | epoch u64 | u16-len mine | mine | u16-len theirs | theirs
//
// where mine and theirs are keys.Contribution.Marshal encodings.
type pendingEpoch struct {
	initiator bool
	partner   string
	id        []byte
	epoch     uint64
	mine      *keys.Contribution
	theirs    *keys.Contribution
}

const pendingMagic = "PPE1"

// pendingName is the key-store name of an agreement's prepared epoch.
func pendingName(agreement string, epoch uint64) string {
	return strings.TrimSuffix(keys.SeedName(agreement, epoch), "/seed") + "/pending"
}

// marshal encodes the record; the caller zeroes the result.
func (pe *pendingEpoch) marshal() []byte {
	role := byte(2)
	if pe.initiator {
		role = 1
	}
	b := append([]byte(pendingMagic), role)
	b = appendLP(b, pe.partner)
	b = append(append(b, byte(len(pe.id))), pe.id...)
	b = binary.BigEndian.AppendUint64(b, pe.epoch)
	for _, c := range []*keys.Contribution{pe.mine, pe.theirs} {
		m := c.Marshal()
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
		clear(m)
	}
	return b
}

// parsePending decodes a record, naming the first bad field.
func parsePending(b []byte) (*pendingEpoch, error) {
	r := &pendingReader{b: b}
	if string(r.next("magic", len(pendingMagic))) != pendingMagic {
		return nil, errors.New("protocol: pending epoch: not a pending-epoch record (bad magic)")
	}
	pe := &pendingEpoch{}
	switch role := r.u8("role"); role {
	case 1, 2:
		pe.initiator = role == 1
	default:
		if r.err == nil {
			r.err = fmt.Errorf("role %d is neither 1 nor 2", role)
		}
	}
	pe.partner = string(r.next("partner", int(r.u8("partner length"))))
	pe.id = append([]byte(nil), r.next("ceremony ID", int(r.u8("ceremony ID length")))...)
	if r.err == nil && (pe.partner == "" || len(pe.id) != ceremonyIDLen) {
		r.err = fmt.Errorf("partner %q or ceremony ID of %d bytes", pe.partner, len(pe.id))
	}
	pe.epoch = r.u64("epoch")
	var cs [2]*keys.Contribution
	for i, field := range []string{"own contribution", "partner's contribution"} {
		raw := r.next(field, int(r.u16(field+" length")))
		if r.err != nil {
			break
		}
		c, err := keys.UnmarshalContribution(raw)
		if err != nil {
			r.err = fmt.Errorf("%s: %w", field, err)
			break
		}
		cs[i] = c
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err == nil && (cs[0].Epoch != pe.epoch || cs[1].Epoch != pe.epoch || cs[1].Party != pe.partner) {
		r.err = errors.New("contributions do not match the record's epoch and partner")
	}
	if r.err != nil {
		for _, c := range cs {
			if c != nil {
				c.Zero()
			}
		}
		return nil, fmt.Errorf("protocol: pending epoch: %w", r.err)
	}
	pe.mine, pe.theirs = cs[0], cs[1]
	return pe, nil
}

// zero wipes the record's contributions.
func (pe *pendingEpoch) zero() {
	for _, c := range []*keys.Contribution{pe.mine, pe.theirs} {
		if c != nil {
			c.Zero()
		}
	}
}

type pendingReader struct {
	b   []byte
	err error
}

func (r *pendingReader) next(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("%s: truncated (need %d bytes, have %d)", field, n, len(r.b))
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *pendingReader) u8(field string) uint8 {
	if p := r.next(field, 1); p != nil {
		return p[0]
	}
	return 0
}

func (r *pendingReader) u16(field string) uint16 {
	if p := r.next(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *pendingReader) u64(field string) uint64 {
	if p := r.next(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// putPending stores a prepared epoch's record (create-only: a record is never overwritten).
func (n *Node) putPending(ctx context.Context, agreement string, pe *pendingEpoch) error {
	b := pe.marshal()
	defer clear(b)
	_, err := n.store.Put(ctx, pendingName(agreement, pe.epoch), b, keys.PutOptions{Algorithm: keys.AlgHKDFSHA256})
	return err
}

// pendingOf returns the agreement's prepared epochs (normally none or one).
func (n *Node) pendingOf(ctx context.Context, agreement string) ([]*pendingEpoch, error) {
	names, err := n.store.List(ctx, "agreement/"+agreement)
	if err != nil && !errors.Is(err, keys.ErrNotFound) {
		return nil, err
	}
	var out []*pendingEpoch
	for _, name := range names {
		if !strings.HasSuffix(name, "/pending") {
			continue
		}
		e, err := n.store.Get(ctx, name, 0)
		if err != nil {
			return nil, err
		}
		pe, err := parsePending(e.Data.Bytes())
		e.Zero()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if pendingName(agreement, pe.epoch) != name {
			pe.zero()
			return nil, fmt.Errorf("protocol: %s holds the record of epoch %d", name, pe.epoch)
		}
		out = append(out, pe)
	}
	return out, nil
}

// destroyPending removes a prepared epoch's record.
func (n *Node) destroyPending(ctx context.Context, agreement string, epoch uint64) error {
	err := n.store.Destroy(ctx, pendingName(agreement, epoch))
	if errors.Is(err, keys.ErrNotFound) {
		return nil
	}
	return err
}
