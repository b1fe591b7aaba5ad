package protocol

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
)

// peerRule recognises one partner's certificate: by pin, or by a partner CA and the partner's
// node name in the certificate (a DNS name, or the common name when there is none).
type peerRule struct {
	partner string
	pin     *home.Pin
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
	pin := home.PinOf(leaf)
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

// Key exchanges. Every connection uses the hybrid post-quantum X25519MLKEM768 (ML-KEM-768,
// FIPS 203, with X25519; the IETF hybrid design of draft-ietf-tls-ecdhe-mlkem): a recording of
// today's traffic stays confidential against a future quantum computer. The only exception is a
// partner whose configuration sets tls_classical_key_exchange = true: its connections may use
// X25519 alone, and each one is audited.
var (
	postQuantumCurves = []tls.CurveID{tls.X25519MLKEM768}
	classicalCurves   = []tls.CurveID{tls.X25519MLKEM768, tls.X25519} // the server prefers the first
)

// classicalAllowed lists the partners allowed a classical key exchange.
func (n *Node) classicalAllowed() map[string]bool {
	out := map[string]bool{}
	for name, p := range n.partners {
		if p.cfg.ClassicalKeyExchange {
			out[name] = true
		}
	}
	return out
}

// serverTLS is the listener's configuration: TLS 1.3 only, a client certificate required (its
// partner is identified per call, so an unknown one gets a clear Unauthenticated status and an
// audit record instead of a bare handshake failure), and the hybrid post-quantum key exchange
// only. A client that offers no X25519MLKEM768 cannot complete the handshake (the TLS alert
// handshake_failure); this node logs and audits why. When a partner is allowed a classical
// exchange, X25519 is offered too and each classical connection is checked against the
// partner's certificate: allowed and audited, or refused and audited.
func (n *Node) serverTLS() *tls.Config {
	allowed := n.classicalAllowed()
	curves := postQuantumCurves
	if len(allowed) > 0 {
		curves = classicalCurves
	}
	base := &tls.Config{
		MinVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{n.cert},
		ClientAuth:       tls.RequireAnyClientCert,
		CurvePreferences: curves,
		VerifyConnection: func(cs tls.ConnectionState) error { return n.checkKeyExchange(cs, allowed) },
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if !slices.Contains(hello.SupportedCurves, tls.X25519MLKEM768) && len(allowed) == 0 {
				n.refuseClassical(hello.Conn.RemoteAddr().String(), unidentified, hello.SupportedCurves)
			}
			return base, nil
		},
	}
}

// checkKeyExchange admits a connection whose key exchange is post-quantum, or classical from a
// partner allowed it; it audits every classical one.
func (n *Node) checkKeyExchange(cs tls.ConnectionState, allowed map[string]bool) error {
	if cs.CurveID == tls.X25519MLKEM768 {
		return nil
	}
	name, err := identify(n.partnerRules(), cs.PeerCertificates, n.now(), x509.ExtKeyUsageClientAuth)
	if err != nil {
		name = unidentified
	}
	if !allowed[name] {
		n.refuseClassical("", name, []tls.CurveID{cs.CurveID})
		return fmt.Errorf("protocol: key exchange %v is classical; this node requires X25519MLKEM768", cs.CurveID)
	}
	n.log.Warn("classical TLS key exchange allowed by the configuration", "partner", name, "key_exchange", cs.CurveID.String())
	n.auditTLS(name, "tls-classical-key-exchange")
	return nil
}

// refuseClassical logs and audits a client refused for a classical key exchange.
func (n *Node) refuseClassical(addr, partner string, offered []tls.CurveID) {
	n.log.Warn("refused a TLS client without a post-quantum key exchange: this node requires X25519MLKEM768",
		"partner", partner, "address", addr, "offered", fmt.Sprint(offered))
	n.auditTLS(partner, "tls-classical-refused")
}

func (n *Node) auditTLS(partner, action string) {
	if _, err := n.audit.Append(context.Background(), audit.KindKey, audit.Event{Partner: partner, Action: action}); err != nil {
		n.log.Error("audit record not written", "action", action, "err", err)
	}
}

// partnerRules lists every partner's certificate rules.
func (n *Node) partnerRules() []peerRule {
	var rules []peerRule
	for _, p := range n.partners {
		rules = append(rules, p.rules...)
	}
	return rules
}

// clientTLS is the configuration for calls to one partner: TLS 1.3, this node's certificate,
// the hybrid post-quantum key exchange only (X25519 too if classical is set: the partner is
// allowed a classical exchange), and the server accepted only if its certificate is the
// partner's (pin or partner CA).
func clientTLS(own tls.Certificate, partner string, rules []peerRule, now func() time.Time, classical bool) *tls.Config {
	curves := postQuantumCurves
	if classical {
		curves = classicalCurves
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{own},
		ServerName:       partner,
		CurvePreferences: curves,
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
			if cs.CurveID != tls.X25519MLKEM768 && !classical {
				return fmt.Errorf("protocol: partner %s negotiated the classical key exchange %v; this node requires X25519MLKEM768", partner, cs.CurveID)
			}
			return nil
		},
	}
}
