package protocol

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/protocol/wire"
)

// The ceremonies a partner may start. Every Hello sets up a ceremony (replacing the partner's
// one before) and writes a signed, fsynced audit record of several KB, and the rounds that
// follow cost the node key generation; a partner that sent Hello after Hello could fill the
// node's disk and spend its CPU at will. So every Hello of a partner, answered or not, counts
// against the key policy's limits { ceremonies } ("N per PERIOD", a sliding window kept in the
// state file like the query quota), and one past the limit is refused with ResourceExhausted
// before any other work: before its signature is checked and before it is audited. Such
// refusals are counted and summarised in one audit record per partner and interval
// (strangers.go), never one by one. A ceremony is a rare operator action; the default (24 per
// 24h, keys/policy.DefaultLimits) leaves room for several a day and their retries.

// ceremonyBucket holds the times of the partner's Hellos within the ceremony limit's window.
func ceremonyBucket(partner string) []byte { return []byte(ceremonyPrefix + partner) }

// chargeHello counts a Hello of p against its ceremony limit. Past the limit it returns the
// refusal (class audit.RefusedCeremonyLimit), which the caller returns as it is: it is counted
// here, for the interval's summary, and must not be audited again.
func (n *Node) chargeHello(p *partner) *Error {
	q := n.policy.Limits.Ceremonies
	now := n.now()
	err := n.state.charge(limit{bucket: ceremonyBucket(p.name), quota: q}, now)
	var se *limitSpent
	if !errors.As(err, &se) {
		if err != nil {
			return wire.Internal(err)
		}
		return nil
	}
	e := wire.Refuse(codes.ResourceExhausted, audit.RefusedCeremonyLimit,
		fmt.Sprintf("ceremony limit of %s reached: retry after %s", q, retryAfter(se.free, now, q.Window)), err)
	if n.strangers.partnerRefused(p.name, audit.RefusedCeremonyLimit) {
		n.log.Warn("refused", "partner", p.name, "method", "Hello", "code", e.Code.String(), "reason", e.Error())
	}
	return e
}
