package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"

	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/atomicfile"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// A partition is what a shard holds for one agreement, ready to count.
type partition struct {
	id      *pb.PartitionID
	ps      *he.ParamSet
	eval    *he.ShardEvaluator
	g       *he.Gallery // nil when the partition has no entry
	entries int
}

// A partition file is
//
//	"PUENTE-SHARD-1\n" | u32 header length | InstallHeader | evaluation keys | entries
//
// written to a temporary file and renamed over the old one (internal/atomicfile).
const fileMagic = "PUENTE-SHARD-1\n"

var agreementName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func partitionPath(dir, agreement string) (string, error) {
	if !agreementName.MatchString(agreement) {
		return "", fmt.Errorf("shard: agreement name %q not allowed", agreement)
	}
	return filepath.Join(dir, agreement+".partition"), nil
}

func writePartition(path string, h *pb.InstallHeader, keys, entries []byte) error {
	hb, err := proto.Marshal(h)
	if err != nil {
		return err
	}
	b := make([]byte, 0, len(fileMagic)+4+len(hb)+len(keys)+len(entries))
	b = append(b, fileMagic...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(hb)))
	b = append(b, hb...)
	b = append(b, keys...)
	b = append(b, entries...)
	return atomicfile.WriteFile(path, b, 0o600)
}

func readPartition(path string) (*pb.InstallHeader, []byte, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if !bytes.HasPrefix(b, []byte(fileMagic)) || len(b) < len(fileMagic)+4 {
		return nil, nil, nil, fmt.Errorf("shard: %s: not a partition file", path)
	}
	b = b[len(fileMagic):]
	n := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n > len(b) {
		return nil, nil, nil, fmt.Errorf("shard: %s: truncated header", path)
	}
	h := &pb.InstallHeader{}
	if err := proto.Unmarshal(b[:n], h); err != nil {
		return nil, nil, nil, fmt.Errorf("shard: %s: header: %w", path, err)
	}
	b = b[n:]
	if h.KeysSize > uint64(len(b)) {
		return nil, nil, nil, fmt.Errorf("shard: %s: truncated keys", path)
	}
	return h, b[:h.KeysSize], b[h.KeysSize:], nil
}

// EncodeEntries encodes entries of dimension dims as an Install stream carries them.
func EncodeEntries(entries []Entry, dims int) ([]byte, error) {
	var b []byte
	for _, e := range entries {
		if len(e.Ref) == 0 || len(e.Ref) > math.MaxUint16 {
			return nil, fmt.Errorf("shard: reference of %d bytes", len(e.Ref))
		}
		if e.Template != nil && len(e.Template) != dims {
			return nil, fmt.Errorf("shard: entry %q has %d coordinates, want %d", e.Ref, len(e.Template), dims)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Ref)))
		b = append(b, e.Ref...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Template)))
		for _, v := range e.Template {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b, nil
}

var errEntries = errors.New("shard: malformed entries")

// minEntrySize is the smallest encoded entry: a 2-byte length, a 1-byte reference and a 2-byte
// dimension (a removed entry has no template).
const minEntrySize = 5

// DecodeEntries decodes n entries of dimension dims; every byte must be used.
func DecodeEntries(b []byte, n uint64, dims int) ([]Entry, error) {
	if n > uint64(len(b))/minEntrySize {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", errEntries, n, len(b))
	}
	out := make([]Entry, 0, min(n, 1<<16)) // grown as entries decode, not trusted from n
	for i := uint64(0); i < n; i++ {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: entry %d truncated", errEntries, i)
		}
		l := int(binary.BigEndian.Uint16(b))
		if l == 0 || len(b) < 2+l+2 {
			return nil, fmt.Errorf("%w: entry %d truncated", errEntries, i)
		}
		e := Entry{Ref: string(b[2 : 2+l])}
		b = b[2+l:]
		d := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if d != 0 && d != dims {
			return nil, fmt.Errorf("%w: entry %d has %d coordinates, want %d", errEntries, i, d, dims)
		}
		if len(b) < 8*d {
			return nil, fmt.Errorf("%w: entry %d truncated", errEntries, i)
		}
		if d > 0 {
			e.Template = make([]float64, d)
			for k := range e.Template {
				e.Template[k] = math.Float64frombits(binary.BigEndian.Uint64(b[8*k:]))
			}
		}
		b = b[8*d:]
		out = append(out, e)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last entry", errEntries, len(b))
	}
	return out, nil
}

// build checks and packs a partition from its header, keys and entries. The entries must
// belong to the partition (Owner(ref, count) == index).
func build(lookup func(string) (*he.ParamSet, error), h *pb.InstallHeader, keys, entries []byte, budget int64, workers int) (*partition, error) {
	id := h.GetPartition()
	switch {
	case id == nil:
		return nil, fmt.Errorf("shard: install without a partition")
	case !agreementName.MatchString(id.Agreement):
		return nil, fmt.Errorf("shard: agreement name %q not allowed", id.Agreement)
	case id.Count < 1 || id.Count > maxShards || id.Index >= id.Count:
		return nil, fmt.Errorf("shard: shard %d of %d", id.Index, id.Count)
	case h.Dims < 1 || h.Dims > math.MaxUint16:
		return nil, fmt.Errorf("shard: dims %d", h.Dims)
	}
	ps, err := lookup(h.ParamSet)
	if err != nil {
		return nil, err
	}
	ek, err := he.ReadEvaluationKeys(ps, keys)
	if err != nil {
		return nil, err
	}
	ksid := ek.KeySetID()
	if !bytes.Equal(ksid[:], id.KeySetId) {
		return nil, fmt.Errorf("shard: the evaluation keys are of another key set than the partition names")
	}
	es, err := DecodeEntries(entries, h.Entries, int(h.Dims))
	if err != nil {
		return nil, err
	}
	// The generation names the content (Generation): a partition whose entries are not the ones
	// its ID names would pass every check of the node's (Holds, Count's ID) and answer for
	// another gallery.
	if g := Generation(id.Epoch, int(h.Dims), es); g != id.Generation {
		return nil, fmt.Errorf("shard: the entries are not the partition's generation %d (theirs is %d)", id.Generation, g)
	}
	ts := make([][]float64, len(es))
	for i, e := range es {
		if Owner(e.Ref, int(id.Count)) != int(id.Index) {
			return nil, fmt.Errorf("shard: entry %q belongs to shard %d of %d, not %d", e.Ref, Owner(e.Ref, int(id.Count)), id.Count, id.Index)
		}
		ts[i] = e.Template
	}
	p := &partition{id: proto.Clone(id).(*pb.PartitionID), ps: ps, entries: len(es)}
	if p.eval, err = he.NewShardEvaluator(ek); err != nil {
		return nil, err
	}
	if len(ts) > 0 {
		if p.g, err = he.Pack(ps, int(h.Dims), ts, he.PackOptions{MemoryBudget: budget, Workers: workers}); err != nil {
			return nil, err
		}
	}
	for _, t := range ts {
		clear(t)
	}
	return p, nil
}
