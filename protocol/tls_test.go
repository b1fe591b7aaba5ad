package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/puente-id/puente/home"
)

// testCert makes a certificate for name signed by parent (self-signed when parent is nil).
func testCert(t *testing.T, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, BasicConstraintsValid: true, IsCA: ca,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{name}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestIdentifyPartner(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(24 * time.Hour)
	ca, caKey := testCert(t, "partner CA", nil, nil, true, later)
	beta, _ := testCert(t, "beta", ca, caKey, false, later)
	gamma, _ := testCert(t, "gamma", ca, caKey, false, later)
	expired, _ := testCert(t, "beta", ca, caKey, false, time.Now().Add(-time.Minute))
	other, _ := testCert(t, "beta", nil, nil, false, later) // self-signed, not pinned
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	pin := home.PinOf(gamma)
	rules := []peerRule{{partner: "beta", roots: pool}, {partner: "gamma", pin: &pin}}
	now := time.Now()
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		want  string
	}{
		{"CA-issued certificate naming the partner", []*x509.Certificate{beta}, "beta"},
		{"pinned certificate", []*x509.Certificate{gamma}, "gamma"},
		{"expired certificate", []*x509.Certificate{expired}, ""},
		{"self-signed certificate with the partner's name", []*x509.Certificate{other}, ""},
		{"no certificate", nil, ""},
	} {
		got, err := identify(rules, tc.chain, now, x509.ExtKeyUsageClientAuth)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	// A CA-issued certificate naming another node is not the partner's.
	if got, err := identify([]peerRule{{partner: "delta", roots: pool}}, []*x509.Certificate{beta}, now, x509.ExtKeyUsageClientAuth); err == nil {
		t.Errorf("beta's certificate identified as %q", got)
	}
}
