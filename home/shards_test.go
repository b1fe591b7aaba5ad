package home

import (
	"strings"
	"testing"
	"time"
)

func TestParseShards(t *testing.T) {
	t.Parallel()
	good := goodConfig + `
shards {
  dns     = "puente-shard-{i}.puente-shard.puente.svc.cluster.local:7443"
  count   = 4
  timeout = "90s"
  tls { cert = "shards/tls.crt"  key = "shards/tls.key"  ca = "/etc/puente/shards/ca.crt" }
}
`
	c, err := ParseConfig([]byte(good), "/etc/puente/puente.hcl")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shards
	if s == nil || s.Count != 4 || s.Timeout != 90*time.Second || s.TLS.Cert != "/etc/puente/shards/tls.crt" || s.TLS.CA != "/etc/puente/shards/ca.crt" {
		t.Fatalf("shards: %+v", s)
	}
	if c2, err := ParseConfig([]byte(goodConfig), "x.hcl"); err != nil || c2.Shards != nil {
		t.Errorf("no shards block: %+v, %v", c2.Shards, err)
	}
	tlsBlock := `tls { cert = "a"  key = "b"  ca = "c" }`
	for name, body := range map[string]string{
		"both a list and a pattern": `addresses = ["127.0.0.1:1"]  dns = "s-{i}:1"  count = 2  ` + tlsBlock,
		"neither":                   tlsBlock,
		"pattern without {i}":       `dns = "s:1"  count = 2  ` + tlsBlock,
		"pattern without count":     `dns = "s-{i}:1"  ` + tlsBlock,
		"address twice":             `addresses = ["a:1", "a:1"]  ` + tlsBlock,
		"no tls":                    `addresses = ["a:1"]`,
		"bad timeout":               `addresses = ["a:1"]  timeout = "2h"  ` + tlsBlock,
		"unknown field":             `addresses = ["a:1"]  replicas = 3  ` + tlsBlock,
		"count too large":           `dns = "s-{i}:1"  count = 1000  ` + tlsBlock,
	} {
		if _, err := ParseConfig([]byte(goodConfig+"\nshards {\n"+body+"\n}\n"), "x.hcl"); err == nil || !strings.Contains(err.Error(), "x.hcl") {
			t.Errorf("%s: got %v, want an error naming the file", name, err)
		}
	}
}
