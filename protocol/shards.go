package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
	"github.com/puente-id/puente/protocol/wire"
	"github.com/puente-id/puente/shard"
)

// shardRuntime is the node's side of its shards.
type shardRuntime struct {
	pool *shard.Pool
	mu   sync.Mutex // serialises installs, guards installed
	// installed is, per agreement, what the shards were last found or made to hold, and the
	// gallery store's write generation it was computed from.
	installed map[string]installed
}

type installed struct {
	storeGen uint64
	want     shard.Want
}

// openShards dials the configured shards (lazily: a shard that is down fails the queries, not
// the node's start).
func (n *Node) openShards() error {
	sc := n.cfg.Shards
	if sc == nil {
		return nil
	}
	addrs, err := shard.Targets(sc.Addresses, sc.DNS, sc.Count)
	if err != nil {
		return err
	}
	tc, err := sc.TLS.ClientTLS()
	if err != nil {
		return err
	}
	pool, err := shard.Dial(addrs, tc, sc.Timeout)
	if err != nil {
		return err
	}
	pool.Observe(n.met.shardCall)
	n.shards = &shardRuntime{pool: pool, installed: map[string]installed{}}
	return nil
}

// shardWant returns the partitions the shards must hold for partner p's gallery under keys k,
// installing, when the gallery changed since the last install or a shard does not hold its
// partition, each partition that changed (by reference hash over the shards, named by its
// content: shard.Partitions): an enrolment or a removal reaches the owning shard alone;
// re-protection under a new epoch and a new shard count reach every shard. Installs are
// serialised and audited.
func (n *Node) shardWant(ctx context.Context, p *partner, k *epochKeys) (shard.Want, error) {
	g := p.gallery()
	if g == nil {
		return shard.Want{}, wire.Precondition("gallery is empty", nil)
	}
	rt := n.shards
	rt.mu.Lock()
	defer rt.mu.Unlock()
	snap, err := g.store.Snapshot()
	if err != nil {
		return shard.Want{}, err
	}
	if in, ok := rt.installed[p.cfg.Agreement]; ok && in.storeGen == snap.Generation && in.want.KeySet == k.rshare.KeySetID() {
		return in.want, nil
	}
	want, err := n.installShards(ctx, p, k, snap)
	if err != nil {
		return want, err
	}
	rt.installed[p.cfg.Agreement] = installed{storeGen: snap.Generation, want: want}
	return want, nil
}

func (n *Node) installShards(ctx context.Context, p *partner, k *epochKeys, s *gallery.Snapshot) (shard.Want, error) {
	pool := n.shards.pool
	entries := make([]shard.Entry, s.Count())
	for i, ref := range s.Refs {
		entries[i] = shard.Entry{Ref: ref, Template: s.Row(i)}
	}
	want, parts := shard.Partitions(shard.Want{Agreement: p.cfg.Agreement, Epoch: s.Epoch, KeySet: k.rshare.KeySetID(), ParamSet: k.ps},
		pool.Len(), s.Dim, entries)
	if s.Epoch != k.epoch {
		return want, nil // evaluate refuses it; nothing to install under another epoch's keys
	}
	var ekb []byte
	for i, h := range pool.Status(ctx) {
		if pool.Holds(i, h, want) {
			continue
		}
		if ekb == nil {
			var err error
			if ekb, err = k.evk.MarshalBinary(); err != nil {
				return want, err
			}
		}
		err := pool.Install(ctx, i, want, s.Dim, ekb, parts[i])
		// Audited either way: the evaluation keys and the partition left the node for the shard
		// (named by its address).
		action := "shards-installed"
		if err != nil {
			action = "shards-install-failed"
		}
		if _, aerr := n.audit.Append(context.WithoutCancel(ctx), audit.KindKey, audit.Event{Partner: p.name, Epoch: want.Epoch,
			Action: action, Shard: pool.Addrs()[i]}); aerr != nil {
			n.log.Error("audit record not written", "action", action, "err", aerr)
			if err == nil {
				err = aerr
			}
		}
		if err != nil {
			return want, err
		}
		n.log.Info("shard installed", "agreement", want.Agreement, "epoch", want.Epoch, "shard", i, "of", pool.Len(), "entries", len(parts[i]))
	}
	return want, nil
}

// SyncShards brings every shard up to date in the background (serve calls it when the node
// starts: a new shard count after a rebalance, a gallery changed while the node was down), so
// that the first search does not pay for it. A failure is logged; the next search retries. It
// does nothing on a node without shards; Close waits for it.
func (n *Node) SyncShards(ctx context.Context) {
	if n.shards == nil {
		return
	}
	n.goBackground("installing the shards", func() {
		if _, err := n.InstallShards(ctx); err != nil {
			n.log.Warn("shards not installed at start", "err", err)
		}
	})
}

// ShardInstall is what InstallShards made one agreement's shards hold.
type ShardInstall struct {
	Partner   string `json:"partner"`
	Agreement string `json:"agreement"`
	Epoch     uint64 `json:"epoch"`
	Shards    int    `json:"shards"`
	Entries   int    `json:"entries"`
}

// InstallShards brings every shard up to date for every partner with keys and a gallery, now:
// each shard gets the partition of the current placement (by reference hash over the configured
// shards), unless it already holds it. It is what a rebalance runs after the shard count changed
// (`puente shards rebalance`, or serve at start): crash-safe, since each shard replaces its
// partition atomically and searches fail until every shard holds the new one, and idempotent.
// Each install is audited.
func (n *Node) InstallShards(ctx context.Context) ([]ShardInstall, error) {
	if n.shards == nil {
		return nil, fmt.Errorf("%w: the node's configuration names no shards", ErrPrecondition)
	}
	var out []ShardInstall
	var errs []error
	for _, pc := range n.cfg.Partners {
		p := n.partners[pc.Name]
		k, err := p.current()
		g := p.gallery()
		if err != nil || g == nil {
			continue
		}
		if err := k.use(); err != nil {
			continue
		}
		want, err := n.shardWant(ctx, p, k)
		k.release()
		if err != nil {
			errs = append(errs, fmt.Errorf("partner %s: %w", p.name, err))
			continue
		}
		cnt, _ := g.store.Count()
		out = append(out, ShardInstall{Partner: p.name, Agreement: want.Agreement, Epoch: want.Epoch, Shards: n.shards.pool.Len(), Entries: cnt})
	}
	return out, errors.Join(errs...)
}

// shardedRespond answers a search over the node's shards: the probe prepared with the
// responder's share, the partial counts of every shard, the final step. A shard that is down,
// late, or holds another epoch or gallery makes the call fail (Unavailable or
// FailedPrecondition): never an answer from part of the gallery.
func (n *Node) shardedRespond(ctx context.Context, c *matchCall, q *he.Query) (*he.Answer, *opening.Secrets, error) {
	want, err := n.shardWant(ctx, c.p, c.keys)
	if err != nil {
		return nil, nil, shardError(err)
	}
	if want.Epoch != c.keys.epoch {
		return nil, nil, wire.Precondition("the gallery was re-protected under a new epoch during the query", fmt.Errorf("gallery epoch %d, query epoch %d", want.Epoch, c.keys.epoch))
	}
	p, err := c.keys.responder.Prepare(q, n.rand)
	if err != nil {
		return nil, nil, err
	}
	parts, err := n.shards.pool.Count(ctx, want, c.p.cfg.Threshold, p)
	if err != nil {
		var se *shard.Error
		if errors.As(err, &se) && se.Code == codes.FailedPrecondition {
			// A shard holds something else than the node last installed (a restored or new
			// volume): this query fails, and the next one checks every shard and installs again.
			n.shards.mu.Lock()
			delete(n.shards.installed, c.p.cfg.Agreement)
			n.shards.mu.Unlock()
		}
		return nil, nil, shardError(err)
	}
	return c.keys.responder.Finish(q, p, parts, n.rand)
}

// shardError turns a shard's failure into the call's status; the partner sees only that the
// gallery is unavailable, never which shard or why.
func shardError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code := codes.Unavailable
	if se, ok := err.(*shard.Error); ok && se.Code == codes.FailedPrecondition {
		code = codes.FailedPrecondition
	}
	return &Error{Code: code, Safe: "the responder's gallery is not available in full; try again later", Err: err}
}

// ShardStatus is one shard's state for the operator.
type ShardStatus struct {
	Address    string `json:"address"`
	Serving    bool   `json:"serving"`
	Error      string `json:"error,omitempty"`
	Agreement  string `json:"agreement,omitempty"`
	Epoch      uint64 `json:"epoch,omitempty"`
	Generation uint64 `json:"generation,omitempty"`
	Entries    uint64 `json:"entries"`
	Blocks     uint32 `json:"blocks"`
}

// shardStatus asks every shard for its health and partitions.
func (n *Node) shardStatus(ctx context.Context) []ShardStatus {
	if n.shards == nil {
		return nil
	}
	var out []ShardStatus
	for _, h := range n.shards.pool.Status(ctx) {
		s := ShardStatus{Address: h.Addr, Serving: h.Serving}
		if h.Err != nil {
			s.Error = h.Err.Error()
		}
		if len(h.Parts) == 0 {
			out = append(out, s)
		}
		for _, p := range h.Parts {
			s.Agreement, s.Epoch, s.Generation = p.Partition.Agreement, p.Partition.Epoch, p.Partition.Generation
			s.Entries, s.Blocks = p.Entries, p.Blocks
			out = append(out, s)
		}
	}
	return out
}
