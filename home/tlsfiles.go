package home

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// LoadCAPool reads a PEM file of partner CA certificates (a partner's tls_ca).
func LoadCAPool(path string) (*x509.CertPool, error) {
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

// LoadKeyPair reads the node's TLS certificate and key (the configuration's tls block), with
// the certificate parsed into the Leaf.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	// As the identity file: a private key others can read is refused (keys.LoadIdentity).
	if st, err := os.Stat(keyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		return tls.Certificate{}, fmt.Errorf("protocol: TLS key %s has mode %#o; it must be readable by its owner only (chmod 600)", keyFile, st.Mode().Perm())
	}
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
