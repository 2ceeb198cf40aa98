package main

import "syscall"

// childAttr ties a child process to this one: the kernel kills it when
// this process dies, however it dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
