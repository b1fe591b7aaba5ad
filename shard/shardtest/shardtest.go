// Package shardtest runs `puente shard` processes for tests: a throwaway certificate authority
// for the shard protocol's mutual TLS, and shard processes on loopback whose start and counts
// are observed through their output (signals, not sleeps).
package shardtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/shard"
)

// PKI writes a CA, a server certificate for 127.0.0.1 (every shard's) and a client certificate
// (the node's) into dir. The keys are ECDSA P-256 from crypto/rand: test material only.
func PKI(t testing.TB, dir string) (server, client shard.TLSFiles) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test shard CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caPath := write("shard-ca.crt", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) shard.TLSFiles {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return shard.TLSFiles{Cert: write(name+".crt", "CERTIFICATE", der), Key: write(name+".key", "PRIVATE KEY", kd), CA: caPath}
	}
	return leaf("shard", 2, x509.ExtKeyUsageServerAuth), leaf("shard-client", 3, x509.ExtKeyUsageClientAuth)
}

// Proc is one `puente shard` process.
type Proc struct {
	Bin, Dir, Addr string
	TLS            shard.TLSFiles
	// Args are further flags of `puente shard` (e.g. -memory-budget).
	Args []string
	Cmd  *exec.Cmd
	// Counting is closed when the shard logs that it started a count (it runs with debug logs).
	Counting chan struct{}
}

// Start runs the shard (on Addr, or a free loopback port the first time) and returns once it
// printed that it serves; it is killed when the test ends.
func (p *Proc) Start(t testing.TB) {
	t.Helper()
	listen := p.Addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	args := append([]string{"shard", "-dir", p.Dir, "-listen", listen, "-tls-cert", p.TLS.Cert, "-tls-key", p.TLS.Key,
		"-tls-ca", p.TLS.CA, "-workers", "1", "-log-level", "debug"}, p.Args...)
	p.Cmd = exec.Command(p.Bin, args...)
	out, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := p.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := p.Cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p.Counting = make(chan struct{})
	counting := p.Counting
	go func() {
		sc := bufio.NewScanner(errp)
		closed := false
		for sc.Scan() {
			if !closed && strings.Contains(sc.Text(), `"msg":"counting"`) {
				close(counting)
				closed = true
			}
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("shard did not start: %v", err)
	}
	go io.Copy(io.Discard, out)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "shard serving on ")
	if !ok {
		t.Fatalf("shard printed %q", line)
	}
	p.Addr = addr
}

// Kill kills the shard with SIGKILL and waits for it to exit.
func (p *Proc) Kill() {
	p.Cmd.Process.Kill()
	p.Cmd.Wait()
}
