// Package syscalls maps syscall names to numbers for the architecture Vigil
// was built for, and names the kernel-side handler that captures each
// syscall Vigil understands.
package syscalls

import "sort"

// Handler selects the eBPF code path that decodes a syscall at its exit. The
// values match H_* in bpf/vigil.h.
type Handler uint32

// Handlers.
const (
	None     Handler = 0
	Open     Handler = 1
	OpenAt   Handler = 2
	OpenAt2  Handler = 3
	Creat    Handler = 4
	Connect  Handler = 5
	Accept   Handler = 6
	Bind     Handler = 7
	Listen   Handler = 8
	Execve   Handler = 9
	ExecveAt Handler = 10
)

// handlers lists the syscalls with a kernel-side decoder, by name.
var handlers = map[string]Handler{
	"open":     Open,
	"openat":   OpenAt,
	"openat2":  OpenAt2,
	"creat":    Creat,
	"connect":  Connect,
	"accept":   Accept,
	"accept4":  Accept,
	"bind":     Bind,
	"listen":   Listen,
	"execve":   Execve,
	"execveat": ExecveAt,
}

var byName = func() map[string]int32 {
	m := make(map[string]int32, len(amd64Names))
	for nr, name := range amd64Names {
		m[name] = nr
	}
	return m
}()

// Name returns the name of syscall nr, or "" when it is unknown.
func Name(nr int32) string { return amd64Names[nr] }

// Number returns the number of the named syscall.
func Number(name string) (int32, bool) {
	nr, ok := byName[name]
	return nr, ok
}

// HandlerFor returns the kernel-side handler for a syscall name, or None
// when Vigil does not capture that syscall.
func HandlerFor(name string) Handler { return handlers[name] }

// Supported returns the names of every syscall Vigil can capture, sorted.
func Supported() []string {
	names := make([]string, 0, len(handlers))
	for name := range handlers {
		if _, ok := byName[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
