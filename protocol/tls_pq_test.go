//go:build puente_testparams

package protocol

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/home"
)

// classicalDial dials b with a's certificate, offering only the classical X25519 key exchange.
func classicalDial(a, b *testNode) (tls.ConnectionState, error) {
	cfg := clientTLS(a.cert, b.name, a.partners[b.name].rules, time.Now, true)
	cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", b.addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	// TLS 1.3 completes the client's side of the handshake before the server's verdict on
	// the client certificate arrives: read to see it.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil && !strings.Contains(err.Error(), "timeout") {
		return c.ConnectionState(), err
	}
	return c.ConnectionState(), nil
}

// TestClassicalClientRefused: a client that offers only a classical key exchange cannot
// connect, and the node logs and audits why; with tls_classical_key_exchange = true for a
// partner, that partner's classical connections are accepted and each one is audited, while
// Puente's own client still negotiates X25519MLKEM768.
func TestClassicalClientRefused(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	if _, err := classicalDial(a, b); err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Errorf("a classical-only client: %v, want a TLS handshake failure", err)
	}
	if rec := lastRecord(t, b); rec.Action != "tls-classical-refused" {
		t.Errorf("the refusal was recorded as %q, want tls-classical-refused", rec.Action)
	}
	if cs := tlsState(t, a, b); cs.CurveID != tls.X25519MLKEM768 {
		t.Errorf("Puente's client negotiated %v, want X25519MLKEM768", cs.CurveID)
	}

	// The policy exception for partner alpha.
	path := filepath.Join(b.home, "puente.hcl")
	cfg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(cfg), `partner "alpha" {`, "partner \"alpha\" {\n  tls_classical_key_exchange = true", 1)
	if edited == string(cfg) {
		t.Fatal("no partner block for alpha in beta's configuration")
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	b.restart(t)
	cs, err := classicalDial(a, b)
	if err != nil || cs.CurveID != tls.X25519 {
		t.Errorf("alpha's classical connection under the exception: %v (key exchange %v)", err, cs.CurveID)
	}
	if rec := lastRecord(t, b); rec.Action != "tls-classical-key-exchange" || rec.Partner != "alpha" {
		t.Errorf("the classical connection was recorded as %q of %q, want tls-classical-key-exchange of alpha", rec.Action, rec.Partner)
	}
	if cs := tlsState(t, a, b); cs.CurveID != tls.X25519MLKEM768 {
		t.Errorf("with the exception, Puente's client negotiated %v, want X25519MLKEM768", cs.CurveID)
	}
	// Under the exception, another node's classical connection is still refused.
	m := initNode(t, "mallory")
	m.lis.Close()
	cert, err := home.LoadKeyPair(filepath.Join(m.home, "tls", "node.crt"), filepath.Join(m.home, "tls", "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := clientTLS(cert, b.name, a.partners[b.name].rules, time.Now, true)
	cfg2.CurvePreferences = []tls.CurveID{tls.X25519}
	cfg2.NextProtos = []string{"h2"}
	if c, err := tls.Dial("tcp", b.addr, cfg2); err == nil {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if err == nil || strings.Contains(err.Error(), "timeout") {
			t.Errorf("a stranger's classical connection under alpha's exception was not refused: %v", err)
		}
	}
	if rec := lastRecord(t, b); rec.Action != "tls-classical-refused" {
		t.Errorf("the stranger's classical connection was recorded as %q, want tls-classical-refused", rec.Action)
	}
}
