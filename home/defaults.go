package home

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/puente-id/puente/keys"
)

// Algorithms of the entries a node keeps besides those of the keys package, as the key policy
// names them: the keys sealing a gallery, and the digest of a direction's evaluation keys.
const (
	AlgAESGCM = "aes-256-gcm"
	AlgSHA512 = "sha-512"
)

// defaultAlgorithms are the algorithms the default key policy allows.
var defaultAlgorithms = []string{keys.AlgMLDSA65, keys.AlgHKDFSHA256, keys.AlgCKKSShare, AlgAESGCM, AlgSHA512}

func defaultPolicy(node string) string {
	var b strings.Builder
	policyTemplate.Execute(&b, map[string]any{"Node": node, "Algorithms": quoteList(defaultAlgorithms)})
	return b.String()
}

var policyTemplate = template.Must(template.New("policy").Parse(`# Key policy of node {{.Node}}, written by puente init. Review it with the privacy officer:
# add custodians (custodian "name" { role = "..." recipient = "age1pq1..." }) and list them in
# each key class, and add a partner block with its query quota for every partner agency.

node = "{{.Node}}"

allowed_algorithms = [{{.Algorithms}}]

audit {
  retention = "7y"
}

# Bounds on the work strangers cause and on calls to partners; these are the defaults
# (docs/key-policy.md, limits):
# limits {
#   refusal_interval    = "10m"
#   refusals_per_source = 10
#   call_deadline       = "10m"
#   keepalive           = "1m"
#   ceremonies          = "24 per 24h"
# }

key "signing" {
  match        = "sign/key/*"
  purpose      = "Signs requests, responses and audit records of this node"
  algorithm    = "ml-dsa-65"
  store        = "file"
  cryptoperiod = "1y"
  overlap      = "7d"
  rotation     = "Yearly, with puente keys rotate; the old key verifies for 7 more days."
  revocation   = "On suspected compromise: puente keys revoke-signing at once and tell the partner."
}

key "transform-seed" {
  match        = "agreement/*/epoch/*/seed"
  purpose      = "Agreement secret from which the cancellable transform of an epoch is derived"
  algorithm    = "hkdf-sha256"
  store        = "file"
  cryptoperiod = "180d"
  rotation     = "A new epoch with the partner (puente ceremony); the gallery is re-protected and the old epoch destroyed."
  revocation   = "On a template leak: puente revoke, which starts a new epoch at once."
}

key "he-share" {
  match        = "he/*/*/sk"
  purpose      = "This node's share of the collective CKKS secret key of one direction and epoch"
  algorithm    = "ckks-secret-share"
  store        = "file"
  cryptoperiod = "180d"
  rotation     = "Made anew by every key ceremony; destroyed with its epoch."
  revocation   = "On compromise of either node: puente revoke."
}

key "he-evaluation-keys" {
  match        = "he/*/*/evk"
  purpose      = "SHA-512 of the collective evaluation keys (public, kept in he/) of one direction and epoch"
  algorithm    = "sha-512"
  store        = "file"
  cryptoperiod = "180d"
  rotation     = "Made by every key ceremony; destroyed with its epoch."
  revocation   = "Destroyed with its epoch."
}

key "gallery" {
  match        = "gallery/*/*"
  purpose      = "Data, label and archive keys sealing a partner's gallery of protected templates and raw features"
  algorithm    = "aes-256-gcm"
  store        = "file"
  cryptoperiod = "5y"
  rotation     = "Not rotated: the gallery is re-protected under each new epoch instead."
  revocation   = "On compromise: enrol again into a new gallery and destroy the old file and keys."
}
`))

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = hclQuote(v)
	}
	return strings.Join(q, ", ")
}

// hclQuote quotes s as an HCL string that the configuration parser reads back as s: as
// strconv.Quote does, but with "${" written "$\x7b", since HCL version 1 scans "${" in a string
// as the start of an interpolation, inside which a quote does not end the string.
func hclQuote(s string) string {
	return strings.ReplaceAll(strconv.Quote(s), "${", `$\x7b`)
}

func defaultConfig(o InitOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Configuration of Puente node %s, written by puente init. Paths are relative to this file.\n\n", o.Node)
	fmt.Fprintf(&b, "node   = %s\nlisten = %s\n", hclQuote(o.Node), hclQuote(o.Listen))
	if o.MetricsListen != "" {
		fmt.Fprintf(&b, "metrics_listen = %s\n", hclQuote(o.MetricsListen))
	}
	if o.TestNode {
		b.WriteString("\n# A TEST node: it may use the INSECURE test parameter sets. Never for real records.\ntest_node = true\n")
	}
	b.WriteString(`
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

# Bytes of each partner's gallery kept ready for search in NTT form: about 608 MiB per block of
# 32,768 entries at m = 128 on puente-ckks-n15-v2 (544 MiB on v3). A block beyond it is converted
# during each search instead (about 1.1 to 1.7 CPU-s). -1, the default, keeps every block; 0 keeps
# none.
# gallery_memory_budget = -1

# Bytes that one partner's Search calls waiting for an evaluation slot may hold together when
# they are answered in one batch, which converts each block beyond gallery_memory_budget once
# for the batch instead of once per query: each query holds about 0.3 GiB for 100,000 entries
# (0.6 GiB for 1,000,000) while its batch runs. Unused when every block is kept. 0 answers
# every query alone. Default 2 GiB.
# batch_memory_budget = 2147483648

# Add one block per partner agency, e.g. with puente partner add:
# partner "co-migracion" {
#   agreement = "us-co"
#   address   = "puente.migracion.example:7443"
#   card      = "partners/co-migracion.card.json"
#   purposes  = ["border-screening"]
#   he_params = "puente-ckks-n15-v2"
#   threshold = 0.9234
#   transform { scheme = "polyprotect"  input_dim = 128  order = 5  overlap = 4  scale = 1 }
# }
`)
	return b.String()
}
