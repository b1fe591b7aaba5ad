package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

var ctx = context.Background()

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a minimal ML-DSA-65 signer for tests.
type testKey struct {
	sk  *mldsa65.PrivateKey
	pub []byte
	id  string
}

func newTestKey(seed byte) *testKey {
	var s [32]byte
	s[0] = seed
	pk, sk := mldsa65.NewKeyFromSeed(&s)
	pub := pk.Bytes()
	h := sha256.Sum256(pub)
	return &testKey{sk: sk, pub: pub, id: hex.EncodeToString(h[:])}
}

func (k *testKey) SignerID() string { return k.id }

func (k *testKey) Sign(domain string, msg []byte) ([]byte, error) {
	sig := make([]byte, mldsa65.SignatureSize)
	err := mldsa65.SignTo(k.sk, msg, []byte(domain), true, sig)
	return sig, err
}

// testRing verifies against keys with validity windows, like keys.Keyring.
type testRing map[string]struct {
	key       *testKey
	from, end time.Time // end zero: open
}

var errUnknown = errors.New("unknown key")

func (r testRing) Verify(id string, at time.Time, domain string, msg, sig []byte) error {
	e, ok := r[id]
	if !ok {
		return errUnknown
	}
	if at.Before(e.from) || (!e.end.IsZero() && !at.Before(e.end)) {
		return fmt.Errorf("key %s not valid at %s", id[:8], at)
	}
	var pk mldsa65.PublicKey
	if err := pk.UnmarshalBinary(e.key.pub); err != nil {
		return err
	}
	if !mldsa65.Verify(&pk, msg, []byte(domain), sig) {
		return errors.New("bad signature")
	}
	return nil
}

func ringOf(keys ...*testKey) testRing {
	r := testRing{}
	for _, k := range keys {
		r[k.id] = struct {
			key       *testKey
			from, end time.Time
		}{key: k, from: t0.Add(-time.Hour)}
	}
	return r
}

// stepClock advances one minute per reading.
func stepClock() func() time.Time {
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Minute) }
}

func openTest(t testing.TB, k *testKey) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k), Now: stepClock()})
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func queryEvent(i int, role Role) Event {
	e := Event{Partner: "co-migracion", Role: role, Purpose: "border-check", RequestID: fmt.Sprintf("%032x", i), Outcome: OutcomeAnswered, Epoch: 3}
	if role == RoleQuerier {
		e.Decision = []Decision{DecisionHit, DecisionNoHit}[i%2]
	} else {
		e.Decision = DecisionNotKnown
	}
	return e
}

func mustAppend(t testing.TB, w *Writer, k Kind, e Event) Record {
	t.Helper()
	r, err := w.Append(ctx, k, e)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
