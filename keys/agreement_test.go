package keys

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func readKAT(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		kv[k] = v
	}
	return kv
}

func contributionFromHex(t *testing.T, party, agreement string, epoch uint64, h string) *Contribution {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", h)
	}
	c := &Contribution{Party: party, Agreement: agreement, Epoch: epoch}
	copy(c.k.b[:], b)
	return c
}

func TestDeriveAgreementSecretKnownAnswer(t *testing.T) {
	kv := readKAT(t, "testdata/agreement-kat.txt")
	epoch, _ := strconv.ParseUint(kv["epoch"], 10, 64)
	a := contributionFromHex(t, kv["party_a"], kv["agreement"], epoch, kv["contribution_a"])
	b := contributionFromHex(t, kv["party_b"], kv["agreement"], epoch, kv["contribution_b"])
	if c := a.Commitment(); hex.EncodeToString(c[:]) != kv["commitment_a"] {
		t.Errorf("commitment %x, want %s", c, kv["commitment_a"])
	}
	for _, order := range [][2]*Contribution{{a, b}, {b, a}} {
		s, err := DeriveAgreementSecret(order[0], order[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(s.k.b[:]); got != kv["secret"] {
			t.Errorf("secret (mine=%s) %s, want %s", order[0].Party, got, kv["secret"])
		}
		d, err := s.Derive(kv["derive_label"], 32)
		if err != nil || hex.EncodeToString(d) != kv["derived"] {
			t.Errorf("derived %x, want %s", d, kv["derived"])
		}
	}
}

func TestAgreementExchange(t *testing.T) {
	us, co := newTestIdentity(t, false), newTestIdentity(t, false)
	mine, err := NewContribution(newDetRand("us"), "us-cbp", "us-co", 3)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := NewContribution(newDetRand("co"), "co-migracion", "us-co", 3)
	if err != nil {
		t.Fatal(err)
	}
	// Round 1: commitments; round 2: sealed contributions.
	cmMine, cmTheirs := mine.Commitment(), theirs.Commitment()
	toCO, err := mine.Seal(co.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	toUS, err := theirs.Seal(us.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	gotAtUS, err := OpenContribution(toUS, us, "co-migracion", "us-co", 3, cmTheirs)
	if err != nil {
		t.Fatal(err)
	}
	gotAtCO, err := OpenContribution(toCO, co, "us-cbp", "us-co", 3, cmMine)
	if err != nil {
		t.Fatal(err)
	}
	sUS, err := DeriveAgreementSecret(mine, gotAtUS)
	if err != nil {
		t.Fatal(err)
	}
	sCO, err := DeriveAgreementSecret(theirs, gotAtCO)
	if err != nil {
		t.Fatal(err)
	}
	if !sUS.Equal(sCO) {
		t.Fatal("the two parties derived different secrets")
	}

	// Each wrong input is refused with a reason.
	bad := []struct {
		what  string
		err   error
		check func() error
	}{
		{"wrong identity", ErrWrongIdentity, func() error { _, err := OpenContribution(toUS, co, "co-migracion", "us-co", 3, cmTheirs); return err }},
		{"wrong commitment", ErrCorrupt, func() error { _, err := OpenContribution(toUS, us, "co-migracion", "us-co", 3, cmMine); return err }},
		{"wrong epoch", ErrCorrupt, func() error { _, err := OpenContribution(toUS, us, "co-migracion", "us-co", 4, cmTheirs); return err }},
		{"wrong party", ErrCorrupt, func() error { _, err := OpenContribution(toUS, us, "xx", "us-co", 3, cmTheirs); return err }},
		{"garbage", ErrCorrupt, func() error {
			_, err := OpenContribution([]byte("junk"), us, "co-migracion", "us-co", 3, cmTheirs)
			return err
		}},
		{"reflection", ErrCorrupt, func() error {
			echo := &Contribution{Party: "co-migracion", Agreement: "us-co", Epoch: 3, k: mine.k}
			_, err := DeriveAgreementSecret(mine, echo)
			return err
		}},
	}
	for _, b := range bad {
		if err := b.check(); !errors.Is(err, b.err) {
			t.Errorf("%s: %v, want %v", b.what, err, b.err)
		}
	}
	if _, err := NewContribution(zeroRand{}, "us-cbp", "us-co", 1); err == nil {
		t.Error("an all-zero random source was accepted")
	}
	// Different epochs give independent secrets.
	m4, _ := NewContribution(newDetRand("us"), "us-cbp", "us-co", 4)
	t4, _ := NewContribution(newDetRand("co"), "co-migracion", "us-co", 4)
	s4, _ := DeriveAgreementSecret(m4, t4)
	if s4.Equal(sUS) {
		t.Error("epochs 3 and 4 derived the same secret from the same draws")
	}
	sUS.Zero()
	if !sUS.k.isZero() {
		t.Error("Zero left secret bytes")
	}
}

// FuzzParseContribution: what parseContribution accepts is valid and marshals back to the same
// bytes; a contribution drawn from the fuzzer's bytes (a party named by some of them) marshals and
// parses back to itself.
func FuzzParseContribution(f *testing.F) {
	c, _ := NewContribution(newDetRand("f"), "us-cbp", "us-co", 1)
	good := append(append([]byte(contributionMagic), c.header()...), c.k.b[:]...)
	f.Add(good)
	f.Add([]byte(contributionMagic))
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseContribution(b)
		if err == nil {
			if c.k.isZero() || !validSegment(c.Party) {
				t.Fatal("accepted an invalid contribution")
			}
			if !bytes.Equal(c.Marshal(), b) {
				t.Fatal("accepted a contribution that marshals to other bytes")
			}
		}
		party := string(b[:min(len(b), 8)])
		drawn, err := NewContribution(bytes.NewReader(append(b, bytes.Repeat([]byte{1}, 32)...)), party, "us-co", uint64(len(b))+1)
		if err != nil {
			return // not a valid party name
		}
		got, err := parseContribution(drawn.Marshal())
		if err != nil || got.Party != drawn.Party || got.Agreement != drawn.Agreement || got.Epoch != drawn.Epoch || got.k.b != drawn.k.b {
			t.Fatalf("round trip of %q: %+v, %v", party, got, err)
		}
	})
}
