package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"regexp"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/puente-id/puente/audit"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// An answer's witness: the responder signs the head of its audit log (the record of the answer)
// into the response header, and the querier records it with its decision (audit.Witness), so
// each partner's log holds evidence of the other's.

// witnessOf checks the audit head of partner's answer h against its keyring and returns it as
// the querier records it.
func witnessOf(h *pb.ResponseHeader, partner string, ring audit.Verifier) (*audit.Witness, error) {
	ah := h.GetAuditHead()
	if ah == nil || ah.Seq == 0 || len(ah.Hash) != 32 || len(ah.Signature) != audit.SignatureSize {
		return nil, errors.New("the answer carries no well-formed audit head")
	}
	head := audit.Head{Seq: ah.Seq, Hash: hex.EncodeToString(ah.Hash)}
	return audit.NewWitness(ring, partner, head, h.SentAt.AsTime(), hex.EncodeToString(h.SigningKeyId), ah.Signature)
}

// requestIDHeader is the gRPC metadata key by which a querier names a Search or Verify call's
// request ID before it sends any message, and the responder confirms it once it has recorded the
// call as pending: so that the two audit logs name every call the same way, even one that ends
// before its signed header was read. For a partner past the refusals the responder records one by
// one in an interval, it confirms before recording, which it does before the call's quota
// reservation (refusals.go).
const requestIDHeader = "puente-request-id"

var requestIDForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

// callRequestID returns the request ID the querier named in the call's metadata, or "" if it
// named none in the right form.
func callRequestID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(requestIDHeader); len(v) == 1 && requestIDForm.MatchString(v[0]) {
		return v[0]
	}
	return ""
}

// confirmRequestID tells the querier that the call is recorded, or will be before its quota
// reservation (the response headers).
func confirmRequestID(ctx context.Context, rid string) {
	grpc.SendHeader(ctx, metadata.Pairs(requestIDHeader, rid))
}

// withRequestID names the call's request ID in its outgoing metadata.
func withRequestID(ctx context.Context, rid string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, requestIDHeader, rid)
}
