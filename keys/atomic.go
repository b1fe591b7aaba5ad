package keys

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/puente-id/puente/internal/atomicfile"
)

// tmpPrefix starts the name of a file being written. Key name segments
// cannot start with '.', so a temporary file is never mistaken for an entry.
const tmpPrefix = ".tmp-"

// writeFileAtomic writes data to path so that a crash at any point leaves
// either no file or the complete file, never a partial one:
//
//  1. write a temporary file in the same directory (mode 0600), fsync it;
//  2. put it in place: link(2) when overwrite is false, so an existing file
//     is never replaced (the kernel refuses with EEXIST, which is what makes
//     check-and-set safe across processes), or rename(2) when it is true;
//  3. fsync the directory, so the new name itself survives a power loss.
//
// A crash between 1 and 2 leaves a ".tmp-*" file that readers ignore.
// midWrite, nil outside tests, runs after the first half of the data has been
// written to the temporary file (the crash tests stop there).
func writeFileAtomic(path string, data []byte, overwrite bool, midWrite func(tmp string)) (err error) {
	dir := filepath.Dir(path)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil || !overwrite {
			os.Remove(tmp)
		}
	}()
	half := len(data) / 2
	if _, err = f.Write(data[:half]); err != nil {
		return err
	}
	if midWrite != nil {
		midWrite(tmp)
	}
	if _, err = f.Write(data[half:]); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		f = nil
		return err
	}
	f = nil
	if overwrite {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// isExist reports whether err says the target file already exists.
func isExist(err error) bool { return errors.Is(err, os.ErrExist) }
