package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/grpcconn"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// partner is one partner agency as this node knows it: configuration, card, the quota the key
// policy grants it, the agreement's current keys, the gallery its queries search, and the
// connection this node's own queries use.
type partner struct {
	name    string
	cfg     *home.PartnerConfig
	card    *home.Card
	rules   []peerRule
	quota   *policy.Quota // nil: the policy grants none, and its queries are refused
	verify  *policy.Quota // per-reference verification limit; nil: its verifications are refused
	ps      *he.ParamSet
	maxDims int

	calls    atomic.Int32         // Search and Verify calls open (maxPartnerCalls)
	halt     atomic.Pointer[halt] // set once an answer of the partner did not open (halt.go)
	createMu sync.Mutex           // serialises the creation of the gallery
	retireMu sync.Mutex           // serialises retireEpochs
	// galleryMu serialises the changes to the gallery's subjects, each with its audit record
	// (gallery_records.go); galleryUnrecorded, guarded by it, is set when a record failed.
	galleryMu         sync.Mutex
	galleryUnrecorded bool

	mu      sync.RWMutex
	cur     *epochKeys      // the active epoch's keys; nil before the first ceremony
	retired map[uint64]bool // epochs superseded since the node started or found in the agreement state
	revoked uint64          // the latest epoch revoked with no epoch after it yet (0: none)
	stale   []*epochKeys    // superseded keys, destroyed once their epoch is retired
	gal     *galleryLink    // nil until the first enrolment
	conn    *grpc.ClientConn
}

// openPartner loads a partner's card, quota and verification limit, agreement keys and gallery.
func (n *Node) openPartner(ctx context.Context, pc *home.PartnerConfig) (*partner, error) {
	card, err := home.LoadCard(n.cfg.Path(pc.Card))
	if err != nil {
		return nil, err
	}
	if card.Node != pc.Name {
		return nil, fmt.Errorf("protocol: partner %q: card %s is for node %q", pc.Name, pc.Card, card.Node)
	}
	p := &partner{name: pc.Name, cfg: pc, card: card, retired: map[uint64]bool{}}
	pin := card.Pin
	p.rules = []peerRule{{partner: pc.Name, pin: &pin}}
	if pc.TLSCA != "" {
		pool, err := home.LoadCAPool(n.cfg.Path(pc.TLSCA))
		if err != nil {
			return nil, err
		}
		p.rules = append(p.rules, peerRule{partner: pc.Name, roots: pool})
	}
	if pp, ok := n.policy.PartnerByName(pc.Name); ok {
		if pp.Agreement != pc.Agreement {
			return nil, fmt.Errorf("protocol: partner %q: policy %s names agreement %q, config %q", pc.Name, n.policy.File, pp.Agreement, pc.Agreement)
		}
		if q, ok := n.policy.QuotaFor(pc.Name); ok {
			p.quota = &q
		}
		if q, ok := n.policy.VerifyLimitFor(pc.Name); ok {
			p.verify = &q
		}
	}
	if p.ps, err = home.LookupParams(pc.HEParams); err != nil {
		return nil, err
	}
	p.maxDims = maxDimsFor(pc.Transform.OutputDim())
	st, _, err := n.agree.State(ctx, pc.Agreement)
	switch {
	case errors.Is(err, keys.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if st.Partner != pc.Name {
			return nil, fmt.Errorf("protocol: agreement %s in the key store is with %q, config says %q", pc.Agreement, st.Partner, pc.Name)
		}
		for _, e := range st.Epochs {
			if e.State != keys.EpochActive || e.Revoked {
				p.retired[e.Epoch] = true
			}
			if e.State == keys.EpochActive && e.Revoked {
				p.revoked = e.Epoch
			}
		}
		if e, ok := st.Active(); ok && !e.Revoked {
			if p.cur, err = n.loadEpoch(ctx, p, e.Epoch); err != nil {
				return nil, err
			}
		}
	}
	if p.gal, err = n.openGallery(ctx, p, false); err != nil {
		return nil, err
	}
	return p, nil
}

// current returns the partner's active epoch keys.
func (p *partner) current() (*epochKeys, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.cur == nil && p.revoked != 0 {
		return nil, fmt.Errorf("%w: epoch %d of the agreement with %s was revoked and no epoch has followed it yet: run puente revoke (or puente ceremony) with the partner", ErrPrecondition, p.revoked, p.name)
	}
	if p.cur == nil {
		return nil, fmt.Errorf("%w: no key ceremony has been run with partner %s", ErrPrecondition, p.name)
	}
	return p.cur, nil
}

// gallery returns the partner's gallery link, or nil.
func (p *partner) gallery() *galleryLink {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.gal
}

// partnerConnectWait bounds how long a call waits for its partner's connection to be made
// before it is sent anyway (and then fails with the transport's reason).
const partnerConnectWait = 10 * time.Second

// client returns the connection to the partner's node, dialling it the first time. A connection
// that failed while the partner was down is tried again at once (grpcconn.Ready), so that a
// partner that has restarted is reached by the next call rather than after gRPC's reconnection
// backoff; if it is still unreachable, the call made on the connection fails with the
// transport's reason ("connection refused"), which is what the operator needs to see.
func (n *Node) client(ctx context.Context, p *partner) (*grpc.ClientConn, error) {
	conn, err := n.dial(p)
	if err != nil {
		return nil, err
	}
	_ = grpcconn.Ready(ctx, conn, partnerConnectWait) // if it fails, so does the call, with the reason
	return conn, nil
}

// dial returns the connection to the partner's node, made the first time.
func (n *Node) dial(p *partner) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		return p.conn, nil
	}
	creds := credentials.NewTLS(clientTLS(n.cert, p.name, p.rules, n.now, p.cfg.ClassicalKeyExchange))
	lim := n.policy.Limits
	conn, err := grpc.NewClient(p.cfg.Address, grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: lim.Keepalive.D, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
		grpc.WithChainUnaryInterceptor(deadlineUnary(lim.CallDeadline.D)),
		grpc.WithChainStreamInterceptor(deadlineStream(lim.CallDeadline.D)))
	if err != nil {
		return nil, fmt.Errorf("protocol: partner %s at %s: %w", p.name, p.cfg.Address, err)
	}
	p.conn = conn
	return conn, nil
}

func (p *partner) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.conn != nil {
		errs = append(errs, p.conn.Close())
		p.conn = nil
	}
	if p.gal != nil {
		errs = append(errs, p.gal.store.Close())
		p.gal = nil
	}
	if p.cur != nil {
		p.cur.destroy()
		p.cur = nil
	}
	return errors.Join(errs...)
}
