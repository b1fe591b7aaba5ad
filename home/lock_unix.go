//go:build unix

package home

import (
	"os"
	"syscall"
)

// flock takes an exclusive, non-blocking lock on f, released when f is closed.
func flock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }
