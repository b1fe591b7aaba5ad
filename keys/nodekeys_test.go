package keys

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
)

// TestKeyringBindsNode: a keyring may hold several nodes' keys (ParseKeyring accepts one, and
// `puente audit verify -keyring FILE` takes any). Before, Keyring.Verify never compared the
// key's node with the node a statement speaks for, so co-migracion's key could sign "us-cbp's
// log held record 5 with hash H" and audit.NewWitness took it as us-cbp's witness, and records
// of us-cbp's log signed by co-migracion's key verified (a hostile review's finding). The
// keyring now tells audit whose each key is (NodeOf), and both are refused.
func TestKeyringBindsNode(t *testing.T) {
	us, err := SigningKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	co, err := SigningKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	ring := &Keyring{}
	if err := ring.Rotate("us-cbp", us.PublicKey(), t0, 0); err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate("co-migracion", co.PublicKey(), t0, 0); err != nil {
		t.Fatal(err)
	}
	head := audit.Head{Seq: 5, Hash: "ab" + string(bytes.Repeat([]byte("0"), 62))}
	for name, k := range map[string]*SigningKey{"us-cbp": us, "co-migracion": co} {
		sig, err := audit.SignHead(k, "us-cbp", head)
		if err != nil {
			t.Fatal(err)
		}
		_, err = audit.NewWitness(ring, "us-cbp", head, t0.Add(time.Minute), k.ID().String(), sig)
		if (err == nil) != (name == "us-cbp") {
			t.Errorf("us-cbp's head signed by %s's key: %v", name, err)
		}
	}

	// A log of us-cbp's written with co-migracion's key: the writer does not check (it is the
	// node's own), the verifier with a keyring of both nodes must.
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := audit.Open(path, audit.Options{Node: "us-cbp", Signer: co, Verifier: ring})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(context.Background(), audit.KindKey, audit.Event{Action: "signing-key-created"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := audit.Verify(f, ring, audit.VerifyOptions{File: path}); !errors.Is(err, audit.ErrBadSignature) {
		t.Errorf("us-cbp's log signed by co-migracion's key: %v, want ErrBadSignature", err)
	}
}
