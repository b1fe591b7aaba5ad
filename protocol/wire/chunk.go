package wire

import (
	"context"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	pb "github.com/puente-id/puente/proto/puente/v1"
)

// Chunking of HE objects (envelope.proto): the signed payload lists each object's kind, parameter
// set, size and SHA-512; the bytes follow in Chunk messages, object 0 first, in order.
const (
	SendChunkSize = 1 << 20 // what this node sends
	MaxChunkSize  = 2 << 20 // what it accepts
)

// Describe returns the signed descriptor of an object.
func Describe(kind pb.HEObjectKind, paramSet string, b []byte) *pb.HEObject {
	sum := sha512.Sum512(b)
	return &pb.HEObject{Kind: kind, ParamSet: paramSet, Size: uint64(len(b)), Sha512: sum[:]}
}

// SendObjects sends the objects' bytes as chunks through send.
func SendObjects(send func(*pb.Chunk) error, objects ...[]byte) (int64, error) {
	var n int64
	for i, b := range objects {
		for off := 0; off < len(b); off += SendChunkSize {
			end := min(off+SendChunkSize, len(b))
			if err := send(&pb.Chunk{ObjectIndex: uint32(i), Offset: uint64(off), Data: b[off:end]}); err != nil {
				return n, err
			}
			n += int64(end - off)
		}
	}
	return n, nil
}

// ObjectRule is what a receiver accepts for one object: its kind, parameter set and the largest
// size it may declare.
type ObjectRule struct {
	Kind     pb.HEObjectKind
	ParamSet string
	Limit    int64
}

// CheckDescriptors checks the signed descriptors against the rules, before any chunk is read.
func CheckDescriptors(descs []*pb.HEObject, rules []ObjectRule) error {
	if len(descs) != len(rules) {
		return fmt.Errorf("%d HE objects, want %d", len(descs), len(rules))
	}
	for i, d := range descs {
		r := rules[i]
		switch {
		case d == nil:
			return fmt.Errorf("HE object %d: no descriptor", i)
		case d.Kind != r.Kind:
			return fmt.Errorf("HE object %d: kind %v, want %v", i, d.Kind, r.Kind)
		case d.ParamSet != r.ParamSet:
			return fmt.Errorf("HE object %d: parameter set %q, want %q", i, d.ParamSet, r.ParamSet)
		case d.Size == 0 || d.Size > uint64(r.Limit):
			return fmt.Errorf("HE object %d (%v): declared size %d outside [1, %d]", i, d.Kind, d.Size, r.Limit)
		case len(d.Sha512) != sha512.Size:
			return fmt.Errorf("HE object %d: sha512 is %d bytes", i, len(d.Sha512))
		}
	}
	return nil
}

// ErrTooMuch is returned when data arrives after the last declared byte.
var ErrTooMuch = errors.New("data after the last HE object")

// ReceiveObjects reads the chunks of objects whose descriptors checkDescriptors accepted, with
// next returning the next chunk (io.EOF when the peer has finished). Every chunk must continue
// the current object exactly; after the last byte it checks the size and the SHA-512 of each
// object (in constant time) and, if wantEOF, that the stream ends. Buffers grow with the data
// received, never beyond the declared sizes.
func ReceiveObjects(ctx context.Context, next func() (*pb.Chunk, error), descs []*pb.HEObject, wantEOF bool) ([][]byte, error) {
	out := make([][]byte, len(descs))
	for i, d := range descs {
		out[i] = make([]byte, 0, min(d.Size, 4*SendChunkSize))
		for uint64(len(out[i])) < d.Size {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			c, err := next()
			if err == io.EOF {
				return nil, fmt.Errorf("HE object %d truncated: %d of %d bytes", i, len(out[i]), d.Size)
			}
			if err != nil {
				return nil, err
			}
			if c == nil {
				return nil, fmt.Errorf("HE object %d: expected a chunk", i)
			}
			switch {
			case c.ObjectIndex != uint32(i) || c.Offset != uint64(len(out[i])):
				return nil, fmt.Errorf("chunk for object %d offset %d out of order (at object %d offset %d)", c.ObjectIndex, c.Offset, i, len(out[i]))
			case len(c.Data) == 0 || len(c.Data) > MaxChunkSize:
				return nil, fmt.Errorf("chunk of %d bytes outside [1, %d]", len(c.Data), MaxChunkSize)
			case uint64(len(out[i]))+uint64(len(c.Data)) > d.Size:
				return nil, fmt.Errorf("HE object %d: chunk runs past the declared size %d", i, d.Size)
			}
			out[i] = append(out[i], c.Data...)
		}
		sum := sha512.Sum512(out[i])
		if subtle.ConstantTimeCompare(sum[:], d.Sha512) != 1 {
			return nil, fmt.Errorf("HE object %d: SHA-512 does not match the signed descriptor", i)
		}
	}
	if wantEOF {
		c, err := next()
		switch {
		case err == io.EOF:
		case err != nil:
			return nil, err
		default:
			_ = c
			return nil, ErrTooMuch
		}
	}
	return out, nil
}
