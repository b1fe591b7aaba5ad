package protocol

import (
	"context"
	"errors"
	"fmt"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/keys"
)

// activate makes a finished ceremony's epoch current on this node: it stores both HE secret
// shares and the evaluation keys, begins the epoch in the agreement state (which supersedes the
// previous one), and swaps the in-memory keys. The superseded epoch is then retired: the gallery
// is re-protected under the new epoch and the old epoch's seed and HE material destroyed, in the
// background when background is set (the responder answers Confirm first), else before
// activate returns.
func (n *Node) activate(ctx context.Context, c *ceremonyState, background bool) error {
	p := c.p
	qd, rd := 0, 1
	if !c.initiator {
		qd, rd = 1, 0
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
	evk, err := c.hec[rd].EvaluationKeys()
	if err == nil {
		err = n.storeEpochKeys(ctx, p, c.epoch, qshare, rshare, evk)
	}
	if err == nil {
		err = n.agree.Begin(ctx, p.name, c.secret)
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
	p.mu.Lock()
	old := p.cur
	p.cur = k
	if old != nil {
		p.retired[old.epoch] = true
		p.stale = append(p.stale, old)
	}
	p.mu.Unlock()
	n.log.Info("epoch active", "partner", p.name, "agreement", p.cfg.Agreement, "epoch", c.epoch)
	if !background {
		return n.retireEpochs(ctx, p)
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		if err := n.retireEpochs(context.WithoutCancel(ctx), p); err != nil {
			n.log.Error("retiring the previous epoch", "partner", p.name, "err", err)
		}
	}()
	return nil
}

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
	return k, nil
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
