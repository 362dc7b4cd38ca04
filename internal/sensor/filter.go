package sensor

import (
	"fmt"
	"sort"
	"sync"

	"github.com/cilium/ebpf"

	"github.com/vigilsec/vigil/internal/syscalls"
)

// filter owns the kernel's syscall filter map: syscall number -> handler.
type filter struct {
	mu      sync.Mutex
	m       *ebpf.Map
	current map[int32]string
}

// set installs exactly the named syscalls. New entries are written before
// old ones are cleared, so a syscall wanted by both sets is never missed.
func (f *filter) set(names []string) error {
	want := make(map[int32]uint32, len(names))
	wantNames := make(map[int32]string, len(names))
	for _, name := range names {
		h := syscalls.HandlerFor(name)
		nr, ok := syscalls.Number(name)
		if h == syscalls.None || !ok {
			return fmt.Errorf("syscall %q cannot be captured (supported: %v)", name, syscalls.Supported())
		}
		want[nr] = syscalls.FilterValue(name)
		wantNames[nr] = name
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for nr, h := range want {
		if err := f.m.Put(uint32(nr), h); err != nil {
			return fmt.Errorf("enable syscall %s: %w", wantNames[nr], err)
		}
	}
	for nr := range f.current {
		if _, keep := want[nr]; !keep {
			if err := f.m.Put(uint32(nr), uint32(syscalls.None)); err != nil {
				return fmt.Errorf("disable syscall %s: %w", f.current[nr], err)
			}
		}
	}
	f.current = wantNames
	return nil
}

func (f *filter) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.current))
	for _, n := range f.current {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
