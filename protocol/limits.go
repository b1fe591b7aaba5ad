package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
	"github.com/puente-id/puente/protocol/wire"
)

// verifyPrefix starts the buckets of the per-reference verification limits; verifyFloorPrefix
// the bucket, per partner, of the answers a rebuilt state charges to every reference.
const (
	verifyPrefix      = "verify/"
	verifyFloorPrefix = "verify-floor/"
)

// verifyFloorBucket holds, after a rebuild of the state file (RebuildState), the partner's
// answered queries the audit log proves. The log does not say which reference a verification
// named (nor whether a query was a Search or a Verify), so each counts against the verification
// limit of every reference until it leaves the window: a rebuild never gives a reference its
// verifications back.
func verifyFloorBucket(partner string) []byte { return []byte(verifyFloorPrefix + partner) }

// verifyBucket holds the times of the partner's answered verifications against one reference.
// The bucket is named by a digest of the reference, so the state file holds no gallery label.
func verifyBucket(partner, reference string) []byte {
	h := sha256.New()
	h.Write([]byte("puente/v1 verify limit\x00"))
	h.Write([]byte(reference))
	return []byte(verifyPrefix + partner + "/" + hex.EncodeToString(h.Sum(nil)))
}

// callLimits returns the limits a Search or Verify call is counted against: the partner's quota
// and, for Verify, the referenced template's verification limit. A partner the key policy grants
// no quota (or, for Verify, no verify_limit) is refused: a one-bit answer leaks under unlimited
// probes, and under unlimited probes of one reference in particular.
func callLimits(c *matchCall) ([]limit, *Error) {
	p := c.p
	if p.quota == nil {
		return nil, wire.Refuse(codes.PermissionDenied, audit.RefusedQuota, "the key policy grants this partner no quota", nil)
	}
	ls := []limit{{bucket: quotaBucket(p.name), quota: *p.quota}}
	if c.method == pb.MatchService_Verify_FullMethodName {
		if p.verify == nil {
			return nil, wire.Refuse(codes.PermissionDenied, audit.RefusedVerifyLimit, "the key policy sets no verification limit for this partner", nil)
		}
		ls = append(ls, limit{bucket: verifyBucket(p.name, c.open.reference), quota: *p.verify, floor: verifyFloorBucket(p.name)})
	}
	return ls, nil
}

// spentRefusal is the refusal for a limit found spent: the quota's, naming it and when to retry
// (free, from the state file; zero: not known), or the reference's.
func spentRefusal(l limit, free, now time.Time, err error) *Error {
	if strings.HasPrefix(string(l.bucket), verifyPrefix) {
		return wire.Refuse(codes.ResourceExhausted, audit.RefusedVerifyLimit, "verification limit of this reference exhausted", err)
	}
	return wire.Refuse(codes.ResourceExhausted, audit.RefusedQuota,
		fmt.Sprintf("query quota of %s exhausted: retry after %s", l.quota, retryAfter(free, now, l.quota.Window)), err)
}

// retryAfter is the time from which a spent limit allows one more, as a refusal names it: free
// (or, not known, now plus the limit's window), rounded up to the message's precision, RFC 3339
// in UTC.
func retryAfter(free, now time.Time, window time.Duration) string {
	if free.IsZero() {
		free = now.Add(window)
	}
	return free.Truncate(time.Second).Add(time.Second).UTC().Format(time.RFC3339)
}

// checkLimits is the early, read-only look at the call's limits (commitMatch reserves).
func (n *Node) checkLimits(ls []limit) *Error {
	now := n.now()
	for _, l := range ls {
		used, free, err := n.state.spent(l, now)
		if err != nil {
			return wire.Internal(err)
		}
		if !l.quota.Allows(used) {
			return spentRefusal(l, free, now, fmt.Errorf("%d of %s used", used, l.quota))
		}
	}
	return nil
}

// spentLimit is the refusal for admit's *limitSpent: the refusal of the limit of ls it names.
func spentLimit(err error, ls []limit, now time.Time) *Error {
	var se *limitSpent
	if errors.As(err, &se) {
		for _, l := range ls {
			if bytes.Equal(l.bucket, se.bucket) {
				return spentRefusal(l, se.free, now, err)
			}
		}
	}
	return spentRefusal(ls[0], time.Time{}, now, err)
}
