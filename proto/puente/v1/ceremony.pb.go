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

// Code generated by protoc-gen-go. DO NOT EDIT.
// versions:
// 	protoc-gen-go v1.36.12
// 	protoc        (unknown)
// source: puente/v1/ceremony.proto

package puentev1

import (
	protoreflect "google.golang.org/protobuf/reflect/protoreflect"
	protoimpl "google.golang.org/protobuf/runtime/protoimpl"
	reflect "reflect"
	sync "sync"
	unsafe "unsafe"
)

const (
	// Verify that this generated code is sufficiently up-to-date.
	_ = protoimpl.EnforceVersion(20 - protoimpl.MinVersion)
	// Verify that runtime/protoimpl is sufficiently up-to-date.
	_ = protoimpl.EnforceVersion(protoimpl.MaxVersion - 20)
)

// KeySetDirection names one of the agreement's two HE key sets by who queries with it.
type KeySetDirection int32

const (
	// Not a valid direction; a receiver refuses it.
	KeySetDirection_KEY_SET_DIRECTION_UNSPECIFIED KeySetDirection = 0
	// The initiator encrypts probes under this key set and the responder searches its gallery.
	KeySetDirection_KEY_SET_DIRECTION_INITIATOR_QUERIES KeySetDirection = 1
	// The responder encrypts probes under this key set and the initiator searches its gallery.
	KeySetDirection_KEY_SET_DIRECTION_RESPONDER_QUERIES KeySetDirection = 2
)

// Enum value maps for KeySetDirection.
var (
	KeySetDirection_name = map[int32]string{
		0: "KEY_SET_DIRECTION_UNSPECIFIED",
		1: "KEY_SET_DIRECTION_INITIATOR_QUERIES",
		2: "KEY_SET_DIRECTION_RESPONDER_QUERIES",
	}
	KeySetDirection_value = map[string]int32{
		"KEY_SET_DIRECTION_UNSPECIFIED":       0,
		"KEY_SET_DIRECTION_INITIATOR_QUERIES": 1,
		"KEY_SET_DIRECTION_RESPONDER_QUERIES": 2,
	}
)

func (x KeySetDirection) Enum() *KeySetDirection {
	p := new(KeySetDirection)
	*p = x
	return p
}

func (x KeySetDirection) String() string {
	return protoimpl.X.EnumStringOf(x.Descriptor(), protoreflect.EnumNumber(x))
}

func (KeySetDirection) Descriptor() protoreflect.EnumDescriptor {
	return file_puente_v1_ceremony_proto_enumTypes[0].Descriptor()
}

func (KeySetDirection) Type() protoreflect.EnumType {
	return &file_puente_v1_ceremony_proto_enumTypes[0]
}

func (x KeySetDirection) Number() protoreflect.EnumNumber {
	return protoreflect.EnumNumber(x)
}

// Deprecated: Use KeySetDirection.Descriptor instead.
func (KeySetDirection) EnumDescriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{0}
}

// CeremonyOutcome is what became of a ceremony, as its initiator knows it.
type CeremonyOutcome int32

const (
	// Not a valid outcome; a receiver refuses it.
	CeremonyOutcome_CEREMONY_OUTCOME_UNSPECIFIED CeremonyOutcome = 0
	// The initiator has not decided yet (the ceremony is still running): ask again.
	CeremonyOutcome_CEREMONY_OUTCOME_PENDING CeremonyOutcome = 1
	// The initiator made the epoch current: commit it.
	CeremonyOutcome_CEREMONY_OUTCOME_COMMITTED CeremonyOutcome = 2
	// The initiator never made it current and never will: destroy it.
	CeremonyOutcome_CEREMONY_OUTCOME_ABORTED CeremonyOutcome = 3
)

// Enum value maps for CeremonyOutcome.
var (
	CeremonyOutcome_name = map[int32]string{
		0: "CEREMONY_OUTCOME_UNSPECIFIED",
		1: "CEREMONY_OUTCOME_PENDING",
		2: "CEREMONY_OUTCOME_COMMITTED",
		3: "CEREMONY_OUTCOME_ABORTED",
	}
	CeremonyOutcome_value = map[string]int32{
		"CEREMONY_OUTCOME_UNSPECIFIED": 0,
		"CEREMONY_OUTCOME_PENDING":     1,
		"CEREMONY_OUTCOME_COMMITTED":   2,
		"CEREMONY_OUTCOME_ABORTED":     3,
	}
)

func (x CeremonyOutcome) Enum() *CeremonyOutcome {
	p := new(CeremonyOutcome)
	*p = x
	return p
}

func (x CeremonyOutcome) String() string {
	return protoimpl.X.EnumStringOf(x.Descriptor(), protoreflect.EnumNumber(x))
}

func (CeremonyOutcome) Descriptor() protoreflect.EnumDescriptor {
	return file_puente_v1_ceremony_proto_enumTypes[1].Descriptor()
}

func (CeremonyOutcome) Type() protoreflect.EnumType {
	return &file_puente_v1_ceremony_proto_enumTypes[1]
}

func (x CeremonyOutcome) Number() protoreflect.EnumNumber {
	return protoreflect.EnumNumber(x)
}

// Deprecated: Use CeremonyOutcome.Descriptor instead.
func (CeremonyOutcome) EnumDescriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{1}
}

// ProtectScheme names the cancellable-template transform both parties apply (Puente's protect
// package), so that protected probes and protected gallery entries are comparable.
type ProtectScheme struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Scheme ID as named by the protect package, e.g. "polyprotect-v1".
	SchemeId string `protobuf:"bytes,1,opt,name=scheme_id,json=schemeId,proto3" json:"scheme_id,omitempty"`
	// Dimension of the raw feature vectors (e.g. 128 for dlib face embeddings).
	InputDim uint32 `protobuf:"varint,2,opt,name=input_dim,json=inputDim,proto3" json:"input_dim,omitempty"`
	// Dimension m of the protected unit vectors.
	OutputDim uint32 `protobuf:"varint,3,opt,name=output_dim,json=outputDim,proto3" json:"output_dim,omitempty"`
	// The scheme's public parameters in the protect package's canonical encoding (at most 4 KiB);
	// never the transform seed.
	Params        []byte `protobuf:"bytes,4,opt,name=params,proto3" json:"params,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *ProtectScheme) Reset() {
	*x = ProtectScheme{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[0]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ProtectScheme) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ProtectScheme) ProtoMessage() {}

func (x *ProtectScheme) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[0]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ProtectScheme.ProtoReflect.Descriptor instead.
func (*ProtectScheme) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{0}
}

func (x *ProtectScheme) GetSchemeId() string {
	if x != nil {
		return x.SchemeId
	}
	return ""
}

func (x *ProtectScheme) GetInputDim() uint32 {
	if x != nil {
		return x.InputDim
	}
	return 0
}

func (x *ProtectScheme) GetOutputDim() uint32 {
	if x != nil {
		return x.OutputDim
	}
	return 0
}

func (x *ProtectScheme) GetParams() []byte {
	if x != nil {
		return x.Params
	}
	return nil
}

// HelloPayload is the initiator's proposal for the ceremony.
type HelloPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The epoch the ceremony sets up: the agreement's current epoch plus one (1 for the first).
	Epoch uint64 `protobuf:"varint,1,opt,name=epoch,proto3" json:"epoch,omitempty"`
	// HE parameter-set ID (equal to the header's param_set).
	ParamSet string `protobuf:"bytes,2,opt,name=param_set,json=paramSet,proto3" json:"param_set,omitempty"`
	// SHA-512 of the he package's canonical encoding of the parameter set (64 bytes), so that two
	// builds naming the same ID with different numbers are caught here.
	ParamSetDigest []byte `protobuf:"bytes,3,opt,name=param_set_digest,json=paramSetDigest,proto3" json:"param_set_digest,omitempty"`
	// The protect scheme and its public parameters.
	Protect *ProtectScheme `protobuf:"bytes,4,opt,name=protect,proto3" json:"protect,omitempty"`
	// The Galois elements whose rotation keys the scoring layout needs, in the order GKG runs.
	GaloisElements []uint64 `protobuf:"varint,5,rep,packed,name=galois_elements,json=galoisElements,proto3" json:"galois_elements,omitempty"`
	// The initiator's commitment to its 32-byte CRS contribution (32 bytes; see Derivations). The
	// contribution itself is opened in CommitSeed, after the responder has sent its own.
	CrsCommitment []byte `protobuf:"bytes,6,opt,name=crs_commitment,json=crsCommitment,proto3" json:"crs_commitment,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *HelloPayload) Reset() {
	*x = HelloPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[1]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *HelloPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*HelloPayload) ProtoMessage() {}

func (x *HelloPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[1]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use HelloPayload.ProtoReflect.Descriptor instead.
func (*HelloPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{1}
}

func (x *HelloPayload) GetEpoch() uint64 {
	if x != nil {
		return x.Epoch
	}
	return 0
}

func (x *HelloPayload) GetParamSet() string {
	if x != nil {
		return x.ParamSet
	}
	return ""
}

func (x *HelloPayload) GetParamSetDigest() []byte {
	if x != nil {
		return x.ParamSetDigest
	}
	return nil
}

func (x *HelloPayload) GetProtect() *ProtectScheme {
	if x != nil {
		return x.Protect
	}
	return nil
}

func (x *HelloPayload) GetGaloisElements() []uint64 {
	if x != nil {
		return x.GaloisElements
	}
	return nil
}

func (x *HelloPayload) GetCrsCommitment() []byte {
	if x != nil {
		return x.CrsCommitment
	}
	return nil
}

// HelloRequest opens a ceremony.
type HelloRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The proposal.
	Payload *HelloPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *HelloRequest) Reset() {
	*x = HelloRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[2]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *HelloRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*HelloRequest) ProtoMessage() {}

func (x *HelloRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[2]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use HelloRequest.ProtoReflect.Descriptor instead.
func (*HelloRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{2}
}

func (x *HelloRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *HelloRequest) GetPayload() *HelloPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *HelloRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// HelloResponsePayload accepts the proposal.
type HelloResponsePayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// 16 random bytes naming the ceremony in every later round.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// 32 random bytes: the responder's contribution to the CRS seed, drawn knowing only the
	// initiator's commitment.
	CrsContribution []byte `protobuf:"bytes,2,opt,name=crs_contribution,json=crsContribution,proto3" json:"crs_contribution,omitempty"`
	unknownFields   protoimpl.UnknownFields
	sizeCache       protoimpl.SizeCache
}

func (x *HelloResponsePayload) Reset() {
	*x = HelloResponsePayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[3]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *HelloResponsePayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*HelloResponsePayload) ProtoMessage() {}

func (x *HelloResponsePayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[3]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use HelloResponsePayload.ProtoReflect.Descriptor instead.
func (*HelloResponsePayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{3}
}

func (x *HelloResponsePayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *HelloResponsePayload) GetCrsContribution() []byte {
	if x != nil {
		return x.CrsContribution
	}
	return nil
}

// HelloResponse accepts a ceremony.
type HelloResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The acceptance.
	Payload *HelloResponsePayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *HelloResponse) Reset() {
	*x = HelloResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[4]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *HelloResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*HelloResponse) ProtoMessage() {}

func (x *HelloResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[4]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use HelloResponse.ProtoReflect.Descriptor instead.
func (*HelloResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{4}
}

func (x *HelloResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *HelloResponse) GetPayload() *HelloResponsePayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *HelloResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// CommitSeedPayload opens the initiator's CRS contribution and commits the initiator to its
// transform-seed contribution before it sees the responder's, so that neither party can choose
// its contribution after seeing the other's.
type CommitSeedPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The initiator's commitment to its contribution (keys package, 32 bytes; see Derivations).
	Commitment []byte `protobuf:"bytes,2,opt,name=commitment,proto3" json:"commitment,omitempty"`
	// The initiator's 32-byte CRS contribution, which must open Hello's crs_commitment.
	CrsContribution []byte `protobuf:"bytes,3,opt,name=crs_contribution,json=crsContribution,proto3" json:"crs_contribution,omitempty"`
	unknownFields   protoimpl.UnknownFields
	sizeCache       protoimpl.SizeCache
}

func (x *CommitSeedPayload) Reset() {
	*x = CommitSeedPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[5]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitSeedPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitSeedPayload) ProtoMessage() {}

func (x *CommitSeedPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[5]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitSeedPayload.ProtoReflect.Descriptor instead.
func (*CommitSeedPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{5}
}

func (x *CommitSeedPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *CommitSeedPayload) GetCommitment() []byte {
	if x != nil {
		return x.Commitment
	}
	return nil
}

func (x *CommitSeedPayload) GetCrsContribution() []byte {
	if x != nil {
		return x.CrsContribution
	}
	return nil
}

// CommitSeedRequest sends the commitment.
type CommitSeedRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The commitment.
	Payload *CommitSeedPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitSeedRequest) Reset() {
	*x = CommitSeedRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[6]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitSeedRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitSeedRequest) ProtoMessage() {}

func (x *CommitSeedRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[6]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitSeedRequest.ProtoReflect.Descriptor instead.
func (*CommitSeedRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{6}
}

func (x *CommitSeedRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitSeedRequest) GetPayload() *CommitSeedPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitSeedRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// SealedSeedPayload carries one party's transform-seed contribution (32 random bytes) sealed to
// the other party's node identity: an age file (age-encryption.org/v1), at most 8 KiB.
type SealedSeedPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The sealed contribution.
	SealedContribution []byte `protobuf:"bytes,2,opt,name=sealed_contribution,json=sealedContribution,proto3" json:"sealed_contribution,omitempty"`
	// The sender's commitment to the contribution (keys package, 32 bytes). The responder's
	// contribution arrives after the initiator's commitment, so its own commitment binds nothing
	// new; the receiver checks the opened contribution against it. In RevealSeed it repeats the
	// commitment sent in CommitSeed.
	Commitment    []byte `protobuf:"bytes,3,opt,name=commitment,proto3" json:"commitment,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *SealedSeedPayload) Reset() {
	*x = SealedSeedPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[7]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *SealedSeedPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*SealedSeedPayload) ProtoMessage() {}

func (x *SealedSeedPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[7]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use SealedSeedPayload.ProtoReflect.Descriptor instead.
func (*SealedSeedPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{7}
}

func (x *SealedSeedPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *SealedSeedPayload) GetSealedContribution() []byte {
	if x != nil {
		return x.SealedContribution
	}
	return nil
}

func (x *SealedSeedPayload) GetCommitment() []byte {
	if x != nil {
		return x.Commitment
	}
	return nil
}

// CommitSeedResponse returns the responder's sealed contribution.
type CommitSeedResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The responder's contribution, sealed to the initiator.
	Payload *SealedSeedPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitSeedResponse) Reset() {
	*x = CommitSeedResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[8]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitSeedResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitSeedResponse) ProtoMessage() {}

func (x *CommitSeedResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[8]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitSeedResponse.ProtoReflect.Descriptor instead.
func (*CommitSeedResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{8}
}

func (x *CommitSeedResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitSeedResponse) GetPayload() *SealedSeedPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitSeedResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// RevealSeedRequest reveals the initiator's contribution.
type RevealSeedRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The initiator's contribution, sealed to the responder.
	Payload *SealedSeedPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *RevealSeedRequest) Reset() {
	*x = RevealSeedRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[9]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *RevealSeedRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*RevealSeedRequest) ProtoMessage() {}

func (x *RevealSeedRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[9]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use RevealSeedRequest.ProtoReflect.Descriptor instead.
func (*RevealSeedRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{9}
}

func (x *RevealSeedRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *RevealSeedRequest) GetPayload() *SealedSeedPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *RevealSeedRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// SeedConfirmationPayload proves the responder derived the same transform seed without showing it.
type SeedConfirmationPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// HMAC-SHA-512 (RFC 2104) over ceremony_id, keyed with HKDF-Expand-SHA-256(agreement secret,
	// info = "puente/v1 seed confirmation", 64) (64 bytes); the initiator compares it in constant
	// time.
	KeyConfirmation []byte `protobuf:"bytes,2,opt,name=key_confirmation,json=keyConfirmation,proto3" json:"key_confirmation,omitempty"`
	unknownFields   protoimpl.UnknownFields
	sizeCache       protoimpl.SizeCache
}

func (x *SeedConfirmationPayload) Reset() {
	*x = SeedConfirmationPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[10]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *SeedConfirmationPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*SeedConfirmationPayload) ProtoMessage() {}

func (x *SeedConfirmationPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[10]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use SeedConfirmationPayload.ProtoReflect.Descriptor instead.
func (*SeedConfirmationPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{10}
}

func (x *SeedConfirmationPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *SeedConfirmationPayload) GetKeyConfirmation() []byte {
	if x != nil {
		return x.KeyConfirmation
	}
	return nil
}

// RevealSeedResponse confirms the seed.
type RevealSeedResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The key confirmation.
	Payload *SeedConfirmationPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *RevealSeedResponse) Reset() {
	*x = RevealSeedResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[11]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *RevealSeedResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*RevealSeedResponse) ProtoMessage() {}

func (x *RevealSeedResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[11]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use RevealSeedResponse.ProtoReflect.Descriptor instead.
func (*RevealSeedResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{11}
}

func (x *RevealSeedResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *RevealSeedResponse) GetPayload() *SeedConfirmationPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *RevealSeedResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// ShareCommitmentsPayload carries one party's commitments to its HE key shares of one round.
type ShareCommitmentsPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// 1 or 2: round 1 holds every step but the RKG round-2 share, round 2 that share alone.
	Round uint32 `protobuf:"varint,2,opt,name=round,proto3" json:"round,omitempty"`
	// One 32-byte commitment per share (see Derivations): the shares of INITIATOR_QUERIES then of
	// RESPONDER_QUERIES, each in the order ExchangeKeyShare runs the round's steps.
	Commitments [][]byte `protobuf:"bytes,3,rep,name=commitments,proto3" json:"commitments,omitempty"`
	// Round 1: the sender's commitment to its 32-byte key-check contribution. Round 2: empty.
	CheckCommitment []byte `protobuf:"bytes,4,opt,name=check_commitment,json=checkCommitment,proto3" json:"check_commitment,omitempty"`
	unknownFields   protoimpl.UnknownFields
	sizeCache       protoimpl.SizeCache
}

func (x *ShareCommitmentsPayload) Reset() {
	*x = ShareCommitmentsPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[12]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ShareCommitmentsPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ShareCommitmentsPayload) ProtoMessage() {}

func (x *ShareCommitmentsPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[12]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ShareCommitmentsPayload.ProtoReflect.Descriptor instead.
func (*ShareCommitmentsPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{12}
}

func (x *ShareCommitmentsPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *ShareCommitmentsPayload) GetRound() uint32 {
	if x != nil {
		return x.Round
	}
	return 0
}

func (x *ShareCommitmentsPayload) GetCommitments() [][]byte {
	if x != nil {
		return x.Commitments
	}
	return nil
}

func (x *ShareCommitmentsPayload) GetCheckCommitment() []byte {
	if x != nil {
		return x.CheckCommitment
	}
	return nil
}

// CommitSharesRequest sends the initiator's commitments of one round.
type CommitSharesRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The initiator's commitments.
	Payload *ShareCommitmentsPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitSharesRequest) Reset() {
	*x = CommitSharesRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[13]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitSharesRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitSharesRequest) ProtoMessage() {}

func (x *CommitSharesRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[13]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitSharesRequest.ProtoReflect.Descriptor instead.
func (*CommitSharesRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{13}
}

func (x *CommitSharesRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitSharesRequest) GetPayload() *ShareCommitmentsPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitSharesRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// CommitSharesResponse returns the responder's commitments of the same round.
type CommitSharesResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The responder's commitments.
	Payload *ShareCommitmentsPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitSharesResponse) Reset() {
	*x = CommitSharesResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[14]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitSharesResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitSharesResponse) ProtoMessage() {}

func (x *CommitSharesResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[14]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitSharesResponse.ProtoReflect.Descriptor instead.
func (*CommitSharesResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{14}
}

func (x *CommitSharesResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitSharesResponse) GetPayload() *ShareCommitmentsPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitSharesResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// KeySharePayload describes one party's share for one step of HE key generation.
type KeySharePayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The key set the share belongs to.
	Direction KeySetDirection `protobuf:"varint,2,opt,name=direction,proto3,enum=puente.v1.KeySetDirection" json:"direction,omitempty"`
	// The Galois element for a GKG share; 0 for every other kind.
	GaloisElement uint64 `protobuf:"varint,3,opt,name=galois_element,json=galoisElement,proto3" json:"galois_element,omitempty"`
	// The share: kind CKG_SHARE, RKG_SHARE_ROUND1, RKG_SHARE_ROUND2 or GKG_SHARE.
	Share         *HEObject `protobuf:"bytes,4,opt,name=share,proto3" json:"share,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *KeySharePayload) Reset() {
	*x = KeySharePayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[15]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *KeySharePayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*KeySharePayload) ProtoMessage() {}

func (x *KeySharePayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[15]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use KeySharePayload.ProtoReflect.Descriptor instead.
func (*KeySharePayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{15}
}

func (x *KeySharePayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *KeySharePayload) GetDirection() KeySetDirection {
	if x != nil {
		return x.Direction
	}
	return KeySetDirection_KEY_SET_DIRECTION_UNSPECIFIED
}

func (x *KeySharePayload) GetGaloisElement() uint64 {
	if x != nil {
		return x.GaloisElement
	}
	return 0
}

func (x *KeySharePayload) GetShare() *HEObject {
	if x != nil {
		return x.Share
	}
	return nil
}

// ExchangeKeyShareOpen is the first message of the initiator's stream.
type ExchangeKeyShareOpen struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The initiator's share descriptor; its bytes follow as chunks of object 0.
	Payload *KeySharePayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *ExchangeKeyShareOpen) Reset() {
	*x = ExchangeKeyShareOpen{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[16]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ExchangeKeyShareOpen) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ExchangeKeyShareOpen) ProtoMessage() {}

func (x *ExchangeKeyShareOpen) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[16]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ExchangeKeyShareOpen.ProtoReflect.Descriptor instead.
func (*ExchangeKeyShareOpen) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{16}
}

func (x *ExchangeKeyShareOpen) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *ExchangeKeyShareOpen) GetPayload() *KeySharePayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *ExchangeKeyShareOpen) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// ExchangeKeyShareRequest is one message of the initiator's stream: open first, then chunks.
type ExchangeKeyShareRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The part this message carries.
	//
	// Types that are valid to be assigned to Part:
	//
	//	*ExchangeKeyShareRequest_Open
	//	*ExchangeKeyShareRequest_Chunk
	Part          isExchangeKeyShareRequest_Part `protobuf_oneof:"part"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *ExchangeKeyShareRequest) Reset() {
	*x = ExchangeKeyShareRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[17]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ExchangeKeyShareRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ExchangeKeyShareRequest) ProtoMessage() {}

func (x *ExchangeKeyShareRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[17]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ExchangeKeyShareRequest.ProtoReflect.Descriptor instead.
func (*ExchangeKeyShareRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{17}
}

func (x *ExchangeKeyShareRequest) GetPart() isExchangeKeyShareRequest_Part {
	if x != nil {
		return x.Part
	}
	return nil
}

func (x *ExchangeKeyShareRequest) GetOpen() *ExchangeKeyShareOpen {
	if x != nil {
		if x, ok := x.Part.(*ExchangeKeyShareRequest_Open); ok {
			return x.Open
		}
	}
	return nil
}

func (x *ExchangeKeyShareRequest) GetChunk() *Chunk {
	if x != nil {
		if x, ok := x.Part.(*ExchangeKeyShareRequest_Chunk); ok {
			return x.Chunk
		}
	}
	return nil
}

type isExchangeKeyShareRequest_Part interface {
	isExchangeKeyShareRequest_Part()
}

type ExchangeKeyShareRequest_Open struct {
	// First message only.
	Open *ExchangeKeyShareOpen `protobuf:"bytes,1,opt,name=open,proto3,oneof"`
}

type ExchangeKeyShareRequest_Chunk struct {
	// Every later message.
	Chunk *Chunk `protobuf:"bytes,2,opt,name=chunk,proto3,oneof"`
}

func (*ExchangeKeyShareRequest_Open) isExchangeKeyShareRequest_Part() {}

func (*ExchangeKeyShareRequest_Chunk) isExchangeKeyShareRequest_Part() {}

// ExchangeKeyShareResponseOpen is the first message of the responder's stream.
type ExchangeKeyShareResponseOpen struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The responder's share descriptor for the same direction, kind and Galois element.
	Payload *KeySharePayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *ExchangeKeyShareResponseOpen) Reset() {
	*x = ExchangeKeyShareResponseOpen{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[18]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ExchangeKeyShareResponseOpen) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ExchangeKeyShareResponseOpen) ProtoMessage() {}

func (x *ExchangeKeyShareResponseOpen) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[18]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ExchangeKeyShareResponseOpen.ProtoReflect.Descriptor instead.
func (*ExchangeKeyShareResponseOpen) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{18}
}

func (x *ExchangeKeyShareResponseOpen) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *ExchangeKeyShareResponseOpen) GetPayload() *KeySharePayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *ExchangeKeyShareResponseOpen) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// ExchangeKeyShareResponse is one message of the responder's stream: open first, then chunks.
type ExchangeKeyShareResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The part this message carries.
	//
	// Types that are valid to be assigned to Part:
	//
	//	*ExchangeKeyShareResponse_Open
	//	*ExchangeKeyShareResponse_Chunk
	Part          isExchangeKeyShareResponse_Part `protobuf_oneof:"part"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *ExchangeKeyShareResponse) Reset() {
	*x = ExchangeKeyShareResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[19]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *ExchangeKeyShareResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*ExchangeKeyShareResponse) ProtoMessage() {}

func (x *ExchangeKeyShareResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[19]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use ExchangeKeyShareResponse.ProtoReflect.Descriptor instead.
func (*ExchangeKeyShareResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{19}
}

func (x *ExchangeKeyShareResponse) GetPart() isExchangeKeyShareResponse_Part {
	if x != nil {
		return x.Part
	}
	return nil
}

func (x *ExchangeKeyShareResponse) GetOpen() *ExchangeKeyShareResponseOpen {
	if x != nil {
		if x, ok := x.Part.(*ExchangeKeyShareResponse_Open); ok {
			return x.Open
		}
	}
	return nil
}

func (x *ExchangeKeyShareResponse) GetChunk() *Chunk {
	if x != nil {
		if x, ok := x.Part.(*ExchangeKeyShareResponse_Chunk); ok {
			return x.Chunk
		}
	}
	return nil
}

type isExchangeKeyShareResponse_Part interface {
	isExchangeKeyShareResponse_Part()
}

type ExchangeKeyShareResponse_Open struct {
	// First message only.
	Open *ExchangeKeyShareResponseOpen `protobuf:"bytes,1,opt,name=open,proto3,oneof"`
}

type ExchangeKeyShareResponse_Chunk struct {
	// Every later message.
	Chunk *Chunk `protobuf:"bytes,2,opt,name=chunk,proto3,oneof"`
}

func (*ExchangeKeyShareResponse_Open) isExchangeKeyShareResponse_Part() {}

func (*ExchangeKeyShareResponse_Chunk) isExchangeKeyShareResponse_Part() {}

// KeyCheckPayload opens a party's key-check contribution and, in the responder's answer, carries
// its key-check digests.
type KeyCheckPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The sender's 32-byte key-check contribution, which must open its round-1 check_commitment.
	CheckContribution []byte `protobuf:"bytes,2,opt,name=check_contribution,json=checkContribution,proto3" json:"check_contribution,omitempty"`
	// Request: empty. Response: the responder's he.KeyCheckDigests, 32 bytes each, KeyCheckGrids of
	// INITIATOR_QUERIES then KeyCheckGrids of RESPONDER_QUERIES.
	Digests       [][]byte `protobuf:"bytes,3,rep,name=digests,proto3" json:"digests,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *KeyCheckPayload) Reset() {
	*x = KeyCheckPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[20]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *KeyCheckPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*KeyCheckPayload) ProtoMessage() {}

func (x *KeyCheckPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[20]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use KeyCheckPayload.ProtoReflect.Descriptor instead.
func (*KeyCheckPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{20}
}

func (x *KeyCheckPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *KeyCheckPayload) GetCheckContribution() []byte {
	if x != nil {
		return x.CheckContribution
	}
	return nil
}

func (x *KeyCheckPayload) GetDigests() [][]byte {
	if x != nil {
		return x.Digests
	}
	return nil
}

// CheckKeysRequest opens the initiator's key-check contribution.
type CheckKeysRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The initiator's contribution.
	Payload *KeyCheckPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CheckKeysRequest) Reset() {
	*x = CheckKeysRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[21]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CheckKeysRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CheckKeysRequest) ProtoMessage() {}

func (x *CheckKeysRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[21]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CheckKeysRequest.ProtoReflect.Descriptor instead.
func (*CheckKeysRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{21}
}

func (x *CheckKeysRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CheckKeysRequest) GetPayload() *KeyCheckPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CheckKeysRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// CheckKeysResponse opens the responder's contribution and carries its digests.
type CheckKeysResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The responder's contribution and digests.
	Payload *KeyCheckPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CheckKeysResponse) Reset() {
	*x = CheckKeysResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[22]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CheckKeysResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CheckKeysResponse) ProtoMessage() {}

func (x *CheckKeysResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[22]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CheckKeysResponse.ProtoReflect.Descriptor instead.
func (*CheckKeysResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{22}
}

func (x *CheckKeysResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CheckKeysResponse) GetPayload() *KeyCheckPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CheckKeysResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// PreparePayload asks the responder to prepare the epoch.
type PreparePayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The initiator's transcript digest (64 bytes).
	TranscriptDigest []byte `protobuf:"bytes,2,opt,name=transcript_digest,json=transcriptDigest,proto3" json:"transcript_digest,omitempty"`
	// The initiator's he.KeyCheckDigests, in the layout of KeyCheckPayload.digests.
	CheckDigests  [][]byte `protobuf:"bytes,3,rep,name=check_digests,json=checkDigests,proto3" json:"check_digests,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *PreparePayload) Reset() {
	*x = PreparePayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[23]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *PreparePayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*PreparePayload) ProtoMessage() {}

func (x *PreparePayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[23]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use PreparePayload.ProtoReflect.Descriptor instead.
func (*PreparePayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{23}
}

func (x *PreparePayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *PreparePayload) GetTranscriptDigest() []byte {
	if x != nil {
		return x.TranscriptDigest
	}
	return nil
}

func (x *PreparePayload) GetCheckDigests() [][]byte {
	if x != nil {
		return x.CheckDigests
	}
	return nil
}

// PrepareRequest asks the responder to prepare the epoch.
type PrepareRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The transcript digest and key-check digests.
	Payload *PreparePayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *PrepareRequest) Reset() {
	*x = PrepareRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[24]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *PrepareRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*PrepareRequest) ProtoMessage() {}

func (x *PrepareRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[24]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use PrepareRequest.ProtoReflect.Descriptor instead.
func (*PrepareRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{24}
}

func (x *PrepareRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *PrepareRequest) GetPayload() *PreparePayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *PrepareRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// TranscriptPayload carries a party's transcript digest at the end of the ceremony.
type TranscriptPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The party's transcript digest (64 bytes).
	TranscriptDigest []byte `protobuf:"bytes,2,opt,name=transcript_digest,json=transcriptDigest,proto3" json:"transcript_digest,omitempty"`
	unknownFields    protoimpl.UnknownFields
	sizeCache        protoimpl.SizeCache
}

func (x *TranscriptPayload) Reset() {
	*x = TranscriptPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[25]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *TranscriptPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*TranscriptPayload) ProtoMessage() {}

func (x *TranscriptPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[25]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use TranscriptPayload.ProtoReflect.Descriptor instead.
func (*TranscriptPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{25}
}

func (x *TranscriptPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *TranscriptPayload) GetTranscriptDigest() []byte {
	if x != nil {
		return x.TranscriptDigest
	}
	return nil
}

// PrepareResponse reports that the responder holds the epoch's keys durably, not yet current.
type PrepareResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The responder's transcript digest.
	Payload *TranscriptPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *PrepareResponse) Reset() {
	*x = PrepareResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[26]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *PrepareResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*PrepareResponse) ProtoMessage() {}

func (x *PrepareResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[26]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use PrepareResponse.ProtoReflect.Descriptor instead.
func (*PrepareResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{26}
}

func (x *PrepareResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *PrepareResponse) GetPayload() *TranscriptPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *PrepareResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// CommitPayload names the ceremony and epoch to make current.
type CommitPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The epoch it set up (equal to the header's key_epoch).
	Epoch         uint64 `protobuf:"varint,2,opt,name=epoch,proto3" json:"epoch,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitPayload) Reset() {
	*x = CommitPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[27]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitPayload) ProtoMessage() {}

func (x *CommitPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[27]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitPayload.ProtoReflect.Descriptor instead.
func (*CommitPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{27}
}

func (x *CommitPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *CommitPayload) GetEpoch() uint64 {
	if x != nil {
		return x.Epoch
	}
	return 0
}

// CommitRequest makes a prepared epoch current on the responder.
type CommitRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The ceremony and epoch.
	Payload *CommitPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitRequest) Reset() {
	*x = CommitRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[28]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitRequest) ProtoMessage() {}

func (x *CommitRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[28]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitRequest.ProtoReflect.Descriptor instead.
func (*CommitRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{28}
}

func (x *CommitRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitRequest) GetPayload() *CommitPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// CommitResponse acknowledges that the epoch is current on the responder.
type CommitResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The ceremony and epoch (echoed).
	Payload *CommitPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *CommitResponse) Reset() {
	*x = CommitResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[29]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *CommitResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*CommitResponse) ProtoMessage() {}

func (x *CommitResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[29]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use CommitResponse.ProtoReflect.Descriptor instead.
func (*CommitResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{29}
}

func (x *CommitResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *CommitResponse) GetPayload() *CommitPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *CommitResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// OutcomeRequest asks the initiator what became of a ceremony (sent by the responder).
type OutcomeRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header (key_epoch: the ceremony's epoch).
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The ceremony and epoch.
	Payload *CommitPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *OutcomeRequest) Reset() {
	*x = OutcomeRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[30]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *OutcomeRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*OutcomeRequest) ProtoMessage() {}

func (x *OutcomeRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[30]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use OutcomeRequest.ProtoReflect.Descriptor instead.
func (*OutcomeRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{30}
}

func (x *OutcomeRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *OutcomeRequest) GetPayload() *CommitPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *OutcomeRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// OutcomePayload is the initiator's answer.
type OutcomePayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// The epoch.
	Epoch uint64 `protobuf:"varint,2,opt,name=epoch,proto3" json:"epoch,omitempty"`
	// What became of it.
	Outcome       CeremonyOutcome `protobuf:"varint,3,opt,name=outcome,proto3,enum=puente.v1.CeremonyOutcome" json:"outcome,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *OutcomePayload) Reset() {
	*x = OutcomePayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[31]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *OutcomePayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*OutcomePayload) ProtoMessage() {}

func (x *OutcomePayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[31]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use OutcomePayload.ProtoReflect.Descriptor instead.
func (*OutcomePayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{31}
}

func (x *OutcomePayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *OutcomePayload) GetEpoch() uint64 {
	if x != nil {
		return x.Epoch
	}
	return 0
}

func (x *OutcomePayload) GetOutcome() CeremonyOutcome {
	if x != nil {
		return x.Outcome
	}
	return CeremonyOutcome_CEREMONY_OUTCOME_UNSPECIFIED
}

// OutcomeResponse carries the initiator's answer.
type OutcomeResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The outcome.
	Payload *OutcomePayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *OutcomeResponse) Reset() {
	*x = OutcomeResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[32]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *OutcomeResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*OutcomeResponse) ProtoMessage() {}

func (x *OutcomeResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[32]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use OutcomeResponse.ProtoReflect.Descriptor instead.
func (*OutcomeResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{32}
}

func (x *OutcomeResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *OutcomeResponse) GetPayload() *OutcomePayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *OutcomeResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// AbortPayload names the ceremony to end.
type AbortPayload struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// The ceremony.
	CeremonyId []byte `protobuf:"bytes,1,opt,name=ceremony_id,json=ceremonyId,proto3" json:"ceremony_id,omitempty"`
	// A short reason for the audit log (at most 256 bytes, no secrets).
	Reason        string `protobuf:"bytes,2,opt,name=reason,proto3" json:"reason,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *AbortPayload) Reset() {
	*x = AbortPayload{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[33]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *AbortPayload) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*AbortPayload) ProtoMessage() {}

func (x *AbortPayload) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[33]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use AbortPayload.ProtoReflect.Descriptor instead.
func (*AbortPayload) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{33}
}

func (x *AbortPayload) GetCeremonyId() []byte {
	if x != nil {
		return x.CeremonyId
	}
	return nil
}

func (x *AbortPayload) GetReason() string {
	if x != nil {
		return x.Reason
	}
	return ""
}

// AbortRequest ends a ceremony early.
type AbortRequest struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *RequestHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The ceremony and the reason.
	Payload *AbortPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *AbortRequest) Reset() {
	*x = AbortRequest{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[34]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *AbortRequest) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*AbortRequest) ProtoMessage() {}

func (x *AbortRequest) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[34]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use AbortRequest.ProtoReflect.Descriptor instead.
func (*AbortRequest) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{34}
}

func (x *AbortRequest) GetHeader() *RequestHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *AbortRequest) GetPayload() *AbortPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *AbortRequest) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

// AbortResponse confirms the ceremony's state is destroyed.
type AbortResponse struct {
	state protoimpl.MessageState `protogen:"open.v1"`
	// Signed header.
	Header *ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	// The ceremony ended (reason echoed).
	Payload *AbortPayload `protobuf:"bytes,2,opt,name=payload,proto3" json:"payload,omitempty"`
	// ML-DSA-65 signature over CE(header).
	Signature     []byte `protobuf:"bytes,3,opt,name=signature,proto3" json:"signature,omitempty"`
	unknownFields protoimpl.UnknownFields
	sizeCache     protoimpl.SizeCache
}

func (x *AbortResponse) Reset() {
	*x = AbortResponse{}
	mi := &file_puente_v1_ceremony_proto_msgTypes[35]
	ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
	ms.StoreMessageInfo(mi)
}

func (x *AbortResponse) String() string {
	return protoimpl.X.MessageStringOf(x)
}

func (*AbortResponse) ProtoMessage() {}

func (x *AbortResponse) ProtoReflect() protoreflect.Message {
	mi := &file_puente_v1_ceremony_proto_msgTypes[35]
	if x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Deprecated: Use AbortResponse.ProtoReflect.Descriptor instead.
func (*AbortResponse) Descriptor() ([]byte, []int) {
	return file_puente_v1_ceremony_proto_rawDescGZIP(), []int{35}
}

func (x *AbortResponse) GetHeader() *ResponseHeader {
	if x != nil {
		return x.Header
	}
	return nil
}

func (x *AbortResponse) GetPayload() *AbortPayload {
	if x != nil {
		return x.Payload
	}
	return nil
}

func (x *AbortResponse) GetSignature() []byte {
	if x != nil {
		return x.Signature
	}
	return nil
}

var File_puente_v1_ceremony_proto protoreflect.FileDescriptor

const file_puente_v1_ceremony_proto_rawDesc = "" +
	"\n" +
	"\x18puente/v1/ceremony.proto\x12\tpuente.v1\x1a\x18puente/v1/envelope.proto\"\x80\x01\n" +
	"\rProtectScheme\x12\x1b\n" +
	"\tscheme_id\x18\x01 \x01(\tR\bschemeId\x12\x1b\n" +
	"\tinput_dim\x18\x02 \x01(\rR\binputDim\x12\x1d\n" +
	"\n" +
	"output_dim\x18\x03 \x01(\rR\toutputDim\x12\x16\n" +
	"\x06params\x18\x04 \x01(\fR\x06params\"\xef\x01\n" +
	"\fHelloPayload\x12\x14\n" +
	"\x05epoch\x18\x01 \x01(\x04R\x05epoch\x12\x1b\n" +
	"\tparam_set\x18\x02 \x01(\tR\bparamSet\x12(\n" +
	"\x10param_set_digest\x18\x03 \x01(\fR\x0eparamSetDigest\x122\n" +
	"\aprotect\x18\x04 \x01(\v2\x18.puente.v1.ProtectSchemeR\aprotect\x12'\n" +
	"\x0fgalois_elements\x18\x05 \x03(\x04R\x0egaloisElements\x12%\n" +
	"\x0ecrs_commitment\x18\x06 \x01(\fR\rcrsCommitment\"\x91\x01\n" +
	"\fHelloRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x121\n" +
	"\apayload\x18\x02 \x01(\v2\x17.puente.v1.HelloPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"b\n" +
	"\x14HelloResponsePayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12)\n" +
	"\x10crs_contribution\x18\x02 \x01(\fR\x0fcrsContribution\"\x9b\x01\n" +
	"\rHelloResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x129\n" +
	"\apayload\x18\x02 \x01(\v2\x1f.puente.v1.HelloResponsePayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x7f\n" +
	"\x11CommitSeedPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12\x1e\n" +
	"\n" +
	"commitment\x18\x02 \x01(\fR\n" +
	"commitment\x12)\n" +
	"\x10crs_contribution\x18\x03 \x01(\fR\x0fcrsContribution\"\x9b\x01\n" +
	"\x11CommitSeedRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x126\n" +
	"\apayload\x18\x02 \x01(\v2\x1c.puente.v1.CommitSeedPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x85\x01\n" +
	"\x11SealedSeedPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12/\n" +
	"\x13sealed_contribution\x18\x02 \x01(\fR\x12sealedContribution\x12\x1e\n" +
	"\n" +
	"commitment\x18\x03 \x01(\fR\n" +
	"commitment\"\x9d\x01\n" +
	"\x12CommitSeedResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x126\n" +
	"\apayload\x18\x02 \x01(\v2\x1c.puente.v1.SealedSeedPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x9b\x01\n" +
	"\x11RevealSeedRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x126\n" +
	"\apayload\x18\x02 \x01(\v2\x1c.puente.v1.SealedSeedPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"e\n" +
	"\x17SeedConfirmationPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12)\n" +
	"\x10key_confirmation\x18\x02 \x01(\fR\x0fkeyConfirmation\"\xa3\x01\n" +
	"\x12RevealSeedResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x12<\n" +
	"\apayload\x18\x02 \x01(\v2\".puente.v1.SeedConfirmationPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x9d\x01\n" +
	"\x17ShareCommitmentsPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12\x14\n" +
	"\x05round\x18\x02 \x01(\rR\x05round\x12 \n" +
	"\vcommitments\x18\x03 \x03(\fR\vcommitments\x12)\n" +
	"\x10check_commitment\x18\x04 \x01(\fR\x0fcheckCommitment\"\xa3\x01\n" +
	"\x13CommitSharesRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x12<\n" +
	"\apayload\x18\x02 \x01(\v2\".puente.v1.ShareCommitmentsPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\xa5\x01\n" +
	"\x14CommitSharesResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x12<\n" +
	"\apayload\x18\x02 \x01(\v2\".puente.v1.ShareCommitmentsPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\xbe\x01\n" +
	"\x0fKeySharePayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x128\n" +
	"\tdirection\x18\x02 \x01(\x0e2\x1a.puente.v1.KeySetDirectionR\tdirection\x12%\n" +
	"\x0egalois_element\x18\x03 \x01(\x04R\rgaloisElement\x12)\n" +
	"\x05share\x18\x04 \x01(\v2\x13.puente.v1.HEObjectR\x05share\"\x9c\x01\n" +
	"\x14ExchangeKeyShareOpen\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x124\n" +
	"\apayload\x18\x02 \x01(\v2\x1a.puente.v1.KeySharePayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x82\x01\n" +
	"\x17ExchangeKeyShareRequest\x125\n" +
	"\x04open\x18\x01 \x01(\v2\x1f.puente.v1.ExchangeKeyShareOpenH\x00R\x04open\x12(\n" +
	"\x05chunk\x18\x02 \x01(\v2\x10.puente.v1.ChunkH\x00R\x05chunkB\x06\n" +
	"\x04part\"\xa5\x01\n" +
	"\x1cExchangeKeyShareResponseOpen\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x124\n" +
	"\apayload\x18\x02 \x01(\v2\x1a.puente.v1.KeySharePayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x8b\x01\n" +
	"\x18ExchangeKeyShareResponse\x12=\n" +
	"\x04open\x18\x01 \x01(\v2'.puente.v1.ExchangeKeyShareResponseOpenH\x00R\x04open\x12(\n" +
	"\x05chunk\x18\x02 \x01(\v2\x10.puente.v1.ChunkH\x00R\x05chunkB\x06\n" +
	"\x04part\"{\n" +
	"\x0fKeyCheckPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12-\n" +
	"\x12check_contribution\x18\x02 \x01(\fR\x11checkContribution\x12\x18\n" +
	"\adigests\x18\x03 \x03(\fR\adigests\"\x98\x01\n" +
	"\x10CheckKeysRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x124\n" +
	"\apayload\x18\x02 \x01(\v2\x1a.puente.v1.KeyCheckPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x9a\x01\n" +
	"\x11CheckKeysResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x124\n" +
	"\apayload\x18\x02 \x01(\v2\x1a.puente.v1.KeyCheckPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x83\x01\n" +
	"\x0ePreparePayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12+\n" +
	"\x11transcript_digest\x18\x02 \x01(\fR\x10transcriptDigest\x12#\n" +
	"\rcheck_digests\x18\x03 \x03(\fR\fcheckDigests\"\x95\x01\n" +
	"\x0ePrepareRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x123\n" +
	"\apayload\x18\x02 \x01(\v2\x19.puente.v1.PreparePayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"a\n" +
	"\x11TranscriptPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12+\n" +
	"\x11transcript_digest\x18\x02 \x01(\fR\x10transcriptDigest\"\x9a\x01\n" +
	"\x0fPrepareResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x126\n" +
	"\apayload\x18\x02 \x01(\v2\x1c.puente.v1.TranscriptPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"F\n" +
	"\rCommitPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12\x14\n" +
	"\x05epoch\x18\x02 \x01(\x04R\x05epoch\"\x93\x01\n" +
	"\rCommitRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x122\n" +
	"\apayload\x18\x02 \x01(\v2\x18.puente.v1.CommitPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x95\x01\n" +
	"\x0eCommitResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x122\n" +
	"\apayload\x18\x02 \x01(\v2\x18.puente.v1.CommitPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x94\x01\n" +
	"\x0eOutcomeRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x122\n" +
	"\apayload\x18\x02 \x01(\v2\x18.puente.v1.CommitPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"}\n" +
	"\x0eOutcomePayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12\x14\n" +
	"\x05epoch\x18\x02 \x01(\x04R\x05epoch\x124\n" +
	"\aoutcome\x18\x03 \x01(\x0e2\x1a.puente.v1.CeremonyOutcomeR\aoutcome\"\x97\x01\n" +
	"\x0fOutcomeResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x123\n" +
	"\apayload\x18\x02 \x01(\v2\x19.puente.v1.OutcomePayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"G\n" +
	"\fAbortPayload\x12\x1f\n" +
	"\vceremony_id\x18\x01 \x01(\fR\n" +
	"ceremonyId\x12\x16\n" +
	"\x06reason\x18\x02 \x01(\tR\x06reason\"\x91\x01\n" +
	"\fAbortRequest\x120\n" +
	"\x06header\x18\x01 \x01(\v2\x18.puente.v1.RequestHeaderR\x06header\x121\n" +
	"\apayload\x18\x02 \x01(\v2\x17.puente.v1.AbortPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature\"\x93\x01\n" +
	"\rAbortResponse\x121\n" +
	"\x06header\x18\x01 \x01(\v2\x19.puente.v1.ResponseHeaderR\x06header\x121\n" +
	"\apayload\x18\x02 \x01(\v2\x17.puente.v1.AbortPayloadR\apayload\x12\x1c\n" +
	"\tsignature\x18\x03 \x01(\fR\tsignature*\x86\x01\n" +
	"\x0fKeySetDirection\x12!\n" +
	"\x1dKEY_SET_DIRECTION_UNSPECIFIED\x10\x00\x12'\n" +
	"#KEY_SET_DIRECTION_INITIATOR_QUERIES\x10\x01\x12'\n" +
	"#KEY_SET_DIRECTION_RESPONDER_QUERIES\x10\x02*\x8f\x01\n" +
	"\x0fCeremonyOutcome\x12 \n" +
	"\x1cCEREMONY_OUTCOME_UNSPECIFIED\x10\x00\x12\x1c\n" +
	"\x18CEREMONY_OUTCOME_PENDING\x10\x01\x12\x1e\n" +
	"\x1aCEREMONY_OUTCOME_COMMITTED\x10\x02\x12\x1c\n" +
	"\x18CEREMONY_OUTCOME_ABORTED\x10\x032\xdc\x05\n" +
	"\x0fCeremonyService\x12:\n" +
	"\x05Hello\x12\x17.puente.v1.HelloRequest\x1a\x18.puente.v1.HelloResponse\x12I\n" +
	"\n" +
	"CommitSeed\x12\x1c.puente.v1.CommitSeedRequest\x1a\x1d.puente.v1.CommitSeedResponse\x12I\n" +
	"\n" +
	"RevealSeed\x12\x1c.puente.v1.RevealSeedRequest\x1a\x1d.puente.v1.RevealSeedResponse\x12O\n" +
	"\fCommitShares\x12\x1e.puente.v1.CommitSharesRequest\x1a\x1f.puente.v1.CommitSharesResponse\x12_\n" +
	"\x10ExchangeKeyShare\x12\".puente.v1.ExchangeKeyShareRequest\x1a#.puente.v1.ExchangeKeyShareResponse(\x010\x01\x12F\n" +
	"\tCheckKeys\x12\x1b.puente.v1.CheckKeysRequest\x1a\x1c.puente.v1.CheckKeysResponse\x12@\n" +
	"\aPrepare\x12\x19.puente.v1.PrepareRequest\x1a\x1a.puente.v1.PrepareResponse\x12=\n" +
	"\x06Commit\x12\x18.puente.v1.CommitRequest\x1a\x19.puente.v1.CommitResponse\x12@\n" +
	"\aOutcome\x12\x19.puente.v1.OutcomeRequest\x1a\x1a.puente.v1.OutcomeResponse\x12:\n" +
	"\x05Abort\x12\x17.puente.v1.AbortRequest\x1a\x18.puente.v1.AbortResponseB6Z4github.com/puente-id/puente/proto/puente/v1;puentev1b\x06proto3"

var (
	file_puente_v1_ceremony_proto_rawDescOnce sync.Once
	file_puente_v1_ceremony_proto_rawDescData []byte
)

func file_puente_v1_ceremony_proto_rawDescGZIP() []byte {
	file_puente_v1_ceremony_proto_rawDescOnce.Do(func() {
		file_puente_v1_ceremony_proto_rawDescData = protoimpl.X.CompressGZIP(unsafe.Slice(unsafe.StringData(file_puente_v1_ceremony_proto_rawDesc), len(file_puente_v1_ceremony_proto_rawDesc)))
	})
	return file_puente_v1_ceremony_proto_rawDescData
}

var file_puente_v1_ceremony_proto_enumTypes = make([]protoimpl.EnumInfo, 2)
var file_puente_v1_ceremony_proto_msgTypes = make([]protoimpl.MessageInfo, 36)
var file_puente_v1_ceremony_proto_goTypes = []any{
	(KeySetDirection)(0),                 // 0: puente.v1.KeySetDirection
	(CeremonyOutcome)(0),                 // 1: puente.v1.CeremonyOutcome
	(*ProtectScheme)(nil),                // 2: puente.v1.ProtectScheme
	(*HelloPayload)(nil),                 // 3: puente.v1.HelloPayload
	(*HelloRequest)(nil),                 // 4: puente.v1.HelloRequest
	(*HelloResponsePayload)(nil),         // 5: puente.v1.HelloResponsePayload
	(*HelloResponse)(nil),                // 6: puente.v1.HelloResponse
	(*CommitSeedPayload)(nil),            // 7: puente.v1.CommitSeedPayload
	(*CommitSeedRequest)(nil),            // 8: puente.v1.CommitSeedRequest
	(*SealedSeedPayload)(nil),            // 9: puente.v1.SealedSeedPayload
	(*CommitSeedResponse)(nil),           // 10: puente.v1.CommitSeedResponse
	(*RevealSeedRequest)(nil),            // 11: puente.v1.RevealSeedRequest
	(*SeedConfirmationPayload)(nil),      // 12: puente.v1.SeedConfirmationPayload
	(*RevealSeedResponse)(nil),           // 13: puente.v1.RevealSeedResponse
	(*ShareCommitmentsPayload)(nil),      // 14: puente.v1.ShareCommitmentsPayload
	(*CommitSharesRequest)(nil),          // 15: puente.v1.CommitSharesRequest
	(*CommitSharesResponse)(nil),         // 16: puente.v1.CommitSharesResponse
	(*KeySharePayload)(nil),              // 17: puente.v1.KeySharePayload
	(*ExchangeKeyShareOpen)(nil),         // 18: puente.v1.ExchangeKeyShareOpen
	(*ExchangeKeyShareRequest)(nil),      // 19: puente.v1.ExchangeKeyShareRequest
	(*ExchangeKeyShareResponseOpen)(nil), // 20: puente.v1.ExchangeKeyShareResponseOpen
	(*ExchangeKeyShareResponse)(nil),     // 21: puente.v1.ExchangeKeyShareResponse
	(*KeyCheckPayload)(nil),              // 22: puente.v1.KeyCheckPayload
	(*CheckKeysRequest)(nil),             // 23: puente.v1.CheckKeysRequest
	(*CheckKeysResponse)(nil),            // 24: puente.v1.CheckKeysResponse
	(*PreparePayload)(nil),               // 25: puente.v1.PreparePayload
	(*PrepareRequest)(nil),               // 26: puente.v1.PrepareRequest
	(*TranscriptPayload)(nil),            // 27: puente.v1.TranscriptPayload
	(*PrepareResponse)(nil),              // 28: puente.v1.PrepareResponse
	(*CommitPayload)(nil),                // 29: puente.v1.CommitPayload
	(*CommitRequest)(nil),                // 30: puente.v1.CommitRequest
	(*CommitResponse)(nil),               // 31: puente.v1.CommitResponse
	(*OutcomeRequest)(nil),               // 32: puente.v1.OutcomeRequest
	(*OutcomePayload)(nil),               // 33: puente.v1.OutcomePayload
	(*OutcomeResponse)(nil),              // 34: puente.v1.OutcomeResponse
	(*AbortPayload)(nil),                 // 35: puente.v1.AbortPayload
	(*AbortRequest)(nil),                 // 36: puente.v1.AbortRequest
	(*AbortResponse)(nil),                // 37: puente.v1.AbortResponse
	(*RequestHeader)(nil),                // 38: puente.v1.RequestHeader
	(*ResponseHeader)(nil),               // 39: puente.v1.ResponseHeader
	(*HEObject)(nil),                     // 40: puente.v1.HEObject
	(*Chunk)(nil),                        // 41: puente.v1.Chunk
}
var file_puente_v1_ceremony_proto_depIdxs = []int32{
	2,  // 0: puente.v1.HelloPayload.protect:type_name -> puente.v1.ProtectScheme
	38, // 1: puente.v1.HelloRequest.header:type_name -> puente.v1.RequestHeader
	3,  // 2: puente.v1.HelloRequest.payload:type_name -> puente.v1.HelloPayload
	39, // 3: puente.v1.HelloResponse.header:type_name -> puente.v1.ResponseHeader
	5,  // 4: puente.v1.HelloResponse.payload:type_name -> puente.v1.HelloResponsePayload
	38, // 5: puente.v1.CommitSeedRequest.header:type_name -> puente.v1.RequestHeader
	7,  // 6: puente.v1.CommitSeedRequest.payload:type_name -> puente.v1.CommitSeedPayload
	39, // 7: puente.v1.CommitSeedResponse.header:type_name -> puente.v1.ResponseHeader
	9,  // 8: puente.v1.CommitSeedResponse.payload:type_name -> puente.v1.SealedSeedPayload
	38, // 9: puente.v1.RevealSeedRequest.header:type_name -> puente.v1.RequestHeader
	9,  // 10: puente.v1.RevealSeedRequest.payload:type_name -> puente.v1.SealedSeedPayload
	39, // 11: puente.v1.RevealSeedResponse.header:type_name -> puente.v1.ResponseHeader
	12, // 12: puente.v1.RevealSeedResponse.payload:type_name -> puente.v1.SeedConfirmationPayload
	38, // 13: puente.v1.CommitSharesRequest.header:type_name -> puente.v1.RequestHeader
	14, // 14: puente.v1.CommitSharesRequest.payload:type_name -> puente.v1.ShareCommitmentsPayload
	39, // 15: puente.v1.CommitSharesResponse.header:type_name -> puente.v1.ResponseHeader
	14, // 16: puente.v1.CommitSharesResponse.payload:type_name -> puente.v1.ShareCommitmentsPayload
	0,  // 17: puente.v1.KeySharePayload.direction:type_name -> puente.v1.KeySetDirection
	40, // 18: puente.v1.KeySharePayload.share:type_name -> puente.v1.HEObject
	38, // 19: puente.v1.ExchangeKeyShareOpen.header:type_name -> puente.v1.RequestHeader
	17, // 20: puente.v1.ExchangeKeyShareOpen.payload:type_name -> puente.v1.KeySharePayload
	18, // 21: puente.v1.ExchangeKeyShareRequest.open:type_name -> puente.v1.ExchangeKeyShareOpen
	41, // 22: puente.v1.ExchangeKeyShareRequest.chunk:type_name -> puente.v1.Chunk
	39, // 23: puente.v1.ExchangeKeyShareResponseOpen.header:type_name -> puente.v1.ResponseHeader
	17, // 24: puente.v1.ExchangeKeyShareResponseOpen.payload:type_name -> puente.v1.KeySharePayload
	20, // 25: puente.v1.ExchangeKeyShareResponse.open:type_name -> puente.v1.ExchangeKeyShareResponseOpen
	41, // 26: puente.v1.ExchangeKeyShareResponse.chunk:type_name -> puente.v1.Chunk
	38, // 27: puente.v1.CheckKeysRequest.header:type_name -> puente.v1.RequestHeader
	22, // 28: puente.v1.CheckKeysRequest.payload:type_name -> puente.v1.KeyCheckPayload
	39, // 29: puente.v1.CheckKeysResponse.header:type_name -> puente.v1.ResponseHeader
	22, // 30: puente.v1.CheckKeysResponse.payload:type_name -> puente.v1.KeyCheckPayload
	38, // 31: puente.v1.PrepareRequest.header:type_name -> puente.v1.RequestHeader
	25, // 32: puente.v1.PrepareRequest.payload:type_name -> puente.v1.PreparePayload
	39, // 33: puente.v1.PrepareResponse.header:type_name -> puente.v1.ResponseHeader
	27, // 34: puente.v1.PrepareResponse.payload:type_name -> puente.v1.TranscriptPayload
	38, // 35: puente.v1.CommitRequest.header:type_name -> puente.v1.RequestHeader
	29, // 36: puente.v1.CommitRequest.payload:type_name -> puente.v1.CommitPayload
	39, // 37: puente.v1.CommitResponse.header:type_name -> puente.v1.ResponseHeader
	29, // 38: puente.v1.CommitResponse.payload:type_name -> puente.v1.CommitPayload
	38, // 39: puente.v1.OutcomeRequest.header:type_name -> puente.v1.RequestHeader
	29, // 40: puente.v1.OutcomeRequest.payload:type_name -> puente.v1.CommitPayload
	1,  // 41: puente.v1.OutcomePayload.outcome:type_name -> puente.v1.CeremonyOutcome
	39, // 42: puente.v1.OutcomeResponse.header:type_name -> puente.v1.ResponseHeader
	33, // 43: puente.v1.OutcomeResponse.payload:type_name -> puente.v1.OutcomePayload
	38, // 44: puente.v1.AbortRequest.header:type_name -> puente.v1.RequestHeader
	35, // 45: puente.v1.AbortRequest.payload:type_name -> puente.v1.AbortPayload
	39, // 46: puente.v1.AbortResponse.header:type_name -> puente.v1.ResponseHeader
	35, // 47: puente.v1.AbortResponse.payload:type_name -> puente.v1.AbortPayload
	4,  // 48: puente.v1.CeremonyService.Hello:input_type -> puente.v1.HelloRequest
	8,  // 49: puente.v1.CeremonyService.CommitSeed:input_type -> puente.v1.CommitSeedRequest
	11, // 50: puente.v1.CeremonyService.RevealSeed:input_type -> puente.v1.RevealSeedRequest
	15, // 51: puente.v1.CeremonyService.CommitShares:input_type -> puente.v1.CommitSharesRequest
	19, // 52: puente.v1.CeremonyService.ExchangeKeyShare:input_type -> puente.v1.ExchangeKeyShareRequest
	23, // 53: puente.v1.CeremonyService.CheckKeys:input_type -> puente.v1.CheckKeysRequest
	26, // 54: puente.v1.CeremonyService.Prepare:input_type -> puente.v1.PrepareRequest
	30, // 55: puente.v1.CeremonyService.Commit:input_type -> puente.v1.CommitRequest
	32, // 56: puente.v1.CeremonyService.Outcome:input_type -> puente.v1.OutcomeRequest
	36, // 57: puente.v1.CeremonyService.Abort:input_type -> puente.v1.AbortRequest
	6,  // 58: puente.v1.CeremonyService.Hello:output_type -> puente.v1.HelloResponse
	10, // 59: puente.v1.CeremonyService.CommitSeed:output_type -> puente.v1.CommitSeedResponse
	13, // 60: puente.v1.CeremonyService.RevealSeed:output_type -> puente.v1.RevealSeedResponse
	16, // 61: puente.v1.CeremonyService.CommitShares:output_type -> puente.v1.CommitSharesResponse
	21, // 62: puente.v1.CeremonyService.ExchangeKeyShare:output_type -> puente.v1.ExchangeKeyShareResponse
	24, // 63: puente.v1.CeremonyService.CheckKeys:output_type -> puente.v1.CheckKeysResponse
	28, // 64: puente.v1.CeremonyService.Prepare:output_type -> puente.v1.PrepareResponse
	31, // 65: puente.v1.CeremonyService.Commit:output_type -> puente.v1.CommitResponse
	34, // 66: puente.v1.CeremonyService.Outcome:output_type -> puente.v1.OutcomeResponse
	37, // 67: puente.v1.CeremonyService.Abort:output_type -> puente.v1.AbortResponse
	58, // [58:68] is the sub-list for method output_type
	48, // [48:58] is the sub-list for method input_type
	48, // [48:48] is the sub-list for extension type_name
	48, // [48:48] is the sub-list for extension extendee
	0,  // [0:48] is the sub-list for field type_name
}

func init() { file_puente_v1_ceremony_proto_init() }
func file_puente_v1_ceremony_proto_init() {
	if File_puente_v1_ceremony_proto != nil {
		return
	}
	file_puente_v1_envelope_proto_init()
	file_puente_v1_ceremony_proto_msgTypes[17].OneofWrappers = []any{
		(*ExchangeKeyShareRequest_Open)(nil),
		(*ExchangeKeyShareRequest_Chunk)(nil),
	}
	file_puente_v1_ceremony_proto_msgTypes[19].OneofWrappers = []any{
		(*ExchangeKeyShareResponse_Open)(nil),
		(*ExchangeKeyShareResponse_Chunk)(nil),
	}
	type x struct{}
	out := protoimpl.TypeBuilder{
		File: protoimpl.DescBuilder{
			GoPackagePath: reflect.TypeOf(x{}).PkgPath(),
			RawDescriptor: unsafe.Slice(unsafe.StringData(file_puente_v1_ceremony_proto_rawDesc), len(file_puente_v1_ceremony_proto_rawDesc)),
			NumEnums:      2,
			NumMessages:   36,
			NumExtensions: 0,
			NumServices:   1,
		},
		GoTypes:           file_puente_v1_ceremony_proto_goTypes,
		DependencyIndexes: file_puente_v1_ceremony_proto_depIdxs,
		EnumInfos:         file_puente_v1_ceremony_proto_enumTypes,
		MessageInfos:      file_puente_v1_ceremony_proto_msgTypes,
	}.Build()
	File_puente_v1_ceremony_proto = out.File
	file_puente_v1_ceremony_proto_goTypes = nil
	file_puente_v1_ceremony_proto_depIdxs = nil
}
