//go:build puente_testparams

package shard

// What a caller holding a certificate of the agency's shard CA (a stolen or misissued one, or a
// compromised shard's own certificate) can do to another shard, and what the node then decides
// (from a hostile review).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// testPKI is a shard CA with three leaves: the shard's server certificate, the node's client
// certificate, and a third certificate of the same CA issued without an extended key usage (what
// many issuing tools produce when no usage is asked for, e.g. another shard's certificate).
type testPKI struct {
	pool                  *x509.CertPool
	server, node, noUsage tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test shard CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage []x509.ExtKeyUsage) tls.Certificate {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: usage, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	p := testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = leaf(2, "shard", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	p.node = leaf(3, "node", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.noUsage = leaf(4, "shard-1", nil)
	return p
}

func (p testPKI) client(c tls.Certificate) *tls.Config { return clientConfig(c, p.pool) }

// TestForeignInstallRefused mounts the attack a hostile review found: the node installs its
// partition (one entry matches the probe) and a search answers hit; a caller with another
// certificate of the shard CA reads the partition's ID from the shard's Status and installs,
// under that very ID, a partition of one decoy entry with the (public) evaluation keys. Before,
// the shard took it, the node's checks (Holds, Count's ID) still passed, and the node's next
// search answered no-hit for a subject it holds. Now a certificate not issued for client
// authentication cannot call the shard, and a partition whose entries are not its ID's
// generation is refused even from a caller that can (a stolen node certificate).
func TestForeignInstallRefused(t *testing.T) {
	ps := hetest.InsecureN12()
	keys := hetest.Ceremony(t, ps, 128, hetest.Reader(91), hetest.Reader(92))
	qr, err := he.NewQuerier(keys.Querier)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := he.NewResponder(keys.Eval, keys.Responder)
	if err != nil {
		t.Fatal(err)
	}
	ekb, err := keys.Eval.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}

	pki := newTestPKI(t)
	s, err := NewServer(Config{Dir: t.TempDir(), Workers: 1, Lookup: func(name string) (*he.ParamSet, error) {
		if name != ps.Name() {
			return nil, fmt.Errorf("unknown set %q", name)
		}
		return ps, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(append(s.ServerOptions(), grpc.Creds(credentials.NewTLS(serverConfig(pki.server, pki.pool))), grpc.MaxRecvMsgSize(MaxMessage))...)
	s.Register(g)
	go g.Serve(lis)
	defer g.Stop()
	addr := lis.Addr().String()

	const dims = 64
	probe := make([]float64, dims)
	probe[3] = 1
	var entries []Entry
	for i := range 20 {
		tmpl := make([]float64, dims)
		tmpl[10+i] = 1 // orthogonal to the probe: score 0
		entries = append(entries, Entry{Ref: fmt.Sprintf("case-%d", i), Template: tmpl})
	}
	entries = append(entries, Entry{Ref: "case-wanted", Template: append([]float64(nil), probe...)}) // score 1: a hit

	// The node's side.
	pool, err := Dial([]string{addr}, pki.client(pki.node), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	want, parts := Partitions(Want{Agreement: "us-co", Epoch: 1, KeySet: keys.Eval.KeySetID(), ParamSet: ps}, 1, dims, entries)
	if err := pool.Install(ctx, 0, want, dims, ekb, parts[0]); err != nil {
		t.Fatal(err)
	}
	search := func(seed uint64) bool {
		t.Helper()
		q, err := qr.EncryptProbe(probe, hetest.Reader(seed))
		if err != nil {
			t.Fatal(err)
		}
		p, err := resp.Prepare(q, hetest.Reader(seed+1))
		if err != nil {
			t.Fatal(err)
		}
		partials, err := pool.Count(ctx, want, 0.5, p)
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		ans, sec, err := resp.Finish(q, p, partials, hetest.Reader(seed+2))
		if err != nil {
			t.Fatalf("finish: %v", err)
		}
		ab, _ := ans.MarshalBinary()
		ans2, err := he.ReadAnswer(ps, ab)
		if err != nil {
			t.Fatal(err)
		}
		return hetest.Open(t, ps, qr, q, ans2, sec, seed+3)
	}
	if !search(100) {
		t.Fatal("honest sharded search: no-hit, want hit (the fixture is wrong)")
	}

	// Certificates of the CA not issued for client authentication cannot call the shard: the
	// shard's own (serverAuth) and one with no extended key usage.
	for name, cert := range map[string]tls.Certificate{"serverAuth only": pki.server, "no extended key usage": pki.noUsage} {
		sc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(pki.client(cert))))
		if err != nil {
			t.Fatal(err)
		}
		_, err = pb.NewShardServiceClient(sc).Status(ctx, &pb.StatusRequest{})
		sc.Close()
		if err == nil {
			t.Errorf("a certificate with %s called the shard", name)
		}
	}
	// A caller that can (the node's certificate, stolen) installs a decoy under the node's ID.
	decoy := make([]float64, dims)
	decoy[dims-1] = 1
	eb, err := EncodeEntries([]Entry{{Ref: "decoy", Template: decoy}}, dims)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(pki.client(pki.node))),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(MaxMessage)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewShardServiceClient(conn)
	st, err := c.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id := st.Partitions[0].Partition
	is, err := c.Install(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := is.Send(&pb.InstallRequest{Header: &pb.InstallHeader{Partition: id, ParamSet: ps.Name(), Dims: dims,
		KeysSize: uint64(len(ekb)), Entries: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := is.Send(&pb.InstallRequest{Entries: eb}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(ekb); off += 1 << 20 {
		if err := is.Send(&pb.InstallRequest{Keys: ekb[off:min(off+1<<20, len(ekb))]}); err != nil {
			t.Fatal(err)
		}
	}
	if ir, err := is.CloseAndRecv(); err == nil {
		t.Errorf("a decoy partition under the node's ID was installed (%d entries)", ir.Entries)
	}
	if !search(200) {
		t.Error("after the refused install, the node's search answers no-hit for a subject it holds")
	}
}
