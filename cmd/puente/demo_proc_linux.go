package main

import "syscall"

// childProcAttr makes the demo's node processes receive SIGTERM if the demo dies without
// stopping them (killed, say), so that no node outlives it. Linux delivers the signal when the
// thread that started the child exits; Go ends a thread only when a goroutine locked to it
// (runtime.LockOSThread) exits, which nothing in puente does, so that is when the demo's
// process ends.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
