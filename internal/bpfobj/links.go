package bpfobj

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Links holds the attachments of one object's programs. The zero value is
// empty and ready to use.
type Links []link.Link

// AttachRawTracepoint attaches prog to the raw tracepoint name (e.g.
// "sys_enter" or "sched_process_exec") and keeps the link.
func (l *Links) AttachRawTracepoint(name string, prog *ebpf.Program) error {
	lk, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: name, Program: prog})
	if err != nil {
		return fmt.Errorf("attach raw tracepoint %s: %w", name, err)
	}
	*l = append(*l, lk)
	return nil
}

// AttachCgroup attaches prog to the cgroup v2 directory at path as attach
// (e.g. [ebpf.AttachCGroupInet4Connect]) and keeps the link. Every cgroup
// below path inherits the program.
func (l *Links) AttachCgroup(path string, attach ebpf.AttachType, prog *ebpf.Program) error {
	lk, err := link.AttachCgroup(link.CgroupOptions{Path: path, Attach: attach, Program: prog})
	if err != nil {
		return fmt.Errorf("attach %s to cgroup %s: %w", attach, path, err)
	}
	*l = append(*l, lk)
	return nil
}

// Close detaches every program, in the order they were attached, and
// empties l. It returns the errors of the links that failed to close.
func (l *Links) Close() error {
	var errs []error
	for _, lk := range *l {
		errs = append(errs, lk.Close())
	}
	*l = nil
	return errors.Join(errs...)
}
