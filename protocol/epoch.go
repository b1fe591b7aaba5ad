package protocol

import (
	"context"
	"errors"
	"fmt"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/keys"
)

// The switch to a ceremony's new epoch is a two-phase commit coordinated by the initiator
// (docs/protocol.md, "Switching epochs"): each node first prepares the epoch (prepareEpoch:
// durably, without making it current), then the initiator commits (commitEpoch: the agreement
// state names the epoch; this is the decision), then it tells the responder, which commits too.
// A node that stops at any point resolves its prepared epoch when it next opens
// (recoverCeremonies), so the two nodes never stay on different current epochs.

// prepareEpoch stores a finished ceremony's HE material (both secret shares, the evaluation keys
// of the key set in which the partner queries) and its pending record. The current epoch is
// unchanged. The ceremony keeps no secret share afterwards.
func (n *Node) prepareEpoch(ctx context.Context, c *ceremonyState) error {
	p := c.p
	qd, rd := 0, 1
	if !c.initiator {
		qd, rd = 1, 0
	}
	evk, err := c.hec[rd].EvaluationKeys()
	if err != nil {
		return err
	}
	qshare, err := c.hec[qd].SecretShare()
	if err != nil {
		return err
	}
	rshare, err := c.hec[rd].SecretShare()
	if err != nil {
		qshare.Destroy()
		return err
	}
	err = n.storeEpochKeys(ctx, p, c.epoch, qshare, rshare, evk)
	if err == nil {
		pe := &pendingEpoch{initiator: c.initiator, partner: p.name, id: c.id, epoch: c.epoch, mine: c.mine, theirs: c.theirs}
		err = n.putPending(ctx, p.cfg.Agreement, pe)
	}
	var k *epochKeys
	if err == nil {
		k, err = newEpochKeys(p, c, qshare, rshare, evk)
	}
	if err != nil {
		qshare.Destroy()
		rshare.Destroy()
		return err
	}
	n.holdPrepared(p, k)
	n.auditCeremony(ctx, p, "ceremony-prepared", c.epoch)
	return nil
}

// newEpochKeys builds an epoch's keys from a finished ceremony's shares and keys, so that
// committing it right after the ceremony needs no reload from the store.
func newEpochKeys(p *partner, c *ceremonyState, qshare, rshare *he.SecretShare, evk *he.EvaluationKeys) (*epochKeys, error) {
	k := &epochKeys{epoch: c.epoch, ps: p.ps, scheme: schemeLabel(p.cfg.Transform), qshare: qshare, rshare: rshare}
	var err error
	if k.transform, err = deriveTransform(c.secret, p.cfg.Agreement, p.cfg.Transform); err != nil {
		return nil, err
	}
	if k.querier, err = he.NewQuerier(qshare); err != nil {
		return nil, err
	}
	if k.responder, err = he.NewResponder(evk, rshare); err != nil {
		return nil, err
	}
	k.evk = evk
	return k, nil
}

// holdPrepared keeps a prepared epoch's keys in memory until it is committed or discarded
// (takePrepared); keys held for the partner before are destroyed.
func (n *Node) holdPrepared(p *partner, k *epochKeys) {
	n.cer.mu.Lock()
	old := n.cer.prepared[p.name]
	n.cer.prepared[p.name] = k
	n.cer.mu.Unlock()
	if old != nil {
		old.destroy()
	}
}

// takePrepared returns the keys held for the partner's prepared epoch, or nil; they are no
// longer held.
func (n *Node) takePrepared(p *partner, epoch uint64) *epochKeys {
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	k := n.cer.prepared[p.name]
	if k == nil || k.epoch != epoch {
		return nil
	}
	delete(n.cer.prepared, p.name)
	return k
}

// epochBegun reports whether the agreement state names epoch (in any state): whether a
// prepared epoch was committed.
func (n *Node) epochBegun(ctx context.Context, p *partner, epoch uint64) (bool, error) {
	st, _, err := n.agree.State(ctx, p.cfg.Agreement)
	if errors.Is(err, keys.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range st.Epochs {
		if e.Epoch == epoch {
			return true, nil
		}
	}
	return false, nil
}

// commitEpoch makes a prepared epoch current on this node: the agreement state begins it (the
// commit point, which supersedes the previous epoch), its keys are loaded and swapped in. It is
// idempotent: an epoch the state already names is only loaded if it is not current yet. The
// pending record is destroyed unless keep is set (the initiator keeps it until the responder
// acknowledges). The caller retires the superseded epoch (retireEpochs).
func (n *Node) commitEpoch(ctx context.Context, p *partner, pe *pendingEpoch, keep bool) error {
	n.cer.pendingMu.Lock()
	defer n.cer.pendingMu.Unlock()
	begun, err := n.epochBegun(ctx, p, pe.epoch)
	if err != nil {
		return err
	}
	if !begun {
		secret, err := keys.DeriveAgreementSecret(pe.mine, pe.theirs)
		if err != nil {
			return err
		}
		err = n.agree.Begin(ctx, p.name, secret)
		secret.Zero()
		if err != nil {
			return err
		}
	}
	if cur, err := p.current(); err != nil || cur.epoch < pe.epoch {
		k := n.takePrepared(p, pe.epoch)
		if k == nil {
			if k, err = n.loadEpoch(ctx, p, pe.epoch); err != nil {
				return err
			}
		}
		p.mu.Lock()
		old := p.cur
		p.cur = k
		if old != nil {
			p.retired[old.epoch] = true
			p.stale = append(p.stale, old)
		}
		p.mu.Unlock()
		n.log.Info("epoch active", "partner", p.name, "agreement", p.cfg.Agreement, "epoch", pe.epoch)
		n.auditCeremony(ctx, p, "ceremony-committed", pe.epoch)
	}
	if !keep {
		return n.destroyPending(ctx, p.cfg.Agreement, pe.epoch)
	}
	return nil
}

// retireInBackground retires the partner's superseded epochs without holding up the caller.
// A panic there is logged (goBackground); the next Open finishes the work, which is idempotent.
func (n *Node) retireInBackground(ctx context.Context, p *partner) {
	n.goBackground("retiring the previous epoch", func() {
		if err := n.retireEpochs(context.WithoutCancel(ctx), p); err != nil {
			n.log.Error("retiring the previous epoch", "partner", p.name, "err", err)
		}
	})
}

// abortPrepared discards a prepared epoch that was never made current: its HE material, an
// agreement secret a Begin interrupted by a crash may have stored for it, and its record.
func (n *Node) abortPrepared(ctx context.Context, p *partner, pe *pendingEpoch, action string) error {
	n.cer.pendingMu.Lock()
	defer n.cer.pendingMu.Unlock()
	begun, err := n.epochBegun(ctx, p, pe.epoch)
	if err != nil {
		return err
	}
	if begun {
		return fmt.Errorf("protocol: epoch %d of agreement %s was made current; it cannot be aborted", pe.epoch, p.cfg.Agreement)
	}
	if k := n.takePrepared(p, pe.epoch); k != nil {
		k.destroy()
	}
	if err := n.destroyEpochKeys(ctx, p, pe.epoch); err != nil {
		return err
	}
	if err := n.store.Destroy(ctx, keys.SeedName(p.cfg.Agreement, pe.epoch)); err != nil && !errors.Is(err, keys.ErrNotFound) {
		return err
	}
	if err := n.destroyPending(ctx, p.cfg.Agreement, pe.epoch); err != nil {
		return err
	}
	n.auditCeremony(ctx, p, action, pe.epoch)
	return nil
}

// retireEpochs finishes every superseded epoch of the partner's agreement: re-protects the
// gallery under the current epoch if it is still under an older one, then retires and destroys
// each older epoch's seed and HE material. It is idempotent, so a node that crashed half-way
// finishes the work when it next opens.
func (n *Node) retireEpochs(ctx context.Context, p *partner) error {
	p.retireMu.Lock()
	defer p.retireMu.Unlock()
	cur, err := p.current()
	if err != nil {
		return nil // no current epoch (revoked, ceremony pending): nothing to re-protect to
	}
	if g := p.gallery(); g != nil && g.store.Params().Epoch < cur.epoch {
		if err := cur.use(); err != nil {
			return err
		}
		err := g.store.Reprotect(ctx, protector{cur})
		cur.release()
		if err != nil {
			return fmt.Errorf("protocol: re-protecting the gallery of %s under epoch %d: %w", p.name, cur.epoch, err)
		}
		n.log.Info("gallery re-protected", "partner", p.name, "epoch", cur.epoch)
		n.testHook(ctx, "re-protected", nil)
	}
	st, _, err := n.agree.State(ctx, p.cfg.Agreement)
	if err != nil {
		return err
	}
	for _, e := range st.Epochs {
		if e.Epoch >= cur.epoch {
			continue
		}
		if e.State == keys.EpochSuperseded {
			if err := n.agree.Retire(ctx, p.cfg.Agreement, e.Epoch); err != nil {
				return err
			}
			e.State = keys.EpochRetired
		}
		if e.State == keys.EpochRetired {
			if err := n.agree.Destroy(ctx, p.cfg.Agreement, e.Epoch); err != nil {
				return err
			}
		}
		if err := n.destroyEpochKeys(ctx, p, e.Epoch); err != nil {
			return err
		}
		p.mu.Lock()
		p.retired[e.Epoch] = true
		p.mu.Unlock()
	}
	p.mu.Lock()
	stale := p.stale
	p.stale = nil
	p.mu.Unlock()
	for _, k := range stale {
		k.destroy()
	}
	return nil
}

// Revoke revokes the agreement's current epoch at once (this node refuses it from now on, for
// queries either way), then runs a new ceremony with the partner: a new epoch with new
// contributions, a new transform seed and new HE keys. Both nodes re-protect their galleries
// under it and destroy the revoked epoch's material, so templates protected under the old epoch
// no longer match anything.
func (n *Node) Revoke(ctx context.Context, partnerName string) (*CeremonyReport, error) {
	p, err := n.partnerByName(partnerName)
	if err != nil {
		return nil, err
	}
	k, err := p.current()
	if err != nil { // revoked already (an earlier revocation's ceremony failed): start the new epoch
		return n.Ceremony(ctx, partnerName, 0)
	}
	if err := n.agree.Revoke(ctx, p.cfg.Agreement, k.epoch); err != nil && !errors.Is(err, keys.ErrState) {
		return nil, err
	}
	p.mu.Lock()
	if p.cur == k {
		p.cur = nil
		p.retired[k.epoch] = true
		p.stale = append(p.stale, k)
	}
	p.mu.Unlock()
	n.log.Warn("epoch revoked", "partner", p.name, "agreement", p.cfg.Agreement, "epoch", k.epoch)
	return n.Ceremony(ctx, partnerName, 0)
}
