package protocol

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/internal/atomicfile"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protect"
)

// A node's home directory, as InitHome makes it:
//
//	node, identity.age, keys/, audit.log   as for `puente keys init`
//	puente.hcl         the configuration (see Config)
//	policy.hcl         the key policy (keys/policy)
//	tls/node.key       the TLS private key (ECDSA P-256, mode 0600)
//	tls/node.crt       a self-signed certificate for the node's name, or
//	tls/node.csr       a certificate request for the agency's CA (then install node.crt yourself)
//	card.json          the node card to give partners (see Card)
//	partners/          partners' cards
//	gallery/, he/      galleries and evaluation keys, made as they are needed
//	state.db           replay and quota state
//	run/admin.sock     the operator socket while `puente serve` runs

// InitOptions configure InitHome.
type InitOptions struct {
	Node   string
	Listen string // default 127.0.0.1:7443
	// MetricsListen, if set, is written to the configuration.
	MetricsListen string
	// TestNode marks the node as a test node (allowed INSECURE parameter sets).
	TestNode bool
	// CSR writes a certificate request instead of a self-signed certificate.
	CSR bool
	// Classical makes an X25519 age identity instead of a hybrid post-quantum one.
	Classical bool
	// CertValidity of the self-signed certificate; default one year.
	CertValidity time.Duration
	Now          func() time.Time
}

// InitHome makes a node's home directory: age identity, file key store and first signing key,
// TLS key and certificate (or request), default key policy and configuration, and the node card.
// It refuses a directory that already holds a node.
func InitHome(ctx context.Context, dir string, o InitOptions) (*Card, error) {
	if !audit.ValidNodeName(o.Node) || !keys.ValidName(o.Node) {
		return nil, fmt.Errorf("protocol: node name %q: want [a-z0-9][a-z0-9._-]*, at most 64 bytes", o.Node)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:7443"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, err := os.Stat(filepath.Join(dir, "node")); err == nil {
		return nil, fmt.Errorf("protocol: %s already holds a node", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, "tls"), filepath.Join(dir, "partners")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("protocol: %w", err)
		}
	}
	id, err := keys.GenerateIdentity(o.Classical)
	if err != nil {
		return nil, err
	}
	if err := id.Save(filepath.Join(dir, "identity.age"), o.Now()); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "node"), []byte(o.Node+"\n"), 0o600); err != nil {
		return nil, err
	}
	store, err := keys.OpenFileStore(filepath.Join(dir, "keys"), id, keys.FileStoreOptions{Now: o.Now})
	if err != nil {
		return nil, err
	}
	sk := &keys.SigningKeys{Store: store, Node: o.Node, Rand: rand.Reader, Now: o.Now}
	k, err := sk.Rotate(ctx, 0)
	if err != nil {
		return nil, err
	}
	ring, _, err := sk.Keyring(ctx)
	if err != nil {
		k.Zero()
		return nil, err
	}
	if err := recordInit(dir, o, k, ring); err != nil {
		k.Zero()
		return nil, err
	}
	k.Zero()
	// The replay and quota state starts with the node: from now on a missing one is a loss.
	st, err := openState(filepath.Join(dir, "state.db"), nil, true)
	if err != nil {
		return nil, err
	}
	if err := st.close(); err != nil {
		return nil, err
	}
	pin, err := makeTLS(dir, o)
	if err != nil {
		return nil, err
	}
	for name, text := range map[string]string{"policy.hcl": defaultPolicy(o.Node), "puente.hcl": defaultConfig(o)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	card := &Card{Node: o.Node, Recipient: id.Recipient(), Pin: pin, Keyring: ring}
	if err := WriteCard(filepath.Join(dir, "card.json"), card); err != nil {
		return nil, err
	}
	return card, nil
}

// recordInit starts the audit log with the creation of the first signing key.
func recordInit(dir string, o InitOptions, k *keys.SigningKey, ring *keys.Keyring) error {
	w, err := audit.Open(filepath.Join(dir, "audit.log"), audit.Options{Node: o.Node, Signer: k, Now: o.Now, Verifier: ring})
	if err != nil {
		return err
	}
	_, err = w.Append(context.Background(), audit.KindKey, audit.Event{Action: string(keys.ActSigningKeyCreated),
		Key: keys.SigningKeyName(k.ID()), KeyID: k.ID().String()})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteCard writes a card file (mode 0644: it is public).
func WriteCard(path string, c *Card) error {
	b, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// makeTLS makes the node's TLS key and a self-signed certificate (or a request) naming the node,
// for both client and server use, and returns the key's pin.
func makeTLS(dir string, o InitOptions) (Pin, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pin{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pin{}, err
	}
	kp := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	defer clear(kp)
	if err := os.WriteFile(filepath.Join(dir, "tls", "node.key"), kp, 0o600); err != nil {
		return Pin{}, err
	}
	subject := pkix.Name{CommonName: o.Node, Organization: []string{"Puente node"}}
	if o.CSR {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: []string{o.Node}}, key)
		if err != nil {
			return Pin{}, err
		}
		err = os.WriteFile(filepath.Join(dir, "tls", "node.csr"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o644)
		spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		return pinOfSPKI(spki), err
	}
	validity := o.CertValidity
	if validity == 0 {
		validity = 365 * 24 * time.Hour
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Pin{}, err
	}
	now := o.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject, DNSNames: []string{o.Node},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Pin{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls", "node.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o644); err != nil {
		return Pin{}, err
	}
	c, err := x509.ParseCertificate(certDER)
	if err != nil {
		return Pin{}, err
	}
	return PinOf(c), nil
}

func pinOfSPKI(spki []byte) Pin {
	var c x509.Certificate
	c.RawSubjectPublicKeyInfo = spki
	return PinOf(&c)
}

// Algorithms of the entries a node keeps besides those of the keys package.
var defaultAlgorithms = []string{keys.AlgMLDSA65, keys.AlgHKDFSHA256, keys.AlgCKKSShare, algAESGCM, algSHA512}

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
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func defaultConfig(o InitOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Configuration of Puente node %s, written by puente init. Paths are relative to this file.\n\n", o.Node)
	fmt.Fprintf(&b, "node   = %q\nlisten = %q\n", o.Node, o.Listen)
	if o.MetricsListen != "" {
		fmt.Fprintf(&b, "metrics_listen = %q\n", o.MetricsListen)
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

// PartnerOptions describe an agreement for AddPartner.
type PartnerOptions struct {
	Agreement string
	Address   string
	Purposes  []string
	HEParams  string // default puente-ckks-n15-v2
	Threshold float64
	Transform protect.Params
	// VerifyLimit is the per-reference verification limit ("N per PERIOD") for the policy
	// block returned; empty leaves it out, and the partner's verifications are refused.
	VerifyLimit string
}

// AddPartner copies a partner's card into the home's partners/ directory and appends its
// partner block to the configuration. It returns the block to add to the key policy (with the
// partner's query quota and per-reference verification limit), which the privacy officer's file
// keeps: no command writes the policy.
func AddPartner(home string, card *Card, o PartnerOptions, quota string) (string, error) {
	cfgPath := filepath.Join(home, "puente.hcl")
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return "", err
	}
	if _, dup := cfg.Partner(card.Node); dup {
		return "", fmt.Errorf("protocol: %s already has a partner %q", cfgPath, card.Node)
	}
	if o.HEParams == "" {
		o.HEParams = "puente-ckks-n15-v2"
	}
	rel := filepath.Join("partners", card.Node+".card.json")
	cardPath := filepath.Join(home, rel)
	if _, err := os.Stat(cardPath); err == nil {
		return "", fmt.Errorf("protocol: %s already exists (a partner's card the configuration does not name); remove it first", cardPath)
	}
	t := o.Transform
	block := fmt.Sprintf("\npartner %q {\n  agreement = %q\n  address   = %q\n  card      = %q\n  purposes  = [%s]\n  he_params = %q\n  threshold = %s\n  transform {\n    scheme    = %q\n    input_dim = %d\n",
		card.Node, o.Agreement, o.Address, filepath.ToSlash(rel), quoteList(o.Purposes), o.HEParams, strconv.FormatFloat(o.Threshold, 'g', -1, 64), t.Scheme, t.InputDim)
	for _, f := range []struct {
		name string
		v    int
	}{{"m", t.M}, {"q", t.Q}, {"order", t.Order}, {"overlap", t.Overlap}} {
		if f.v != 0 {
			block += fmt.Sprintf("    %-9s = %d\n", f.name, f.v)
		}
	}
	if t.Scale != 0 {
		block += fmt.Sprintf("    scale     = %s\n", strconv.FormatFloat(t.Scale, 'g', -1, 64))
	}
	block += "  }\n}\n"
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	next := append(src, block...)
	// The new configuration is checked before anything is written, and the card goes only with
	// it: a refused partner leaves no card behind.
	if _, err := ParseConfig(next, cfgPath); err != nil {
		return "", err
	}
	if err := WriteCard(cardPath, card); err != nil {
		return "", err
	}
	if err := writeFileAtomic(cfgPath, next); err != nil {
		os.Remove(cardPath)
		return "", err
	}
	pol := fmt.Sprintf("partner %q {\n  agreement    = %q\n  quota        = %q\n", card.Node, o.Agreement, quota)
	if o.VerifyLimit != "" {
		pol += fmt.Sprintf("  verify_limit = %q\n", o.VerifyLimit)
	}
	return pol + "}\n", nil
}

// UpdatePartnerCard replaces the stored card of an existing partner with card, the partner's
// new card after it rotated or revoked a signing key, renewed its TLS certificate or changed
// its age identity, and returns the card it replaced. The replacement is refused, changing
// nothing, when the node has no such partner, the stored card cannot be read, or the new card
// lists as valid a signing key the stored card has revoked (a revocation is never undone by a
// card). A running node reads the cards when it starts.
func UpdatePartnerCard(home string, card *Card) (*Card, error) {
	cfgPath := filepath.Join(home, "puente.hcl")
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	pc, ok := cfg.Partner(card.Node)
	if !ok {
		return nil, fmt.Errorf("protocol: %s has no partner %q (add it with puente partner add)", cfgPath, card.Node)
	}
	path := cfg.Path(pc.Card)
	old, err := LoadCard(path)
	if err != nil {
		return nil, err
	}
	for _, e := range old.Keyring.Entries() {
		if n, ok := card.Keyring.Lookup(e.ID); ok && e.Revoked && !n.Revoked {
			return nil, fmt.Errorf("protocol: the new card of %s lists signing key %s as valid, but %s has it revoked", card.Node, e.ID, path)
		}
	}
	b, err := card.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil { // a card is public
		return nil, err
	}
	return old, nil
}
