package home

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
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
