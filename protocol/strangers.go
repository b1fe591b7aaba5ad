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
//
// The same counts, and the same records (naming the partner and a class instead of a source),
// summarise a partner's Hellos refused past limits { ceremonies } (ceremony_limit.go), its
// ceremony calls that change nothing the node holds (ceremony_summary.go) and its refusals past
// the first few of the interval (refusals.go): a partner, too, must not grow the log by sending
// what is refused or changes nothing.

// maxStrangerSources bounds the sources counted one by one in an interval; the refusals of the
// others are counted together under audit.OtherSource, and their connections are not closed
// early (strangerGate.blocked).
const maxStrangerSources = 4096

// strangerGate counts the refusals of unauthenticated peers and closes the connections of the
// sources past their limit; it counts the partners' calls summarised by class too.
type strangerGate struct {
	n        *Node
	interval time.Duration
	limit    uint64

	mu     sync.Mutex
	counts map[tally]uint64 // refusals this interval: a source's calls refused and connections closed, a partner's calls by class
	// recorded counts, per partner, the refusals recorded one by one this interval (refusals.go);
	// the partners are the configuration's, so the map stays small.
	recorded map[string]int
}

// tally names whom a count of refusals is of: a stranger's source, or a partner and the class
// of its calls counted.
type tally struct {
	source, partner string
	class           audit.RefusalClass // a partner's only
}

// less orders tallies as flush records them: the sources first.
func (t tally) less(u tally) bool {
	if t.partner != u.partner {
		return t.partner < u.partner
	}
	if t.class != u.class {
		return t.class < u.class
	}
	return t.source < u.source
}

func newStrangerGate(n *Node) *strangerGate {
	lim := n.policy.Limits
	return &strangerGate{n: n, interval: lim.RefusalInterval.D, limit: uint64(lim.RefusalsPerSource),
		counts: map[tally]uint64{}, recorded: map[string]int{}}
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

// key returns the map key of a tally, folding new sources into OtherSource once the map is
// full (partners, whom the node's configuration names, are never folded).
func (g *strangerGate) key(t tally) tally {
	if _, ok := g.counts[t]; !ok && t.partner == "" && len(g.counts) >= maxStrangerSources {
		return tally{source: audit.OtherSource}
	}
	return t
}

// refused counts a refused call of source src; it reports whether it is the source's first in
// the interval (worth a log line).
func (g *strangerGate) refused(src string) bool { return g.count(tally{source: src}) }

// partnerRefused counts a partner's call of class (a Hello refused past its ceremony limit, a
// ceremony call that changes nothing, a refusal past the ones recorded one by one); it reports whether it is the partner's first of the class
// in the interval.
func (g *strangerGate) partnerRefused(partner string, class audit.RefusalClass) bool {
	return g.count(tally{partner: partner, class: class})
}

func (g *strangerGate) count(t tally) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.key(t)
	g.counts[k]++
	return g.counts[k] == 1
}

// recordRefusal counts a refusal of partner's recorded by itself and reports whether it is: one
// of the partner's first maxRecordedRefusals in the interval, or one that must be (a refusal
// that ends a call recorded as pending), which is counted too.
func (g *strangerGate) recordRefusal(partner string, must bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !must && g.recorded[partner] >= maxRecordedRefusals {
		return false
	}
	g.recorded[partner]++
	return true
}

// refusalsLeft reports whether partner's refusals are still recorded one by one this interval.
func (g *strangerGate) refusalsLeft(partner string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.recorded[partner] < maxRecordedRefusals
}

// blocked reports whether a new connection from src is to be closed unanswered, and counts it
// if so. The sources folded into OtherSource are never blocked: their count is many sources'
// together, and closing the connections of every source the full map does not hold would let a
// stranger who filled it lock out a partner's new connections.
func (g *strangerGate) blocked(src string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.key(tally{source: src})
	if k.source == audit.OtherSource || g.counts[k] < g.limit {
		return false
	}
	g.counts[k]++
	return true
}

// flush writes one record per source, or partner and class, counted since the last flush, and
// starts a new interval, in which every partner's refusals are recorded one by one again.
// A panic in it (a bug) is logged with its stack, and the counts not yet recorded are counted
// again, in the interval that has begun: the next flush records them.
func (g *strangerGate) flush() {
	g.mu.Lock()
	counts := g.counts
	g.counts, g.recorded = map[tally]uint64{}, map[string]int{}
	g.mu.Unlock()
	ts := make([]tally, 0, len(counts))
	for t := range counts {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].less(ts[j]) })
	done := 0 // tallies recorded (or whose record failed, logged)
	defer func() {
		if r := recover(); r != nil {
			g.n.logPanic("flushing refusal counts", r)
			g.recount(counts, ts[done:])
		}
	}()
	g.n.testHook(context.Background(), "refusals-flushing", nil)
	for _, t := range ts {
		if err := g.record(t, counts[t]); err != nil {
			g.n.log.Error("audit record not written", "source", t.source, "partner", t.partner, "class", t.class, "refusals", counts[t], "err", err)
		}
		done++
	}
}

// record writes the refusals record of one tally.
func (g *strangerGate) record(t tally, count uint64) error {
	var err error
	if t.partner != "" {
		_, err = g.n.audit.AppendPartnerRefusals(context.Background(), t.partner, t.class, count)
	} else {
		_, err = g.n.audit.AppendRefusals(context.Background(), t.source, audit.RefusedUnauthenticated, count)
	}
	return err
}

// recount adds the counts of ts back to the interval's (a flush that did not record them).
func (g *strangerGate) recount(counts map[tally]uint64, ts []tally) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range ts {
		g.counts[g.key(t)] += counts[t]
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
