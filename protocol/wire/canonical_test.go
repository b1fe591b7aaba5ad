package wire

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// vectorHeader is the request header of the published known-answer vector
// (proto/puente/v1/testdata/ce-vectors.txt, made by the schema-driven reference encoder there).
func vectorHeader() *pb.RequestHeader {
	return &pb.RequestHeader{
		RequestId:       bytes.Repeat([]byte{0x11}, 16),
		AgreementId:     "us-co-2026",
		Sender:          "us-cbp-node-1",
		Recipient:       "co-migracion-node-1",
		Method:          pb.MatchService_Search_FullMethodName,
		SentAt:          &timestamppb.Timestamp{Seconds: 1767225600, Nanos: 500},
		Nonce:           bytes.Repeat([]byte{0x22}, 16),
		KeyEpoch:        3,
		ParamSet:        "PN14-CI-v1",
		PurposeCode:     "border-screening",
		SigningKeyId:    bytes.Repeat([]byte{0x33}, 32),
		PayloadDigest:   bytes.Repeat([]byte{0x44}, 64),
		ProtocolVersion: 2,
	}
}

// readVectors reads "name hex" lines of the published vectors.
func readVectors(t *testing.T) map[string][]byte {
	t.Helper()
	path := filepath.Join("..", "..", "proto", "puente", "v1", "testdata", "ce-vectors.txt")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("known-answer vectors: %v", err)
	}
	out := map[string][]byte{}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := hex.DecodeString(val)
		if err != nil {
			t.Fatalf("%s: %s is not hex", path, name)
		}
		out[name] = v
	}
	return out
}

func TestCanonicalEncodingKnownAnswer(t *testing.T) {
	v := readVectors(t)
	h := vectorHeader()
	if got := Canonical(h); !bytes.Equal(got, v["request_header_ce"]) {
		t.Errorf("CE(RequestHeader) =\n%x\nwant\n%x", got, v["request_header_ce"])
	}
	if got := Digest(h); !bytes.Equal(got, v["request_header_ce_sha512"]) {
		t.Errorf("SHA-512(CE) = %x, want %x", got, v["request_header_ce_sha512"])
	}
}

func TestCanonicalEncodingRules(t *testing.T) {
	// Absent and empty messages encode the same; repeated fields carry their count; an unset
	// field is its zero value.
	a := &pb.MatchResult{Objects: []*pb.HEObject{{Kind: pb.HEObjectKind_HE_OBJECT_KIND_PARTIAL_RESULT}, nil}}
	b := &pb.MatchResult{Objects: []*pb.HEObject{{Kind: pb.HEObjectKind_HE_OBJECT_KIND_PARTIAL_RESULT}, {}}}
	if !bytes.Equal(Canonical(a), Canonical(b)) {
		t.Error("absent and empty elements encode differently")
	}
	want, _ := hex.DecodeString("00000002" + "00000004" + "00000000" + "0000000000000000" + "00000000" +
		"00000000" + "00000000" + "0000000000000000" + "00000000" + "00000000")
	if got := Canonical(a); !bytes.Equal(got, want) {
		t.Errorf("CE(MatchResult) = %x, want %x", got, want)
	}
	// A header whose epoch differs by one bit has a different encoding (every field is covered).
	h1, h2 := vectorHeader(), vectorHeader()
	h2.KeyEpoch ^= 1
	if bytes.Equal(Canonical(h1), Canonical(h2)) {
		t.Error("key_epoch is not covered by the encoding")
	}
	var nilHeader *pb.RequestHeader
	if got := Canonical(nilHeader); len(got) != len(Canonical(&pb.RequestHeader{})) {
		t.Errorf("nil header encodes to %d bytes, empty header to %d", len(got), len(Canonical(&pb.RequestHeader{})))
	}
}

func TestUnknownFieldsRefused(t *testing.T) {
	f := newEnvelopeFixture(t)
	b, _ := proto.Marshal(f.payload)
	b = append(b, 0xa0, 0x06, 0x01) // field 100, varint 1: unknown to v1
	var pl pb.SearchPayload
	if err := proto.Unmarshal(b, &pl); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Canonical(&pl), Canonical(f.payload)) {
		t.Fatal("an unknown field changed the CE")
	}
	if e := VerifyRequest(f.h, &pl, f.sig, f.check()); e == nil || e.Code != codes.InvalidArgument {
		t.Errorf("a payload with an unknown field: %v, want InvalidArgument", e)
	}
}
