package protocol

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// TestStrangerGate: a source's refusals are counted, not recorded one by one; past the limit its
// connections are closed as soon as they are accepted (and counted); a flush writes one record
// per source with the count, and starts a new interval.
func TestStrangerGate(t *testing.T) {
	t.Parallel()
	lim := policy.DefaultLimits
	lim.RefusalsPerSource = 3
	n, path := gateNode(t, lim)
	w, g := n.audit, n.strangers

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl := g.listener(lis)
	defer gl.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := gl.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Below the limit: accepted, and each refusal counted (the first one is worth a log line).
	for i := range 3 {
		c := dial()
		s := <-accepted
		if first := g.refused(sourceOf(s.RemoteAddr())); first != (i == 0) {
			t.Errorf("refusal %d: first = %v", i+1, first)
		}
		s.Close()
		c.Close()
	}
	// At the limit: the gate closes the connection itself; the peer reads EOF at once.
	c := dial()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a connection past the limit: read %v, want EOF", err)
	}
	c.Close()
	g.flush()
	g.flush() // nothing counted since: no record
	w.Close()
	recs := readRecords(t, path)
	if len(recs) != 1 || recs[0].Kind != audit.KindRefusals || recs[0].Source != "127.0.0.1" || recs[0].Count != 4 {
		t.Fatalf("records %+v, want one summary of 4 refusals of 127.0.0.1", recs)
	}
	// A new interval: the source's connections are accepted again.
	c = dial()
	defer c.Close()
	if s, ok := <-accepted; !ok {
		t.Error("the source is still refused after the interval")
	} else {
		s.Close()
	}
}

// gateNode returns a node with an audit log (at path) and a stranger gate under lim, and nothing
// else.
func gateNode(t *testing.T, lim policy.Limits) (n *Node, path string) {
	t.Helper()
	k, err := keys.GenerateSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var ring keys.Keyring
	if err := ring.Rotate("beta", k.PublicKey(), time.Now().Add(-time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "audit.log")
	w, err := audit.Open(path, audit.Options{Node: "beta", Signer: k, Verifier: &ring})
	if err != nil {
		t.Fatal(err)
	}
	n = &Node{audit: w, log: slog.New(slog.DiscardHandler), policy: &policy.Policy{Limits: lim}}
	n.strangers = newStrangerGate(n)
	return n, path
}

// TestStrangerFlushPanic: a panic while the gate flushes its counts (a bug) is logged, the
// counts it had taken and not recorded are counted again, and the next flush records them; the
// flush loop goes on. Before, the panic ended the node's process.
func TestStrangerFlushPanic(t *testing.T) {
	t.Parallel()
	lim := policy.DefaultLimits
	lim.RefusalInterval.D = time.Millisecond
	n, path := gateNode(t, lim)
	flushes := make(chan struct{}, 1)
	var round atomic.Int32
	hook := hookFunc(func(_ context.Context, p string, _ error) {
		if p != "refusals-flushing" {
			return
		}
		select {
		case flushes <- struct{}{}:
		default:
		}
		if round.Add(1) == 1 {
			panic("flush bug")
		}
	})
	n.hook.Store(&hook)
	for range 3 {
		n.strangers.refused("192.0.2.7")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.strangers.run(ctx); close(done) }()
	await(t, flushes, 2, "refusals-flushing") // the flush that panicked, and one after it
	cancel()
	<-done
	if err := n.audit.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, path)
	if len(recs) != 1 || recs[0].Kind != audit.KindRefusals || recs[0].Source != "192.0.2.7" || recs[0].Count != 3 {
		t.Fatalf("records %+v, want one summary of 3 refusals of 192.0.2.7", recs)
	}
}

// readRecords reads an audit log (the writer has synced every record it acknowledged).
func readRecords(t *testing.T, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// TestStrangersCannotLockOutPartner: once a stranger has filled the gate's map with
// maxStrangerSources sources, the refusals of every further source count together under
// audit.OtherSource, which soon passes the limit. Before, the gate then closed at Accept the
// connection of every source the map did not hold, a partner's new connections included, for
// the rest of the interval (a hostile review's finding: 4,108 calls from 127.x.y.z, and the
// partner's next call was Unavailable). The folded sources are now never blocked, while a
// source of its own past the limit still is.
func TestStrangersCannotLockOutPartner(t *testing.T) {
	lim := policy.DefaultLimits
	lim.RefusalsPerSource = 3
	g := newStrangerGate(&Node{policy: &policy.Policy{Limits: lim}})
	for i := range maxStrangerSources {
		g.refused(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String())
	}
	for i := range 20 {
		g.refused(netip.AddrFrom4([4]byte{172, 16, 0, byte(i)}).String())
	}
	if n := g.counts[tally{source: audit.OtherSource}]; n != 20 {
		t.Fatalf("%d refusals counted under %q, want 20", n, audit.OtherSource)
	}
	if g.blocked("192.0.2.7") {
		t.Error("a partner's connection from a source the full map does not hold was closed")
	}
	for range 3 {
		g.refused("10.0.0.5")
	}
	if !g.blocked("10.0.0.5") {
		t.Error("a source of its own past the limit was not blocked")
	}
}

// TestSourceOfFoldsIPv6: an IPv6 peer is counted by its /64 (one customer's network), named by
// the network's first address, so that a stranger cannot fill the gate's map, or pass its limit
// unseen, from the 2⁶⁴ addresses of one network; IPv4 and IPv4-mapped peers by their address.
func TestSourceOfFoldsIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443": "2001:db8:1:2::",
		"[2001:db8:1:2::1]:1":                    "2001:db8:1:2::",
		"[2001:db8:1:3::1]:1":                    "2001:db8:1:3::",
		"[::ffff:192.0.2.1]:80":                  "192.0.2.1",
		"192.0.2.1:80":                           "192.0.2.1",
		"[fe80::1%eth0]:80":                      "fe80::",
	} {
		ap := netip.MustParseAddrPort(in)
		if got := sourceOf(net.TCPAddrFromAddrPort(ap)); got != want {
			t.Errorf("sourceOf(%s) = %q, want %q", in, got, want)
		}
		if !audit.ValidSource(sourceOf(net.TCPAddrFromAddrPort(ap))) {
			t.Errorf("sourceOf(%s) is not a valid audit source", in)
		}
	}
}
