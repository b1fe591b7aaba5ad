package protocol

import "context"

// Operator is what an agency's operator does with its node: run ceremonies, enrol, search,
// verify, revoke. *Node implements it in process; *AdminClient implements it by asking the
// running `puente serve` over its local socket, so that one process owns the node's files.
type Operator interface {
	Ceremony(ctx context.Context, partner string, epoch uint64) (*CeremonyReport, error)
	Revoke(ctx context.Context, partner string) (*CeremonyReport, error)
	Enrol(ctx context.Context, partner string, refs []string, raw [][]float32, o EnrolOptions) (*EnrolReport, error)
	References(ctx context.Context, partner string, refs []string) ([]string, error)
	Protect(ctx context.Context, partner string, raw [][]float64) ([][]float64, uint64, error)
	Search(ctx context.Context, partner string, probe Probe, purpose string) (*Result, error)
	Verify(ctx context.Context, partner, reference string, probe Probe, purpose string) (*Result, error)
	Status(ctx context.Context) (*Status, error)
	// Keys carries out a key command (KeyRequest) on the node.
	Keys(ctx context.Context, req KeyRequest) (*KeyReport, error)
	// VerifyGallery opens and checks every sealed record of the partner's gallery.
	VerifyGallery(ctx context.Context, partner string) (*GalleryReport, error)
	// PruneAudit drops the audit records older than the key policy's retention.
	PruneAudit(ctx context.Context) (*PruneReport, error)
}

var (
	_ Operator = (*Node)(nil)
	_ Operator = (*AdminClient)(nil)
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
		st.Partners = append(st.Partners, ps)
	}
	st.Shards = n.shardStatus(ctx)
	return st, nil
}
