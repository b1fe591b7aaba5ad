//go:build unix

package home

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLockHome: a second hold of a home's lock fails with ErrNodeRunning naming the holder, and
// Release lets the next one in.
func TestLockHome(t *testing.T) {
	cfg, err := ParseConfig([]byte(goodConfig), filepath.Join(t.TempDir(), "puente.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := LockHome(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockHome(cfg)
	if !errors.Is(err, ErrNodeRunning) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v, want ErrNodeRunning naming this process", err)
	}
	first.Release()
	first.Release() // a second Release does nothing
	second, err := LockHome(cfg)
	if err != nil {
		t.Fatalf("lock after Release: %v", err)
	}
	second.Release()
	var none *Lock
	none.Release()
}
