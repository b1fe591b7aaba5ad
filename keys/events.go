package keys

import (
	"context"
	"fmt"
	"time"
)

// Action names a key-management action, as recorded in the audit log.
type Action string

// The actions this package performs. Each one is reported to the
// [EventSink] after it has taken effect; one that a crash left unreported
// is reported when the node next opens its home ([Reconcile]).
const (
	ActSigningKeyCreated Action = "signing-key-created"
	ActSigningKeyRotated Action = "signing-key-rotated"
	ActSigningKeyRevoked Action = "signing-key-revoked"
	// ActSigningKeyDestroyed: the seed of a key whose validity ended was
	// destroyed; its public key stays in the keyring.
	ActSigningKeyDestroyed Action = "signing-key-destroyed"
	ActEpochBegun          Action = "epoch-begun"
	ActEpochRetired        Action = "epoch-retired"
	ActEpochDestroyed      Action = "epoch-destroyed"
	ActEpochRevoked        Action = "epoch-revoked"
	ActShareStored         Action = "he-share-stored"
	ActShareDestroyed      Action = "he-share-destroyed"
)

// Event describes one key-management action. It names keys, never holds
// key material.
type Event struct {
	Time      time.Time
	Action    Action
	Key       string // key name in the store, if any
	KeyID     string // signing key ID (hex), if any
	Agreement string // agreement ID, for epoch actions
	Epoch     uint64 // epoch number, for epoch actions
	// Recovered marks an action recorded after the fact: [Reconcile] found that the store shows
	// it and the audit log does not hold its record (a crash came between the two). Time is
	// then the earliest the action can have taken effect.
	Recovered bool
}

// EventSink records events, typically as signed audit records. An error
// means the event was not recorded; the action itself has already taken
// effect, and the caller gets an error wrapping [ErrNotAudited]. [Reconcile]
// records it the next time it runs.
type EventSink func(ctx context.Context, ev Event) error

// ErrNotAudited: the action took effect but its audit record could not be
// written.
var ErrNotAudited = fmt.Errorf("keys: action done but not audited")

func emit(ctx context.Context, sink EventSink, ev Event) error {
	if sink == nil {
		return nil
	}
	if err := sink(ctx, ev); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotAudited, ev.Action, err)
	}
	return nil
}
