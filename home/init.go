package home

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
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

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
	// NewState makes the node runtime's replay and quota state file at the path it is given
	// (protocol.CreateState): the state starts with the node, and from then on a missing one is
	// a loss. Nil makes none, and the node does not open until one is rebuilt.
	NewState func(path string) error
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
	if _, err := os.Stat(filepath.Join(dir, nodeFile)); err == nil {
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
	if err := id.Save(filepath.Join(dir, defaultIdentityFile), o.Now()); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, nodeFile), []byte(o.Node+"\n"), 0o600); err != nil {
		return nil, err
	}
	store, err := keys.OpenFileStore(filepath.Join(dir, defaultKeyStoreDir), id, keys.FileStoreOptions{Now: o.Now})
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
	if o.NewState != nil {
		if err := o.NewState(filepath.Join(dir, defaultStateFile)); err != nil {
			return nil, err
		}
	}
	pin, err := makeTLS(dir, o)
	if err != nil {
		return nil, err
	}
	for name, text := range map[string]string{defaultPolicyFile: defaultPolicy(o.Node), configFile: defaultConfig(o)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	card := &Card{Node: o.Node, Recipient: id.Recipient(), Pin: pin, Keyring: ring}
	if err := WriteCard(CardFile(dir), card); err != nil {
		return nil, err
	}
	return card, nil
}

// recordInit starts the audit log with the creation of the first signing key.
func recordInit(dir string, o InitOptions, k *keys.SigningKey, ring *keys.Keyring) error {
	w, err := audit.Open(filepath.Join(dir, defaultAuditLogFile), audit.Options{Node: o.Node, Signer: k, Now: o.Now, Verifier: ring})
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

// writeNew writes a secret to a file that must not exist yet (mode 0600): a file or a symlink
// already at path (left there, or planted) is refused rather than written through, which would
// keep its mode or write the secret outside the home.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("home: %s: %w (a new node's secret is written only to a file that does not exist yet)", path, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
	if err := writeNew(filepath.Join(dir, "tls", "node.key"), kp); err != nil {
		return Pin{}, err
	}
	subject := pkix.Name{CommonName: o.Node, Organization: []string{"Puente node"}}
	if o.CSR {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: []string{o.Node}}, key)
		if err != nil {
			return Pin{}, err
		}
		err = os.WriteFile(CSRFile(dir), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o644)
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

// InitKeys makes the home of a node with keys only, as `puente keys init` does: the node file
// naming it, an age identity, the file key store and the first signing key, whose creation
// starts the audit log. It returns the home opened (without its lock) and the signing key's ID.
func InitKeys(ctx context.Context, dir, node string, classical bool) (*NodeHome, keys.KeyID, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, keys.KeyID{}, err
	}
	id, err := keys.GenerateIdentity(classical)
	if err != nil {
		return nil, keys.KeyID{}, err
	}
	if err := id.Save(filepath.Join(dir, defaultIdentityFile), time.Now()); err != nil {
		return nil, keys.KeyID{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, nodeFile), []byte(node+"\n"), 0o600); err != nil {
		return nil, keys.KeyID{}, err
	}
	h, err := OpenNodeHome(ctx, dir, false)
	if err != nil {
		return nil, keys.KeyID{}, err
	}
	sk := &keys.SigningKeys{Store: h.Store, Node: h.Name, Rand: rand.Reader}
	k, err := sk.Rotate(ctx, 0)
	if err != nil {
		return nil, keys.KeyID{}, err
	}
	defer k.Zero()
	if err := h.AuditSink()(ctx, keys.Event{Action: keys.ActSigningKeyCreated, Key: keys.SigningKeyName(k.ID()), KeyID: k.ID().String()}); err != nil {
		return nil, keys.KeyID{}, err
	}
	return h, k.ID(), nil
}
