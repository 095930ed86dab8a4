//go:build !linux

package main

// dieWithParent does nothing where the kernel has no parent-death signal.
func dieWithParent() {}
