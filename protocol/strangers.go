package protocol

import (
	"context"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/puente-id/puente/audit"
)

// Bounded work for strangers. Anyone who reaches the node's port can complete a TLS handshake
// with some certificate; a call whose certificate is no partner's is refused (Unauthenticated).
// Such refusals are not audited one by one (a signed, fsynced record each would let anyone grow
// the log at will): they are counted per source (an IPv4 address, an IPv6 /64: sourceOf) and
// summarised in one audit record per source and interval (audit.KindRefusals, with the count),
// and once a source has been refused limits { refusals_per_source } times in an interval, its
// further connections are closed as soon as they are accepted, before any TLS work, and counted
// in the same record. The key policy's limits block sets the interval and the number
// (keys/policy.Limits). Past maxStrangerSources sources in an interval the rest are counted
// together and never closed early, so that no stranger can lock a partner out.

// maxStrangerSources bounds the sources counted one by one in an interval; the refusals of the
// others are counted together under audit.OtherSource, and their connections are not closed
// early (strangerGate.blocked).
const maxStrangerSources = 4096

// strangerGate counts the refusals of unauthenticated peers and closes the connections of the
// sources past their limit.
type strangerGate struct {
	n        *Node
	interval time.Duration
	limit    uint64

	mu     sync.Mutex
	counts map[string]uint64 // source -> refusals (calls refused and connections closed) this interval
}

func newStrangerGate(n *Node) *strangerGate {
	lim := n.policy.Limits
	return &strangerGate{n: n, interval: lim.RefusalInterval.D, limit: uint64(lim.RefusalsPerSource), counts: map[string]uint64{}}
}

// sourceOf is the source of a peer, as audit records name it: its IPv4 address, or for IPv6 its
// /64 network (one customer's allocation, whose 2⁶⁴ addresses one stranger holds), named by the
// network's first address.
func sourceOf(addr net.Addr) string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return audit.OtherSource
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a.String()
}

// key returns the map key of a source, folding new sources into OtherSource once the map is full.
func (g *strangerGate) key(src string) string {
	if _, ok := g.counts[src]; !ok && len(g.counts) >= maxStrangerSources {
		return audit.OtherSource
	}
	return src
}

// refused counts a refused call of source src; it reports whether it is the source's first in
// the interval (worth a log line).
func (g *strangerGate) refused(src string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.key(src)
	g.counts[k]++
	return g.counts[k] == 1
}

// blocked reports whether a new connection from src is to be closed unanswered, and counts it
// if so. The sources folded into OtherSource are never blocked: their count is many sources'
// together, and closing the connections of every source the full map does not hold would let a
// stranger who filled it lock out a partner's new connections.
func (g *strangerGate) blocked(src string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.key(src)
	if k == audit.OtherSource || g.counts[k] < g.limit {
		return false
	}
	g.counts[k]++
	return true
}

// flush writes one record per source counted since the last flush, and starts a new interval.
// A panic in it (a bug) is logged with its stack, and the counts not yet recorded are counted
// again, in the interval that has begun: the next flush records them.
func (g *strangerGate) flush() {
	g.mu.Lock()
	counts := g.counts
	g.counts = map[string]uint64{}
	g.mu.Unlock()
	srcs := make([]string, 0, len(counts))
	for s := range counts {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	done := 0 // sources recorded (or whose record failed, logged)
	defer func() {
		if r := recover(); r != nil {
			g.n.logPanic("flushing refusal counts", r)
			g.recount(counts, srcs[done:])
		}
	}()
	g.n.testHook(context.Background(), "refusals-flushing", nil)
	for _, s := range srcs {
		if _, err := g.n.audit.AppendRefusals(context.Background(), s, audit.RefusedUnauthenticated, counts[s]); err != nil {
			g.n.log.Error("audit record not written", "source", s, "refusals", counts[s], "err", err)
		}
		done++
	}
}

// recount adds the counts of srcs back to the interval's (a flush that did not record them).
func (g *strangerGate) recount(counts map[string]uint64, srcs []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range srcs {
		g.counts[g.key(s)] += counts[s]
	}
}

// run flushes at the end of every interval until ctx ends, then once more.
func (g *strangerGate) run(ctx context.Context) {
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.flush()
			return
		case <-t.C:
			g.flush()
		}
	}
}

// listener closes, as soon as they are accepted, the connections of sources past their limit.
func (g *strangerGate) listener(l net.Listener) net.Listener { return gateListener{Listener: l, g: g} }

type gateListener struct {
	net.Listener
	g *strangerGate
}

func (l gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.g.blocked(sourceOf(c.RemoteAddr())) {
			return c, nil
		}
		c.Close()
	}
}
