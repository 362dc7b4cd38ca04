package detect

import (
	"sort"
	"strings"

	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// lifecycleTypes come from scheduler hooks, which are always attached:
// they need nothing from the syscall filter.
var lifecycleTypes = map[string]bool{"procfork": true, "procexit": true}

// Syscalls returns the syscalls the enabled rules of p need captured, for
// the sensor's filter (with the fd-changing calls when a rule reads the fd
// table; see needsFDTable), with warnings for rules that need every syscall
// (they do not restrict evt.type) and for event types Vigil cannot
// capture (such rules can never match those types).
func Syscalls(p *Program) ([]string, lang.Diagnostics) {
	var diags lang.Diagnostics
	need := map[string]bool{}
	all, fds := false, false
	for _, r := range p.Rules() {
		if !r.Enabled {
			continue
		}
		fds = fds || needsFDTable(r)
		if r.Types.Neg {
			// Every type but a few: only the full set is safe.
			all = true
			if r.Types.All() {
				diags.Warnf(r.Pos, "rule %q does not restrict evt.type, so every capturable syscall (%s) is enabled for it",
					r.Name, strings.Join(syscalls.Default(), ", "))
			}
			continue
		}
		var missing []string
		for _, name := range r.Types.Names() {
			switch {
			case lifecycleTypes[name]:
			case syscalls.HandlerFor(name) != syscalls.None:
				need[name] = true
			default:
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			diags.Warnf(r.Pos, "rule %q names event types Vigil does not capture, which it will never see: %s",
				r.Name, strings.Join(missing, ", "))
		}
	}
	if all {
		return syscalls.Default(), diags
	}
	if fds {
		for _, name := range proc.FDSyscalls() {
			need[name] = true
		}
	}
	out := make([]string, 0, len(need))
	for name := range need {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, diags
}
