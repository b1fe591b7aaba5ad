package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNodeRunning: another process (a `puente serve`, or a command that opened the node itself)
// holds the node's home.
var ErrNodeRunning = errors.New("protocol: a node is already running on this home")

// Lock is the exclusive hold of one process on a node's home: the lock file run/node.lock
// beside the operator socket, locked for as long as the node is open and holding the process's
// ID. Every process that opens the node's files takes it first, so two never write them at once
// and the second is told a node runs there (rather than which file it found locked).
type Lock struct{ f *os.File }

// LockHome takes the home's lock for cfg or fails with [ErrNodeRunning] naming the process that
// holds it and its operator socket. A node takes it when it opens (protocol.Open), and so does a
// command that works on the node's files itself while no node runs ([OpenNodeHome]); Release
// lets others in again.
func LockHome(cfg *Config) (*Lock, error) {
	dir := filepath.Dir(cfg.Path(cfg.AdminSocket))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("protocol: %w", err)
	}
	path := filepath.Join(dir, "node.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("protocol: %w", err)
	}
	if err := flock(f); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := "another process"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			holder = "process " + strconv.Itoa(pid)
		}
		return nil, fmt.Errorf("%w: node %s in %s is held by %s (a puente serve, or a command using the node's files); commands reach a running node through its operator socket %s",
			ErrNodeRunning, cfg.Node, cfg.Dir, holder, cfg.Path(cfg.AdminSocket))
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release lets another process open the node. It may be called on a nil Lock and more than once.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
