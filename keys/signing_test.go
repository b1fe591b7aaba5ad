package keys

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestSigningKeySeedRoundTrip(t *testing.T) {
	k, err := GenerateSigningKey(newDetRand("sk"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := SigningKeyFromSeed(k.Seed())
	if err != nil || !k.Equal(k2) || k.ID() != k2.ID() {
		t.Fatalf("seed round trip: %v", err)
	}
	other, _ := GenerateSigningKey(newDetRand("other"))
	if k.Equal(other) || k.ID() == other.ID() {
		t.Fatal("different seeds gave equal keys")
	}
	sig, err := k.Sign("puente/test/v1", []byte("msg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySig(k.PublicKey(), "puente/test/v1", []byte("msg"), sig); err != nil {
		t.Fatal(err)
	}
	if err := verifySig(k.PublicKey(), "puente/other/v1", []byte("msg"), sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signature verified under another domain: %v", err)
	}
	if _, err := SigningKeyFromSeed([]byte("short")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short seed: %v", err)
	}
	k.Zero()
	if _, err := k.Sign("puente/test/v1", nil); err == nil {
		t.Error("a zeroed key still signs")
	}
}

func TestKeyringRotationOverlapAndRevocation(t *testing.T) {
	k1, _ := GenerateSigningKey(newDetRand("k1"))
	k2, _ := GenerateSigningKey(newDetRand("k2"))
	ring := &Keyring{}
	if err := ring.Rotate("us-cbp", k1.PublicKey(), t0, 0); err != nil {
		t.Fatal(err)
	}
	rot := t0.Add(30 * 24 * time.Hour)
	if err := ring.Rotate("us-cbp", k2.PublicKey(), rot, time.Hour); err != nil {
		t.Fatal(err)
	}
	msg := []byte("record")
	s1, _ := k1.Sign("d", msg)
	s2, _ := k2.Sign("d", msg)
	cases := []struct {
		key  *SigningKey
		sig  []byte
		at   time.Time
		want error
	}{
		{k1, s1, t0.Add(time.Hour), nil},
		{k1, s1, rot.Add(30 * time.Minute), nil},        // inside the overlap
		{k1, s1, rot.Add(2 * time.Hour), ErrNotValidAt}, // after the overlap
		{k1, s1, t0.Add(-time.Second), ErrNotValidAt},   // before its start
		{k2, s2, rot.Add(-time.Minute), ErrNotValidAt},  // new key before its start
		{k2, s2, rot.Add(365 * 24 * time.Hour), nil},    // open-ended
		{k2, s1, rot.Add(time.Minute), ErrBadSignature}, // k1's signature under k2's ID
		{k2, append(s2[:10:10], s2[11:]...), rot, ErrBadSignature},
	}
	for i, c := range cases {
		if err := ring.Verify(c.key.SignerID(), c.at, "d", msg, c.sig); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
	if err := ring.Verify(KeyID{}.String(), t0, "d", msg, s1); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("unknown key: %v", err)
	}
	if cur, ok := ring.Current("us-cbp", rot.Add(time.Minute)); !ok || cur.ID != k2.ID() {
		t.Error("Current after rotation is not the new key")
	}
	revokedAt := rot.Add(10 * 24 * time.Hour)
	if err := ring.Revoke(k2.ID(), revokedAt); err != nil {
		t.Fatal(err)
	}
	if err := ring.Verify(k2.SignerID(), revokedAt.Add(time.Second), "d", msg, s2); !errors.Is(err, ErrNotValidAt) {
		t.Errorf("revoked key after revocation: %v", err)
	}
	if err := ring.Verify(k2.SignerID(), revokedAt.Add(-time.Second), "d", msg, s2); err != nil {
		t.Errorf("revoked key before revocation: %v", err)
	}

	// The JSON form round-trips and is checked.
	b, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeyring(b, "test")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalJSON()
	if !bytes.Equal(b, b2) {
		t.Errorf("keyring did not round-trip:\n%s\n%s", b, b2)
	}
	for what, bad := range map[string][]byte{
		"unknown field": bytes.Replace(b, []byte(`"node"`), []byte(`"colour": 1, "node"`), 1),
		"id mismatch":   bytes.Replace(b, []byte(k1.ID().String()), []byte(k2.ID().String()), 1),
		"wrong format":  bytes.Replace(b, []byte(keyringFormat), []byte("x"), 1),
		"not json":      []byte("{"),
		// read at their offsets they are valid, but in UTC, as MarshalJSON writes them, they are
		// in the years 10000 and -1, which RFC 3339 cannot hold
		"not_after in 10000": bytes.Replace(b, []byte(revokedAt.UTC().Format(time.RFC3339Nano)), []byte("9999-12-31T23:59:59-01:00"), 1),
		"not_before in -1":   bytes.Replace(b, []byte(t0.UTC().Format(time.RFC3339Nano)), []byte("0000-01-01T00:00:00+01:00"), 1),
	} {
		if _, err := ParseKeyring(bad, "test"); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", what, err)
		}
	}
}

func TestSigningKeysInStore(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	now := t0
	var events []Event
	m := &SigningKeys{Store: s, Node: "us-cbp", Rand: newDetRand("m"), Now: func() time.Time { return now },
		Events: func(_ context.Context, e Event) error { events = append(events, e); return nil }}
	if _, err := m.Current(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Current with no key: %v", err)
	}
	k1, err := m.Rotate(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(90 * 24 * time.Hour)
	k2, err := m.Rotate(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := m.Current(ctx)
	if err != nil || !cur.Equal(k2) {
		t.Fatalf("Current after rotation: %v", err)
	}
	if err := m.Revoke(ctx, k1.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, SigningKeyName(k1.ID()), 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked key's seed still stored: %v", err)
	}
	want := []Action{ActSigningKeyCreated, ActSigningKeyRotated, ActSigningKeyRevoked}
	if len(events) != len(want) {
		t.Fatalf("events %+v, want %v", events, want)
	}
	for i, a := range want {
		if events[i].Action != a || events[i].KeyID == "" {
			t.Errorf("event %d: %+v, want %s", i, events[i], a)
		}
	}
	// A failing audit sink surfaces as ErrNotAudited.
	m.Events = func(context.Context, Event) error { return errors.New("disk full") }
	if _, err := m.Rotate(ctx, 0); !errors.Is(err, ErrNotAudited) {
		t.Errorf("rotate with failing sink: %v", err)
	}
}

// TestDestroyExpiredSigningKeys: a replaced key's seed is destroyed once
// its overlap has ended (and at once with no overlap); its public key stays
// in the keyring, so what it signed still verifies.
func TestDestroyExpiredSigningKeys(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	now := t0
	var events []Event
	m := &SigningKeys{Store: s, Node: "us-cbp", Rand: newDetRand("d"), Now: func() time.Time { return now },
		Events: func(_ context.Context, e Event) error { events = append(events, e); return nil }}
	k1, err := m.Rotate(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := k1.Sign("d", []byte("record"))
	now = t0.Add(365 * 24 * time.Hour)
	if _, err := m.Rotate(ctx, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, SigningKeyName(k1.ID()), 0); err != nil {
		t.Fatalf("seed destroyed inside the overlap: %v", err)
	}
	now = now.Add(8 * 24 * time.Hour)
	done, err := m.DestroyExpired(ctx)
	if err != nil || len(done) != 1 || done[0] != k1.ID() {
		t.Fatalf("DestroyExpired: %v %v, want [%s]", done, err, k1.ID())
	}
	if _, err := s.Get(ctx, SigningKeyName(k1.ID()), 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired seed still stored: %v", err)
	}
	if ev := events[len(events)-1]; ev.Action != ActSigningKeyDestroyed || ev.KeyID != k1.ID().String() {
		t.Errorf("last event %+v, want the destruction of %s", ev, k1.ID())
	}
	ring, _, _ := m.Keyring(ctx)
	if err := ring.Verify(k1.SignerID(), t0.Add(time.Hour), "d", []byte("record"), sig); err != nil {
		t.Errorf("a signature by the destroyed key no longer verifies: %v", err)
	}
	if done, err := m.DestroyExpired(ctx); err != nil || len(done) != 0 {
		t.Errorf("second DestroyExpired: %v %v", done, err)
	}
	// With no overlap, the key replaced is destroyed by Rotate itself.
	cur, _ := m.Current(ctx)
	if _, err := m.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, SigningKeyName(cur.ID()), 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("key replaced with no overlap still stored: %v", err)
	}
	if names, _ := s.List(ctx, "sign/key/"); len(names) != 1 {
		t.Errorf("signing seeds left: %v", names)
	}
}
