package home

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protect"
)

// Config is a node's configuration file (puente.hcl in the node's home), in HCL version 1 like
// the key policy and read as strictly: every field from a fixed schema, an unknown, repeated or
// mistyped field is an error naming the file and line. Relative paths are relative to the
// directory of the file. An example, as `puente init` writes it:
//
//	node           = "us-cbp"
//	listen         = "0.0.0.0:7443"
//	metrics_listen = "127.0.0.1:9464"
//	tls { cert = "tls/node.crt"  key = "tls/node.key" }
//	key_store { type = "file"  path = "keys" }
//	policy      = "policy.hcl"
//	gallery_dir = "gallery"
//	# gallery_memory_budget = -1
//	# batch_memory_budget   = 2147483648
//	partner "co-migracion" {
//	  agreement = "us-co"
//	  address   = "puente.migracion.example:7443"
//	  card      = "partners/co-migracion.card.json"
//	  purposes  = ["border-screening"]
//	  he_params = "puente-ckks-n15-v2"
//	  threshold = 0.9234
//	  transform { scheme = "polyprotect"  input_dim = 128  order = 5  overlap = 4  scale = 1 }
//	}
type Config struct {
	File string // the file it was read from
	Dir  string // the directory relative paths start from

	Node string
	// TestNode must be true for a partner to use an INSECURE test parameter set; serve refuses
	// such a set otherwise.
	TestNode      bool
	Listen        string
	MetricsListen string // empty: no metrics endpoint
	AdminSocket   string // the local operator socket; default run/admin.sock
	TLSCert       string
	TLSKey        string
	KeyStore      KeyStoreConfig
	Identity      string // the node's age identity file; default identity.age
	Policy        string
	GalleryDir    string
	AuditLog      string // default audit.log
	StateFile     string // replay and quota state; default state.db
	// ReplayWindow is how far a request's timestamp may be from this node's clock; default 5m.
	ReplayWindow time.Duration
	// MaxConcurrent bounds the encrypted evaluations run at once (each holds large buffers);
	// default 1. Further queries wait, within their deadline.
	MaxConcurrent int
	// GalleryMemoryBudget bounds the bytes of each partner gallery's plaintexts kept ready in NTT
	// form (he.PackOptions.MemoryBudget): -1, the default, keeps every block; 0 keeps none. A
	// gallery is always held as compact coefficients too, and a block beyond the budget is
	// converted during each search instead: about 608 MiB (v2; 544 MiB on v3) saved for about
	// 1.1 to 1.7 CPU-s per search per block of 32,768 entries at m = 128 (docs/performance.md).
	// Unused when shards score the gallery (they have puente shard -memory-budget). ParseConfig
	// sets the default; a Config made otherwise must set it too, since 0 converts every block on
	// every search.
	GalleryMemoryBudget int64
	// BatchMemoryBudget bounds the bytes that Search calls of one partner, waiting for an
	// evaluation slot, may hold together when they are answered in one batch
	// (he.Responder.RespondBatch), which converts each block beyond GalleryMemoryBudget once for
	// the batch instead of once per query. Each query of a batch holds its baby steps until every
	// block is scored (he.Gallery.BatchQueryBytes: 0.3 GiB for 100,000 entries at m = 128, 0.6 GiB
	// for 1,000,000), so a batch takes at most BatchMemoryBudget / that many queries, and at most
	// he.MaxBatch. 0 answers every query alone; ParseConfig's default is DefaultBatchMemoryBudget.
	// A gallery with every block in NTT form shares nothing, and its queries are answered alone
	// whatever the budget. Unused when shards score the gallery.
	BatchMemoryBudget int64
	Partners          []PartnerConfig
	// Shards, when set, names the shards that hold and score the node's galleries (see ShardsConfig).
	Shards *ShardsConfig
}

// KeyStoreConfig selects the key store: the embedded file store or Vault.
type KeyStoreConfig struct {
	Type        string // "file" or "vault"
	Path        string // file store directory
	Address     string // Vault
	Mount       string
	Prefix      string
	TransitKey  string
	TokenFile   string // file holding a Vault token; else $VAULT_TOKEN
	Custodians  []string
	TransitPath string
}

// PartnerConfig is one partner agency and the agreement with it.
type PartnerConfig struct {
	Name      string
	Agreement string
	Address   string // host:port of the partner's node
	Card      string // the partner's node card (see Card)
	TLSCA     string // optional: accept a certificate from this CA naming the partner, besides the card's pin
	// ClassicalKeyExchange lets this partner's TLS connections use the classical X25519 key
	// exchange instead of the hybrid post-quantum X25519MLKEM768 that every other connection
	// must use (tls_classical_key_exchange = true). Each such connection is audited.
	ClassicalKeyExchange bool
	Purposes             []string
	HEParams             string  // he parameter-set name
	Threshold            float64 // tau: a score at or above it is a hit
	Transform            protect.Params
	Line                 int
}

// Partner returns the named partner's configuration.
func (c *Config) Partner(name string) (*PartnerConfig, bool) {
	for i := range c.Partners {
		if c.Partners[i].Name == name {
			return &c.Partners[i], true
		}
	}
	return nil, false
}

// Path resolves a path from the file against the file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// maxConfigSize bounds a configuration file.
const maxConfigSize = 1 << 20

// DefaultBatchMemoryBudget is batch_memory_budget's default: 2 GiB, six queries of a gallery of
// 100,000 entries at m = 128 in one batch, three of 1,000,000.
const DefaultBatchMemoryBudget = 2 << 30

// maxGalleryMemoryBudget bounds gallery_memory_budget: 16 TiB, far beyond any machine's memory
// and exactly representable as the float64 the parser reads numbers as.
const maxGalleryMemoryBudget = 1 << 44

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("protocol: config: %w", err)
	}
	return ParseConfig(src, path)
}

// ParseConfig parses and checks a configuration; file names it in errors ("protocol: config
// FILE:LINE: what was wrong").
func ParseConfig(src []byte, file string) (*Config, error) {
	if len(src) > maxConfigSize {
		return nil, fmt.Errorf("protocol: config %s: larger than %d bytes", file, maxConfigSize)
	}
	list, err := parseHCL(src, file)
	if err != nil {
		return nil, err
	}
	c := &Config{File: file, Dir: filepath.Dir(file)}
	var perr error
	top, blocks := newFields(file, 1, list.Items, []string{"node", "test_node", "listen", "metrics_listen", "admin_socket",
		"tls", "key_store", "identity", "policy", "gallery_dir", "audit_log", "state_file", "replay_window", "max_concurrent_queries",
		"gallery_memory_budget", "batch_memory_budget", "shards"},
		[]string{"partner"}, &perr)
	c.Node = top.str("node", true)
	c.TestNode = top.boolean("test_node")
	c.Listen = top.str("listen", true)
	c.MetricsListen = top.str("metrics_listen", false)
	c.AdminSocket = orDefault(top.str("admin_socket", false), defaultAdminSocket)
	c.Identity = orDefault(top.str("identity", false), defaultIdentityFile)
	c.Policy = top.str("policy", true)
	c.GalleryDir = top.str("gallery_dir", true)
	c.AuditLog = orDefault(top.str("audit_log", false), defaultAuditLogFile)
	c.StateFile = orDefault(top.str("state_file", false), defaultStateFile)
	c.ReplayWindow = 5 * time.Minute
	if s := top.str("replay_window", false); s != "" {
		p, err := policy.ParsePeriod(s)
		if err != nil || p.D < time.Minute || p.D > time.Hour {
			top.errorf(top.items["replay_window"].Pos(), "replay_window %q: want a period from 1m to 60m", s)
		}
		c.ReplayWindow = p.D
	}
	c.MaxConcurrent = 1
	if top.items["max_concurrent_queries"] != nil {
		c.MaxConcurrent = top.integer("max_concurrent_queries", false, 1, 64)
	}
	c.GalleryMemoryBudget = -1
	if top.items["gallery_memory_budget"] != nil {
		c.GalleryMemoryBudget = int64(top.integer("gallery_memory_budget", false, -1, maxGalleryMemoryBudget))
	}
	c.BatchMemoryBudget = DefaultBatchMemoryBudget
	if top.items["batch_memory_budget"] != nil {
		c.BatchMemoryBudget = int64(top.integer("batch_memory_budget", false, 0, maxGalleryMemoryBudget))
	}
	c.parseTLS(top)
	c.parseKeyStore(top)
	c.parseShards(top)
	seen := map[string]bool{}
	for _, it := range blocks {
		c.parsePartner(top, it, seen)
	}
	if perr == nil {
		perr = c.check()
	}
	if perr != nil {
		return nil, perr
	}
	return c, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *Config) parseTLS(top *hclFields) {
	it := top.items["tls"]
	if it == nil {
		top.errorf(token.Pos{}, "required block tls { cert = ... key = ... } is missing")
		return
	}
	if body, ok := top.block(it); ok {
		f, _ := newFields(top.file, it.Pos().Line, body, []string{"cert", "key"}, nil, top.err)
		c.TLSCert, c.TLSKey = f.str("cert", true), f.str("key", true)
	}
}

func (c *Config) parseKeyStore(top *hclFields) {
	c.KeyStore = KeyStoreConfig{Type: "file", Path: defaultKeyStoreDir}
	it := top.items["key_store"]
	if it == nil {
		return
	}
	body, ok := top.block(it)
	if !ok {
		return
	}
	f, _ := newFields(top.file, it.Pos().Line, body, []string{"type", "path", "address", "mount", "prefix",
		"transit_mount", "transit_key", "token_file", "custodians"}, nil, top.err)
	k := KeyStoreConfig{Type: f.str("type", true), Path: orDefault(f.str("path", false), defaultKeyStoreDir), Address: f.str("address", false),
		Mount: f.str("mount", false), Prefix: f.str("prefix", false), TransitPath: f.str("transit_mount", false),
		TransitKey: f.str("transit_key", false), TokenFile: f.str("token_file", false), Custodians: f.strs("custodians", false)}
	switch {
	case k.Type == "vault" && (k.Address == "" || k.TransitKey == ""):
		f.errorf(it.Pos(), "a vault key store needs address and transit_key")
	case k.Type != "file" && k.Type != "vault":
		f.errorf(it.Pos(), "key_store type %q: want \"file\" or \"vault\"", k.Type)
	}
	c.KeyStore = k
}

func (c *Config) parsePartner(top *hclFields, it *ast.ObjectItem, seen map[string]bool) {
	name, ok := top.label(it)
	if !ok {
		return
	}
	if seen[name] {
		top.errorf(it.Pos(), "partner %q is defined twice", name)
		return
	}
	seen[name] = true
	body, ok := top.block(it)
	if !ok {
		return
	}
	f, _ := newFields(top.file, it.Pos().Line, body, []string{"agreement", "address", "card", "tls_ca", "tls_classical_key_exchange",
		"purposes", "he_params", "threshold", "transform"}, nil, top.err)
	p := PartnerConfig{Name: name, Agreement: f.str("agreement", true), Address: f.str("address", true), Card: f.str("card", true),
		TLSCA: f.str("tls_ca", false), ClassicalKeyExchange: f.boolean("tls_classical_key_exchange"),
		Purposes: f.strs("purposes", true), HEParams: f.str("he_params", true),
		Threshold: f.number("threshold", true, -0.999, 0.999), Line: it.Pos().Line}
	if tt := f.items["transform"]; tt == nil {
		f.errorf(it.Pos(), "partner %q: required block transform { ... } is missing", name)
	} else if tb, ok := f.block(tt); ok {
		p.Transform = parseTransform(f, tt, tb)
	}
	c.Partners = append(c.Partners, p)
}

// parseTransform reads a transform block into protect parameters (no centring: the schemes are
// used with plain L2 normalisation here).
func parseTransform(parent *hclFields, it *ast.ObjectItem, body []*ast.ObjectItem) protect.Params {
	f, _ := newFields(parent.file, it.Pos().Line, body, []string{"scheme", "input_dim", "m", "q", "order", "overlap", "scale"}, nil, parent.err)
	scheme, err := protect.ParseScheme(f.str("scheme", true))
	if err != nil {
		f.errorf(it.Pos(), "transform: %v", err)
	}
	p := protect.Params{Scheme: scheme, InputDim: f.integer("input_dim", true, 2, protect.MaxInputDim),
		M: f.integer("m", false, 0, protect.MaxOutputDim), Q: f.integer("q", false, 0, protect.MaxOutputDim),
		Order: f.integer("order", false, 0, protect.MaxInputDim), Overlap: f.integer("overlap", false, 0, protect.MaxInputDim),
		Scale: f.number("scale", false, 0, 1000)}
	if err == nil {
		if verr := p.Validate(); verr != nil {
			f.errorf(it.Pos(), "transform: %v", verr)
		}
	}
	return p
}

// CheckAddress checks a partner's address: HOST:PORT with a host and a port from 1 to 65535.
func CheckAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q is not HOST:PORT", addr)
	}
	n, err := strconv.Atoi(port)
	if host == "" || err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: want a host and a port from 1 to 65535", addr)
	}
	return nil
}

// PolicyFindings compares the key policy with the configuration: every configured partner must
// have a partner block in the policy, under the same agreement (serve refuses a partner whose
// agreement differs, and a partner without a quota gets its queries refused). Each finding is
// one line naming both files.
func (c *Config) PolicyFindings(p *policy.Policy) []string {
	var out []string
	for _, pc := range c.Partners {
		pp, ok := p.PartnerByName(pc.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("partner %s: %s (line %d) names it, but the policy %s has no partner block for it, so its queries are refused (add one with its quota)",
				pc.Name, c.File, pc.Line, p.File))
		case pp.Agreement != pc.Agreement:
			out = append(out, fmt.Sprintf("partner %s: the policy %s (line %d) names agreement %q, but %s (line %d) names %q; serve refuses the partner until they agree",
				pc.Name, p.File, pp.Line, pp.Agreement, c.File, pc.Line, pc.Agreement))
		}
	}
	return out
}

// check validates what the parser cannot: names, purposes, parameter sets (an insecure set
// only on a test node), addresses.
func (c *Config) check() error {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("protocol: config %s:%d: %s", c.File, line, fmt.Sprintf(format, args...))
	}
	if !audit.ValidNodeName(c.Node) || !keys.ValidName(c.Node) {
		return fail(1, "node name %q: want [a-z0-9][a-z0-9._-]*, at most 64 bytes", c.Node)
	}
	for _, p := range c.Partners {
		switch {
		case !audit.ValidNodeName(p.Name) || !keys.ValidName(p.Name) || p.Name == c.Node:
			return fail(p.Line, "partner name %q is not a valid node name (or is this node's)", p.Name)
		case !keys.ValidName(p.Agreement) || len(p.Agreement) > 64:
			return fail(p.Line, "agreement %q: want [a-z0-9][a-z0-9._-]*", p.Agreement)
		case math.IsNaN(p.Threshold):
			return fail(p.Line, "threshold is not a number")
		}
		if err := CheckAddress(p.Address); err != nil {
			return fail(p.Line, "partner %q: %v", p.Name, err)
		}
		for _, pur := range p.Purposes {
			if !audit.ValidPurpose(pur) {
				return fail(p.Line, "purpose %q: want [a-z0-9][a-z0-9-]*, at most 32 bytes", pur)
			}
		}
		ps, err := LookupParams(p.HEParams)
		if err != nil {
			return fail(p.Line, "%v", err)
		}
		if ps.Insecure() && !c.TestNode {
			return fail(p.Line, "he_params %q is an INSECURE test parameter set; only a node with test_node = true may use it", p.HEParams)
		}
		if lo := ps.MinTau(); p.Threshold < lo {
			return fail(p.Line, "partner %q: threshold %v is below %.4f, the lowest he_params %q serves; use puente-ckks-n15-v2, which serves every threshold", p.Name, p.Threshold, math.Ceil(lo*1e4)/1e4, p.HEParams)
		}
	}
	return nil
}
