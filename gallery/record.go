package gallery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Limits on what the store accepts and decodes.
const (
	// MaxRefLen is the longest subject reference, in bytes.
	MaxRefLen = 128
	// MaxSchemeLen is the longest protect scheme/parameters ID, in bytes.
	MaxSchemeLen = 128
	// MaxDim is the largest template or raw-feature dimension.
	MaxDim = 1 << 16
)

// Record is one enrolled subject as stored for the current epoch.
type Record struct {
	// Ref is the subject reference: an opaque ID chosen by the agency (1 to MaxRefLen bytes of
	// UTF-8). It never leaves the node.
	Ref string
	// Template is the protected template (Dim values, finite).
	Template []float64
	// Scheme names the protect scheme and its parameters that made Template.
	Scheme string
	// Epoch is the transform epoch Template was protected under.
	Epoch uint64
	// EnrolledAt is when the subject was first enrolled (kept across re-protection).
	EnrolledAt time.Time
}

// archived is one raw-feature vector of the enrolment archive.
type archived struct {
	ref        string
	raw        []float32
	enrolledAt time.Time
}

// Record and archive encodings (inside the AEAD), all integers big-endian:
//
//	record:  0x01 | u16 len | ref | u16 len | scheme | u64 epoch | i64 enrolled (Unix ns) |
//	         u32 dim | dim x float64 (IEEE 754 bits)
//	archive: 0x02 | u16 len | ref | i64 enrolled (Unix ns) | u32 dim | dim x float32 (IEEE 754 bits)
const (
	tagRecord  = 0x01
	tagArchive = 0x02
)

// errDecode is wrapped by every decoding error; callers see it inside ErrCorrupt.
var errDecode = errors.New("bad encoding")

// encodeRecord encodes a validated record.
func encodeRecord(r *Record) []byte {
	out := make([]byte, 0, 1+2+len(r.Ref)+2+len(r.Scheme)+8+8+4+8*len(r.Template))
	out = append(out, tagRecord)
	out = appendString(out, r.Ref)
	out = appendString(out, r.Scheme)
	out = binary.BigEndian.AppendUint64(out, r.Epoch)
	out = binary.BigEndian.AppendUint64(out, uint64(r.EnrolledAt.UnixNano()))
	out = binary.BigEndian.AppendUint32(out, uint32(len(r.Template)))
	for _, v := range r.Template {
		out = binary.BigEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

// decodeRecord decodes and checks a record: every field in range, every value finite, nothing
// left over. It never panics.
func decodeRecord(b []byte) (*Record, error) {
	d := decoder{b: b}
	if tag := d.byte("tag"); d.err == nil && tag != tagRecord {
		return nil, fmt.Errorf("%w: tag %#x is not a record", errDecode, tag)
	}
	r := &Record{Ref: d.string("ref", MaxRefLen), Scheme: d.string("scheme", MaxSchemeLen)}
	r.Epoch = d.u64("epoch")
	r.EnrolledAt = time.Unix(0, int64(d.u64("enrolled"))).UTC()
	n := d.dim("template dim", 8)
	if d.err == nil {
		r.Template = make([]float64, n)
		for i := range r.Template {
			r.Template[i] = math.Float64frombits(d.u64("template"))
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkRef(r.Ref); err != nil {
		return nil, fmt.Errorf("%w: %v", errDecode, err)
	}
	if i, ok := firstNonFinite64(r.Template); !ok {
		return nil, fmt.Errorf("%w: template value %d is not finite", errDecode, i)
	}
	return r, nil
}

// encodeArchived encodes a validated archive entry.
func encodeArchived(a *archived) []byte {
	out := make([]byte, 0, 1+2+len(a.ref)+8+4+4*len(a.raw))
	out = append(out, tagArchive)
	out = appendString(out, a.ref)
	out = binary.BigEndian.AppendUint64(out, uint64(a.enrolledAt.UnixNano()))
	out = binary.BigEndian.AppendUint32(out, uint32(len(a.raw)))
	for _, v := range a.raw {
		out = binary.BigEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// decodeArchived decodes and checks an archive entry. It never panics.
func decodeArchived(b []byte) (*archived, error) {
	d := decoder{b: b}
	if tag := d.byte("tag"); d.err == nil && tag != tagArchive {
		return nil, fmt.Errorf("%w: tag %#x is not an archive entry", errDecode, tag)
	}
	a := &archived{ref: d.string("ref", MaxRefLen)}
	a.enrolledAt = time.Unix(0, int64(d.u64("enrolled"))).UTC()
	n := d.dim("raw dim", 4)
	if d.err == nil {
		a.raw = make([]float32, n)
		for i := range a.raw {
			a.raw[i] = math.Float32frombits(d.u32("raw"))
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkRef(a.ref); err != nil {
		return nil, fmt.Errorf("%w: %v", errDecode, err)
	}
	if i, ok := firstNonFinite32(a.raw); !ok {
		return nil, fmt.Errorf("%w: raw value %d is not finite", errDecode, i)
	}
	return a, nil
}

func appendString(out []byte, s string) []byte {
	out = binary.BigEndian.AppendUint16(out, uint16(len(s)))
	return append(out, s...)
}

// decoder reads big-endian fields and remembers the first error, which names the field.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = fmt.Errorf("%w: %s: need %d bytes, have %d", errDecode, field, n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte(field string) byte {
	if v := d.take(field, 1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if v := d.take(field, 4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if v := d.take(field, 8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// string reads a u16-length-prefixed string of at most max bytes.
func (d *decoder) string(field string, max int) string {
	v := d.take(field, 2)
	if v == nil {
		return ""
	}
	n := int(binary.BigEndian.Uint16(v))
	if n > max {
		d.err = fmt.Errorf("%w: %s is %d bytes, limit %d", errDecode, field, n, max)
		return ""
	}
	return string(d.take(field, n))
}

// dim reads a u32 dimension in 1..MaxDim and checks that its elements of size width are there.
func (d *decoder) dim(field string, width int) int {
	n := int(d.u32(field))
	if d.err != nil {
		return 0
	}
	if n < 1 || n > MaxDim {
		d.err = fmt.Errorf("%w: %s %d outside 1..%d", errDecode, field, n, MaxDim)
		return 0
	}
	if n*width != len(d.b) {
		d.err = fmt.Errorf("%w: %s %d needs %d bytes, have %d", errDecode, field, n, n*width, len(d.b))
	}
	return n
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errDecode, len(d.b))
	}
	return d.err
}

// checkRef checks a subject reference: 1 to MaxRefLen bytes of valid UTF-8.
func checkRef(ref string) error {
	switch {
	case ref == "":
		return errors.New("subject reference is empty")
	case len(ref) > MaxRefLen:
		return fmt.Errorf("subject reference is %d bytes, limit %d", len(ref), MaxRefLen)
	case !utf8.ValidString(ref):
		return errors.New("subject reference is not valid UTF-8")
	}
	return nil
}

func firstNonFinite64(v []float64) (int, bool) {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i, false
		}
	}
	return 0, true
}

func firstNonFinite32(v []float32) (int, bool) {
	for i, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return i, false
		}
	}
	return 0, true
}
