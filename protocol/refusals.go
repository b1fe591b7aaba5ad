package protocol

// A partner's refusals, recorded one by one up to a bound. A refusal changes nothing the node
// holds, so a partner may send the refused call again at will: a bad signature, a stale time, a
// replayed nonce, a malformed field, a query past its quota. Each refusal recorded by itself is a
// signed, fsynced record of several KB (a Search's two: its pending record and its refusal), so
// the first maxRecordedRefusals refusals of a partner in a refusal_interval are recorded one by
// one, and the rest are answered the same way and counted by class in the partner's refusals
// records (strangers.go), with what ceremony_summary.go counts.
//
// A refusal that ends a call already recorded as pending is recorded by itself even past the
// bound: a pending record without its end reads as a call a crash interrupted. Such calls are
// bounded all the same. A Search or Verify of a partner past the bound is recorded as pending
// only once it has passed every check before its quota reservation (serveMatch), so the
// refusals that end a pending call are those at or after the reservation (a quota, nonce or
// request ID a concurrent call took, which only a call within the quota can race for; an epoch
// revoked meanwhile), those of calls that were open when the bound was reached (at most
// maxPartnerCalls), and those of an opening (round 2), which follows an answer the quota counted. A quota refusal is evidence a privacy officer looks for (a partner pushing
// past its quota may be hill-climbing), but it is no exception: it is as free to repeat as any
// other, and the evidence stays in the log, the first ones of an interval one by one and every one
// counted under quota-exceeded in the partner's summary of the interval.

// maxRecordedRefusals bounds a partner's refusals recorded one by one per refusal_interval. It
// is enough for a privacy officer to see, with the request ID, purpose and epoch of each, what
// kinds of thing the partner sent (each one past the bound is counted under its class too), and
// for an honest partner's burst (a clock out of step, a quota reached while several queries were
// out) to be recorded whole. It costs at most 16 refused Searches, 32 records of about 4.8 kB,
// some 154 kB per partner and interval (22 MB a day at the default 10 minutes), where before it
// had no bound.
const maxRecordedRefusals = 16

// refusalRecorded reports whether p's refusal e of a call to method is to be recorded by itself
// (the caller records it): one of the partner's first maxRecordedRefusals in the interval, or
// one that ends a call recorded as pending (pending). Otherwise it counts the refusal under its
// class for the partner's summary.
func (n *Node) refusalRecorded(p *partner, method string, e *Error, pending bool) bool {
	if n.strangers.recordRefusal(p.name, pending) {
		return true
	}
	n.summarise(p, method, e.Refusal)
	return false
}

// refusalsRecorded reports whether p's refusals are still recorded one by one in this interval.
func (n *Node) refusalsRecorded(p *partner) bool { return n.strangers.refusalsLeft(p.name) }
