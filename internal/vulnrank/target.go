package vulnrank

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/hostfs"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/vulndb"
)

// Target is one thing to rank: what is installed in it and, when it runs,
// what its processes do.
type Target struct {
	Inventory *sbom.Inventory
	// Facts are the runtime facts of its processes; nil when it does not
	// run (a root file system or an image).
	Facts *Facts
	// Root is where the processes' root file system is readable from here
	// ("/" for the host, /proc/<pid>/root for a container).
	Root string
}

// Rank matches the target's packages against db and ranks the findings by
// what runs, highest score first.
func (t *Target) Rank(ctx context.Context, db Matcher) ([]Ranked, []vulndb.Unevaluated, error) {
	findings, unevaluated, err := db.Match(ctx, Queries(t.Inventory))
	if err != nil {
		return nil, nil, err
	}
	return Rank(t.Inventory, findings, t.Facts, t.Root), unevaluated, nil
}

// ErrNotRunning is returned for a container that exists but has no
// process: there is nothing running to rank by.
var ErrNotRunning = errors.New("container is not running")

// ContainerTarget returns the running container info describes as a
// Target: its inventory, read through its first process's root, and the
// facts of every process in it. inv, when not nil, is an inventory taken
// on an earlier pass and is reused instead of scanning again (inventories
// change only with the image, processes all the time). A container without
// a process gives ErrNotRunning.
func ContainerTarget(ctx context.Context, info *container.Info, opts scan.Options, inv *sbom.Inventory) (*Target, error) {
	if info.PID == 0 {
		return nil, fmt.Errorf("container %s: %w", info.ID, ErrNotRunning)
	}
	pid := int(info.PID)
	if inv == nil {
		var err error
		if inv, err = scan.Process(ctx, pid, opts); err != nil {
			return nil, err
		}
		inv.Target = sbom.Target{Kind: sbom.TargetContainer, Name: info.Name, ID: info.ID}
	}
	cf := ContainerFacts{ID: info.ID, Name: info.Name, Privileged: info.Privileged, CapAdd: info.CapAdd}
	facts, err := CollectProc(ctx, ProcOptions{RootPID: pid, Container: &cf})
	if err != nil {
		return nil, err
	}
	return &Target{Inventory: inv, Facts: facts, Root: hostfs.ProcPID(pid) + "/root"}, nil
}
