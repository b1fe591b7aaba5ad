package keys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Store names used for signing keys.
const (
	// KeyringName holds the node's keyring (JSON, see [ParseKeyring]).
	KeyringName = "sign/keyring"
	// signKeyPrefix + key ID holds a signing key's seed.
	signKeyPrefix = "sign/key/"
)

// SigningKeyName returns the store name of a signing key's seed.
func SigningKeyName(id KeyID) string { return signKeyPrefix + id.String() }

// ParseSigningKeyName returns the key ID of a store name made by
// [SigningKeyName].
func ParseSigningKeyName(name string) (KeyID, bool) {
	s, ok := strings.CutPrefix(name, signKeyPrefix)
	if !ok {
		return KeyID{}, false
	}
	id, err := ParseKeyID(s)
	return id, err == nil && id.String() == s
}

// SigningKeys manages one node's ML-DSA-65 signing keys in a [Store]: the
// seeds under "sign/key/<id>" and the keyring under [KeyringName].
type SigningKeys struct {
	Store  Store
	Node   string           // this node's name, as in the keyring
	Rand   io.Reader        // source of new seeds
	Now    func() time.Time // clock; nil means time.Now
	Events EventSink        // where actions are reported; may be nil
}

func (m *SigningKeys) now() time.Time {
	if m.Now == nil {
		return time.Now().UTC()
	}
	return m.Now().UTC()
}

// Keyring loads the keyring and the store version it was read at (0 if
// there is none yet, in which case the keyring is empty).
func (m *SigningKeys) Keyring(ctx context.Context) (*Keyring, int, error) {
	e, err := m.Store.Get(ctx, KeyringName, 0)
	if errors.Is(err, ErrNotFound) {
		return &Keyring{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer e.Zero()
	r, err := ParseKeyring(e.Data.Bytes(), KeyringName)
	if err != nil {
		return nil, 0, err
	}
	return r, e.Version, nil
}

// Current returns the node's newest signing key valid now.
func (m *SigningKeys) Current(ctx context.Context) (*SigningKey, error) {
	ring, _, err := m.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	ent, ok := ring.Current(m.Node, m.now())
	if !ok {
		return nil, fmt.Errorf("keys: node %s has no valid signing key (run 'puente keys rotate'): %w", m.Node, ErrNotFound)
	}
	e, err := m.Store.Get(ctx, SigningKeyName(ent.ID), 0)
	if err != nil {
		return nil, err
	}
	defer e.Zero()
	k, err := SigningKeyFromSeed(e.Data.Bytes())
	if err != nil {
		return nil, &KeyError{Op: "get", Name: SigningKeyName(ent.ID), Err: err}
	}
	if k.ID() != ent.ID {
		k.Zero()
		return nil, &KeyError{Op: "get", Name: SigningKeyName(ent.ID), Err: fmt.Errorf("%w: seed does not match the keyring's public key", ErrCorrupt)}
	}
	return k, nil
}

// Rotate makes a new signing key, valid from now, and ends the node's
// previous keys after overlap. With no previous key it creates the first.
// The seed is stored before the keyring names it, so a crash between the
// two leaves an unused seed, never a keyring entry without its key. It
// then destroys the seeds of keys whose validity has ended
// ([SigningKeys.DestroyExpired]); with a zero overlap that includes the
// key just replaced.
func (m *SigningKeys) Rotate(ctx context.Context, overlap time.Duration) (*SigningKey, error) {
	ring, ver, err := m.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	k, err := GenerateSigningKey(m.Rand)
	if err != nil {
		return nil, err
	}
	seed := k.Seed()
	_, err = m.Store.Put(ctx, SigningKeyName(k.ID()), seed, PutOptions{Algorithm: AlgMLDSA65})
	clear(seed)
	if err != nil {
		k.Zero()
		return nil, err
	}
	now := m.now()
	_, had := ring.Current(m.Node, now)
	if err := ring.Rotate(m.Node, k.PublicKey(), now, overlap); err != nil {
		k.Zero()
		return nil, err
	}
	if err := m.saveKeyring(ctx, ring, ver); err != nil {
		k.Zero()
		return nil, err
	}
	act := ActSigningKeyCreated
	if had {
		act = ActSigningKeyRotated
	}
	if err := emit(ctx, m.Events, Event{Time: now, Action: act, Key: SigningKeyName(k.ID()), KeyID: k.ID().String()}); err != nil {
		return k, err
	}
	_, err = m.DestroyExpired(ctx)
	return k, err
}

// DestroyExpired destroys the seeds of the node's signing keys whose
// validity window has ended (replaced and past their overlap, or revoked):
// nothing they could still sign would verify. Their public keys stay in
// the keyring, so what they signed while valid still verifies. Each
// destruction is reported as [ActSigningKeyDestroyed]. It returns the keys
// whose seeds it destroyed.
func (m *SigningKeys) DestroyExpired(ctx context.Context) ([]KeyID, error) {
	ring, _, err := m.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var done []KeyID
	for _, e := range ring.Entries() {
		if e.Node != m.Node || e.NotAfter.IsZero() || now.Before(e.NotAfter) {
			continue
		}
		name := SigningKeyName(e.ID)
		if err := m.Store.Destroy(ctx, name); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return done, err
		}
		done = append(done, e.ID)
		if err := emit(ctx, m.Events, Event{Time: now, Action: ActSigningKeyDestroyed, Key: name, KeyID: e.ID.String()}); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Revoke ends key id's validity now, marks it revoked in the keyring and
// destroys its seed.
func (m *SigningKeys) Revoke(ctx context.Context, id KeyID) error {
	ring, ver, err := m.Keyring(ctx)
	if err != nil {
		return err
	}
	now := m.now()
	if err := ring.Revoke(id, now); err != nil {
		return err
	}
	if err := m.saveKeyring(ctx, ring, ver); err != nil {
		return err
	}
	if err := m.Store.Destroy(ctx, SigningKeyName(id)); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return emit(ctx, m.Events, Event{Time: now, Action: ActSigningKeyRevoked, Key: SigningKeyName(id), KeyID: id.String()})
}

func (m *SigningKeys) saveKeyring(ctx context.Context, ring *Keyring, ver int) error {
	b, err := ring.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = m.Store.Put(ctx, KeyringName, b, PutOptions{CAS: ver, Algorithm: AlgKeyring})
	return err
}
