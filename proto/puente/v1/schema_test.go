package puentev1

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// files returns the descriptors of this package's .proto files (set by the generated init).
func files() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		File_puente_v1_envelope_proto,
		File_puente_v1_ceremony_proto,
		File_puente_v1_match_proto,
	}
}

// ceKinds are the field kinds the canonical encoding (envelope.proto) defines.
var ceKinds = map[protoreflect.Kind]bool{
	protoreflect.BoolKind:    true,
	protoreflect.Uint32Kind:  true,
	protoreflect.EnumKind:    true,
	protoreflect.Int32Kind:   true,
	protoreflect.Uint64Kind:  true,
	protoreflect.Int64Kind:   true,
	protoreflect.StringKind:  true,
	protoreflect.BytesKind:   true,
	protoreflect.MessageKind: true,
}

// checkCE reports every field of md (recursively) that the canonical encoding cannot encode.
func checkCE(t *testing.T, md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) {
	t.Helper()
	if seen[md.FullName()] {
		return
	}
	seen[md.FullName()] = true
	if md.Oneofs().Len() > 0 {
		t.Errorf("%s: signed message has a oneof", md.FullName())
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		switch {
		case f.IsMap():
			t.Errorf("%s: map field in a signed message", f.FullName())
		case !ceKinds[f.Kind()]:
			t.Errorf("%s: kind %v has no canonical encoding", f.FullName(), f.Kind())
		case f.HasOptionalKeyword():
			t.Errorf("%s: optional field in a signed message", f.FullName())
		case f.Kind() == protoreflect.EnumKind:
			checkEnum(t, f.Enum())
		case f.Kind() == protoreflect.MessageKind:
			checkCE(t, f.Message(), seen)
		}
	}
}

// checkEnum reports negative enum values, which the CE's uint32 cannot carry.
func checkEnum(t *testing.T, ed protoreflect.EnumDescriptor) {
	t.Helper()
	for i := 0; i < ed.Values().Len(); i++ {
		if v := ed.Values().Get(i); v.Number() < 0 {
			t.Errorf("%s: negative enum value", v.FullName())
		}
	}
}

// opensOf returns the signed open messages of one side of an RPC: the message itself for a
// unary side; for a streaming side, whose messages must be a oneof part of open (field 1),
// chunk (field 2) and optionally the open message of a second round (field 3, opening), the
// open messages.
func opensOf(t *testing.T, md protoreflect.MessageDescriptor, streaming bool) []protoreflect.MessageDescriptor {
	t.Helper()
	if !streaming {
		return []protoreflect.MessageDescriptor{md}
	}
	if md.Oneofs().Len() != 1 || md.Oneofs().Get(0).Name() != "part" {
		t.Errorf("%s: a stream message must be exactly one oneof named part", md.FullName())
		return nil
	}
	part := md.Fields()
	if md.Oneofs().Get(0).Fields().Len() != part.Len() || part.Len() < 2 || part.Len() > 3 {
		t.Errorf("%s: part must hold exactly open and chunk, and optionally opening", md.FullName())
		return nil
	}
	open, chunk := part.ByNumber(1), part.ByNumber(2)
	if open == nil || open.Name() != "open" || open.Message() == nil {
		t.Errorf("%s: field 1 must be the open message", md.FullName())
		return nil
	}
	if chunk == nil || chunk.Name() != "chunk" || chunk.Message() == nil ||
		chunk.Message().FullName() != "puente.v1.Chunk" {
		t.Errorf("%s: field 2 must be chunk of type puente.v1.Chunk", md.FullName())
	}
	opens := []protoreflect.MessageDescriptor{open.Message()}
	if part.Len() == 3 {
		second := part.ByNumber(3)
		if second == nil || second.Name() != "opening" || second.Message() == nil {
			t.Errorf("%s: field 3 must be the opening message of round 2", md.FullName())
			return nil
		}
		opens = append(opens, second.Message())
	}
	return opens
}

// checkEnvelope checks that an open message is exactly (header, payload, signature) and returns
// the payload's descriptor.
func checkEnvelope(t *testing.T, md protoreflect.MessageDescriptor, header protoreflect.FullName) protoreflect.MessageDescriptor {
	t.Helper()
	f := md.Fields()
	h, p, s := f.ByNumber(1), f.ByNumber(2), f.ByNumber(3)
	if f.Len() != 3 || h == nil || p == nil || s == nil {
		t.Errorf("%s: must be exactly fields 1 header, 2 payload, 3 signature", md.FullName())
		return nil
	}
	if h.Message() == nil || h.Message().FullName() != header {
		t.Errorf("%s: field 1 must be a %s", md.FullName(), header)
	}
	if s.Name() != "signature" || s.Kind() != protoreflect.BytesKind || s.IsList() {
		t.Errorf("%s: field 3 must be bytes signature", md.FullName())
	}
	if p.Message() == nil || p.IsList() {
		t.Errorf("%s: field 2 must be a payload message", md.FullName())
		return nil
	}
	return p.Message()
}

// carriesObjects reports whether md holds an HEObject descriptor, directly or in a list.
func carriesObjects(md protoreflect.MessageDescriptor) bool {
	for i := 0; i < md.Fields().Len(); i++ {
		if m := md.Fields().Get(i).Message(); m != nil && m.FullName() == "puente.v1.HEObject" {
			return true
		}
	}
	return false
}

// TestSignedMessagesHaveCanonicalEncoding checks every RPC of every service: each side's first
// message is a signed envelope, its header and payload use only kinds the CE defines, and a
// streaming side describes the objects its chunks carry while a unary side carries none.
func TestSignedMessagesHaveCanonicalEncoding(t *testing.T) {
	seen := map[protoreflect.FullName]bool{}
	methods := 0
	for _, fd := range files() {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				m := sd.Methods().Get(j)
				methods++
				sides := []struct {
					md        protoreflect.MessageDescriptor
					streaming bool
					header    protoreflect.FullName
				}{
					{m.Input(), m.IsStreamingClient(), "puente.v1.RequestHeader"},
					{m.Output(), m.IsStreamingServer(), "puente.v1.ResponseHeader"},
				}
				for _, side := range sides {
					for _, open := range opensOf(t, side.md, side.streaming) {
						payload := checkEnvelope(t, open, side.header)
						if payload == nil {
							continue
						}
						checkCE(t, payload, seen)
						if got := carriesObjects(payload); got != side.streaming {
							t.Errorf("%s: payload %s: streaming %v but carries HE objects %v",
								m.FullName(), payload.FullName(), side.streaming, got)
						}
					}
				}
			}
		}
	}
	if methods != 12 {
		t.Errorf("found %d methods, want 12 (10 ceremony, 2 match)", methods)
	}
	checkCE(t, File_puente_v1_envelope_proto.Messages().ByName("RequestHeader"), seen)
	checkCE(t, File_puente_v1_envelope_proto.Messages().ByName("ResponseHeader"), seen)
}
