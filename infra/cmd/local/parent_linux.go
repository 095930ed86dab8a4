package main

import (
	"os"
	"syscall"
)

// dieWithParent has the kernel send SIGTERM when the parent (make) dies,
// even by SIGKILL, so that the API never outlives make run.
func dieWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() == 1 { // the parent died before the call
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}
