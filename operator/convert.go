package operator

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/puente-id/puente/proto/puente/operator/v1"
	"github.com/puente-id/puente/protocol"
)

// The protocol package's types and their messages in operator.proto, both ways. A nil vector
// stays nil and an empty one empty (a probe has exactly one of raw and protected features), and a
// nil report stays nil.

func vectorOf(v []float64) *pb.Vector {
	if v == nil {
		return nil
	}
	return &pb.Vector{Values: v}
}

func vectorsOf(vs [][]float64) []*pb.Vector {
	out := make([]*pb.Vector, len(vs))
	for i, v := range vs {
		out[i] = &pb.Vector{Values: v}
	}
	return out
}

// fromVector returns v's values, non-nil when v is present.
func fromVector(v *pb.Vector) []float64 {
	if v == nil {
		return nil
	}
	if v.Values == nil {
		return []float64{}
	}
	return v.Values
}

func fromVectors(vs []*pb.Vector) [][]float64 {
	if vs == nil {
		return nil
	}
	out := make([][]float64, len(vs))
	for i, v := range vs {
		out[i] = fromVector(v)
	}
	return out
}

func vectors32Of(vs [][]float32) []*pb.Vector32 {
	out := make([]*pb.Vector32, len(vs))
	for i, v := range vs {
		out[i] = &pb.Vector32{Values: v}
	}
	return out
}

func fromVectors32(vs []*pb.Vector32) [][]float32 {
	if vs == nil {
		return nil
	}
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = v.GetValues()
		if out[i] == nil {
			out[i] = []float32{}
		}
	}
	return out
}

func probeOf(p protocol.Probe) *pb.Probe {
	return &pb.Probe{Raw: vectorOf(p.Raw), Protected: vectorOf(p.Protected), Epoch: p.Epoch}
}

func fromProbe(p *pb.Probe) protocol.Probe {
	return protocol.Probe{Raw: fromVector(p.GetRaw()), Protected: fromVector(p.GetProtected()), Epoch: p.GetEpoch()}
}

func durationOf(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func ceremonyReportOf(r *protocol.CeremonyReport) *pb.CeremonyReport {
	if r == nil {
		return nil
	}
	return &pb.CeremonyReport{Partner: r.Partner, Agreement: r.Agreement, Epoch: r.Epoch, ParamSet: r.ParamSet,
		Exchanges: int64(r.Exchanges), BytesSent: r.BytesSent, BytesRecv: r.BytesRecv,
		Elapsed: durationOf(r.Elapsed), Acknowledged: r.Acknowledged}
}

func fromCeremonyReport(r *pb.CeremonyReport) *protocol.CeremonyReport {
	if r == nil {
		return nil
	}
	return &protocol.CeremonyReport{Partner: r.Partner, Agreement: r.Agreement, Epoch: r.Epoch, ParamSet: r.ParamSet,
		Exchanges: int(r.Exchanges), BytesSent: r.BytesSent, BytesRecv: r.BytesRecv,
		Elapsed: r.Elapsed.AsDuration(), Acknowledged: r.Acknowledged}
}

func resultOf(r *protocol.Result) *pb.Result {
	if r == nil {
		return nil
	}
	return &pb.Result{Hit: r.Hit, RequestId: r.RequestID, Epoch: r.Epoch, Elapsed: durationOf(r.Elapsed),
		BytesSent: r.BytesSent, BytesRecv: r.BytesRecv}
}

func fromResult(r *pb.Result) *protocol.Result {
	if r == nil {
		return nil
	}
	return &protocol.Result{Hit: r.Hit, RequestID: r.RequestId, Epoch: r.Epoch, Elapsed: r.Elapsed.AsDuration(),
		BytesSent: r.BytesSent, BytesRecv: r.BytesRecv}
}

func statusOfNode(s *protocol.Status) *pb.StatusResponse {
	if s == nil {
		return &pb.StatusResponse{}
	}
	out := &pb.StatusResponse{Node: s.Node}
	for _, p := range s.Partners {
		ps := &pb.PartnerStatus{Partner: p.Partner, Agreement: p.Agreement, Epoch: p.Epoch,
			ParamSet: p.ParamSet, Enrolled: int64(p.Enrolled), GalleryEpoch: p.GalleryEpoch,
			QuotaUsed: int64(p.QuotaUsed), QuotaLimit: p.QuotaLimit}
		if h := p.Halted; h != nil {
			ps.Halted = &pb.Halt{RequestId: h.RequestID, Time: timestamppb.New(h.At), Epoch: h.Epoch, Unresolved: h.Unresolved}
		}
		out.Partners = append(out.Partners, ps)
	}
	for _, s := range s.Shards {
		out.Shards = append(out.Shards, &pb.ShardStatus{Address: s.Address, Serving: s.Serving, Error: s.Error,
			Agreement: s.Agreement, Epoch: s.Epoch, Generation: s.Generation, Entries: s.Entries, Blocks: s.Blocks})
	}
	return out
}

func fromStatusResponse(r *pb.StatusResponse) *protocol.Status {
	out := &protocol.Status{Node: r.Node}
	for _, p := range r.Partners {
		ps := protocol.PartnerStatus{Partner: p.Partner, Agreement: p.Agreement, Epoch: p.Epoch,
			ParamSet: p.ParamSet, Enrolled: int(p.Enrolled), GalleryEpoch: p.GalleryEpoch,
			QuotaUsed: int(p.QuotaUsed), QuotaLimit: p.QuotaLimit}
		if h := p.Halted; h != nil {
			ps.Halted = &protocol.Halt{Partner: p.Partner, RequestID: h.RequestId, At: h.Time.AsTime(), Epoch: h.Epoch, Unresolved: h.Unresolved}
		}
		out.Partners = append(out.Partners, ps)
	}
	for _, s := range r.Shards {
		out.Shards = append(out.Shards, protocol.ShardStatus{Address: s.Address, Serving: s.Serving, Error: s.Error,
			Agreement: s.Agreement, Epoch: s.Epoch, Generation: s.Generation, Entries: s.Entries, Blocks: s.Blocks})
	}
	return out
}

func keysRequestOf(r protocol.KeyRequest) *pb.KeysRequest {
	return &pb.KeysRequest{Action: r.Action, Overlap: durationOf(r.Overlap), KeyId: r.KeyID, Agreement: r.Agreement, Epoch: r.Epoch}
}

func fromKeysRequest(r *pb.KeysRequest) protocol.KeyRequest {
	return protocol.KeyRequest{Action: r.Action, Overlap: r.Overlap.AsDuration(), KeyID: r.KeyId, Agreement: r.Agreement, Epoch: r.Epoch}
}

func galleryReportOf(r *protocol.GalleryReport) *pb.VerifyGalleryResponse {
	if r == nil {
		return &pb.VerifyGalleryResponse{}
	}
	return &pb.VerifyGalleryResponse{Partner: r.Partner, File: r.File, Epoch: r.Epoch,
		Subjects: int64(r.Subjects), Archived: int64(r.Archived), Bad: r.Bad}
}

func fromGalleryResponse(r *pb.VerifyGalleryResponse) *protocol.GalleryReport {
	return &protocol.GalleryReport{Partner: r.Partner, File: r.File, Epoch: r.Epoch,
		Subjects: int(r.Subjects), Archived: int(r.Archived), Bad: r.Bad}
}

func pruneReportOf(r *protocol.PruneReport) *pb.PruneAuditResponse {
	if r == nil {
		return &pb.PruneAuditResponse{}
	}
	out := &pb.PruneAuditResponse{Dropped: int64(r.Dropped), Retention: r.Retention}
	if !r.Cutoff.IsZero() {
		out.Cutoff = timestamppb.New(r.Cutoff)
	}
	return out
}

func fromPruneResponse(r *pb.PruneAuditResponse) *protocol.PruneReport {
	out := &protocol.PruneReport{Dropped: int(r.Dropped), Retention: r.Retention}
	if r.Cutoff != nil {
		out.Cutoff = r.Cutoff.AsTime()
	}
	return out
}

func enrolReportOf(r *protocol.EnrolReport) *pb.EnrolResponse {
	if r == nil {
		return &pb.EnrolResponse{}
	}
	return &pb.EnrolResponse{Enrolled: int64(r.Enrolled), Skipped: int64(r.Skipped), Total: int64(r.Total), Epoch: r.Epoch}
}

func fromEnrolResponse(r *pb.EnrolResponse) *protocol.EnrolReport {
	return &protocol.EnrolReport{Enrolled: int(r.Enrolled), Skipped: int(r.Skipped), Total: int(r.Total), Epoch: r.Epoch}
}

func keyReportOf(r *protocol.KeyReport) *pb.KeysResponse {
	if r == nil {
		return &pb.KeysResponse{}
	}
	return &pb.KeysResponse{KeyId: r.KeyID, Destroyed: r.Destroyed}
}

func fromKeysResponse(r *pb.KeysResponse) *protocol.KeyReport {
	return &protocol.KeyReport{KeyID: r.KeyId, Destroyed: r.Destroyed}
}
