//go:build !linux

package main

import "syscall"

// childAttr returns nil: only Linux can kill a child when its parent dies,
// so elsewhere the parent's deferred stop is all that ends the silos.
func childAttr() *syscall.SysProcAttr { return nil }
