//go:build puente_testparams

package protocol

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/protect"
)

// testTransform is the recommended PolyProtect transform on 128-dimensional features
// (internal/evaluation.Recommended): m = 124 protected dimensions.
var testTransform = protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}

// testNode is one in-process node serving on loopback.
type testNode struct {
	*Node
	home   string
	addr   string
	port   *heldPort    // the node's address, bound from initNode to the test's end
	lis    net.Listener // what the next Serve accepts on (port.serving)
	cancel context.CancelFunc
	done   chan error
	grace  time.Duration    // the node's shutdown grace (0: the default)
	clock  func() time.Time // the node's clock (nil: time.Now), from its next start
	prune  time.Duration    // the node's pruning period (0: a minute), from its next start
	bound  time.Duration    // the node's bound on a partner's call (0: the policy's), from its next start
	logTo  io.Writer        // if set, the node's log from its next start, as JSON at every level
}

// pairOptions configure newPair.
type pairOptions struct {
	params string // HE parameter set; default the INSECURE N = 2^11 set
	quota  string // default "1000 per 24h"
	verify string // per-reference verification limit; default "1000 per 24h", "none" for none
	tau    float64
}

// newPair makes two test nodes, "alpha" and "beta", each the other's partner under agreement
// "ab", and serves both. The nodes are closed when the test ends.
func newPair(t testing.TB, o pairOptions) (*testNode, *testNode) {
	t.Helper()
	if o.params == "" {
		o.params = hetest.InsecureN11().Name()
	}
	if o.quota == "" {
		o.quota = "1000 per 24h"
	}
	switch o.verify {
	case "":
		o.verify = "1000 per 24h"
	case "none":
		o.verify = ""
	}
	if o.tau == 0 {
		o.tau = 0.9
	}
	a, b := initNode(t, "alpha"), initNode(t, "beta")
	link(t, a, b, o)
	link(t, b, a, o)
	a.start(t)
	b.start(t)
	return a, b
}

// initNode makes a test node's home with a listener already bound.
func initNode(t testing.TB, name string) *testNode {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if _, err := home.InitHome(context.Background(), dir, home.InitOptions{Node: name, Listen: lis.Addr().String(), TestNode: true, NewState: CreateState}); err != nil {
		t.Fatal(err)
	}
	port := holdPort(t, lis)
	return &testNode{home: dir, addr: lis.Addr().String(), port: port, lis: port.serving()}
}

// heldPort keeps a test node's port bound across its restarts, so that a parallel test cannot be
// given the port while the node is down: one goroutine accepts on it for the test's life and
// hands connections to the listener of the Serve that runs.
type heldPort struct {
	lis   net.Listener
	conns chan net.Conn
	quit  chan struct{}
	once  sync.Once
}

func holdPort(t testing.TB, lis net.Listener) *heldPort {
	h := &heldPort{lis: lis, conns: make(chan net.Conn), quit: make(chan struct{})}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			select {
			case h.conns <- c:
			case <-h.quit:
				c.Close()
				return
			}
		}
	}()
	t.Cleanup(h.close)
	return h
}

// close releases the port: connections to it are refused from then on.
func (h *heldPort) close() { h.once.Do(func() { close(h.quit); h.lis.Close() }) }

// serving returns the listener of one Serve: closing it (as Serve's stop does) ends its Accept,
// not the port.
func (h *heldPort) serving() net.Listener {
	return &servingListener{h: h, done: make(chan struct{})}
}

type servingListener struct {
	h    *heldPort
	done chan struct{}
	once sync.Once
}

func (l *servingListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.h.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *servingListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *servingListener) Addr() net.Addr { return l.h.lis.Addr() }

// link makes b a partner of a (config and policy).
func link(t testing.TB, a, b *testNode, o pairOptions) {
	t.Helper()
	card, err := home.LoadCard(filepath.Join(b.home, "card.json"))
	if err != nil {
		t.Fatal(err)
	}
	snippet, err := home.AddPartner(a.home, card, home.PartnerOptions{Agreement: "ab", Address: b.addr, Purposes: []string{"border-screening"},
		HEParams: o.params, Threshold: o.tau, Transform: testTransform, VerifyLimit: o.verify}, o.quota)
	if err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(a.home, "policy.hcl"), "\n"+snippet)
}

func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// start opens the node and serves it until the test ends.
func (tn *testNode) start(t testing.TB) {
	t.Helper()
	cfg, err := home.LoadConfig(filepath.Join(tn.home, "puente.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if tn.logTo != nil {
		log = slog.New(slog.NewJSONHandler(tn.logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := Open(context.Background(), cfg, Options{Logger: log, ShutdownGrace: tn.grace, Now: tn.clock})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	if tn.prune > 0 {
		n.pruneEvery = tn.prune
	}
	if tn.bound > 0 {
		n.callBound = tn.bound
	}
	if tn.port == nil { // down: bind the port again, now that the node is open
		lis, err := net.Listen("tcp", tn.addr)
		if err != nil {
			t.Fatal(err)
		}
		tn.port = holdPort(t, lis)
	}
	if tn.lis == nil {
		tn.lis = tn.port.serving()
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel, tn.done = cancel, make(chan error, 1)
	lis := tn.lis
	go func() { tn.done <- n.Serve(ctx, lis) }()
	t.Cleanup(func() { tn.stop(t) })
}

// stop ends Serve and closes the node (idempotent).
func (tn *testNode) stop(t testing.TB) {
	if tn.cancel == nil {
		return
	}
	tn.cancel()
	if err := <-tn.done; err != nil {
		t.Errorf("%s: serve: %v", tn.home, err)
	}
	if err := tn.Node.Close(); err != nil {
		t.Errorf("%s: close: %v", tn.home, err)
	}
	tn.cancel, tn.lis = nil, nil
}

// down stops the node and releases its port, as a process that ended would: connections to
// it are refused until the next start binds the port again, once the node is open.
func (tn *testNode) down(t testing.TB) {
	tn.stop(t)
	tn.port.close()
	tn.port = nil
}

// restart stops the node and opens it again from its files.
func (tn *testNode) restart(t testing.TB) {
	t.Helper()
	tn.stop(t)
	tn.start(t)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// rawVectors returns n random raw feature vectors (Gaussian, 128 values).
func rawVectors(seed uint64, n int) [][]float64 {
	return hetest.GaussianVectors(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n, 128)
}

// near returns v plus Gaussian noise of the given relative size: a mated sample.
func near(seed uint64, v []float64, noise float64) []float64 {
	return perf.Near(rand.New(rand.NewPCG(seed, 7)), v, noise)
}

func f32(v [][]float64) [][]float32 { return perf.Float32(v) }

func refs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
