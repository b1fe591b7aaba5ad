package gallery

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's file layout (go.etcd.io/bbolt, internal/common): pages 0 and 1 each hold a 16-byte page
// header and then a meta record in the machine's byte order: magic u32, version u32, page size
// u32, flags u32, root bucket (2 x u64), freelist page u64, page high-water mark u64, txid u64,
// FNV-64a checksum of the preceding 56 bytes.
const (
	boltMagic      = 0xED0CDAED
	boltPageHeader = 16
	boltMetaLen    = 64
)

// checkFileSize refuses a bbolt file shorter than its valid meta page says it is: a truncated
// file would otherwise make the storage engine read past the end of its memory map. Files whose
// meta pages are both invalid are left to bbolt, which reports them.
func checkFileSize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("gallery: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("gallery: open %s: %w", path, err)
	}
	var best struct{ txid, need uint64 }
	found := false
	offset := int64(0)
	for range 2 {
		meta := make([]byte, boltMetaLen)
		if _, err := f.ReadAt(meta, offset+boltPageHeader); err != nil && err != io.EOF {
			return fmt.Errorf("gallery: open %s: %w", path, err)
		}
		ne := binary.NativeEndian
		h := fnv.New64a()
		h.Write(meta[:56])
		if ne.Uint32(meta[0:]) == boltMagic && ne.Uint64(meta[56:]) == h.Sum64() {
			pageSize, txid := uint64(ne.Uint32(meta[8:])), ne.Uint64(meta[48:])
			if !found || txid > best.txid {
				best.txid, best.need, found = txid, ne.Uint64(meta[40:])*pageSize, true
			}
			offset = int64(pageSize) // the second meta page follows the first
		} else if offset == 0 {
			offset = 4096 // page 0 is damaged: look for page 1 at the usual page size
		}
	}
	if found && uint64(info.Size()) < best.need {
		return fmt.Errorf("gallery: open %s: %w: file is %d bytes, its database needs %d (truncated?)",
			path, ErrCorrupt, info.Size(), best.need)
	}
	return nil
}
