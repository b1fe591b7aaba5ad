package protocol

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// Node is one agency's Puente node: its keys, audit log, replay and quota state, and for each
// partner the agreement's keys, gallery and connection. The same Node serves the partners'
// requests ([Node.Serve]) and makes this agency's own ([Node.Search], [Node.Verify],
// [Node.Ceremony]); it is the one process that writes the node's files.
//
// A Node is safe for concurrent use. Close releases everything after [Node.Serve] has returned.
type Node struct {
	cfg   *home.Config
	name  string
	log   *slog.Logger
	rand  io.Reader
	now   func() time.Time
	grace time.Duration            // Options.ShutdownGrace
	hook  atomic.Pointer[hookFunc] // set by this package's tests only
	// pruneEvery is the time between pruning rounds (pruneLoop): a minute; this package's tests
	// set it shorter before Serve.
	pruneEvery time.Duration
	// callBound is the longest a partner's call to this node may take (deadline.go): the key
	// policy's limits { call_deadline }; this package's tests set it shorter before Serve.
	callBound time.Duration
	// cheat, set by this package's tests only, edits the transfer answer of each opening this
	// node serves before it is signed: a responder that deviates in round 2.
	cheat  atomic.Pointer[func(transfer []byte)]
	id     *keys.Identity
	store  keys.Store
	signer *liveSigner
	ring   atomic.Pointer[keys.Keyring] // this node's keyring, which checks its audit log
	lock   *home.Lock
	policy *policy.Policy
	cert   tls.Certificate
	audit  *audit.Writer
	state  *stateDB
	agree  *keys.Agreements
	met    *Metrics
	sem    chan struct{} // bounds concurrent encrypted evaluations
	// strangers counts the refusals of unauthenticated peers (strangers.go).
	strangers *strangerGate

	partners map[string]*partner
	shards   *shardRuntime // nil: the node scores its galleries itself (shards.go)

	bg       sync.WaitGroup // background work (re-protection after a new epoch)
	inflight sync.WaitGroup // calls being served or made
	mu       sync.Mutex     // guards cers, draining and closed
	cers     map[string]*ceremonyState
	cer      ceremonyRuntime // ceremonies this node initiates, prepared epochs (ceremony_runtime.go)
	draining bool            // no new calls
	closed   bool
}

// Options are the optional settings of [Open]. The zero value is usable.
type Options struct {
	// Logger receives structured logs; nil discards them. Logs never hold a secret, a template,
	// a score or a ciphertext.
	Logger *slog.Logger
	// Rand is the source of randomness (nonces, request IDs, key shares); crypto/rand if nil.
	Rand io.Reader
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Metrics receives the node's metrics; a new set is made if nil.
	Metrics *Metrics
	// ShutdownGrace is how long Serve and the operator API let calls in flight finish after
	// their context ends before they cancel them (the calls still record their audit records);
	// 30 seconds if zero.
	ShutdownGrace time.Duration
}

// Open opens the node described by cfg: it takes the home's lock (one process at a time opens a
// node's files), then loads the identity, policy, key store, signing key and TLS certificate,
// checks the audit log against its head, the state file and the galleries' structure, records
// the key actions and gallery changes a crash left without their records, and resolves the
// queries a crash left pending. It refuses to open a node whose records do not check
// out, naming what is wrong and the command that deals with it.
func Open(ctx context.Context, cfg *home.Config, opts Options) (_ *Node, err error) {
	n := &Node{cfg: cfg, name: cfg.Node, log: opts.Logger, rand: opts.Rand, now: opts.Now, met: opts.Metrics,
		partners: map[string]*partner{}, cers: map[string]*ceremonyState{}, sem: make(chan struct{}, cfg.MaxConcurrent), pruneEvery: time.Minute}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.rand == nil {
		n.rand = rand.Reader
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.met == nil {
		n.met = NewMetrics()
	}
	if n.grace = opts.ShutdownGrace; n.grace <= 0 {
		n.grace = defaultShutdownGrace
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if n.lock, err = home.LockHome(cfg); err != nil {
		return nil, err
	}
	if err := n.openKeys(ctx); err != nil {
		return nil, err
	}
	if n.cert, err = home.LoadKeyPair(cfg.Path(cfg.TLSCert), cfg.Path(cfg.TLSKey)); err != nil {
		return nil, err
	}
	scan := newLogScan()
	if n.audit, err = n.openAudit(scan); err != nil {
		return nil, err
	}
	if err := n.recoverKeyRecords(ctx, scan); err != nil {
		return nil, err
	}
	if n.state, err = n.openStateFile(); err != nil {
		return nil, err
	}
	n.strangers = newStrangerGate(n)
	n.callBound = n.policy.Limits.CallDeadline.D
	for i := range cfg.Partners {
		p, err := n.openPartner(ctx, &cfg.Partners[i])
		if err != nil {
			return nil, err
		}
		n.partners[p.name] = p
	}
	if err := n.recoverGalleryRecords(ctx, scan); err != nil {
		return nil, err
	}
	if err := n.checkStateAgainstLog(scan); err != nil {
		return nil, err
	}
	if err := n.loadHalts(scan); err != nil {
		return nil, err
	}
	if err := n.openShards(); err != nil {
		return nil, err
	}
	if err := n.resolvePending(ctx, scan); err != nil {
		return nil, err
	}
	// Resolve the epochs a crash left prepared (two-phase switch of epochs).
	if err := n.startCeremonies(ctx); err != nil {
		return nil, err
	}
	for _, p := range n.partners {
		// Finish a retirement a crash interrupted (re-protection, destruction of old keys).
		if err := n.retireEpochs(ctx, p); err != nil {
			n.log.Error("retiring superseded epochs", "partner", p.name, "err", err)
		}
	}
	return n, nil
}

// openKeys loads the identity, the policy, the key store and the current signing key.
func (n *Node) openKeys(ctx context.Context) error {
	h, err := home.Open(ctx, n.cfg)
	if err != nil {
		return err
	}
	n.id, n.policy, n.store = h.ID, h.Policy, h.Store
	n.agree = &keys.Agreements{Store: n.store, Now: n.now, Events: n.keyEvents}
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Now: n.now}
	k, err := sk.Current(ctx)
	if err != nil {
		return err
	}
	n.signer = newLiveSigner(k)
	ring, _, err := sk.Keyring(ctx)
	if err != nil {
		return err
	}
	n.ring.Store(ring)
	return nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Config returns the node's configuration.
func (n *Node) Config() *home.Config { return n.cfg }

// Metrics returns the node's metrics.
func (n *Node) Metrics() *Metrics { return n.met }

// partnerByName returns a configured partner.
func (n *Node) partnerByName(name string) (*partner, error) {
	p, ok := n.partners[name]
	if !ok {
		return nil, fmt.Errorf("protocol: no partner %q in %s", name, n.cfg.File)
	}
	return p, nil
}

// enter registers a call for graceful shutdown; it fails once the node is closing.
func (n *Node) enter() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.draining {
		return errClosing
	}
	n.inflight.Add(1)
	return nil
}

var errClosing = errors.New("protocol: node is shutting down")

// begin registers an operator call about a partner (see enter); done must be called after.
func (n *Node) begin(partnerName string) (p *partner, done func(), err error) {
	if err := n.enter(); err != nil {
		return nil, nil, err
	}
	if p, err = n.partnerByName(partnerName); err != nil {
		n.inflight.Done()
		return nil, nil, err
	}
	return p, n.inflight.Done, nil
}

// Close waits for the calls in flight and background work, then closes the audit log (every
// accepted record is written first), the state file, the galleries and the connections, and
// zeroes the signing key.
func (n *Node) Close() error {
	n.mu.Lock()
	already := n.closed
	n.closed, n.draining = true, true
	for _, c := range n.cers {
		c.destroy()
	}
	n.cers = map[string]*ceremonyState{}
	n.mu.Unlock()
	if already {
		return nil
	}
	n.stopCeremonies()
	n.inflight.Wait()
	n.bg.Wait()
	if n.shards != nil {
		n.shards.pool.Close()
	}
	var errs []error
	for _, p := range n.partners {
		errs = append(errs, p.close())
	}
	if n.state != nil {
		errs = append(errs, n.state.close())
	}
	if n.strangers != nil {
		n.strangers.flush()
	}
	if n.audit != nil {
		errs = append(errs, n.audit.Close())
	}
	if n.signer != nil {
		n.signer.Zero()
	}
	n.lock.Release()
	return errors.Join(errs...)
}

// keyEvents records the keys package's actions in the audit log. The action has taken effect
// when it is called (crash point "key-ACTION-unrecorded"); crash point "key-ACTION" follows
// the record.
func (n *Node) keyEvents(ctx context.Context, ev keys.Event) error {
	crashPoint("key-" + string(ev.Action) + "-unrecorded")
	_, err := n.audit.Append(context.WithoutCancel(ctx), audit.KindKey, home.KeyRecord(ev))
	if err == nil {
		crashPoint("key-" + string(ev.Action))
	}
	return err
}
