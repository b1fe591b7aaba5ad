package protocol

import (
	"bytes"
	"strings"
	"testing"

	"github.com/puente-id/puente/keys"
)

// samplePending is a valid record of alpha's side of a ceremony with beta.
func samplePending(t testing.TB) *pendingEpoch {
	t.Helper()
	rnd := bytes.NewReader(bytes.Repeat([]byte{7, 1, 9}, 64))
	mine, err := keys.NewContribution(rnd, "alpha", "ab", 3)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := keys.NewContribution(rnd, "beta", "ab", 3)
	if err != nil {
		t.Fatal(err)
	}
	return &pendingEpoch{initiator: true, partner: "beta", id: bytes.Repeat([]byte{5}, ceremonyIDLen), epoch: 3, mine: mine, theirs: theirs}
}

func TestPendingRoundTrip(t *testing.T) {
	t.Parallel()
	pe := samplePending(t)
	b := pe.marshal()
	got, err := parsePending(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.marshal(), b) || !got.initiator || got.partner != "beta" || got.epoch != 3 {
		t.Errorf("record changed in a round trip: %+v", got)
	}
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"role", func(b []byte) []byte { b[4] = 9; return b }, "role 9"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "truncated"},
		{"trailing", func(b []byte) []byte { return append(b, 0) }, "trailing"},
		{"epoch", func(b []byte) []byte { b[5+1+4+1+ceremonyIDLen+7]++; return b }, "do not match"},
	} {
		_, err := parsePending(tc.edit(append([]byte(nil), b...)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParsePending: the decoder of prepared-epoch records never panics, and what it accepts it
// re-encodes to the same bytes.
func FuzzParsePending(f *testing.F) {
	b := samplePending(f).marshal()
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(pendingMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		pe, err := parsePending(b)
		if err != nil {
			return
		}
		if got := pe.marshal(); !bytes.Equal(got, b) {
			t.Errorf("accepted %x, re-encoded as %x", b, got)
		}
	})
}
