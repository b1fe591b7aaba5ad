package home

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/puente-id/puente/he"
)

const goodConfig = `
node = "us-cbp"
listen = "127.0.0.1:7443"
metrics_listen = "127.0.0.1:9464"
replay_window = "10m"
max_concurrent_queries = 2
tls {
  cert = "tls/node.crt"
  key  = "tls/node.key"
}
key_store {
  type = "file"
  path = "keys"
}
policy      = "policy.hcl"
gallery_dir = "gallery"
partner "co-migracion" {
  agreement = "us-co"
  address   = "127.0.0.1:7444"
  card      = "partners/co.json"
  purposes  = ["border-screening", "asylum"]
  he_params = "puente-ckks-n15-v2"
  threshold = 0.9234
  transform {
    scheme    = "polyprotect"
    input_dim = 128
    order     = 5
    overlap   = 4
    scale     = 1
  }
}
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(goodConfig), "/etc/puente/puente.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Partner("co-migracion")
	switch {
	case !ok || p.Agreement != "us-co" || len(p.Purposes) != 2 || p.Threshold != 0.9234:
		t.Errorf("partner: %+v", p)
	case p.Transform.OutputDim() != 124:
		t.Errorf("transform output dim %d, want 124", p.Transform.OutputDim())
	case c.ReplayWindow.Minutes() != 10 || c.MaxConcurrent != 2 || c.TestNode:
		t.Errorf("config: %+v", c)
	case c.Path(c.TLSCert) != "/etc/puente/tls/node.crt" || c.Path(c.AdminSocket) != "/etc/puente/run/admin.sock":
		t.Errorf("relative paths: %s %s", c.Path(c.TLSCert), c.Path(c.AdminSocket))
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ edit, want string }{
		{"\nport = 3\n", `:33: unknown field "port"`},
		{"listen = \"x:1\"\n", "already set"},
		{"test_node = \"yes\"\n", "test_node must be true or false"},
		{"replay_window = \"2d\"\n", "replay_window"},
		{"partner \"co-migracion\" {\n agreement = \"x\"\n}\n", `partner "co-migracion" is defined twice`},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(goodConfig+tt.edit), "c.hcl")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.hcl:") {
			t.Errorf("%q: %v, want an error naming the file and line and %q", tt.edit, err, tt.want)
		}
	}
	insecureWant := "not in this build" // the default build refuses INSECURE sets by name
	if he.TestParamsEnabled() {
		insecureWant = "only a node with test_node = true"
	}
	replace := []struct{ old, new, want string }{
		{`he_params = "puente-ckks-n15-v2"`, `he_params = "INSECURE-test-n12"`, insecureWant},
		{`he_params = "puente-ckks-n15-v2"`, `he_params = "toy"`, "unknown HE parameter set"},
		{`threshold = 0.9234`, `threshold = 1.5`, "threshold = 1.5"},
		{`order     = 5`, `order     = 200`, "transform"},
		{`scheme    = "polyprotect"`, `scheme    = "rot13"`, "unknown scheme"},
		{`purposes  = ["border-screening", "asylum"]`, `purposes  = ["Border Screening"]`, "purpose"},
		{`purposes  = ["border-screening", "asylum"]`, `purposes  = ["a", "a"]`, "distinct"},
		{`node = "us-cbp"`, `node = "US CBP"`, "node name"},
		{`  card      = "partners/co.json"` + "\n", "", "required field card is missing"},
		{`type = "file"`, `type = "s3"`, `key_store type "s3"`},
		{`max_concurrent_queries = 2`, `max_concurrent_queries = 0`, "max_concurrent_queries = 0"},
	}
	for _, tt := range replace {
		src := strings.Replace(goodConfig, tt.old, tt.new, 1)
		_, err := ParseConfig([]byte(src), "c.hcl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q -> %q: %v, want %q", tt.old, tt.new, err, tt.want)
		}
	}
	if _, err := ParseConfig([]byte("node = {{{"), "c.hcl"); err == nil {
		t.Error("unparsable file accepted")
	}
}

func TestInitHomeConfigLoads(t *testing.T) {
	home := filepath.Join(t.TempDir(), "n")
	card, err := InitHome(context.Background(), home, InitOptions{Node: "us-cbp", TestNode: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(filepath.Join(home, "puente.hcl")); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCard(filepath.Join(home, "card.json"))
	if err != nil || got.Pin != card.Pin || got.Recipient != card.Recipient {
		t.Fatalf("card round trip: %v", err)
	}
	pin, err := CertPin(filepath.Join(home, "tls", "node.crt"))
	if err != nil || pin != card.Pin {
		t.Errorf("certificate pin %s, card %s (%v)", pin, card.Pin, err)
	}
	if _, err := InitHome(context.Background(), home, InitOptions{Node: "us-cbp"}); err == nil {
		t.Error("InitHome over an existing node succeeded")
	}
	csrHome := filepath.Join(t.TempDir(), "csr")
	if _, err := InitHome(context.Background(), csrHome, InitOptions{Node: "co", CSR: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(csrHome, "tls", "node.csr")); err != nil {
		t.Errorf("no certificate request: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("node = \"a\"\npartner \"b\" { transform { } }"))
	f.Add([]byte("tls = 3\nkey_store = [1]\npartner = 5"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseConfig(src, "fuzz.hcl")
		if err == nil && (c.Node == "" || c.Listen == "") {
			t.Fatalf("accepted a configuration without node or listen")
		}
	})
}

func TestParseCard(t *testing.T) {
	home := filepath.Join(t.TempDir(), "n")
	if _, err := InitHome(context.Background(), home, InitOptions{Node: "alpha"}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(home, "card.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ old, new, want string }{
		{`"node": "alpha"`, `"node": "beta"`, "belongs to"},
		{`"format": "puente-node-card/v1"`, `"format": "v0"`, "format"},
		{`"recipient": "age1`, `"recipient": "xge1`, "recipient"},
		{`"tls_spki_sha256": "`, `"tls_spki_sha256": "zz`, "tls_spki_sha256"},
		{`"node": "alpha"`, `"node": "alpha", "extra": 1`, "unknown field"},
	} {
		src := strings.Replace(string(good), tt.old, tt.new, 1)
		if _, err := ParseCard([]byte(src), "card.json"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s -> %s: %v, want %q", tt.old, tt.new, err, tt.want)
		}
	}
}

func FuzzParseCard(f *testing.F) {
	f.Add([]byte(`{"format":"puente-node-card/v1","node":"a","recipient":"age1x","tls_spki_sha256":"00","keyring":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCard(b, "fuzz")
		if err == nil && (c.Keyring == nil || len(c.Keyring.Entries()) == 0) {
			t.Fatal("accepted a card without keys")
		}
	})
}
