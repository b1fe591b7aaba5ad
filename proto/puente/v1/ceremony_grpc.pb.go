// Puente wire protocol, version 2: the key ceremony between two partner agencies.
//
// The ceremony sets up an agreement's keys for one epoch. The initiator (the gRPC client) and the
// responder (the server) run the rounds below in order; every request and response is signed as
// envelope.proto describes. Neither party alone chooses the common reference string (CRS) or the
// transform seed, no party sees a share of the other before it is bound to its own share of the
// same round, and each party's HE secret share never leaves it.
//
//   1. Hello            agree on agreement, epoch, HE parameter set, protect scheme and the list of
//                       Galois elements; the initiator commits to its CRS contribution, the
//                       responder answers with its own (chosen before it can know the initiator's)
//                       and names the ceremony (ceremony_id).
//   2. CommitSeed       the initiator opens its CRS contribution and commits to its transform-seed
//                       contribution; the responder answers with its own sealed to the initiator.
//   3. RevealSeed       the initiator reveals its contribution sealed to the responder; the
//                       responder checks the commitment and proves it derived the same seed.
//   4. CommitShares     round 1: each party commits to every round-1 HE key share of both key sets
//                       (the CKG share, the RKG round-1 share, one GKG share per Galois element) and
//                       to its key-check contribution; the initiator first, the responder in its
//                       answer, before either has seen a share of the other.
//   5. ExchangeKeyShare for each direction (INITIATOR_QUERIES, then RESPONDER_QUERIES) and each
//                       round-1 step in order: each party reveals its share, which must open its
//                       commitment; both aggregate.
//   6. CommitShares     round 2: each party commits to its RKG round-2 share of both key sets,
//                       computed from the round-1 aggregate.
//   7. ExchangeKeyShare the RKG round-2 shares, INITIATOR_QUERIES first.
//   8. CheckKeys        both reveal their key-check contributions and the responder sends its digests
//                       of the joint key check (he.Ceremony.KeyCheck) of both key sets.
//   9. Prepare          the initiator sends its transcript digest and key-check digests; the
//                       responder checks both and durably prepares the new epoch (still not current).
//  10. Commit           the initiator, prepared itself, makes the epoch current, then tells the
//                       responder, which makes it current too. The initiator retries Commit until it
//                       is acknowledged.
//   Outcome             a responder that holds a prepared epoch after a restart asks the initiator
//                       whether the ceremony committed.
//   Abort               either party may end a ceremony before Commit; all its state is destroyed.
//
// # Shares are never reused
//
// Following Lattigo's SECURITY.md, a protocol step never runs twice with the same secret share. A
// round that fails (bad share, a share that does not open its commitment, a failed key check, a
// broken stream, a deadline) aborts the whole ceremony: the responder destroys the ceremony's
// state, refuses any later round of it (FailedPrecondition), and a new ceremony starts from Hello
// with fresh shares. A repeat of a completed exchange is refused too.
//
// # Derivations
//
// The CRS commitment is SHA-256("puente/v2 crs commitment" || 0x00 || u8-len agreement || agreement
// || u64 epoch || u8-len initiator || initiator || u8-len responder || responder || crs_I). The CRS
// seed for a direction is HKDF-SHA-512 (RFC 5869) with ikm = initiator crs_contribution ||
// responder crs_contribution, salt = ceremony_id, info = "puente/v1 crs " followed by the decimal
// KeySetDirection value, length 32; it seeds the public random polynomials of CKG, RKG and GKG
// and names the key set (the he package's key-set ID).
// A share commitment is he.Commitment: SHA-256("puente/he/ceremony-share-commitment/v1" || 0x00 ||
// u32 len(bind) || bind || share), with bind = "puente/v2 share" || 0x00 || ceremony_id || u32
// direction || u8 round || the transcript digest when the round's CommitShares request is sent.
// A key-check contribution is 32 random bytes; its commitment is SHA-256("puente/v2 check
// commitment" || 0x00 || ceremony_id || u8 role (1 initiator, 2 responder) || transcript digest at
// the round-1 CommitShares || contribution). The key-check seed is SHA-256("puente/v2 check seed" ||
// 0x00 || transcript digest before CheckKeys || initiator contribution || responder contribution);
// the key-check binding of a direction is "puente/v2 key check" || 0x00 || ceremony_id || u32
// direction.
// The transform-seed contributions, their commitments and the agreement secret are those of
// Puente's keys package: a contribution is 32 random bytes; its commitment is SHA-256("puente/
// agreement/commit/v1" || 0x00 || party || agreement || epoch || contribution) with party and
// agreement u8-length-prefixed and the epoch u64 big-endian; the agreement secret is
// HKDF-SHA-256(ikm = the two contributions ordered by party name, salt = "puente/agreement/v1",
// info = agreement || epoch || both party names, length 32). The transform seed is
// protect.DeriveSeed(HKDF-Expand-SHA-256(secret, "puente/protect/v1 material", 32), agreement,
// scheme, epoch). The transcript digest of a party is SHA-512 over, for each round in the order
// run (Prepare, Commit, Outcome and Abort excluded), CE(request payload) || CE(response payload).
// In every ceremony request and response, header.key_epoch is the epoch being set up and
// header.param_set the proposed parameter set.

// Code generated by protoc-gen-go-grpc. DO NOT EDIT.
// versions:
// - protoc-gen-go-grpc v1.6.2
// - protoc             (unknown)
// source: puente/v1/ceremony.proto

package puentev1

import (
	context "context"
	grpc "google.golang.org/grpc"
	codes "google.golang.org/grpc/codes"
	status "google.golang.org/grpc/status"
)

// This is a compile-time assertion to ensure that this generated file
// is compatible with the grpc package it is being compiled against.
// Requires gRPC-Go v1.64.0 or later.
const _ = grpc.SupportPackageIsVersion9

const (
	CeremonyService_Hello_FullMethodName            = "/puente.v1.CeremonyService/Hello"
	CeremonyService_CommitSeed_FullMethodName       = "/puente.v1.CeremonyService/CommitSeed"
	CeremonyService_RevealSeed_FullMethodName       = "/puente.v1.CeremonyService/RevealSeed"
	CeremonyService_CommitShares_FullMethodName     = "/puente.v1.CeremonyService/CommitShares"
	CeremonyService_ExchangeKeyShare_FullMethodName = "/puente.v1.CeremonyService/ExchangeKeyShare"
	CeremonyService_CheckKeys_FullMethodName        = "/puente.v1.CeremonyService/CheckKeys"
	CeremonyService_Prepare_FullMethodName          = "/puente.v1.CeremonyService/Prepare"
	CeremonyService_Commit_FullMethodName           = "/puente.v1.CeremonyService/Commit"
	CeremonyService_Outcome_FullMethodName          = "/puente.v1.CeremonyService/Outcome"
	CeremonyService_Abort_FullMethodName            = "/puente.v1.CeremonyService/Abort"
)

// CeremonyServiceClient is the client API for CeremonyService service.
//
// For semantics around ctx use and closing/ending streaming RPCs, please refer to https://pkg.go.dev/google.golang.org/grpc/?tab=doc#ClientConn.NewStream.
//
// CeremonyService sets up an agreement's keys for one epoch. The partner is identified by its mTLS
// certificate, and only the partners of an agreement may run its ceremony.
type CeremonyServiceClient interface {
	// Hello opens a ceremony. FailedPrecondition if the responder's view of the agreement differs
	// (parameter set or its digest, protect scheme, Galois elements), the epoch is not after every
	// epoch it has had, or a ceremony of this agreement is prepared and not yet resolved.
	Hello(ctx context.Context, in *HelloRequest, opts ...grpc.CallOption) (*HelloResponse, error)
	// CommitSeed opens the initiator's CRS contribution, takes its transform-seed commitment and
	// returns the responder's sealed contribution. InvalidArgument (and the ceremony aborted) if the
	// CRS contribution does not open the commitment of Hello.
	CommitSeed(ctx context.Context, in *CommitSeedRequest, opts ...grpc.CallOption) (*CommitSeedResponse, error)
	// RevealSeed takes the initiator's sealed contribution; InvalidArgument (and the ceremony
	// aborted) if it does not match the commitment.
	RevealSeed(ctx context.Context, in *RevealSeedRequest, opts ...grpc.CallOption) (*RevealSeedResponse, error)
	// CommitShares takes the initiator's commitments to its HE key shares of one round and returns
	// the responder's, made before the responder has seen any share of the round.
	CommitShares(ctx context.Context, in *CommitSharesRequest, opts ...grpc.CallOption) (*CommitSharesResponse, error)
	// ExchangeKeyShare swaps one HE key-generation share of each party. The initiator sends an open
	// message then the chunks of its share; the responder checks that the share opens the
	// initiator's commitment and validates it, and only then sends its open message and the chunks
	// of its own share, which must open the responder's commitment.
	ExchangeKeyShare(ctx context.Context, opts ...grpc.CallOption) (grpc.BidiStreamingClient[ExchangeKeyShareRequest, ExchangeKeyShareResponse], error)
	// CheckKeys opens both key-check contributions and returns the responder's key-check digests.
	CheckKeys(ctx context.Context, in *CheckKeysRequest, opts ...grpc.CallOption) (*CheckKeysResponse, error)
	// Prepare compares transcript digests and the initiator's key-check digests and, on a match,
	// durably prepares the epoch on the responder without making it current.
	Prepare(ctx context.Context, in *PrepareRequest, opts ...grpc.CallOption) (*PrepareResponse, error)
	// Commit makes a prepared epoch current on the responder. Idempotent: a Commit for an epoch the
	// responder already made current is acknowledged again.
	Commit(ctx context.Context, in *CommitRequest, opts ...grpc.CallOption) (*CommitResponse, error)
	// Outcome tells a responder holding a prepared epoch whether the initiator committed it.
	Outcome(ctx context.Context, in *OutcomeRequest, opts ...grpc.CallOption) (*OutcomeResponse, error)
	// Abort ends a ceremony that has not been committed and destroys its state on the responder.
	Abort(ctx context.Context, in *AbortRequest, opts ...grpc.CallOption) (*AbortResponse, error)
}

type ceremonyServiceClient struct {
	cc grpc.ClientConnInterface
}

func NewCeremonyServiceClient(cc grpc.ClientConnInterface) CeremonyServiceClient {
	return &ceremonyServiceClient{cc}
}

func (c *ceremonyServiceClient) Hello(ctx context.Context, in *HelloRequest, opts ...grpc.CallOption) (*HelloResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(HelloResponse)
	err := c.cc.Invoke(ctx, CeremonyService_Hello_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) CommitSeed(ctx context.Context, in *CommitSeedRequest, opts ...grpc.CallOption) (*CommitSeedResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(CommitSeedResponse)
	err := c.cc.Invoke(ctx, CeremonyService_CommitSeed_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) RevealSeed(ctx context.Context, in *RevealSeedRequest, opts ...grpc.CallOption) (*RevealSeedResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(RevealSeedResponse)
	err := c.cc.Invoke(ctx, CeremonyService_RevealSeed_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) CommitShares(ctx context.Context, in *CommitSharesRequest, opts ...grpc.CallOption) (*CommitSharesResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(CommitSharesResponse)
	err := c.cc.Invoke(ctx, CeremonyService_CommitShares_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) ExchangeKeyShare(ctx context.Context, opts ...grpc.CallOption) (grpc.BidiStreamingClient[ExchangeKeyShareRequest, ExchangeKeyShareResponse], error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	stream, err := c.cc.NewStream(ctx, &CeremonyService_ServiceDesc.Streams[0], CeremonyService_ExchangeKeyShare_FullMethodName, cOpts...)
	if err != nil {
		return nil, err
	}
	x := &grpc.GenericClientStream[ExchangeKeyShareRequest, ExchangeKeyShareResponse]{ClientStream: stream}
	return x, nil
}

// This type alias is provided for backwards compatibility with existing code that references the prior non-generic stream type by name.
type CeremonyService_ExchangeKeyShareClient = grpc.BidiStreamingClient[ExchangeKeyShareRequest, ExchangeKeyShareResponse]

func (c *ceremonyServiceClient) CheckKeys(ctx context.Context, in *CheckKeysRequest, opts ...grpc.CallOption) (*CheckKeysResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(CheckKeysResponse)
	err := c.cc.Invoke(ctx, CeremonyService_CheckKeys_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) Prepare(ctx context.Context, in *PrepareRequest, opts ...grpc.CallOption) (*PrepareResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(PrepareResponse)
	err := c.cc.Invoke(ctx, CeremonyService_Prepare_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) Commit(ctx context.Context, in *CommitRequest, opts ...grpc.CallOption) (*CommitResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(CommitResponse)
	err := c.cc.Invoke(ctx, CeremonyService_Commit_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) Outcome(ctx context.Context, in *OutcomeRequest, opts ...grpc.CallOption) (*OutcomeResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(OutcomeResponse)
	err := c.cc.Invoke(ctx, CeremonyService_Outcome_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *ceremonyServiceClient) Abort(ctx context.Context, in *AbortRequest, opts ...grpc.CallOption) (*AbortResponse, error) {
	cOpts := append([]grpc.CallOption{grpc.StaticMethod()}, opts...)
	out := new(AbortResponse)
	err := c.cc.Invoke(ctx, CeremonyService_Abort_FullMethodName, in, out, cOpts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CeremonyServiceServer is the server API for CeremonyService service.
// All implementations must embed UnimplementedCeremonyServiceServer
// for forward compatibility.
//
// CeremonyService sets up an agreement's keys for one epoch. The partner is identified by its mTLS
// certificate, and only the partners of an agreement may run its ceremony.
type CeremonyServiceServer interface {
	// Hello opens a ceremony. FailedPrecondition if the responder's view of the agreement differs
	// (parameter set or its digest, protect scheme, Galois elements), the epoch is not after every
	// epoch it has had, or a ceremony of this agreement is prepared and not yet resolved.
	Hello(context.Context, *HelloRequest) (*HelloResponse, error)
	// CommitSeed opens the initiator's CRS contribution, takes its transform-seed commitment and
	// returns the responder's sealed contribution. InvalidArgument (and the ceremony aborted) if the
	// CRS contribution does not open the commitment of Hello.
	CommitSeed(context.Context, *CommitSeedRequest) (*CommitSeedResponse, error)
	// RevealSeed takes the initiator's sealed contribution; InvalidArgument (and the ceremony
	// aborted) if it does not match the commitment.
	RevealSeed(context.Context, *RevealSeedRequest) (*RevealSeedResponse, error)
	// CommitShares takes the initiator's commitments to its HE key shares of one round and returns
	// the responder's, made before the responder has seen any share of the round.
	CommitShares(context.Context, *CommitSharesRequest) (*CommitSharesResponse, error)
	// ExchangeKeyShare swaps one HE key-generation share of each party. The initiator sends an open
	// message then the chunks of its share; the responder checks that the share opens the
	// initiator's commitment and validates it, and only then sends its open message and the chunks
	// of its own share, which must open the responder's commitment.
	ExchangeKeyShare(grpc.BidiStreamingServer[ExchangeKeyShareRequest, ExchangeKeyShareResponse]) error
	// CheckKeys opens both key-check contributions and returns the responder's key-check digests.
	CheckKeys(context.Context, *CheckKeysRequest) (*CheckKeysResponse, error)
	// Prepare compares transcript digests and the initiator's key-check digests and, on a match,
	// durably prepares the epoch on the responder without making it current.
	Prepare(context.Context, *PrepareRequest) (*PrepareResponse, error)
	// Commit makes a prepared epoch current on the responder. Idempotent: a Commit for an epoch the
	// responder already made current is acknowledged again.
	Commit(context.Context, *CommitRequest) (*CommitResponse, error)
	// Outcome tells a responder holding a prepared epoch whether the initiator committed it.
	Outcome(context.Context, *OutcomeRequest) (*OutcomeResponse, error)
	// Abort ends a ceremony that has not been committed and destroys its state on the responder.
	Abort(context.Context, *AbortRequest) (*AbortResponse, error)
	mustEmbedUnimplementedCeremonyServiceServer()
}

// UnimplementedCeremonyServiceServer must be embedded to have
// forward compatible implementations.
//
// NOTE: this should be embedded by value instead of pointer to avoid a nil
// pointer dereference when methods are called.
type UnimplementedCeremonyServiceServer struct{}

func (UnimplementedCeremonyServiceServer) Hello(context.Context, *HelloRequest) (*HelloResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Hello not implemented")
}
func (UnimplementedCeremonyServiceServer) CommitSeed(context.Context, *CommitSeedRequest) (*CommitSeedResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method CommitSeed not implemented")
}
func (UnimplementedCeremonyServiceServer) RevealSeed(context.Context, *RevealSeedRequest) (*RevealSeedResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method RevealSeed not implemented")
}
func (UnimplementedCeremonyServiceServer) CommitShares(context.Context, *CommitSharesRequest) (*CommitSharesResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method CommitShares not implemented")
}
func (UnimplementedCeremonyServiceServer) ExchangeKeyShare(grpc.BidiStreamingServer[ExchangeKeyShareRequest, ExchangeKeyShareResponse]) error {
	return status.Error(codes.Unimplemented, "method ExchangeKeyShare not implemented")
}
func (UnimplementedCeremonyServiceServer) CheckKeys(context.Context, *CheckKeysRequest) (*CheckKeysResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method CheckKeys not implemented")
}
func (UnimplementedCeremonyServiceServer) Prepare(context.Context, *PrepareRequest) (*PrepareResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Prepare not implemented")
}
func (UnimplementedCeremonyServiceServer) Commit(context.Context, *CommitRequest) (*CommitResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Commit not implemented")
}
func (UnimplementedCeremonyServiceServer) Outcome(context.Context, *OutcomeRequest) (*OutcomeResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Outcome not implemented")
}
func (UnimplementedCeremonyServiceServer) Abort(context.Context, *AbortRequest) (*AbortResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Abort not implemented")
}
func (UnimplementedCeremonyServiceServer) mustEmbedUnimplementedCeremonyServiceServer() {}
func (UnimplementedCeremonyServiceServer) testEmbeddedByValue()                         {}

// UnsafeCeremonyServiceServer may be embedded to opt out of forward compatibility for this service.
// Use of this interface is not recommended, as added methods to CeremonyServiceServer will
// result in compilation errors.
type UnsafeCeremonyServiceServer interface {
	mustEmbedUnimplementedCeremonyServiceServer()
}

func RegisterCeremonyServiceServer(s grpc.ServiceRegistrar, srv CeremonyServiceServer) {
	// If the following call panics, it indicates UnimplementedCeremonyServiceServer was
	// embedded by pointer and is nil.  This will cause panics if an
	// unimplemented method is ever invoked, so we test this at initialization
	// time to prevent it from happening at runtime later due to I/O.
	if t, ok := srv.(interface{ testEmbeddedByValue() }); ok {
		t.testEmbeddedByValue()
	}
	s.RegisterService(&CeremonyService_ServiceDesc, srv)
}

func _CeremonyService_Hello_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(HelloRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).Hello(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_Hello_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).Hello(ctx, req.(*HelloRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_CommitSeed_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(CommitSeedRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).CommitSeed(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_CommitSeed_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).CommitSeed(ctx, req.(*CommitSeedRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_RevealSeed_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(RevealSeedRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).RevealSeed(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_RevealSeed_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).RevealSeed(ctx, req.(*RevealSeedRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_CommitShares_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(CommitSharesRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).CommitShares(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_CommitShares_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).CommitShares(ctx, req.(*CommitSharesRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_ExchangeKeyShare_Handler(srv interface{}, stream grpc.ServerStream) error {
	return srv.(CeremonyServiceServer).ExchangeKeyShare(&grpc.GenericServerStream[ExchangeKeyShareRequest, ExchangeKeyShareResponse]{ServerStream: stream})
}

// This type alias is provided for backwards compatibility with existing code that references the prior non-generic stream type by name.
type CeremonyService_ExchangeKeyShareServer = grpc.BidiStreamingServer[ExchangeKeyShareRequest, ExchangeKeyShareResponse]

func _CeremonyService_CheckKeys_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(CheckKeysRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).CheckKeys(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_CheckKeys_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).CheckKeys(ctx, req.(*CheckKeysRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_Prepare_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(PrepareRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).Prepare(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_Prepare_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).Prepare(ctx, req.(*PrepareRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_Commit_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(CommitRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).Commit(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_Commit_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).Commit(ctx, req.(*CommitRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_Outcome_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(OutcomeRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).Outcome(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_Outcome_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).Outcome(ctx, req.(*OutcomeRequest))
	}
	return interceptor(ctx, in, info, handler)
}

func _CeremonyService_Abort_Handler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(AbortRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(CeremonyServiceServer).Abort(ctx, in)
	}
	info := &grpc.UnaryServerInfo{
		Server:     srv,
		FullMethod: CeremonyService_Abort_FullMethodName,
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(CeremonyServiceServer).Abort(ctx, req.(*AbortRequest))
	}
	return interceptor(ctx, in, info, handler)
}

// CeremonyService_ServiceDesc is the grpc.ServiceDesc for CeremonyService service.
// It's only intended for direct use with grpc.RegisterService,
// and not to be introspected or modified (even as a copy)
var CeremonyService_ServiceDesc = grpc.ServiceDesc{
	ServiceName: "puente.v1.CeremonyService",
	HandlerType: (*CeremonyServiceServer)(nil),
	Methods: []grpc.MethodDesc{
		{
			MethodName: "Hello",
			Handler:    _CeremonyService_Hello_Handler,
		},
		{
			MethodName: "CommitSeed",
			Handler:    _CeremonyService_CommitSeed_Handler,
		},
		{
			MethodName: "RevealSeed",
			Handler:    _CeremonyService_RevealSeed_Handler,
		},
		{
			MethodName: "CommitShares",
			Handler:    _CeremonyService_CommitShares_Handler,
		},
		{
			MethodName: "CheckKeys",
			Handler:    _CeremonyService_CheckKeys_Handler,
		},
		{
			MethodName: "Prepare",
			Handler:    _CeremonyService_Prepare_Handler,
		},
		{
			MethodName: "Commit",
			Handler:    _CeremonyService_Commit_Handler,
		},
		{
			MethodName: "Outcome",
			Handler:    _CeremonyService_Outcome_Handler,
		},
		{
			MethodName: "Abort",
			Handler:    _CeremonyService_Abort_Handler,
		},
	},
	Streams: []grpc.StreamDesc{
		{
			StreamName:    "ExchangeKeyShare",
			Handler:       _CeremonyService_ExchangeKeyShare_Handler,
			ServerStreams: true,
			ClientStreams: true,
		},
	},
	Metadata: "puente/v1/ceremony.proto",
}
