package protocol

import (
	"context"
	"fmt"
	"time"

	"github.com/puente-id/puente/keys"
)

// The key commands of a running node. While `puente serve` runs, it is the one process that
// writes the node's key store and audit log, so `puente keys ...` reaches it through the operator
// socket: the node makes the change, then records it in its audit log (signed with the key that
// is current once the change is made), and applies it at once (a revoked epoch answers nothing
// from then on, a new signing key signs the next message). An action a crash left without its
// record is recorded, marked recovered, when the node next opens its home (keys.Reconcile). With
// no node running the commands work on the files directly (cmd/puente), under the same home lock.

// KeyRequest is one key command for a running node.
type KeyRequest struct {
	// Action is one of KeyActions.
	Action string `json:"action"`
	// Overlap is how long the replaced signing key stays valid (rotate).
	Overlap time.Duration `json:"overlap,omitempty"`
	// KeyID is the signing key to revoke (revoke-signing), in hex.
	KeyID string `json:"key_id,omitempty"`
	// Agreement and Epoch name the epoch of the epoch actions.
	Agreement string `json:"agreement,omitempty"`
	Epoch     uint64 `json:"epoch,omitempty"`
}

// KeyActions are the actions of KeyRequest.
var KeyActions = []string{"rotate", "destroy-expired", "revoke-signing", "epoch-retire", "epoch-destroy", "epoch-revoke"}

// KeyReport says what a key command did.
type KeyReport struct {
	// KeyID is the new signing key (rotate, and revoke-signing of the current key, which
	// rotates first).
	KeyID string `json:"key_id,omitempty"`
	// Destroyed lists the signing keys whose seeds were destroyed.
	Destroyed []string `json:"destroyed,omitempty"`
}

// Keys carries out one key command on the running node.
func (n *Node) Keys(ctx context.Context, req KeyRequest) (*KeyReport, error) {
	if err := n.enter(); err != nil {
		return nil, err
	}
	defer n.inflight.Done()
	ctx = context.WithoutCancel(ctx) // a key change, once begun, is finished and recorded
	rep := &KeyReport{}
	sk := n.signingKeys()
	var err error
	switch req.Action {
	case "rotate":
		rep.KeyID, err = n.rotate(ctx, req.Overlap)
	case "destroy-expired":
		var ids []keys.KeyID
		ids, err = sk.DestroyExpired(ctx)
		for _, id := range ids {
			rep.Destroyed = append(rep.Destroyed, id.String())
		}
	case "revoke-signing":
		rep.KeyID, err = n.revokeSigning(ctx, req.KeyID)
	case "epoch-retire", "epoch-destroy", "epoch-revoke":
		err = n.epochAction(ctx, req)
	default:
		err = fmt.Errorf("protocol: unknown key action %q (want one of %v)", req.Action, KeyActions)
	}
	return rep, err
}

// signingKeys manages the node's signing keys, recording each action in the audit log.
func (n *Node) signingKeys() *keys.SigningKeys {
	return &keys.SigningKeys{Store: n.store, Node: n.name, Rand: n.rand, Now: n.now, Events: n.signingEvents}
}

// signingEvents records a signing-key action; a new key becomes the node's signer first, so
// that its record (and every later one) is signed by the key then current.
func (n *Node) signingEvents(ctx context.Context, ev keys.Event) error {
	if ev.Action == keys.ActSigningKeyRotated || ev.Action == keys.ActSigningKeyCreated {
		if err := n.useCurrentKey(ctx); err != nil {
			return err
		}
	}
	return n.keyEvents(ctx, ev)
}

// useCurrentKey makes the store's current signing key the node's signer, for its messages and
// its audit records, and reloads its keyring.
func (n *Node) useCurrentKey(ctx context.Context) error {
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Now: n.now}
	k, err := sk.Current(ctx)
	if err != nil {
		return err
	}
	if k.ID() == n.signer.ID() {
		k.Zero()
		return nil
	}
	if err := n.audit.SetSigner(ctx, k); err != nil {
		k.Zero()
		return err
	}
	n.signer.swap(k)
	ring, _, err := sk.Keyring(ctx)
	if err == nil {
		n.ring.Store(ring)
	}
	return err
}

// rotate makes a new signing key, current at once.
func (n *Node) rotate(ctx context.Context, overlap time.Duration) (string, error) {
	k, err := n.signingKeys().Rotate(ctx, overlap)
	if k == nil {
		return "", err
	}
	defer k.Zero()
	return k.ID().String(), err
}

// revokeSigning revokes a signing key now. Like every key action it takes effect in the store
// first and is recorded after (a crash between the two is recorded when the node next opens,
// keys.Reconcile), signed by a key that stays valid: if the key revoked is the node's current
// one, a new key (valid at once, the old one ending now) replaces it first.
func (n *Node) revokeSigning(ctx context.Context, hexID string) (string, error) {
	id, err := keys.ParseKeyID(hexID)
	if err != nil {
		return "", fmt.Errorf("protocol: revoke-signing: %w", err)
	}
	var newKey string
	if id == n.signer.ID() {
		if newKey, err = n.rotate(ctx, 0); err != nil {
			return newKey, err
		}
	}
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Now: n.now, Events: n.keyEvents}
	err = sk.Revoke(ctx, id)
	if ring, _, rerr := sk.Keyring(ctx); rerr == nil {
		n.ring.Store(ring)
	} else if err == nil {
		err = rerr
	}
	return newKey, err
}

// epochAction retires, destroys or revokes an epoch of an agreement. A revocation of the current
// epoch takes effect at once: the node neither answers nor sends a query under it from then on,
// and an answer being computed under it is not sent.
func (n *Node) epochAction(ctx context.Context, req KeyRequest) error {
	var p *partner
	for _, q := range n.partners {
		if q.cfg.Agreement == req.Agreement {
			p = q
		}
	}
	switch req.Action {
	case "epoch-retire":
		return n.agree.Retire(ctx, req.Agreement, req.Epoch)
	case "epoch-destroy":
		if err := n.agree.Destroy(ctx, req.Agreement, req.Epoch); err != nil || p == nil {
			return err
		}
		return n.destroyEpochKeys(ctx, p, req.Epoch)
	}
	if err := n.agree.Revoke(ctx, req.Agreement, req.Epoch); err != nil {
		return err
	}
	if p != nil {
		n.dropRevoked(p, req.Epoch)
	}
	return nil
}

// dropRevoked stops using a revoked epoch of p's agreement at once.
func (n *Node) dropRevoked(p *partner, epoch uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired[epoch] = true
	p.revoked = max(p.revoked, epoch)
	if p.cur != nil && p.cur.epoch == epoch {
		p.stale = append(p.stale, p.cur)
		p.cur = nil
		n.log.Warn("epoch revoked", "partner", p.name, "agreement", p.cfg.Agreement, "epoch", epoch)
	}
}
