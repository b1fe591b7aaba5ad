package home

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

// TestRecoverKeyRecords: a rotation whose record was never written is recorded, marked
// recovered, when the home is next opened for a key command, once; the log verifies and lists
// it; and the key records a prune dropped are not recorded again.
func TestRecoverKeyRecords(t *testing.T) {
	ctx := context.Background()
	h, _, err := InitKeys(ctx, filepath.Join(t.TempDir(), "us"), "us-cbp", false)
	if err != nil {
		t.Fatal(err)
	}
	crashed := func(context.Context, keys.Event) error { return errors.New("killed before the record") }
	sk := &keys.SigningKeys{Store: h.Store, Node: h.Name, Rand: rand.Reader, Events: crashed}
	k, err := sk.Rotate(ctx, time.Hour)
	if !errors.Is(err, keys.ErrNotAudited) || k == nil {
		t.Fatalf("rotation with its record lost: %v", err)
	}
	k.Zero()
	done, err := h.RecoverKeyRecords(ctx)
	if err != nil || len(done) != 1 || done[0].Action != keys.ActSigningKeyRotated || !done[0].Recovered {
		t.Fatalf("RecoverKeyRecords: %v, %v; want the rotation, recovered", done, err)
	}
	if again, err := h.RecoverKeyRecords(ctx); err != nil || len(again) != 0 {
		t.Errorf("RecoverKeyRecords again: %v, %v", again, err)
	}
	ring, _, err := sk.Keyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyFile(h.AuditLog(), ring, nil)
	if err != nil || rep.Records != 2 || len(rep.Recovered) != 1 || rep.Recovered[0].KeyID != done[0].KeyID {
		t.Fatalf("the log after recovery: %d records, recovered %+v, %v", rep.Records, rep.Recovered, err)
	}

	cur, err := sk.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Zero()
	w, err := audit.Open(h.AuditLog(), audit.Options{Node: h.Name, Signer: cur, Verifier: ring})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Prune(ctx, time.Now().Add(time.Hour), ring); err != nil || n != 2 {
		t.Fatalf("pruning both records: %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if done, err := h.RecoverKeyRecords(ctx); err != nil || len(done) != 0 {
		t.Errorf("RecoverKeyRecords after a prune dropped the key records: %v, %v", done, err)
	}
}
