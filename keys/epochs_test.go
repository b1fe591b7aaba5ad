package keys

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func testSecret(t *testing.T, agreement string, epoch uint64) *AgreementSecret {
	t.Helper()
	a, _ := NewContribution(newDetRand("a"), "co-migracion", agreement, epoch)
	b, _ := NewContribution(newDetRand("b"), "us-cbp", agreement, epoch)
	s, err := DeriveAgreementSecret(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEpochLifecycle(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	var acts []Action
	m := &Agreements{Store: s, Now: func() time.Time { return t0 },
		Events: func(_ context.Context, e Event) error { acts = append(acts, e.Action); return nil }}
	s1 := testSecret(t, "us-co", 1)
	if err := m.Begin(ctx, "co-migracion", s1); err != nil {
		t.Fatal(err)
	}
	got, err := m.Secret(ctx, "us-co", 1)
	if err != nil || !got.Equal(s1) {
		t.Fatalf("Secret epoch 1: %v", err)
	}
	if err := m.Retire(ctx, "us-co", 1); !errors.Is(err, ErrState) {
		t.Fatalf("retiring the active epoch: %v, want ErrState", err)
	}
	if err := m.Begin(ctx, "co-migracion", testSecret(t, "us-co", 1)); !errors.Is(err, ErrState) {
		t.Fatalf("beginning epoch 1 twice: %v", err)
	}
	if err := m.Begin(ctx, "other-agency", testSecret(t, "us-co", 2)); err == nil {
		t.Fatal("agreement accepted a different partner")
	}
	if err := m.Begin(ctx, "co-migracion", testSecret(t, "us-co", 2)); err != nil {
		t.Fatal(err)
	}
	if err := m.Revoke(ctx, "us-co", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Secret(ctx, "us-co", 1); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked epoch's secret: %v, want ErrRevoked", err)
	}
	if err := m.Destroy(ctx, "us-co", 1); !errors.Is(err, ErrState) {
		t.Fatalf("destroying before retiring: %v, want ErrState", err)
	}
	if err := m.Retire(ctx, "us-co", 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(ctx, "us-co", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, SeedName("us-co", 1), 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("destroyed seed still in store: %v", err)
	}
	st, _, err := m.State(ctx, "us-co")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := st.Active(); !ok || a.Epoch != 2 {
		t.Errorf("active epoch %+v", a)
	}
	if rl := st.RevocationList(); len(rl) != 1 || rl[0] != 1 {
		t.Errorf("revocation list %v", rl)
	}
	want := []Action{ActEpochBegun, ActEpochBegun, ActEpochRevoked, ActEpochRetired, ActEpochDestroyed}
	if len(acts) != len(want) {
		t.Fatalf("events %v, want %v", acts, want)
	}
	for i := range want {
		if acts[i] != want[i] {
			t.Errorf("event %d: %s, want %s", i, acts[i], want[i])
		}
	}
	ids, err := ListAgreements(ctx, s)
	if err != nil || len(ids) != 1 || ids[0] != "us-co" {
		t.Errorf("ListAgreements: %v %v", ids, err)
	}
}

func TestShares(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	name := ShareName("us-co", "us-to-co")
	if err := PutShare(ctx, s, name, []byte{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	if err := PutShare(ctx, s, name, []byte{4}, nil); !errors.Is(err, ErrCASConflict) {
		t.Fatalf("overwriting a share: %v", err)
	}
	if err := PutShare(ctx, s, "sign/x", []byte{4}, nil); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("share outside he/: %v", err)
	}
	sh, err := GetShare(ctx, s, name)
	if err != nil || !sh.Equal(NewSecret([]byte{1, 2, 3})) {
		t.Fatalf("GetShare: %v", err)
	}
	if err := DestroyShare(ctx, s, name, nil); err != nil {
		t.Fatal(err)
	}
}

// FuzzUnmarshalEnvelope: an accepted entry re-encodes to the same bytes, and an entry built from
// the fuzzer's bytes (as algorithm, custodians and data) decodes back to itself.
func FuzzUnmarshalEnvelope(f *testing.F) {
	env := &envelope{name: "he/a/b/sk", version: 3, created: t0, algorithm: "ckks-secret-share", custodians: []string{"alice"}, data: []byte("xyz")}
	good, _ := env.marshal()
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add([]byte(envelopeMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := unmarshalEnvelope(b); err == nil {
			again, err := e.marshal()
			if err != nil || string(again) != string(b) {
				t.Fatalf("accepted input does not re-encode to itself")
			}
		}
		e := &envelope{name: "he/a/b/sk", version: len(b), created: t0.Add(time.Duration(len(b))), algorithm: string(b[:min(len(b), 16)]), data: b}
		for c := range bytes.SplitSeq(b[:min(len(b), 64)], []byte{0}) {
			e.custodians = append(e.custodians, string(c))
		}
		enc, err := e.marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := unmarshalEnvelope(enc)
		if err != nil || got.name != e.name || got.version != e.version || !got.created.Equal(e.created) ||
			got.algorithm != e.algorithm || strings.Join(got.custodians, "\x00") != strings.Join(e.custodians, "\x00") ||
			len(got.custodians) != len(e.custodians) || !bytes.Equal(got.data, e.data) {
			t.Fatalf("round trip: %+v, %v; want %+v", got, err, e)
		}
	})
}

// TestBeginAfterCrash: a crash between Begin's two writes leaves the seed
// stored and the state not naming it. Beginning the same epoch again with
// the same secret adopts the seed; a different secret is refused and
// nothing changes.
func TestBeginAfterCrash(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	sec := testSecret(t, "us-co", 1)
	if _, err := s.Put(ctx, SeedName("us-co", 1), sec.k.b[:], PutOptions{Algorithm: AlgHKDFSHA256}); err != nil {
		t.Fatal(err)
	}
	m := &Agreements{Store: s, Now: func() time.Time { return t0 }}

	other, _ := NewContribution(newDetRand("c"), "us-cbp", "us-co", 1)
	mine, _ := NewContribution(newDetRand("a"), "co-migracion", "us-co", 1)
	different, err := DeriveAgreementSecret(mine, other)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Begin(ctx, "co-migracion", different)
	if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), SeedName("us-co", 1)) {
		t.Fatalf("Begin with a different secret over an orphan seed: %v, want ErrState naming the seed", err)
	}
	if _, _, err := m.State(ctx, "us-co"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused Begin wrote the state: %v", err)
	}

	if err := m.Begin(ctx, "co-migracion", sec); err != nil {
		t.Fatalf("Begin after a crash: %v", err)
	}
	got, err := m.Secret(ctx, "us-co", 1)
	if err != nil || !got.Equal(sec) {
		t.Fatalf("Secret after adopting the seed: %v", err)
	}
	if e, _ := s.Get(ctx, SeedName("us-co", 1), 0); e == nil || e.Version != 1 {
		t.Errorf("the seed was rewritten: %+v", e)
	}
}
