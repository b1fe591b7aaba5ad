package puentev1

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var update = flag.Bool("update", false, "rewrite testdata/ce-vectors.txt")

// ce is a reference implementation of the canonical encoding defined in envelope.proto, written
// from the schema alone (protoreflect), for the known-answer vectors below.
func ce(m protoreflect.Message) []byte {
	var out []byte
	fields := m.Descriptor().Fields()
	// Fields() is in declaration order; the CE is in field-number order.
	for _, num := range fieldNumbers(fields) {
		f := fields.ByNumber(num)
		if f.IsList() {
			l := m.Get(f).List()
			out = binary.BigEndian.AppendUint32(out, uint32(l.Len()))
			for j := 0; j < l.Len(); j++ {
				out = ceValue(out, f, l.Get(j))
			}
			continue
		}
		out = ceValue(out, f, m.Get(f))
	}
	return out
}

// fieldNumbers returns the field numbers of a message in ascending order.
func fieldNumbers(fields protoreflect.FieldDescriptors) []protoreflect.FieldNumber {
	n := make([]protoreflect.FieldNumber, fields.Len())
	for i := range n {
		n[i] = fields.Get(i).Number()
	}
	slices.Sort(n)
	return n
}

// ceValue appends the CE of one value of field f.
func ceValue(out []byte, f protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch f.Kind() {
	case protoreflect.BoolKind:
		if v.Bool() {
			return append(out, 1)
		}
		return append(out, 0)
	case protoreflect.Uint32Kind:
		return binary.BigEndian.AppendUint32(out, uint32(v.Uint()))
	case protoreflect.EnumKind:
		return binary.BigEndian.AppendUint32(out, uint32(v.Enum()))
	case protoreflect.Int32Kind:
		return binary.BigEndian.AppendUint32(out, uint32(int32(v.Int())))
	case protoreflect.Uint64Kind:
		return binary.BigEndian.AppendUint64(out, v.Uint())
	case protoreflect.Int64Kind:
		return binary.BigEndian.AppendUint64(out, uint64(v.Int()))
	case protoreflect.StringKind:
		out = binary.BigEndian.AppendUint32(out, uint32(len(v.String())))
		return append(out, v.String()...)
	case protoreflect.BytesKind:
		out = binary.BigEndian.AppendUint32(out, uint32(len(v.Bytes())))
		return append(out, v.Bytes()...)
	case protoreflect.MessageKind:
		return append(out, ce(v.Message())...)
	}
	panic("puentev1 test: no canonical encoding for " + f.Kind().String())
}

// sampleHeader is the request header of the published vector.
func sampleHeader() *RequestHeader {
	return &RequestHeader{
		RequestId:       bytes.Repeat([]byte{0x11}, 16),
		AgreementId:     "us-co-2026",
		Sender:          "us-cbp-node-1",
		Recipient:       "co-migracion-node-1",
		Method:          MatchService_Search_FullMethodName,
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

// lv appends a uint32 big-endian length and s.
func lv(out []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(out, uint32(len(s))), s...)
}

// TestCanonicalEncodingByHand compares the schema-driven encoder with encodings written out by
// hand from the rules in envelope.proto.
func TestCanonicalEncodingByHand(t *testing.T) {
	chunk := &Chunk{ObjectIndex: 1, Offset: 2, Data: []byte("ab")}
	want, _ := hex.DecodeString("00000001" + "0000000000000002" + "00000002" + "6162")
	if got := ce(chunk.ProtoReflect()); !bytes.Equal(got, want) {
		t.Errorf("CE(Chunk) = %x, want %x", got, want)
	}

	h := sampleHeader()
	var hand []byte
	hand = lv(hand, string(h.RequestId))
	hand = lv(hand, h.AgreementId)
	hand = lv(hand, h.Sender)
	hand = lv(hand, h.Recipient)
	hand = lv(hand, h.Method)
	hand = binary.BigEndian.AppendUint64(hand, uint64(h.SentAt.Seconds))
	hand = binary.BigEndian.AppendUint32(hand, uint32(h.SentAt.Nanos))
	hand = lv(hand, string(h.Nonce))
	hand = binary.BigEndian.AppendUint64(hand, h.KeyEpoch)
	hand = lv(hand, h.ParamSet)
	hand = lv(hand, h.PurposeCode)
	hand = lv(hand, string(h.SigningKeyId))
	hand = lv(hand, string(h.PayloadDigest))
	hand = binary.BigEndian.AppendUint32(hand, h.ProtocolVersion)
	if got := ce(h.ProtoReflect()); !bytes.Equal(got, hand) {
		t.Errorf("CE(RequestHeader) =\n%x\nwant\n%x", got, hand)
	}

	// Absent and empty messages encode the same; a repeated field encodes its count.
	payload := &MatchResult{Objects: []*HEObject{{Kind: HEObjectKind_HE_OBJECT_KIND_RESULT_CIPHERTEXT}, nil}}
	want, _ = hex.DecodeString("00000002" +
		"00000002" + "00000000" + "0000000000000000" + "00000000" +
		"00000000" + "00000000" + "0000000000000000" + "00000000" +
		"00000000")
	if got := ce(payload.ProtoReflect()); !bytes.Equal(got, want) {
		t.Errorf("CE(MatchResult) = %x, want %x", got, want)
	}
}

// TestCanonicalEncodingVectors checks the published vectors in testdata/ce-vectors.txt, which a
// partner agency's implementation can check itself against. Run with -update to rewrite them
// after a deliberate change of the encoding (a new package version).
func TestCanonicalEncodingVectors(t *testing.T) {
	enc := ce(sampleHeader().ProtoReflect())
	sum := sha512.Sum512(enc)
	got := "# Canonical encoding (envelope.proto) of the RequestHeader in ce_test.go's sampleHeader.\n" +
		"request_header_ce " + hex.EncodeToString(enc) + "\n" +
		"request_header_ce_sha512 " + hex.EncodeToString(sum[:]) + "\n"
	path := filepath.Join("testdata", "ce-vectors.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(got) {
		t.Errorf("%s does not match the encoder:\n got %s\nwant %s", path, got, want)
	}
}
