package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childProcAttr ties a child process to this one: the kernel kills it when
// this process dies, and it runs in its own process group.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ioBytes returns the bytes this process has read and written through
// read/write system calls (rchar and wchar of /proc/self/io): on a process
// whose only traffic is one socket, the bytes on that socket.
func ioBytes() (read, written int64, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, false
	}
	var gotR, gotW bool
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "rchar":
			read, gotR = n, true
		case "wchar":
			written, gotW = n, true
		}
	}
	return read, written, gotR && gotW
}
