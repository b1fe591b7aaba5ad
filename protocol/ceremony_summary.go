package protocol

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// Ceremony calls that change nothing. A partner's ceremony call is audited by itself when it
// changes what the node holds or concerns a ceremony the node holds: a ceremony set up (Hello,
// bounded by limits { ceremonies }), a round of a live ceremony answered, a ceremony or a
// prepared epoch aborted, an epoch committed. A call that changes nothing and concerns no
// ceremony the node holds is not: an Outcome, an Abort, a Commit or a round of a ceremony it
// never issued or no longer holds (finished, aborted). It is answered as before and counted
// under audit.RefusedCeremonyUnknown in one refusals record per partner and refusal_interval
// (strangers.go). An Outcome asked again of a ceremony the node holds (a responder asks every
// few seconds until the outcome is known) is answered again: its first answer, and each change
// of it, is recorded, the rest are counted under audit.RefusedCeremonyRepeated. A round of a
// live ceremony that the node refuses (out of order, repeated, malformed) changes nothing and
// leaves the ceremony live, so the partner may send it again at will: the first
// maxAuditedRefusals refusals of a ceremony's rounds are recorded one by one, the rest are
// counted under audit.RefusedCeremonyRefusedRepeated. Otherwise a partner could grow the
// signed, fsynced log by several KB per call, at will.

// maxRecordedOutcomes bounds the Outcome answers remembered per partner (outcomeRecorded): more
// than the ceremonies a node holds with one partner at once (its own running one, a prepared
// epoch, an Abort it owes). Past it the oldest is forgotten, and recorded again if asked again.
const maxRecordedOutcomes = 4

// maxAuditedRefusals bounds the refusals of one ceremony's rounds audited one by one (action
// ceremony-refused): enough for a privacy officer to see what the partner sent, and an honest
// initiator's retry. With the Hellos that start ceremonies bounded (limits { ceremonies }), so
// are these records.
const maxAuditedRefusals = 4

// refusalAudited counts a refusal of one of c's rounds and reports whether it is among the
// first maxAuditedRefusals, audited by themselves; the caller counts the rest for the partner's
// summary.
func (c *ceremonyState) refusalAudited() bool { return c.refusals.Add(1) <= maxAuditedRefusals }

// recordedOutcome is an Outcome answer the node recorded: the ceremony's ID and the answer.
type recordedOutcome struct {
	id []byte
	o  pb.CeremonyOutcome
}

// summarise counts a call of p's under class, in place of an audit record of its own.
func (n *Node) summarise(p *partner, method string, class audit.RefusalClass) {
	if n.strangers.partnerRefused(p.name, class) {
		n.log.Info("call counted, not audited by itself", "partner", p.name, "method", methodName(method), "class", class)
	}
}

// refuseUnknown refuses a call about a ceremony this node does not hold (FailedPrecondition,
// with the message safe): failRound counts it, it is not audited by itself.
func refuseUnknown(safe string) *Error {
	return wire.Refuse(codes.FailedPrecondition, audit.RefusedCeremonyUnknown, safe, nil)
}

// heldAsInitiator reports whether this node holds ceremony id of its own with p besides a
// running one: a prepared epoch of it (undecided, or committed and not yet acknowledged) or an
// Abort of it it owes the partner.
func (n *Node) heldAsInitiator(ctx context.Context, p *partner, id []byte) (bool, error) {
	n.cer.mu.Lock()
	owed := slices.ContainsFunc(n.cer.aborted, func(a abortNotice) bool { return a.partner == p.name && sameCeremony(a.id, id) })
	n.cer.mu.Unlock()
	if owed {
		return true, nil
	}
	pes, err := n.pendingOf(ctx, p.cfg.Agreement)
	if err != nil {
		return false, err
	}
	held := false
	for _, pe := range pes {
		held = held || pe.initiator && sameCeremony(pe.id, id)
		pe.zero()
	}
	return held, nil
}

// outcomeRecorded reports whether the Outcome answer o about ceremony id was recorded for p
// before; if not, it remembers it (the caller records it).
func (n *Node) outcomeRecorded(p *partner, id []byte, o pb.CeremonyOutcome) bool {
	n.cer.mu.Lock()
	defer n.cer.mu.Unlock()
	rs := n.cer.outcomes[p.name]
	if i := slices.IndexFunc(rs, func(r recordedOutcome) bool { return sameCeremony(r.id, id) }); i >= 0 {
		if rs[i].o == o {
			return true
		}
		rs = slices.Delete(rs, i, i+1)
	}
	if len(rs) >= maxRecordedOutcomes {
		rs = slices.Delete(rs, 0, 1)
	}
	n.cer.outcomes[p.name] = append(rs, recordedOutcome{id: slices.Clone(id), o: o})
	return false
}
