package scan

import (
	"context"
	"fmt"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/sbom"
)

// HostSkipDirs are added to DefaultSkipDirs for a host scan: the stores of
// container engines hold image layers and container file systems, which
// are not the host's software and are scanned as images or containers.
var HostSkipDirs = []string{"var/lib/docker", "var/lib/containers", "var/lib/containerd", "run"}

// Host inventories the machine Vigil runs on ("/").
func Host(ctx context.Context, opts Options) (*sbom.Inventory, error) {
	if opts.SkipDirs == nil {
		opts.SkipDirs = append(append([]string{}, DefaultSkipDirs...), HostSkipDirs...)
	}
	inv, err := Scan(ctx, "/", opts)
	if err != nil {
		return nil, err
	}
	inv.Target = sbom.Target{Kind: sbom.TargetHost, Name: "/"}
	return inv, nil
}

// Process inventories the root file system a running process sees,
// through /proc/<pid>/root: for a container's first process, the
// container's merged file system, whatever the storage driver.
func Process(ctx context.Context, pid int, opts Options) (*sbom.Inventory, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("no process %d", pid)
	}
	return Scan(ctx, hostfs.ProcPID(pid)+"/root", opts)
}

// Container inventories a running container through its first process's
// root, found by asking its runtime.
func Container(ctx context.Context, src container.Source, id string, opts Options) (*sbom.Inventory, error) {
	info, err := src.Inspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", id, err)
	}
	if info.PID == 0 {
		return nil, fmt.Errorf("container %s is not running", id)
	}
	inv, err := Process(ctx, int(info.PID), opts)
	if err != nil {
		return nil, err
	}
	inv.Target = sbom.Target{Kind: sbom.TargetContainer, Name: id, ID: info.ID}
	return inv, nil
}
