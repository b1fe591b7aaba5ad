//go:build puente_testparams

package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

// TestKeysOnRunningNode: key commands given to a running node take effect at once and leave a log
// that verifies: a rotation signs the next record with the new key; revoking the current key
// rotates first, so that the record of the revocation is signed by a key that stays valid; an
// epoch revoked through the node answers nothing from then on.
func TestKeysOnRunningNode(t *testing.T) {
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	first := b.signer.ID()
	rep, err := b.Keys(ctx, KeyRequest{Action: "rotate", Overlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if second := b.signer.ID(); second == first || second.String() != rep.KeyID {
		t.Fatalf("after rotate the node signs with %s, rotate made %s (was %s)", second, rep.KeyID, first)
	}
	if rec := lastRecord(t, b); rec.Action != string(keys.ActSigningKeyRotated) || rec.Signer != rep.KeyID {
		t.Errorf("rotation record %s signed by %s, want signing-key-rotated signed by the new key", rec.Action, rec.Signer)
	}
	second := b.signer.ID()
	rep, err = b.Keys(ctx, KeyRequest{Action: "revoke-signing", KeyID: second.String()})
	if err != nil {
		t.Fatal(err)
	}
	if third := b.signer.ID(); third == second || rep.KeyID != third.String() {
		t.Fatalf("revoking the current key: the node signs with %s, report %+v", third, rep)
	}
	if rec := lastRecord(t, b); rec.Action != audit.ActionSigningKeyRevoked || rec.KeyID != second.String() || rec.Signer == second.String() {
		t.Errorf("revocation record %+v, want signing-key-revoked of %s signed by another key", rec, second)
	}
	if _, err := b.Keys(ctx, KeyRequest{Action: "revoke-signing", KeyID: "nope"}); err == nil {
		t.Error("revoke-signing of a malformed key ID")
	}
	if _, err := audit.CheckFile(b.cfg.Path(b.cfg.AuditLog), b.ring.Load(), audit.FileOptions{RequireHead: true}); err != nil {
		t.Fatalf("log after the key commands: %v", err)
	}

	// The epoch revoked through the node: refused from that moment, and the node says why.
	if _, err := b.Keys(ctx, KeyRequest{Action: "epoch-revoke", Agreement: "ab", Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, ""); codeOf(err) != codes.FailedPrecondition {
		t.Errorf("a search after the epoch was revoked: %v", err)
	}
	if _, err := b.partners["alpha"].current(); !errors.Is(err, ErrPrecondition) || !strings.Contains(err.Error(), "epoch 1 of the agreement with alpha was revoked") {
		t.Errorf("current after the revocation: %v", err)
	}
	if _, err := b.Search(ctx, "alpha", Probe{Raw: gal[0]}, ""); err == nil || !errors.Is(err, ErrPrecondition) {
		t.Errorf("the node's own search under the revoked epoch: %v", err)
	}
}
