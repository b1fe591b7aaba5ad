package protect

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testMaterial = bytes.Repeat([]byte{0x42}, 32)

func mustSeed(t testing.TB, s Scheme, epoch uint64) Seed {
	t.Helper()
	seed, err := DeriveSeed(testMaterial, "agreement-1", s, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// seedKAT is HKDF-SHA256 (RFC 5869) of 32 bytes 0x42, salt
// "puente/protect/v1 seed", info u16(11)"agreement-1" u16(11)"polyprotect"
// u64(7), computed with Python's hmac and hashlib, independently of Go.
const seedKAT = "e9e80da884d92b62228b140c4be085b6a2017596d5d32ce92af8393964ad6c26"

// TestDeriveSeedKnownAnswer pins the derivation: a change to the HKDF
// inputs would silently make every partner's templates incomparable.
func TestDeriveSeedKnownAnswer(t *testing.T) {
	s := mustSeed(t, PolyProtect, 7)
	if got := hex.EncodeToString(s.Bytes()); got != seedKAT {
		t.Fatalf("DeriveSeed = %s, want %s", got, seedKAT)
	}
}

func TestDeriveSeedDomainSeparation(t *testing.T) {
	base := mustSeed(t, BioHash, 1)
	others := []struct {
		name string
		mat  []byte
		id   string
		s    Scheme
		e    uint64
	}{
		{"epoch", testMaterial, "agreement-1", BioHash, 2},
		{"scheme", testMaterial, "agreement-1", IndexOfMax, 1},
		{"agreement", testMaterial, "agreement-2", BioHash, 1},
		{"material", bytes.Repeat([]byte{0x43}, 32), "agreement-1", BioHash, 1},
	}
	for _, o := range others {
		s, err := DeriveSeed(o.mat, o.id, o.s, o.e)
		if err != nil {
			t.Fatal(err)
		}
		if s.Equal(&base) {
			t.Errorf("changing the %s gives the same seed", o.name)
		}
	}
	again := mustSeed(t, BioHash, 1)
	if !again.Equal(&base) {
		t.Error("same inputs give different seeds")
	}
}

func TestDeriveSeedRejects(t *testing.T) {
	cases := []struct {
		mat []byte
		id  string
		s   Scheme
	}{
		{testMaterial[:31], "a", BioHash},
		{testMaterial, "", BioHash},
		{testMaterial, string(make([]byte, 257)), BioHash},
		{testMaterial, "a", Scheme(9)},
	}
	for i, c := range cases {
		if _, err := DeriveSeed(c.mat, c.id, c.s, 0); !errors.Is(err, ErrSeed) {
			t.Errorf("case %d: err = %v, want ErrSeed", i, err)
		}
	}
}

func TestSeedZeroAndString(t *testing.T) {
	s := mustSeed(t, BioHash, 1)
	if s.IsZero() {
		t.Fatal("derived seed is zero")
	}
	if got := s.String(); bytes.Contains([]byte(got), s.Bytes()[:4]) || got != "protect.Seed(redacted)" {
		t.Errorf("String() = %q shows the seed", got)
	}
	s.Zero()
	if !s.IsZero() {
		t.Error("Zero left bytes")
	}
}

// TestSeedFormatRedacts: %#v once printed the seed's bytes through the
// struct's fields.
func TestSeedFormatRedacts(t *testing.T) {
	s := mustSeed(t, BioHash, 1)
	b := s.Bytes()
	type holder struct {
		Name string
		Seed Seed
		Ptr  *Seed
	}
	h := holder{"x", s, &s}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%08v"} {
		for _, arg := range []any{s, &s, h, &h, []Seed{s}} {
			got := fmt.Sprintf(f, arg)
			for _, leak := range []string{hex.EncodeToString(b[:4]), strings.ToUpper(hex.EncodeToString(b[:4])), fmt.Sprint(b[0], " ", b[1], " ", b[2]), string(b[:4])} {
				if strings.Contains(got, leak) {
					t.Errorf("Sprintf(%q, %T) = %q shows the seed", f, arg, got)
				}
			}
			if !strings.Contains(got, "redacted") {
				t.Errorf("Sprintf(%q, %T) = %q, want the redaction marker", f, arg, got)
			}
		}
	}
}

func TestSeedRejects(t *testing.T) {
	var s Seed
	if _, err := New(testParams(BioHash), s); !errors.Is(err, ErrSeed) {
		t.Errorf("New with a zeroed seed: err = %v, want ErrSeed", err)
	}
	if _, err := SeedFromBytes(make([]byte, 31)); !errors.Is(err, ErrSeed) {
		t.Errorf("SeedFromBytes(31 bytes): err = %v", err)
	}
}

func TestKeystreamIntnUniform(t *testing.T) {
	s := mustSeed(t, BioHash, 1)
	ks := newKeystream(&s, "test")
	var counts [5]int
	for range 50000 {
		counts[ks.intn(5)]++
	}
	for i, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("intn(5) gave %d %d times in 50000, want about 10000", i, c)
		}
	}
}
