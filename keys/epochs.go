package keys

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EpochState is where an epoch's agreement secret is in its life
// (NIST SP 800-57 Part 1 Rev. 5 §7: active, deactivated, destroyed).
type EpochState string

// Epoch states. An epoch moves only forward through them.
const (
	// EpochActive: the current epoch; queries and enrolment use it.
	EpochActive EpochState = "active"
	// EpochSuperseded: a newer epoch has begun; the gallery is still being
	// re-protected, so this epoch's secret is kept (deactivated).
	EpochSuperseded EpochState = "superseded"
	// EpochRetired: the gallery has been re-protected under a newer epoch;
	// the secret is no longer needed and awaits destruction.
	EpochRetired EpochState = "retired"
	// EpochDestroyed: the secret has been destroyed.
	EpochDestroyed EpochState = "destroyed"
)

// Epoch is one epoch's record in an agreement's state.
type Epoch struct {
	Epoch     uint64     `json:"epoch"`
	State     EpochState `json:"state"`
	Begun     time.Time  `json:"begun"`
	Changed   time.Time  `json:"changed"`
	Revoked   bool       `json:"revoked,omitempty"`
	RevokedAt time.Time  `json:"revoked_at,omitzero"`
}

// AgreementState is the non-secret state of one agreement with a partner:
// its epochs and, through their Revoked flags, its revocation list.
type AgreementState struct {
	Agreement string  `json:"agreement"`
	Partner   string  `json:"partner"`
	Epochs    []Epoch `json:"epochs"`
}

// Active returns the active epoch, if any.
func (a *AgreementState) Active() (Epoch, bool) {
	for _, e := range a.Epochs {
		if e.State == EpochActive {
			return e, true
		}
	}
	return Epoch{}, false
}

// RevocationList returns the revoked epochs, ascending.
func (a *AgreementState) RevocationList() []uint64 {
	var out []uint64
	for _, e := range a.Epochs {
		if e.Revoked {
			out = append(out, e.Epoch)
		}
	}
	return out
}

func (a *AgreementState) find(epoch uint64) *Epoch {
	for i := range a.Epochs {
		if a.Epochs[i].Epoch == epoch {
			return &a.Epochs[i]
		}
	}
	return nil
}

// Algorithm names of the non-secret bookkeeping entries this package
// keeps beside the keys.
const (
	AlgAgreementState = "agreement-state"
	AlgKeyring        = "keyring"
)

// AgreementStateName is the store name of an agreement's state.
func AgreementStateName(agreement string) string { return "agreement/" + agreement + "/state" }

// SeedName is the store name of an epoch's agreement secret.
func SeedName(agreement string, epoch uint64) string {
	return "agreement/" + agreement + "/epoch/" + strconv.FormatUint(epoch, 10) + "/seed"
}

// Agreements manages the epochs of transform-seed agreements in a
// [Store]. Every method that changes state reports an [Event].
type Agreements struct {
	Store  Store
	Now    func() time.Time
	Events EventSink
}

func (m *Agreements) now() time.Time {
	if m.Now == nil {
		return time.Now().UTC()
	}
	return m.Now().UTC()
}

// State loads an agreement's state and its store version (0 and
// ErrNotFound if the agreement has no epoch yet).
func (m *Agreements) State(ctx context.Context, agreement string) (*AgreementState, int, error) {
	name := AgreementStateName(agreement)
	e, err := m.Store.Get(ctx, name, 0)
	if err != nil {
		return nil, 0, err
	}
	defer e.Zero()
	dec := json.NewDecoder(bytes.NewReader(e.Data.Bytes()))
	dec.DisallowUnknownFields()
	var st AgreementState
	if err := dec.Decode(&st); err != nil || st.Agreement != agreement {
		return nil, 0, &KeyError{Op: "get", Name: name, Err: fmt.Errorf("%w: agreement state does not decode (%v)", ErrCorrupt, err)}
	}
	return &st, e.Version, nil
}

func (m *Agreements) save(ctx context.Context, st *AgreementState, ver int) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	_, err = m.Store.Put(ctx, AgreementStateName(st.Agreement), b, PutOptions{CAS: ver, Algorithm: AlgAgreementState})
	return err
}

// Begin stores secret as the agreement's new active epoch (its epoch number
// must exceed every earlier one) and marks the previous active epoch
// superseded. The secret is stored before the state names it; if a crash
// came between the two, Begin can be called again with the same secret: it
// finds the stored secret, compares it in constant time and adopts it. A
// different secret stored under the epoch's name is refused with
// [ErrState] and nothing is changed.
func (m *Agreements) Begin(ctx context.Context, partner string, secret *AgreementSecret) error {
	st, ver, err := m.State(ctx, secret.Agreement)
	if errors.Is(err, ErrNotFound) {
		st, err = &AgreementState{Agreement: secret.Agreement, Partner: partner}, nil
	}
	if err != nil {
		return err
	}
	if st.Partner != partner {
		return fmt.Errorf("keys: agreement %s is with %s, not %s", st.Agreement, st.Partner, partner)
	}
	for _, e := range st.Epochs {
		if e.Epoch >= secret.Epoch {
			return fmt.Errorf("keys: agreement %s: epoch %d is not after existing epoch %d: %w", st.Agreement, secret.Epoch, e.Epoch, ErrState)
		}
	}
	if _, err := m.Store.Put(ctx, SeedName(secret.Agreement, secret.Epoch), secret.k.b[:], PutOptions{Algorithm: AlgHKDFSHA256}); err != nil {
		if !errors.Is(err, ErrCASConflict) {
			return err
		}
		if err := m.adoptSeed(ctx, secret); err != nil {
			return err
		}
	}
	now := m.now()
	for i := range st.Epochs {
		if st.Epochs[i].State == EpochActive {
			st.Epochs[i].State, st.Epochs[i].Changed = EpochSuperseded, now
		}
	}
	st.Epochs = append(st.Epochs, Epoch{Epoch: secret.Epoch, State: EpochActive, Begun: now, Changed: now})
	if err := m.save(ctx, st, ver); err != nil {
		return err
	}
	return emit(ctx, m.Events, Event{Time: now, Action: ActEpochBegun, Key: SeedName(secret.Agreement, secret.Epoch), Agreement: secret.Agreement, Epoch: secret.Epoch})
}

// adoptSeed checks that the seed already stored for secret's epoch, which
// the state does not name (an earlier Begin stopped after storing it), is
// this secret.
func (m *Agreements) adoptSeed(ctx context.Context, secret *AgreementSecret) error {
	name := SeedName(secret.Agreement, secret.Epoch)
	e, err := m.Store.Get(ctx, name, 0)
	if err != nil {
		return err
	}
	defer e.Zero()
	if e.Algorithm != AlgHKDFSHA256 || subtle.ConstantTimeCompare(e.Data.Bytes(), secret.k.b[:]) != 1 {
		return &KeyError{Op: "put", Name: name, Err: fmt.Errorf("%w: a different secret is already stored for epoch %d, which the agreement's state does not name; "+
			"check with the partner, then destroy it or begin a later epoch", ErrState, secret.Epoch)}
	}
	return nil
}

// Secret loads an epoch's agreement secret. It refuses a revoked epoch
// ([ErrRevoked]) and a destroyed one ([ErrState]).
func (m *Agreements) Secret(ctx context.Context, agreement string, epoch uint64) (*AgreementSecret, error) {
	st, _, err := m.State(ctx, agreement)
	if err != nil {
		return nil, err
	}
	e := st.find(epoch)
	switch {
	case e == nil:
		return nil, fmt.Errorf("keys: agreement %s has no epoch %d: %w", agreement, epoch, ErrNotFound)
	case e.Revoked:
		return nil, fmt.Errorf("keys: agreement %s epoch %d: %w", agreement, epoch, ErrRevoked)
	case e.State == EpochDestroyed:
		return nil, fmt.Errorf("keys: agreement %s epoch %d is destroyed: %w", agreement, epoch, ErrState)
	}
	ent, err := m.Store.Get(ctx, SeedName(agreement, epoch), 0)
	if err != nil {
		return nil, err
	}
	defer ent.Zero()
	if ent.Data.Len() != 32 {
		return nil, &KeyError{Op: "get", Name: SeedName(agreement, epoch), Err: fmt.Errorf("%w: secret is %d bytes, want 32", ErrCorrupt, ent.Data.Len())}
	}
	s := &AgreementSecret{Agreement: agreement, Epoch: epoch}
	copy(s.k.b[:], ent.Data.Bytes())
	return s, nil
}

// Retire records that the gallery has been re-protected under a newer
// epoch, so epoch's secret is no longer needed. Only a superseded epoch
// can be retired.
func (m *Agreements) Retire(ctx context.Context, agreement string, epoch uint64) error {
	return m.transition(ctx, agreement, epoch, ActEpochRetired, func(e *Epoch) error {
		if e.State != EpochSuperseded {
			return fmt.Errorf("%w: epoch %d is %s; only a superseded epoch can be retired, after the gallery is re-protected", ErrState, epoch, e.State)
		}
		e.State = EpochRetired
		return nil
	})
}

// Destroy destroys a retired epoch's secret in the store.
func (m *Agreements) Destroy(ctx context.Context, agreement string, epoch uint64) error {
	return m.transition(ctx, agreement, epoch, ActEpochDestroyed, func(e *Epoch) error {
		if e.State != EpochRetired {
			return fmt.Errorf("%w: epoch %d is %s; only a retired epoch can be destroyed", ErrState, epoch, e.State)
		}
		if err := m.Store.Destroy(ctx, SeedName(agreement, epoch)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		e.State = EpochDestroyed
		return nil
	})
}

// Revoke puts epoch on the agreement's revocation list: its secret is
// refused from now on. Revoking does not destroy the secret; the epoch
// still has to be superseded, retired and destroyed.
func (m *Agreements) Revoke(ctx context.Context, agreement string, epoch uint64) error {
	return m.transition(ctx, agreement, epoch, ActEpochRevoked, func(e *Epoch) error {
		if e.Revoked {
			return fmt.Errorf("%w: epoch %d is already revoked", ErrState, epoch)
		}
		e.Revoked, e.RevokedAt = true, m.now()
		return nil
	})
}

func (m *Agreements) transition(ctx context.Context, agreement string, epoch uint64, act Action, f func(*Epoch) error) error {
	st, ver, err := m.State(ctx, agreement)
	if err != nil {
		return err
	}
	e := st.find(epoch)
	if e == nil {
		return fmt.Errorf("keys: agreement %s has no epoch %d: %w", agreement, epoch, ErrNotFound)
	}
	if err := f(e); err != nil {
		return fmt.Errorf("keys: agreement %s: %w", agreement, err)
	}
	now := m.now()
	e.Changed = now
	if err := m.save(ctx, st, ver); err != nil {
		return err
	}
	return emit(ctx, m.Events, Event{Time: now, Action: act, Key: SeedName(agreement, epoch), Agreement: agreement, Epoch: epoch})
}

// ListAgreements returns the IDs of all agreements in the store.
func ListAgreements(ctx context.Context, s Store) ([]string, error) {
	names, err := s.List(ctx, "agreement/")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range names {
		id, ok := strings.CutPrefix(n, "agreement/")
		if id, ok2 := strings.CutSuffix(id, "/state"); ok && ok2 && validSegment(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
