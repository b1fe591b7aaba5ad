package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// envelope is the plaintext a store seals: the entry's data bound to its
// name, version and metadata, so that a sealed file moved to another name or
// version is detected on read.
//
// Encoding (all integers big-endian):
//
//	magic      "puente-key/v1\n"
//	name       u16 length, bytes
//	version    u32, the version the entry is written as
//	created    i64 Unix nanoseconds
//	algorithm  u8 length, bytes
//	custodians u8 count, then each: u8 length, bytes
//	data       u32 length, bytes
//
// and nothing after.
type envelope struct {
	name       string
	version    int
	created    time.Time
	algorithm  string
	custodians []string
	data       []byte
}

const envelopeMagic = "puente-key/v1\n"

// maxEntrySize bounds one entry's data (HE secret shares are a few MiB at
// the largest parameter sets).
const maxEntrySize = 64 << 20

func (e *envelope) marshal() ([]byte, error) {
	if len(e.name) > MaxNameLen || len(e.algorithm) > 255 || len(e.custodians) > 255 || len(e.data) > maxEntrySize || e.version < 0 || e.version > 1<<32-1 {
		return nil, errors.New("keys: entry metadata out of range")
	}
	n := len(envelopeMagic) + 2 + len(e.name) + 4 + 8 + 1 + len(e.algorithm) + 1 + 4 + len(e.data)
	for _, c := range e.custodians {
		if len(c) > 255 {
			return nil, errors.New("keys: custodian name longer than 255 bytes")
		}
		n += 1 + len(c)
	}
	b := make([]byte, 0, n)
	b = append(b, envelopeMagic...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.name)))
	b = append(b, e.name...)
	b = binary.BigEndian.AppendUint32(b, uint32(e.version))
	b = binary.BigEndian.AppendUint64(b, uint64(e.created.UnixNano()))
	b = append(b, byte(len(e.algorithm)))
	b = append(b, e.algorithm...)
	b = append(b, byte(len(e.custodians)))
	for _, c := range e.custodians {
		b = append(b, byte(len(c)))
		b = append(b, c...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.data)))
	b = append(b, e.data...)
	return b, nil
}

// unmarshalEnvelope decodes b. The returned data aliases b. Errors wrap
// ErrCorrupt and name the field that was wrong.
func unmarshalEnvelope(b []byte) (*envelope, error) {
	r := reader{b: b}
	if string(r.next(len(envelopeMagic))) != envelopeMagic {
		return nil, fmt.Errorf("%w: not a Puente key entry (bad magic)", ErrCorrupt)
	}
	e := &envelope{}
	e.name = string(r.next(int(r.u16())))
	e.version = int(r.u32())
	e.created = time.Unix(0, int64(r.u64())).UTC()
	e.algorithm = string(r.next(int(r.u8())))
	nc := int(r.u8())
	for i := 0; i < nc && r.err == nil; i++ {
		e.custodians = append(e.custodians, string(r.next(int(r.u8()))))
	}
	n := r.u32()
	if n > maxEntrySize {
		return nil, fmt.Errorf("%w: data length %d exceeds %d", ErrCorrupt, n, maxEntrySize)
	}
	e.data = r.next(int(n))
	if r.err != nil {
		return nil, fmt.Errorf("%w: truncated entry (%v)", ErrCorrupt, r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after entry", ErrCorrupt, len(r.b))
	}
	if !ValidName(e.name) {
		return nil, fmt.Errorf("%w: invalid key name in entry", ErrCorrupt)
	}
	return e, nil
}

// reader consumes a byte slice; after the first short read every call
// returns zero values and err is set.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = fmt.Errorf("need %d bytes, have %d", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() uint8 {
	if b := r.next(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.next(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.next(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.next(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}
