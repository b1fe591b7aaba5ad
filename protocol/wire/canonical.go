package wire

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Canonical returns the canonical encoding (CE) of m, as envelope.proto defines it: every field of
// the schema in ascending field-number order, set or not; fixed-width big-endian integers,
// u32-length-prefixed strings and bytes, an absent message encoded as the empty one, a repeated
// field as a u32 count and its elements. Unknown fields are not part of the CE, so a message
// whose sender knew a field this build does not fails its digest or signature check.
//
// Signed messages use only the kinds the CE defines (a test of proto/puente/v1 enforces it); any
// other kind is a programming error and panics.
func Canonical(m proto.Message) []byte {
	var out []byte
	if m != nil {
		out = appendCE(out, m.ProtoReflect())
	}
	return out
}

// Digest returns SHA-512 of the CE of m (FIPS 180-4).
func Digest(m proto.Message) []byte {
	sum := sha512.Sum512(Canonical(m))
	return sum[:]
}

func appendCE(out []byte, m protoreflect.Message) []byte {
	fields := m.Descriptor().Fields()
	nums := make([]protoreflect.FieldNumber, fields.Len())
	for i := range nums {
		nums[i] = fields.Get(i).Number()
	}
	slices.Sort(nums)
	for _, n := range nums {
		fd := fields.ByNumber(n)
		if fd.IsMap() || fd.ContainingOneof() != nil {
			panic(fmt.Sprintf("protocol: field %s has no canonical encoding", fd.FullName()))
		}
		if fd.IsList() {
			list := m.Get(fd).List()
			out = binary.BigEndian.AppendUint32(out, uint32(list.Len()))
			for i := 0; i < list.Len(); i++ {
				out = appendValue(out, fd, list.Get(i))
			}
			continue
		}
		out = appendValue(out, fd, m.Get(fd))
	}
	return out
}

func appendValue(out []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if v.Bool() {
			return append(out, 1)
		}
		return append(out, 0)
	case protoreflect.EnumKind:
		return binary.BigEndian.AppendUint32(out, uint32(v.Enum()))
	case protoreflect.Uint32Kind:
		return binary.BigEndian.AppendUint32(out, uint32(v.Uint()))
	case protoreflect.Int32Kind:
		return binary.BigEndian.AppendUint32(out, uint32(int32(v.Int())))
	case protoreflect.Uint64Kind:
		return binary.BigEndian.AppendUint64(out, v.Uint())
	case protoreflect.Int64Kind:
		return binary.BigEndian.AppendUint64(out, uint64(v.Int()))
	case protoreflect.StringKind:
		s := v.String()
		return append(binary.BigEndian.AppendUint32(out, uint32(len(s))), s...)
	case protoreflect.BytesKind:
		b := v.Bytes()
		return append(binary.BigEndian.AppendUint32(out, uint32(len(b))), b...)
	case protoreflect.MessageKind:
		return appendCE(out, v.Message())
	}
	panic(fmt.Sprintf("protocol: field %s of kind %v has no canonical encoding", fd.FullName(), fd.Kind()))
}

// HasUnknown reports whether m or any message inside it carries fields this build does not
// know. The CE leaves them out, so a signature would not cover them: signed messages with
// unknown fields are refused rather than silently trimmed.
func HasUnknown(m protoreflect.Message) bool {
	if !m.IsValid() {
		return false
	}
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = HasUnknown(l.Get(i).Message())
			}
		} else {
			found = HasUnknown(v.Message())
		}
		return !found
	})
	return found
}
