//go:build !linux

package main

import (
	"syscall"
	"time"
)

// childProcAttr: without Pdeathsig, a child outlives a parent that is
// killed; the parent still ends it by PID when it exits normally.
func childProcAttr() *syscall.SysProcAttr { return nil }

// cpuTime is not measured on this OS.
func cpuTime() time.Duration { return 0 }

// ioCounts is not measured on this OS.
func ioCounts() (c ioStats, ok bool) { return c, false }
