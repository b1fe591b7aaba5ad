package home

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/puente-id/puente/he"
)

const goodConfig = `
node = "us-cbp"
listen = "127.0.0.1:7443"
metrics_listen = "127.0.0.1:9464"
replay_window = "10m"
max_concurrent_queries = 2
gallery_memory_budget = 4294967296
batch_memory_budget = 1073741824
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
	case c.ReplayWindow.Minutes() != 10 || c.MaxConcurrent != 2 || c.GalleryMemoryBudget != 4<<30 || c.BatchMemoryBudget != 1<<30 || c.TestNode:
		t.Errorf("config: %+v", c)
	case c.Path(c.TLSCert) != "/etc/puente/tls/node.crt" || c.Path(c.AdminSocket) != "/etc/puente/run/admin.sock":
		t.Errorf("relative paths: %s %s", c.Path(c.TLSCert), c.Path(c.AdminSocket))
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ edit, want string }{
		{"\nport = 3\n", `:35: unknown field "port"`},
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
		{`gallery_memory_budget = 4294967296`, `gallery_memory_budget = -2`, "gallery_memory_budget = -2"},
		{`gallery_memory_budget = 4294967296`, `gallery_memory_budget = 1.5`, "gallery_memory_budget must be a whole number"},
		{`gallery_memory_budget = 4294967296`, `gallery_memory_budget = "4GiB"`, "gallery_memory_budget must be a number"},
		{`gallery_memory_budget = 4294967296`, `gallery_memory_budget = 17592186044417`, "gallery_memory_budget = 17592186044417"},
		{`batch_memory_budget = 1073741824`, `batch_memory_budget = -1`, "batch_memory_budget = -1"},
		{`batch_memory_budget = 1073741824`, `batch_memory_budget = "2GiB"`, "batch_memory_budget must be a number"},
	}
	for _, tt := range replace {
		src := strings.Replace(goodConfig, tt.old, tt.new, 1)
		_, err := ParseConfig([]byte(src), "c.hcl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q -> %q: %v, want %q", tt.old, tt.new, err, tt.want)
		}
	}
	// puente-ckks-n15-v3 serves thresholds from its MinTau (0.9233) only.
	v3 := strings.Replace(goodConfig, `he_params = "puente-ckks-n15-v2"`, `he_params = "puente-ckks-n15-v3"`, 1)
	if _, err := ParseConfig([]byte(v3), "c.hcl"); err != nil {
		t.Errorf("puente-ckks-n15-v3 at threshold 0.9234: %v", err)
	}
	low := strings.Replace(v3, `threshold = 0.9234`, `threshold = 0.9`, 1)
	if _, err := ParseConfig([]byte(low), "c.hcl"); err == nil || !strings.Contains(err.Error(), "threshold 0.9 is below 0.9233") {
		t.Errorf("puente-ckks-n15-v3 at threshold 0.9: %v, want a refusal naming the lowest threshold it serves", err)
	}
	if _, err := ParseConfig([]byte("node = {{{"), "c.hcl"); err == nil {
		t.Error("unparsable file accepted")
	}
}

// TestParseConfigGalleryMemoryBudget: gallery_memory_budget is -1 (every block in NTT form)
// when absent, and takes every whole number from -1 to 1<<44.
func TestParseConfigGalleryMemoryBudget(t *testing.T) {
	for _, tt := range []struct {
		line string
		want int64
	}{
		{"", -1},
		{"gallery_memory_budget = -1", -1},
		{"gallery_memory_budget = 0", 0},
		{"gallery_memory_budget = 603979776", 576 << 20},
		{"gallery_memory_budget = 17592186044416", 1 << 44},
	} {
		src := strings.Replace(goodConfig, "gallery_memory_budget = 4294967296", tt.line, 1)
		c, err := ParseConfig([]byte(src), "c.hcl")
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
		} else if c.GalleryMemoryBudget != tt.want {
			t.Errorf("%q: budget %d, want %d", tt.line, c.GalleryMemoryBudget, tt.want)
		}
	}
}

func TestInitHomeConfigLoads(t *testing.T) {
	home := filepath.Join(t.TempDir(), "n")
	card, err := InitHome(context.Background(), home, InitOptions{Node: "us-cbp", TestNode: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(filepath.Join(home, "puente.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if c.GalleryMemoryBudget != -1 {
		t.Errorf("the template's gallery_memory_budget is %d, want the default -1", c.GalleryMemoryBudget)
	}
	if c.BatchMemoryBudget != DefaultBatchMemoryBudget {
		t.Errorf("the template's batch_memory_budget is %d, want the default %d", c.BatchMemoryBudget, DefaultBatchMemoryBudget)
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

// FuzzParseConfig checks what holds of puente.hcl by design; there is no encoder for it, so no
// full round trip. Parsing is deterministic (two parses of the same bytes give equal
// configurations, or the same error). Every path of an accepted configuration resolves (Path)
// to an absolute path when the file's own path is absolute, and every path the node needs is
// set. And the fields the template of puente init writes (defaultConfig: node, listen,
// metrics_listen, test_node) come back unchanged when written with that template and parsed.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(defaultConfig(InitOptions{Node: "us-cbp", Listen: "0.0.0.0:7443", MetricsListen: "127.0.0.1:9464", TestNode: true})))
	f.Add([]byte(goodConfig + "shards {\n addresses = [\"s0:7443\"]\n tls {\n cert = \"s.crt\"\n key = \"/k/s.key\"\n ca = \"../ca.crt\"\n }\n}\n"))
	f.Add([]byte("node = \"a\"\npartner \"b\" { transform { } }"))
	f.Add([]byte("tls = 3\nkey_store = [1]\npartner = 5"))
	// A listen address with "${" in it, which the template once wrote so that it did not parse.
	f.Add([]byte("node = \"a\"\nlisten = \"$\\x7b\\\"\"\ntls {\n cert = \"c\"\n key = \"k\"\n}\npolicy = \"p\"\ngallery_dir = \"g\"\n"))
	const file = "/etc/puente/puente.hcl"
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseConfig(src, file)
		c2, err2 := ParseConfig(src, file)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || !reflect.DeepEqual(c, c2) {
			t.Fatalf("two parses differ: %v, then %v", err, err2)
		}
		if err != nil {
			return
		}
		if c.Node == "" || c.Listen == "" {
			t.Fatalf("accepted a configuration without node or listen")
		}
		checkConfigPaths(t, c)
		o := InitOptions{Node: c.Node, Listen: c.Listen, MetricsListen: c.MetricsListen, TestNode: c.TestNode}
		d, err := ParseConfig([]byte(defaultConfig(o)), file)
		if err != nil {
			t.Fatalf("the template does not write node %q listen %q metrics_listen %q test_node %v back: %v", c.Node, c.Listen, c.MetricsListen, c.TestNode, err)
		}
		if got := (InitOptions{Node: d.Node, Listen: d.Listen, MetricsListen: d.MetricsListen, TestNode: d.TestNode}); !reflect.DeepEqual(got, o) {
			t.Fatalf("written with the template and parsed again: %+v, want %+v", got, o)
		}
	})
}

// checkConfigPaths fails the test unless every path of c that the node opens is set (required,
// or defaulted by the parser) and resolves to an absolute path, and every optional path that is
// set does too. c was read from an absolute file name.
func checkConfigPaths(t *testing.T, c *Config) {
	t.Helper()
	set := map[string]string{"admin_socket": c.AdminSocket, "tls cert": c.TLSCert, "tls key": c.TLSKey, "identity": c.Identity,
		"policy": c.Policy, "gallery_dir": c.GalleryDir, "audit_log": c.AuditLog, "state_file": c.StateFile, "key_store path": c.KeyStore.Path}
	optional := map[string]string{"key_store token_file": c.KeyStore.TokenFile}
	for _, p := range c.Partners {
		set["partner "+p.Name+" card"] = p.Card
		optional["partner "+p.Name+" tls_ca"] = p.TLSCA
	}
	for name, p := range set {
		if p == "" {
			t.Errorf("%s is not set", name)
		}
	}
	maps.Copy(optional, set)
	for name, p := range optional {
		if p != "" && !filepath.IsAbs(c.Path(p)) {
			t.Errorf("%s %q resolves to %q, not an absolute path", name, p, c.Path(p))
		}
	}
	if s := c.Shards; s != nil {
		for _, p := range []string{s.TLS.Cert, s.TLS.Key, s.TLS.CA} { // the parser resolves these
			if !filepath.IsAbs(p) {
				t.Errorf("shards tls path %q is not absolute", p)
			}
		}
	}
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

// FuzzParseCard: a card that parses has keys, and it survives the writer: MarshalJSON (what
// WriteCard writes) parses again to an equal card (cardDiff), and the encoding is stable, the
// encoding of the re-parsed card being byte for byte the first.
func FuzzParseCard(f *testing.F) {
	for _, b := range cardSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"format":"puente-node-card/v1","node":"a","recipient":"age1x","tls_spki_sha256":"00","keyring":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCard(b, "fuzz")
		if err != nil {
			return
		}
		if c.Keyring == nil || len(c.Keyring.Entries()) == 0 {
			t.Fatal("accepted a card without keys")
		}
		enc, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("a parsed card does not encode: %v", err)
		}
		c2, err := ParseCard(enc, "re-encoded")
		if err != nil {
			t.Fatalf("the encoding of a parsed card does not parse: %v\n%s", err, enc)
		}
		if d := cardDiff(c, c2); d != "" {
			t.Fatalf("encoding and parsing again changed the card: %s\n%s", d, enc)
		}
		enc2, err := c2.MarshalJSON()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("the encoding is not stable (%v):\n%s\nthen\n%s", err, enc, enc2)
		}
	})
}

// cardSeeds returns a fresh node's card as puente init writes it, the same card after a
// rotation and the revocation of the first key (entries with not_after and revoked), that card
// with its first time written at another offset than UTC, and a regression input.
func cardSeeds(f *testing.F) [][]byte {
	home := filepath.Join(f.TempDir(), "n")
	if _, err := InitHome(context.Background(), home, InitOptions{Node: "alpha"}); err != nil {
		f.Fatal(err)
	}
	fresh, err := os.ReadFile(filepath.Join(home, "card.json"))
	if err != nil {
		f.Fatal(err)
	}
	c, err := ParseCard(fresh, "card.json")
	if err != nil {
		f.Fatal(err)
	}
	first := c.Keyring.Entries()[0]
	pub, _ := mldsa65.NewKeyFromSeed(&[mldsa65.SeedSize]byte{1})
	at := first.NotBefore.Add(time.Hour)
	if err := c.Keyring.Rotate(c.Node, pub.Bytes(), at, time.Minute); err != nil {
		f.Fatal(err)
	}
	if err := c.Keyring.Revoke(first.ID, at); err != nil {
		f.Fatal(err)
	}
	rotated, err := c.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	offset := bytes.Replace(rotated, []byte(`Z"`), []byte(`+05:30"`), 1)
	// A time in the year 10000 in UTC, which the keyring once accepted and wrote so that it did
	// not parse.
	late := regexp.MustCompile(`"not_before": "[^"]*"`).ReplaceAll(fresh, []byte(`"not_before": "9999-12-31T23:59:59-01:00"`))
	return [][]byte{fresh, rotated, offset, late}
}

// cardDiff describes how two cards differ, or returns "". The keyring writes its times in UTC,
// so times are equal when they are the same instant: one read at another offset comes back in
// another time.Location.
func cardDiff(a, b *Card) string {
	if a.Node != b.Node || a.Recipient != b.Recipient || a.Pin != b.Pin {
		return fmt.Sprintf("node, recipient or pin: %s %s %s, then %s %s %s", a.Node, a.Recipient, a.Pin, b.Node, b.Recipient, b.Pin)
	}
	ea, eb := a.Keyring.Entries(), b.Keyring.Entries()
	if len(ea) != len(eb) {
		return fmt.Sprintf("%d keyring entries, then %d", len(ea), len(eb))
	}
	for i := range ea {
		x, y := ea[i], eb[i]
		if x.ID != y.ID || x.Node != y.Node || !bytes.Equal(x.PublicKey, y.PublicKey) ||
			!x.NotBefore.Equal(y.NotBefore) || !x.NotAfter.Equal(y.NotAfter) || x.Revoked != y.Revoked {
			return fmt.Sprintf("keyring entry %d: %s %s [%v, %v) revoked %v, then %s %s [%v, %v) revoked %v", i,
				x.ID, x.Node, x.NotBefore, x.NotAfter, x.Revoked, y.ID, y.Node, y.NotBefore, y.NotAfter, y.Revoked)
		}
	}
	return ""
}
