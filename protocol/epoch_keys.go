package protocol

import (
	"context"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/atomicfile"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protect"
)

// epochKeys is what one epoch of an agreement gives this node: the transform both partners
// share, the querier side of the key set in which this node queries, and the responder side
// (its share and the collective evaluation keys) of the key set in which the partner queries.
// Users hold mu for reading while they compute; destroy waits for them.
type epochKeys struct {
	epoch     uint64
	ps        *he.ParamSet
	transform protect.Transform
	scheme    string // the gallery's name for the transform

	mu        sync.RWMutex
	destroyed bool
	qshare    *he.SecretShare
	querier   *he.Querier
	rshare    *he.SecretShare
	responder *he.Responder
	evk       *he.EvaluationKeys // public: what the node installs on its shards

	searches searchQueue // Search calls waiting to be evaluated under these keys (batch.go)
}

// use takes the keys for one computation; the caller must call release.
func (k *epochKeys) use() error {
	k.mu.RLock()
	if k.destroyed {
		k.mu.RUnlock()
		return fmt.Errorf("%w: epoch %d's keys were destroyed", ErrPrecondition, k.epoch)
	}
	return nil
}

func (k *epochKeys) release() { k.mu.RUnlock() }

// destroy zeroes both secret shares once no computation uses them.
func (k *epochKeys) destroy() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.qshare != nil {
		k.qshare.Destroy()
	}
	if k.rshare != nil {
		k.rshare.Destroy()
	}
	k.destroyed = true
}

// labelTransformMaterial is the HKDF-Expand label (keys.AgreementSecret.Derive) of the key
// material from which protect.DeriveSeed derives an epoch's transform seed.
const labelTransformMaterial = "puente/protect/v1 material"

// deriveTransform builds the epoch's transform from the agreement secret.
func deriveTransform(s *keys.AgreementSecret, agreement string, params protect.Params) (protect.Transform, error) {
	material, err := s.Derive(labelTransformMaterial, protect.MinMaterialSize)
	if err != nil {
		return nil, err
	}
	defer clear(material)
	seed, err := protect.DeriveSeed(material, agreement, params.Scheme, s.Epoch)
	if err != nil {
		return nil, err
	}
	defer seed.Zero()
	return protect.New(params, seed)
}

// schemeLabel names a transform's parameters in gallery records: scheme and fingerprint.
func schemeLabel(p protect.Params) string {
	fp := p.Fingerprint()
	return fmt.Sprintf("%s-%x", p.Scheme, fp[:12])
}

// keySetName names one direction's key set of one epoch in the key store: the epoch and the
// node that queries with it (e.g. "e3-us-cbp-queries").
func keySetName(epoch uint64, querier string) string {
	return fmt.Sprintf("e%d-%s-queries", epoch, querier)
}

// evkName is the store entry holding the SHA-512 of a key set's evaluation keys, which are too
// large for the store and live in a file beside it (they are public; the digest keeps them
// from being swapped).
func evkName(agreement, set string) string { return "he/" + agreement + "/" + set + "/evk" }

func (n *Node) evkFile(agreement, set string) string {
	return filepath.Join(n.cfg.Path("he"), agreement, set+".evk")
}

// loadEpoch rebuilds an epoch's keys from the key store.
func (n *Node) loadEpoch(ctx context.Context, p *partner, epoch uint64) (*epochKeys, error) {
	ag := p.cfg.Agreement
	secret, err := n.agree.Secret(ctx, ag, epoch)
	if err != nil {
		return nil, err
	}
	defer secret.Zero()
	k := &epochKeys{epoch: epoch, ps: p.ps, scheme: schemeLabel(p.cfg.Transform)}
	if k.transform, err = deriveTransform(secret, ag, p.cfg.Transform); err != nil {
		return nil, err
	}
	if k.qshare, err = n.loadShare(ctx, p, keySetName(epoch, n.name)); err != nil {
		return nil, err
	}
	if k.querier, err = he.NewQuerier(k.qshare); err != nil {
		return nil, err
	}
	set := keySetName(epoch, p.name)
	if k.rshare, err = n.loadShare(ctx, p, set); err != nil {
		return nil, err
	}
	evk, err := n.loadEvaluationKeys(ctx, p, set)
	if err != nil {
		return nil, err
	}
	if k.responder, err = he.NewResponder(evk, k.rshare); err != nil {
		return nil, err
	}
	k.evk = evk
	return k, nil
}

func (n *Node) loadShare(ctx context.Context, p *partner, set string) (*he.SecretShare, error) {
	s, err := keys.GetShare(ctx, n.store, keys.ShareName(p.cfg.Agreement, set))
	if err != nil {
		return nil, err
	}
	defer s.Zero()
	sh, err := he.ReadSecretShare(p.ps, s.Bytes())
	if err != nil {
		return nil, fmt.Errorf("protocol: HE share %s: %w", keys.ShareName(p.cfg.Agreement, set), err)
	}
	return sh, nil
}

func (n *Node) loadEvaluationKeys(ctx context.Context, p *partner, set string) (*he.EvaluationKeys, error) {
	ent, err := n.store.Get(ctx, evkName(p.cfg.Agreement, set), 0)
	if err != nil {
		return nil, err
	}
	defer ent.Zero()
	path := n.evkFile(p.cfg.Agreement, set)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("protocol: evaluation keys: %w", err)
	}
	sum := sha512.Sum512(b)
	if subtle.ConstantTimeCompare(sum[:], ent.Data.Bytes()) != 1 {
		return nil, fmt.Errorf("protocol: evaluation keys %s do not match their digest in the key store", path)
	}
	evk, err := he.ReadEvaluationKeys(p.ps, b)
	if err != nil {
		return nil, fmt.Errorf("protocol: evaluation keys %s: %w", path, err)
	}
	return evk, nil
}

// storeEpochKeys persists a finished ceremony's HE material: both secret shares, and the
// evaluation keys of the key set in which the partner queries (file and digest). Material left
// for the same names by an interrupted earlier ceremony of the same epoch is destroyed first:
// the epoch never became active, and a share is never reused.
func (n *Node) storeEpochKeys(ctx context.Context, p *partner, epoch uint64, qshare, rshare *he.SecretShare, evk *he.EvaluationKeys) error {
	if err := n.destroyEpochKeys(ctx, p, epoch); err != nil {
		return err
	}
	for _, s := range []struct {
		set   string
		share *he.SecretShare
	}{{keySetName(epoch, n.name), qshare}, {keySetName(epoch, p.name), rshare}} {
		b, err := s.share.MarshalBinary()
		if err != nil {
			return err
		}
		err = keys.PutShare(ctx, n.store, keys.ShareName(p.cfg.Agreement, s.set), b, n.keyEvents)
		clear(b)
		if err != nil {
			return err
		}
	}
	set := keySetName(epoch, p.name)
	b, err := evk.MarshalBinary()
	if err != nil {
		return err
	}
	path := n.evkFile(p.cfg.Agreement, set)
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("protocol: evaluation keys: %w", err)
	}
	sum := sha512.Sum512(b)
	_, err = n.store.Put(ctx, evkName(p.cfg.Agreement, set), sum[:], keys.PutOptions{Algorithm: home.AlgSHA512})
	return err
}

// destroyEpochKeys destroys an epoch's stored HE material (what exists of it).
func (n *Node) destroyEpochKeys(ctx context.Context, p *partner, epoch uint64) error {
	ag := p.cfg.Agreement
	var errs []error
	for _, set := range []string{keySetName(epoch, n.name), keySetName(epoch, p.name)} {
		if err := keys.DestroyShare(ctx, n.store, keys.ShareName(ag, set), n.keyEvents); err != nil && !errors.Is(err, keys.ErrNotFound) {
			errs = append(errs, err)
		}
		if err := n.store.Destroy(ctx, evkName(ag, set)); err != nil && !errors.Is(err, keys.ErrNotFound) {
			errs = append(errs, err)
		}
		if err := os.Remove(n.evkFile(ag, set)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes a node file (mode 0600) atomically, creating its directory if needed.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}
