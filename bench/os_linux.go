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

// ioCounts returns this process's read/write system call counters from
// /proc/self/io: bytes read and written (rchar, wchar) and calls made
// (syscr, syscw). On a process whose only traffic is one socket, they are
// that socket's.
func ioCounts() (c ioStats, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return c, false
	}
	found := 0
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "rchar":
			c.readBytes = n
		case "wchar":
			c.writeBytes = n
		case "syscr":
			c.reads = n
		case "syscw":
			c.writes = n
		default:
			continue
		}
		found++
	}
	return c, found == 4
}
