package home

import (
	"time"

	"github.com/puente-id/puente/shard"
)

// ShardsConfig names the node's shards (a shards { } block in puente.hcl): the responder's
// gallery is then held and scored by `puente shard` workers, and the node keeps its records,
// its keys and the final step of every answer. Either a static list or a DNS pattern with "{i}"
// (a Kubernetes StatefulSet's pods under its headless Service) and a count:
//
//	shards {
//	  dns     = "puente-shard-{i}.puente-shard.puente.svc.cluster.local:7443"
//	  count   = 4
//	  timeout = "60s"
//	  tls { cert = "/etc/puente/shards/tls.crt"  key = "/etc/puente/shards/tls.key"  ca = "/etc/puente/shards/ca.crt" }
//	}
type ShardsConfig struct {
	Addresses []string
	DNS       string
	Count     int
	Timeout   time.Duration // each shard's deadline for one count; default 60s
	TLS       shard.TLSFiles
	Line      int
}

func (c *Config) parseShards(top *hclFields) {
	it := top.items["shards"]
	if it == nil {
		return
	}
	body, ok := top.block(it)
	if !ok {
		return
	}
	f, _ := newFields(top.file, it.Pos().Line, body, []string{"addresses", "dns", "count", "timeout", "tls"}, nil, top.err)
	s := &ShardsConfig{Addresses: f.strs("addresses", false), DNS: f.str("dns", false), Timeout: 60 * time.Second, Line: it.Pos().Line}
	if f.items["count"] != nil {
		s.Count = f.integer("count", false, 1, 128)
	}
	if t := f.str("timeout", false); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d < time.Second || d > time.Hour {
			f.errorf(f.items["timeout"].Pos(), "timeout %q: want a duration from 1s to 1h", t)
		}
		s.Timeout = d
	}
	if tt := f.items["tls"]; tt == nil {
		f.errorf(it.Pos(), "shards: required block tls { cert = ... key = ... ca = ... } is missing")
	} else if tb, ok := f.block(tt); ok {
		tf, _ := newFields(top.file, tt.Pos().Line, tb, []string{"cert", "key", "ca"}, nil, top.err)
		s.TLS = shard.TLSFiles{Cert: c.Path(tf.str("cert", true)), Key: c.Path(tf.str("key", true)), CA: c.Path(tf.str("ca", true))}
	}
	if _, err := shard.Targets(s.Addresses, s.DNS, s.Count); err != nil {
		f.errorf(it.Pos(), "shards: %v", err)
	}
	c.Shards = s
}
