package keys

import (
	"context"
	"errors"
	"slices"
)

// A key action changes the store first and is reported to the [EventSink] after, so a crash
// between the two leaves an action that took effect without its record. Writing the record
// first is no better: a crash after it leaves a record of an action that never happened (a
// revocation the store does not show). So the store is the truth, and [Reconcile], run when a
// node next opens its home, compares what the store shows with what the log holds and records
// each missing action, marked [Event.Recovered].

// A Trail is what an audit log holds of key actions.
type Trail interface {
	// Holds reports whether the log holds the record of ev (ev.Time is the earliest the action
	// can have taken effect), or may have held it: a log pruned after ev.Time may have
	// dropped it. Actions ActSigningKeyCreated and ActSigningKeyRotated are one to it: a
	// record of either names the key's beginning.
	Holds(ev Event) bool
}

// Shown returns the key actions the store shows to have taken effect, as the [Event] each
// reported, with Time the earliest the action can have taken effect:
//
//   - every signing key of node in the keyring was created or rotated in (at its start);
//   - a key revoked in the keyring was revoked (no earlier than its end);
//   - a key not revoked whose validity has ended and whose seed is gone had its seed destroyed
//     (no earlier than its end);
//   - every epoch of every agreement was begun; a retired or destroyed one was retired, a
//     destroyed one destroyed (no earlier than its beginning), and a revoked one revoked (at
//     its revocation).
//
// A seed that a revocation destroyed is recorded by the revocation, not as destroyed.
func Shown(ctx context.Context, s Store, node string) ([]Event, error) {
	ring, _, err := (&SigningKeys{Store: s, Node: node}).Keyring(ctx)
	if err != nil {
		return nil, err
	}
	seeds, err := s.List(ctx, signKeyPrefix)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var out []Event
	for _, e := range ring.Entries() {
		if e.Node != node {
			continue
		}
		name := SigningKeyName(e.ID)
		ev := Event{Action: ActSigningKeyRotated, Key: name, KeyID: e.ID.String(), Time: e.NotBefore}
		if !ring.hadKeyAt(node, e) {
			ev.Action = ActSigningKeyCreated
		}
		out = append(out, ev)
		ev.Time = e.NotAfter
		switch {
		case e.Revoked:
			ev.Action = ActSigningKeyRevoked
			out = append(out, ev)
		case !e.NotAfter.IsZero() && !slices.Contains(seeds, name):
			ev.Action = ActSigningKeyDestroyed
			out = append(out, ev)
		}
	}
	ags, err := ListAgreements(ctx, s)
	if err != nil {
		return nil, err
	}
	m := &Agreements{Store: s}
	for _, ag := range ags {
		st, _, err := m.State(ctx, ag)
		if err != nil {
			return nil, err
		}
		for _, e := range st.Epochs {
			ev := Event{Key: SeedName(ag, e.Epoch), Agreement: ag, Epoch: e.Epoch, Time: e.Begun}
			acts := []Action{ActEpochBegun}
			if e.State == EpochRetired || e.State == EpochDestroyed {
				acts = append(acts, ActEpochRetired)
			}
			if e.State == EpochDestroyed {
				acts = append(acts, ActEpochDestroyed)
			}
			for _, a := range acts {
				ev.Action = a
				out = append(out, ev)
			}
			if e.Revoked {
				ev.Action, ev.Time = ActEpochRevoked, e.RevokedAt
				out = append(out, ev)
			}
		}
	}
	return out, nil
}

// hadKeyAt reports whether node had another key, added before e, still valid when e began: then
// e's beginning was a rotation (Rotate ends the other keys at e's start plus the overlap, so
// no earlier than e's start), otherwise a creation.
func (r *Keyring) hadKeyAt(node string, e KeyringEntry) bool {
	for _, o := range r.entries {
		if o.ID == e.ID {
			return false // the keys added after e
		}
		if o.Node == node && !o.NotBefore.After(e.NotBefore) && (o.NotAfter.IsZero() || !o.NotAfter.Before(e.NotBefore)) {
			return true
		}
	}
	return false
}

// Reconcile reports to sink, marked [Event.Recovered], each action the store shows ([Shown])
// that trail does not hold, and returns them. The sink writes them as the node's current
// records; an action whose record a crash left unwritten is thus recorded when the node next
// opens its home. It stops at the first error of the sink, wrapping [ErrNotAudited].
func Reconcile(ctx context.Context, s Store, node string, trail Trail, sink EventSink) ([]Event, error) {
	shown, err := Shown(ctx, s, node)
	if err != nil {
		return nil, err
	}
	var done []Event
	for _, ev := range shown {
		if trail.Holds(ev) {
			continue
		}
		ev.Recovered = true
		if err := emit(ctx, sink, ev); err != nil {
			return done, err
		}
		done = append(done, ev)
	}
	return done, nil
}
