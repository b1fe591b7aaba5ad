package protocol

import (
	"context"
	"time"
)

// Status describes a node for its operator.
type Status struct {
	Node     string          `json:"node"`
	Partners []PartnerStatus `json:"partners"`
	// Shards are the node's shards, one entry per shard and agreement it holds (shards.go).
	Shards []ShardStatus `json:"shards,omitempty"`
}

// PartnerStatus describes one agreement.
type PartnerStatus struct {
	Partner   string `json:"partner"`
	Agreement string `json:"agreement"`
	Epoch     uint64 `json:"epoch"` // 0: no active epoch
	ParamSet  string `json:"param_set"`
	Enrolled  int    `json:"enrolled"`
	// GalleryEpoch is the epoch the gallery is protected under; it lags Epoch while the gallery
	// is being re-protected after a new epoch.
	GalleryEpoch uint64 `json:"gallery_epoch"`
	QuotaUsed    int    `json:"quota_used"`
	QuotaLimit   string `json:"quota"`
	// Halted is set while this node's queries to the partner are halted (ErrHalted): an answer
	// of the partner did not open, or (Halt.Unresolved) a rebuild found a query to it pending.
	Halted *Halt `json:"halted,omitempty"`
}

// Status reports the node's agreements.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	st := &Status{Node: n.name}
	for _, pc := range n.cfg.Partners {
		p := n.partners[pc.Name]
		ps := PartnerStatus{Partner: p.name, Agreement: pc.Agreement, ParamSet: p.ps.Name()}
		if k, err := p.current(); err == nil {
			ps.Epoch = k.epoch
		}
		if g := p.gallery(); g != nil {
			ps.Enrolled, _ = g.store.Count()
			ps.GalleryEpoch = g.store.Params().Epoch
		}
		if p.quota != nil {
			ps.QuotaLimit = p.quota.String()
			ps.QuotaUsed, _ = n.state.used(p.name, p.quota.Window, n.now())
		}
		if h := p.halt.Load(); h != nil {
			ps.Halted = h.public(p.name)
		}
		st.Partners = append(st.Partners, ps)
	}
	st.Shards = n.shardStatus(ctx)
	return st, nil
}

// ShutdownGrace is how long calls in flight get to finish once the node is told to stop
// (Options.ShutdownGrace); the operator API's server gives its calls the same.
func (n *Node) ShutdownGrace() time.Duration { return n.grace }
