// Package bolttest damages bbolt files the way the stores' tests need: it reads bbolt's page
// layout directly, which its API does not expose. Only tests import it.
package bolttest

import (
	"encoding/binary"
	"fmt"
	"os"
)

// bbolt's pages (go.etcd.io/bbolt, internal/common/page.go): id (8 bytes), flags (2; 0x01 a
// branch page), count (2), overflow (4), then count elements of 16 bytes (pos, ksize, pgid) on
// a branch page. Pages 0 and 1 are the meta pages.
const (
	pageSize   = 4096
	branchFlag = 0x01
)

// MakeCycles rewrites the bbolt file at path so that every child of each branch page is the
// page itself: any lookup or cursor that reaches such a page descends forever. It returns the
// number of pages damaged, and an error if the file has none or cannot be rewritten.
func MakeCycles(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	damaged := 0
	for off := 2 * pageSize; off+pageSize <= len(b); off += pageSize {
		if binary.LittleEndian.Uint16(b[off+8:]) != branchFlag {
			continue
		}
		id, n := binary.LittleEndian.Uint64(b[off:]), int(binary.LittleEndian.Uint16(b[off+10:]))
		for e := range n {
			binary.LittleEndian.PutUint64(b[off+16+16*e+8:], id)
		}
		damaged++
	}
	if damaged == 0 {
		return 0, fmt.Errorf("bolttest: %s has no branch page", path)
	}
	return damaged, os.WriteFile(path, b, 0o600)
}
