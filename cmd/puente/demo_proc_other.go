//go:build !linux

package main

import "syscall"

// childProcAttr: elsewhere than on Linux the demo stops its node processes itself, on every
// way out but being killed.
func childProcAttr() *syscall.SysProcAttr { return nil }
