//go:build puente_testparams

package protocol

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// callFlood is how many calls of one kind the flooding partner sends.
const callFlood = 60

// strayCeremonyID is a ceremony ID no node issued (the i-th of the test's).
func strayCeremonyID(i int) []byte {
	id := make([]byte, ceremonyIDLen)
	id[0], id[1] = 0xfe, byte(i)
	return id
}

// commitSeedOf sends one validly signed CommitSeed of a's for ceremony id of epoch to p.
func commitSeedOf(ctx context.Context, t *testing.T, a *testNode, p *partner, id []byte, epoch uint64) error {
	t.Helper()
	cc, err := a.ceremonyClient(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	pl := &pb.CommitSeedPayload{CeremonyId: id, Commitment: make([]byte, commitmentLen), CrsContribution: make([]byte, crsContribLen)}
	_, err = callRound(ctx, a.Node, p, pb.CeremonyService_CommitSeed_FullMethodName, epoch, pl,
		func(h *pb.RequestHeader, sig []byte) (*pb.CommitSeedResponse, error) {
			return cc.CommitSeed(ctx, &pb.CommitSeedRequest{Header: h, Payload: pl, Signature: sig})
		}, func(r *pb.CommitSeedResponse) proto.Message { return orEmpty(r.Payload) })
	return err
}

// flood runs send callFlood times and fails the test, with the figures, if tn's audit log grew
// by more than allowed records; what names the calls ("Outcome calls for unknown ceremonies").
func flood(t *testing.T, tn *testNode, what string, allowed int, send func(i int)) {
	t.Helper()
	recs0, size0 := auditSize(t, tn)
	for i := range callFlood {
		send(i)
	}
	recs1, size1 := auditSize(t, tn)
	t.Logf("%d %s: log grew by %d records, %d bytes", callFlood, what, recs1-recs0, size1-size0)
	if recs1-recs0 > allowed {
		t.Errorf("log grew by %d records (%d bytes) for %d %s, want at most %d", recs1-recs0, size1-size0, callFlood, what, allowed)
	}
}

// recorded returns how many of tn's audit records, from the from-th on, have action.
func recorded(t *testing.T, tn *testNode, from int, action string) int {
	t.Helper()
	n := 0
	for _, r := range records(t, tn)[from:] {
		if r.Action == action {
			n++
		}
	}
	return n
}

// summarised flushes tn's refusal counts and returns the count of partner's summary of class
// (0: none), failing the test if the flush wrote more than one such summary.
func summarised(t *testing.T, tn *testNode, partner string, class audit.RefusalClass) uint64 {
	t.Helper()
	from := len(records(t, tn))
	tn.strangers.flush()
	var sum []audit.Record
	for _, r := range records(t, tn)[from:] {
		if r.Kind == audit.KindRefusals && r.Partner == partner && r.Refusal == class {
			sum = append(sum, r)
		}
	}
	switch len(sum) {
	case 0:
		return 0
	case 1:
		return sum[0].Count
	}
	t.Errorf("%d summaries of %s's %s calls, want one", len(sum), partner, class)
	return 0
}

// TestCeremonyCallFlood: a partner's validly signed ceremony calls that change nothing the node
// holds each wrote a signed, fsynced audit record of several KB: an Outcome or an Abort of a
// ceremony the node never knew, a round of one, an Outcome asked again and again. The partner
// could grow the node's log at will. Now a call about a ceremony the node does not hold is
// answered as before and counted in one summary per partner and interval (ceremony-unknown); an
// Outcome asked again of one it holds is answered again, and recorded once (ceremony-repeated).
func TestCeremonyCallFlood(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	toBeta, toAlpha := a.partners["beta"], b.partners["alpha"]

	t.Run("unknown ceremonies", func(t *testing.T) {
		flood(t, b, "Outcome calls for unknown ceremonies", 0, func(i int) {
			if o, err := a.queryOutcome(ctx, toBeta, strayCeremonyID(i), 1); err != nil || o != pb.CeremonyOutcome_CEREMONY_OUTCOME_ABORTED {
				t.Fatalf("Outcome of an unknown ceremony: %v %v, want aborted", o, err)
			}
		})
		flood(t, b, "Abort calls for unknown ceremonies", 0, func(i int) {
			if err := a.sendAbort(ctx, toBeta, strayCeremonyID(i), 1, "flood"); codeOf(err) != codes.FailedPrecondition {
				t.Fatalf("Abort of an unknown ceremony: %v, want FailedPrecondition", err)
			}
		})
		flood(t, b, "CommitSeed calls for unknown ceremonies", 0, func(i int) {
			if err := commitSeedOf(ctx, t, a, toBeta, strayCeremonyID(i), 1); codeOf(err) != codes.FailedPrecondition {
				t.Fatalf("CommitSeed of an unknown ceremony: %v, want FailedPrecondition", err)
			}
		})
		if n := summarised(t, b, "alpha", audit.RefusedCeremonyUnknown); n != 3*callFlood {
			t.Errorf("the summary counts %d of alpha's calls about unknown ceremonies, want %d", n, 3*callFlood)
		}
	})

	// beta initiates a ceremony with alpha and holds it undecided: alpha, the responder, has
	// prepared it and asks beta its outcome (in the background too).
	c := undecidedCeremony(ctx, t, b, toAlpha, 1)
	id, epoch := append([]byte(nil), c.id...), c.epoch

	t.Run("undecided ceremony", func(t *testing.T) {
		from := len(records(t, b))
		flood(t, b, "Outcome calls for an undecided ceremony", 1, func(int) {
			if o, err := a.queryOutcome(ctx, toBeta, id, epoch); err != nil || o != pb.CeremonyOutcome_CEREMONY_OUTCOME_PENDING {
				t.Fatalf("Outcome of the undecided ceremony: %v %v, want pending", o, err)
			}
		})
		if n := recorded(t, b, from, "ceremony-outcome"); n != 1 {
			t.Errorf("%d ceremony-outcome records of the undecided ceremony, want 1", n)
		}
		// alpha's own retries (resolveInBackground) are counted with the test's.
		if n := summarised(t, b, "alpha", audit.RefusedCeremonyRepeated); n < callFlood-1 {
			t.Errorf("the summary counts %d of alpha's repeated Outcome calls, want at least %d", n, callFlood-1)
		}
	})

	// beta commits it and alpha acknowledges: the ceremony is finished, beta holds nothing of it.
	pe := &pendingEpoch{initiator: true, partner: toAlpha.name, id: c.id, epoch: c.epoch, mine: c.mine, theirs: c.theirs}
	if err := b.commitEpoch(ctx, toAlpha, pe, true); err != nil {
		t.Fatal(err)
	}
	b.releaseOutgoing(c)
	if !b.sendCommitUntilAcked(ctx, toAlpha, pe) {
		t.Fatal("Commit not acknowledged")
	}
	c.destroy()

	t.Run("finished ceremony", func(t *testing.T) {
		flood(t, b, "Outcome calls for a finished ceremony", 0, func(int) {
			if o, err := a.queryOutcome(ctx, toBeta, id, epoch); err != nil || o != pb.CeremonyOutcome_CEREMONY_OUTCOME_COMMITTED {
				t.Fatalf("Outcome of the finished ceremony: %v %v, want committed", o, err)
			}
		})
		if n := summarised(t, b, "alpha", audit.RefusedCeremonyUnknown); n < callFlood {
			t.Errorf("the summary counts %d of alpha's Outcome calls for the finished ceremony, want at least %d", n, callFlood)
		}
	})
}

// TestCeremonyRoundRefusalFlood: a round of a live ceremony that the node refuses (repeated, out
// of order, of another epoch) changes nothing and leaves the ceremony live, and each refusal
// wrote a signed, fsynced audit record of several KB: a partner could send a refused round of its
// ceremony again and again and grow the node's log at will. Now the first maxAuditedRefusals
// refusals of a ceremony's rounds are recorded one by one, the rest are counted in one summary
// per partner and interval (ceremony-refused-repeated); every refusal is answered as before, and
// the ceremony still completes.
func TestCeremonyRoundRefusalFlood(t *testing.T) {
	t.Parallel()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	toBeta := a.partners["beta"]

	// alpha runs its ceremony with beta past the seed rounds: CommitSeed is done.
	c, err := a.clientHello(ctx, toBeta, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.clientSeed(ctx, toBeta, c); err != nil {
		t.Fatal(err)
	}
	from := len(records(t, b))
	var answers [2]string
	flood(t, b, "refused rounds of a live ceremony", maxAuditedRefusals, func(i int) {
		// CommitSeed again (refused as a repeated step), or naming another epoch than the
		// ceremony's (refused before its state is looked at).
		err := commitSeedOf(ctx, t, a, toBeta, c.id, uint64(1+i%2))
		if codeOf(err) != codes.FailedPrecondition {
			t.Fatalf("refused round %d: %v, want FailedPrecondition", i+1, err)
		}
		if i < 2 {
			answers[i] = err.Error()
		} else if err.Error() != answers[i%2] {
			t.Fatalf("refused round %d answered %q, the same round before %q", i+1, err, answers[i%2])
		}
	})
	if n := recorded(t, b, from, "ceremony-refused"); n != maxAuditedRefusals {
		t.Errorf("%d ceremony-refused records of the live ceremony, want the first %d", n, maxAuditedRefusals)
	}
	if n := summarised(t, b, "alpha", audit.RefusedCeremonyRefusedRepeated); n != callFlood-maxAuditedRefusals {
		t.Errorf("the summary counts %d of alpha's refused rounds, want %d", n, callFlood-maxAuditedRefusals)
	}

	// Refusing changed nothing: the ceremony goes on to its end.
	runShares(t, a, c)
	finish(t, a, c)
	if k, err := b.partners["alpha"].current(); err != nil || k.epoch != 1 {
		t.Errorf("the responder's epoch after the ceremony: %v %v, want 1", k, err)
	}
}
