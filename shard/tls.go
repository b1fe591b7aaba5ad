package shard

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of one end of the shard protocol: its certificate and key, and
// the agency's shard CA, which must have issued the other end's certificate.
type TLSFiles struct {
	Cert, Key, CA string
}

func (f TLSFiles) load() (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("shard: TLS key pair: %w", err)
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("shard: TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return tls.Certificate{}, nil, fmt.Errorf("shard: TLS CA %s holds no certificate", f.CA)
	}
	return cert, pool, nil
}

// ServerTLS is a shard's TLS configuration: TLS 1.3, X25519MLKEM768 only, client certificates
// required and verified against the CA.
func (f TLSFiles) ServerTLS() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768},
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}

// ClientTLS is the node's TLS configuration towards its shards: TLS 1.3, X25519MLKEM768 only,
// the shard's certificate verified against the CA (its DNS name must match the address dialled).
func (f TLSFiles) ClientTLS() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768},
		Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}
