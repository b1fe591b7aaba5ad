package protocol

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// Pin is the SHA-256 of a certificate's DER SubjectPublicKeyInfo (the pin of RFC 7469): it names a
// partner's TLS key whatever the certificate around it.
type Pin [32]byte

// PinOf returns the pin of a certificate.
func PinOf(c *x509.Certificate) Pin { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }

// String returns the pin in lower-case hex.
func (p Pin) String() string { return hex.EncodeToString(p[:]) }

// ParsePin parses the hex form of a pin.
func ParsePin(s string) (Pin, error) {
	var p Pin
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(p) {
		return p, fmt.Errorf("protocol: TLS pin must be %d hex digits (SHA-256 of the SPKI)", 2*len(p))
	}
	copy(p[:], b)
	return p, nil
}

// peerRule recognises one partner's certificate: by pin, or by a partner CA and the partner's
// node name in the certificate (a DNS name, or the common name when there is none).
type peerRule struct {
	partner string
	pin     *Pin
	roots   *x509.CertPool
}

// identify returns the partner whose rule the peer's chain (leaf first) satisfies at time now;
// usage is the extended key usage the leaf must allow (client auth for a server, server auth
// for a client).
func identify(rules []peerRule, chain []*x509.Certificate, now time.Time, usage x509.ExtKeyUsage) (string, error) {
	if len(chain) == 0 {
		return "", errors.New("no certificate presented")
	}
	leaf := chain[0]
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return "", fmt.Errorf("certificate not valid now (valid %s to %s)", leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	pin := PinOf(leaf)
	for _, r := range rules {
		if r.pin != nil && *r.pin == pin {
			return r.partner, nil
		}
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, r := range rules {
		if r.roots == nil || !namesPartner(leaf, r.partner) {
			continue
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: r.roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
		if err == nil {
			return r.partner, nil
		}
	}
	return "", fmt.Errorf("certificate with pin %s is not a configured partner's", pin)
}

func namesPartner(c *x509.Certificate, name string) bool {
	if len(c.DNSNames) > 0 {
		return slices.Contains(c.DNSNames, name)
	}
	return c.Subject.CommonName == name
}

// loadCAPool reads a PEM file of partner CA certificates.
func loadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("protocol: partner CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("protocol: partner CA %s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// loadKeyPair reads the node's TLS certificate and key.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("protocol: TLS certificate %s / key %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("protocol: TLS certificate %s: %w", certFile, err)
		}
	}
	return c, nil
}

// CertPin reads a PEM certificate file and returns its pin.
func CertPin(path string) (Pin, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Pin{}, fmt.Errorf("protocol: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return Pin{}, fmt.Errorf("protocol: %s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return Pin{}, fmt.Errorf("protocol: %s: %w", path, err)
	}
	return PinOf(c), nil
}

// serverTLS is the listener's configuration: TLS 1.3 only, a client certificate required (its
// partner is identified per call, so an unknown one gets a clear Unauthenticated status and an
// audit record instead of a bare handshake failure), and Go's default key exchanges, which put
// the hybrid post-quantum X25519MLKEM768 first.
func serverTLS(own tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{own},
		ClientAuth:   tls.RequireAnyClientCert,
	}
}

// clientTLS is the configuration for calls to one partner: TLS 1.3, this node's certificate,
// and the server accepted only if its certificate is the partner's (pin or partner CA).
func clientTLS(own tls.Certificate, partner string, rules []peerRule, now func() time.Time) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{own},
		ServerName:   partner,
		// Chain and name are checked by VerifyConnection against the partner's pin or CA, not
		// against the system roots.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			got, err := identify(rules, cs.PeerCertificates, now(), x509.ExtKeyUsageServerAuth)
			if err != nil {
				return fmt.Errorf("protocol: server is not partner %s: %w", partner, err)
			}
			if got != partner {
				return fmt.Errorf("protocol: server presented partner %s's certificate, want %s", got, partner)
			}
			return nil
		},
	}
}
