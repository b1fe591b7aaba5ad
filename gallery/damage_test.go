package gallery

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestShortenedLeafRefused (from a hostile review; it holds): bbolt has no page checksums, so
// a leaf page whose element count is lowered (one bit-flip in its header) hides its last element
// from every read, and bbolt's own page check does not notice. For every leaf page of a
// 300-subject gallery, in turn, the count is lowered by one: opening (with the structure check a
// node runs) must refuse, or every subject must still be there. A store that opens, passes the
// check and lists fewer subjects would have dropped an entry silently.
func TestShortenedLeafRefused(t *testing.T) {
	const n = 300
	orig, err := os.ReadFile(seededGallery(t, n))
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	dir := t.TempDir()
	tried, refused, silent := 0, 0, 0
	for off := 2 * ps; off+ps <= len(orig); off += ps {
		flags := binary.LittleEndian.Uint16(orig[off+8:])
		count := binary.LittleEndian.Uint16(orig[off+10:])
		if flags&0x02 == 0 || count < 2 {
			continue
		}
		tried++
		b := append([]byte(nil), orig...)
		binary.LittleEndian.PutUint16(b[off+10:], count-1)
		path := filepath.Join(dir, fmt.Sprintf("leaf-%d.db", off/ps))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, testKey(t, 0xD1), nil)
		if err == nil {
			err = s.CheckStructure()
		}
		if err != nil {
			refused++
			if s != nil {
				s.Close()
			}
			continue
		}
		snap, err := s.Snapshot()
		got := -1
		if err == nil {
			got = snap.Count()
		}
		s.Close()
		if got != n {
			silent++
			t.Errorf("leaf page %d shortened by one element: opened, structure check passed, %d subjects (want %d), snapshot error %v", off/ps, got, n, err)
		}
	}
	t.Logf("leaf pages damaged: %d; refused: %d; silently short: %d", tried, refused, silent)
	if tried == 0 {
		t.Fatal("no leaf page found")
	}
}
