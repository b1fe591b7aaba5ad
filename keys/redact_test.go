package keys

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// renderings returns the forms in which fmt could show secret bytes.
func renderings(secret []byte) []string {
	head := secret[:min(8, len(secret))]
	dec := strings.Trim(fmt.Sprint(head[:min(4, len(head))]), "[]")
	q := strconv.Quote(string(head))
	gs := fmt.Sprintf("%#v", head[:min(4, len(head))]) // []byte{0x1, 0x2, ...}
	gs = gs[strings.Index(gs, "{")+1 : len(gs)-1]
	return []string{gs, hex.EncodeToString(head), strings.ToUpper(hex.EncodeToString(head)), dec,
		string(head), q[1 : len(q)-1], base64.StdEncoding.EncodeToString(secret)[:8]}
}

// TestSecretsDoNotPrint formats every type that holds secret material, by
// pointer and by value, with each verb fmt offers, and checks the secret
// appears in none of the outputs.
func TestSecretsDoNotPrint(t *testing.T) {
	a, _ := NewContribution(newDetRand("a"), "us-cbp", "us-co", 1)
	b, _ := NewContribution(newDetRand("b"), "co-migracion", "us-co", 1)
	sec, err := DeriveAgreementSecret(a, b)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := GenerateSigningKey(newDetRand("k"))
	blob := NewSecret([]byte("hunter2-share-bytes"))
	entry := &Entry{Info: Info{Name: "he/us-co/q/sk", Version: 1}, Data: NewSecret([]byte("entry-share-bytes"))}
	id := newTestIdentity(t, false)
	appRole := VaultAppRole{RoleID: "role-1", SecretID: "approle-secret-id-0042"}
	token := VaultToken("hvs.token-secret-0042")
	cfg := VaultConfig{Address: "https://vault:8200", TransitKey: "k", Auth: appRole}
	cfgTok := VaultConfig{Address: "https://vault:8200", TransitKey: "k", Auth: token}

	cases := []struct {
		what   string
		values []any
		secret []string
	}{
		{"AgreementSecret", []any{sec, *sec}, renderings(sec.k.b[:])},
		{"Contribution", []any{a, *a}, renderings(a.k.b[:])},
		{"Secret", []any{blob, *blob}, renderings(blob.b)},
		{"Entry", []any{entry, *entry}, renderings(entry.Data.b)},
		{"SigningKey", []any{sk, *sk}, renderings(sk.seed.b[:])},
		{"Identity", []any{id, *id}, []string{"AGE-SECRET-KEY", fmt.Sprint(id.id)[20:40]}},
		{"VaultAppRole", []any{appRole, &appRole, cfg, &cfg}, []string{"approle-secret-id-0042"}},
		{"VaultToken", []any{token, &token, cfgTok, &cfgTok}, []string{"hvs.token-secret-0042"}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}
	for _, c := range cases {
		for i, v := range c.values {
			for _, verb := range verbs {
				out := fmt.Sprintf(verb, v)
				for _, s := range c.secret {
					if s != "" && strings.Contains(out, s) {
						t.Errorf("%s (value %d) with %s shows the secret: %s", c.what, i, verb, out)
					}
				}
			}
		}
		if s := fmt.Sprint(c.values[0]); !strings.Contains(s, "REDACTED") {
			t.Errorf("%s prints as %q; want it to say it is redacted", c.what, s)
		}
	}
	// What is not secret still shows, so a log line stays useful.
	if s := fmt.Sprint(sec); !strings.Contains(s, "us-co") || !strings.Contains(s, "1") {
		t.Errorf("agreement secret prints as %q; want its agreement and epoch", s)
	}
	if s := fmt.Sprint(sk); !strings.Contains(s, sk.ID().String()) {
		t.Errorf("signing key prints as %q; want its key ID", s)
	}
	if s := fmt.Sprint(appRole); !strings.Contains(s, "role-1") {
		t.Errorf("AppRole prints as %q; want its role ID", s)
	}
}
