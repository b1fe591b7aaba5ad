//go:build puente_testparams

package protocol

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/home"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// rawSearch is a Search request built piece by piece, so that a test can send what a correct
// node never would.
type rawSearch struct {
	h       *pb.RequestHeader
	payload *pb.SearchPayload
	sig     []byte
	probe   []byte
	chunks  []*pb.Chunk // sent after the open message; nil means chunksOf(probe)
}

// newRawSearch builds a correct, signed Search of a raw probe from a to its partner.
func newRawSearch(t *testing.T, a *testNode, partner string, raw []float64) *rawSearch {
	t.Helper()
	p := a.partners[partner]
	k, err := p.current()
	if err != nil {
		t.Fatal(err)
	}
	_, qb, err := a.encryptProbe(k, Probe{Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	h, err := wire.NewRequestHeader(a.rand, a.now(), a.name, partner, p.cfg.Agreement, pb.MatchService_Search_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	h.KeyEpoch, h.ParamSet, h.PurposeCode = k.epoch, k.ps.Name(), p.cfg.Purposes[0]
	r := &rawSearch{h: h, payload: &pb.SearchPayload{Probe: wire.Describe(pb.HEObjectKind_HE_OBJECT_KIND_PROBE_CIPHERTEXT, k.ps.Name(), qb)}, probe: qb}
	r.sign(t, a)
	return r
}

// sign (re)signs the request with a's key.
func (r *rawSearch) sign(t *testing.T, a *testNode) {
	t.Helper()
	sig, err := wire.SignRequest(r.h, r.payload, a.signer)
	if err != nil {
		t.Fatal(err)
	}
	r.sig = sig
}

// send sends the request over conn and reads the answer; it returns the status code (OK when
// the partner answered).
func (r *rawSearch) send(ctx context.Context, conn *grpc.ClientConn) codes.Code {
	return r.sendStatus(ctx, conn).Code()
}

// sendStatus is send, returning the whole status (its message too).
func (r *rawSearch) sendStatus(ctx context.Context, conn *grpc.ClientConn) *status.Status {
	st, err := pb.NewMatchServiceClient(conn).Search(withRequestID(ctx, hex.EncodeToString(r.h.RequestId)))
	if err != nil {
		return status.Convert(err)
	}
	st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Open{Open: &pb.SearchOpen{Header: r.h, Payload: r.payload, Signature: r.sig}}})
	chunks := r.chunks
	if chunks == nil {
		chunks = chunksOf(r.probe)
	}
	for _, c := range chunks {
		if st.Send(&pb.SearchRequest{Part: &pb.SearchRequest_Chunk{Chunk: c}}) != nil {
			break
		}
	}
	st.CloseSend()
	for {
		_, err := st.Recv()
		if err == io.EOF {
			return status.New(codes.OK, "")
		}
		if err != nil {
			return status.Convert(err)
		}
	}
}

// conn returns a's connection to its partner.
func conn(t *testing.T, a *testNode, partner string) *grpc.ClientConn {
	t.Helper()
	c, err := a.client(context.Background(), a.partners[partner])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// strangerConn connects to b with the certificate of a node b does not know.
func strangerConn(t *testing.T, b *testNode) *grpc.ClientConn {
	t.Helper()
	m := initNode(t, "mallory")
	m.lis.Close()
	cert, err := home.LoadKeyPair(filepath.Join(m.home, "tls", "node.crt"), filepath.Join(m.home, "tls", "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	return dialAs(t, cert, b)
}

// dialAs connects to b with cert, and none of a node's client settings (no deadline, no
// keepalive), only opts: a partner's own client, or a stranger's.
func dialAs(t *testing.T, cert tls.Certificate, b *testNode, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	pin, err := home.CertPin(filepath.Join(b.home, "tls", "node.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientTLS(cert, b.name, []peerRule{{partner: b.name, pin: &pin}}, time.Now, false)
	c, err := grpc.NewClient(b.addr, append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// lastRecord returns the last record of a node's audit log.
func lastRecord(t *testing.T, tn *testNode) audit.Record {
	t.Helper()
	recs := records(t, tn)
	if len(recs) == 0 {
		t.Fatal("empty audit log")
	}
	return recs[len(recs)-1]
}

// records reads a node's audit log.
func records(t *testing.T, tn *testNode) []audit.Record {
	t.Helper()
	return readRecords(t, tn.cfg.Path(tn.cfg.AuditLog))
}

// quotaUsed returns how many of a's queries b counts.
func quotaUsed(t *testing.T, b *testNode, partner string) int {
	t.Helper()
	n, err := b.state.used(partner, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tlsState dials b's listener with a's certificate and returns the negotiated connection state.
func tlsState(t *testing.T, a, b *testNode) tls.ConnectionState {
	t.Helper()
	cfg := clientTLS(a.cert, b.name, a.partners[b.name].rules, time.Now, false)
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", b.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState()
}

// codeOf returns the gRPC code of an error from a call.
func codeOf(err error) codes.Code {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return status.Code(err)
}

// signalAt returns a node hook that signals on the channel of each named point every time the
// node reaches it (with room for many unread signals), and those channels.
func signalAt(points ...string) (hookFunc, map[string]chan struct{}) {
	chs := map[string]chan struct{}{}
	for _, p := range points {
		chs[p] = make(chan struct{}, 64)
	}
	return func(_ context.Context, p string, _ error) {
		if ch, ok := chs[p]; ok {
			ch <- struct{}{}
		}
	}, chs
}

func mustQuerier(t *testing.T, k hetest.Keys) *he.Querier {
	t.Helper()
	q, err := he.NewQuerier(k.Querier)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// chunksOf is what wire.SendObjects sends for objs.
func chunksOf(objs ...[]byte) []*pb.Chunk {
	var out []*pb.Chunk
	wire.SendObjects(func(c *pb.Chunk) error { out = append(out, c); return nil }, objs...)
	return out
}
