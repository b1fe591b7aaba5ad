package home

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

// KeyTrail is what a node's audit log holds of key actions (a keys.Trail), gathered from its
// records as the log is opened (audit.Options.Scan). It is how a node, when it opens its home,
// finds the key actions a crash left without a record (keys.Reconcile).
type KeyTrail struct {
	held map[string]bool
	// pruned is the time of the log's checkpoint: a record dated up to it may have been pruned.
	pruned time.Time
}

var _ keys.Trail = (*KeyTrail)(nil)

// NewKeyTrail returns an empty trail, to be filled by [KeyTrail.Scan].
func NewKeyTrail() *KeyTrail { return &KeyTrail{held: map[string]bool{}} }

// trailKey names a key action as its record does; a key's creation and its rotation in are one.
func trailKey(action, key, keyID string, epoch uint64) string {
	if action == string(keys.ActSigningKeyCreated) {
		action = string(keys.ActSigningKeyRotated)
	}
	return action + " " + key + " " + keyID + " " + strconv.FormatUint(epoch, 10)
}

// Scan takes one record of the log (audit.Options.Scan).
func (t *KeyTrail) Scan(rec *audit.Record, _ string) error {
	switch rec.Kind {
	case audit.KindCheckpoint:
		at, err := rec.ParsedTime()
		if err != nil {
			return err
		}
		t.pruned = at
	case audit.KindKey:
		t.held[trailKey(rec.Action, rec.Key, rec.KeyID, rec.Epoch)] = true
	}
	return nil
}

// Holds implements keys.Trail: the log holds a record of ev's action on ev's key and epoch, or
// ev took effect no later than the log's checkpoint, so that a prune may have dropped its record
// (a record is written after its action, and a checkpoint is dated no earlier than the records
// it stands for).
func (t *KeyTrail) Holds(ev keys.Event) bool {
	return t.held[trailKey(string(ev.Action), ev.Key, ev.KeyID, ev.Epoch)] || !ev.Time.After(t.pruned)
}

// KeyRecord is the audit event of a key action.
func KeyRecord(ev keys.Event) audit.Event {
	return audit.Event{Action: string(ev.Action), Key: ev.Key, KeyID: ev.KeyID, Epoch: ev.Epoch, Recovered: ev.Recovered}
}

// RecoverKeyRecords records in the node's audit log, marked recovered, each key action that its
// key store shows and its log does not hold (keys.Reconcile): an action a crash interrupted
// between its change to the store and its record. The offline key commands run it first, under
// the home's lock; the node runs its own when it opens (protocol.Open). A node with no valid
// signing key cannot sign a record: then it records nothing, and the command that makes a key
// runs it again. It returns the actions it recorded.
func (h *NodeHome) RecoverKeyRecords(ctx context.Context) ([]keys.Event, error) {
	sk := &keys.SigningKeys{Store: h.Store, Node: h.Name}
	k, err := sk.Current(ctx)
	if errors.Is(err, keys.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	ring, _, err := sk.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	trail := NewKeyTrail()
	w, err := audit.Open(h.AuditLog(), audit.Options{Node: h.Name, Signer: k, Verifier: ring, Scan: trail.Scan})
	if err != nil {
		return nil, err
	}
	done, err := keys.Reconcile(ctx, h.Store, h.Name, trail, func(ctx context.Context, ev keys.Event) error {
		_, err := w.Append(ctx, audit.KindKey, KeyRecord(ev))
		return err
	})
	return done, errors.Join(err, w.Close())
}
