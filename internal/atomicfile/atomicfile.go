// Package atomicfile replaces whole files so that a crash at any point leaves either the old file
// or the new one, never a partial one: the data goes to a temporary file beside the target, which
// is flushed to disk and renamed over it, and then the directory is flushed so the rename itself
// survives a power loss.
//
// The key store writes its files with its own writer in package keys, since it also needs to
// create a file only if none exists (link(2) instead of rename); it shares SyncDir.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with the given permission bits, atomically as the package
// describes. On error the target is unchanged and no temporary file is left behind.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir flushes a directory's entries (files created, renamed or removed in it) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
