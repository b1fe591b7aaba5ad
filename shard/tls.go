package shard

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
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
// required, verified against the CA and issued for client authentication (serverConfig).
func (f TLSFiles) ServerTLS() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return serverConfig(cert, pool), nil
}

// ClientTLS is the node's TLS configuration towards its shards: TLS 1.3, X25519MLKEM768 only,
// the shard's certificate verified against the CA (its DNS name must match the address dialled)
// and issued for server authentication (clientConfig).
func (f TLSFiles) ClientTLS() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return clientConfig(cert, pool), nil
}

// serverConfig and clientConfig require the peer's certificate to name its role in its extended
// key usage: clientAuth for the node, serverAuth for a shard. Go accepts a certificate with no
// extended key usage for any role, and many issuing tools make one when no usage is asked for;
// with one, a shard's own certificate (or any other of the CA's) could call another shard as if
// it were the node, and install partitions there.
func serverConfig(cert tls.Certificate, pool *x509.CertPool) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768},
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		VerifyConnection: requireUsage(x509.ExtKeyUsageClientAuth, "client")}
}

func clientConfig(cert tls.Certificate, pool *x509.CertPool) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768},
		Certificates: []tls.Certificate{cert}, RootCAs: pool, VerifyConnection: requireUsage(x509.ExtKeyUsageServerAuth, "server")}
}

// requireUsage refuses a connection whose peer certificate does not name usage among its
// extended key usages.
func requireUsage(usage x509.ExtKeyUsage, role string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("shard: the peer sent no certificate")
		}
		if !slices.Contains(cs.PeerCertificates[0].ExtKeyUsage, usage) {
			return fmt.Errorf("shard: the peer's certificate (%s) is not issued for %s authentication (extended key usage)", cs.PeerCertificates[0].Subject, role)
		}
		return nil
	}
}
