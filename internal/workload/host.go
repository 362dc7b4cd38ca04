package workload

import "strings"

// UnitFromProcCgroup finds the systemd unit of a process in the contents
// of /proc/<pid>/cgroup. It reads the unified hierarchy's line ("0::")
// and, when that says nothing (a v1-only or hybrid host), the
// "name=systemd" v1 hierarchy. The unit is the last *.service or *.scope
// component of the path; inside a user's service manager
// (user@<uid>.service) it is prefixed with that manager and a '+', which
// unit names cannot contain: "user@1000.service+dbus.service".
//
// v2 reports that the unified line named a cgroup other than the root, so
// the unit (or its absence) is a property of the cgroup and may be cached
// by cgroup id. ok is false when there is no stable unit: none at all, a
// login session (session-N.scope), a transient unit from systemd-run
// (run-*), or a name carrying a number that changes from run to run.
func UnitFromProcCgroup(content string) (unit string, v2, ok bool) {
	var v1 string
	for line := range strings.SplitSeq(content, "\n") {
		if p, found := strings.CutPrefix(line, "0::"); found {
			if p != "/" && p != "" {
				u, ok := unitFromPath(p)
				return u, true, ok
			}
			continue
		}
		_, rest, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		if p, found := strings.CutPrefix(rest, "name=systemd:"); found {
			v1 = p
		}
	}
	if v1 == "" {
		return "", false, false
	}
	u, ok := unitFromPath(v1)
	return u, false, ok
}

func unitFromPath(p string) (string, bool) {
	var unit, manager string
	for comp := range strings.SplitSeq(p, "/") {
		if !strings.HasSuffix(comp, ".service") && !strings.HasSuffix(comp, ".scope") {
			continue
		}
		if strings.HasPrefix(comp, "user@") && strings.HasSuffix(comp, ".service") && unit == "" {
			manager = comp
		}
		unit = comp
	}
	if unit == "" || !stableUnit(unit) {
		return "", false
	}
	if manager != "" && manager != unit {
		unit = manager + "+" + unit
	}
	return unit, true
}

// stableUnit rejects unit names that differ from one run of the same
// thing to the next. For a template instance ("getty@tty1.service",
// "user@1000.service") only the template part is checked: the instance is
// the identity.
func stableUnit(unit string) bool {
	if strings.HasPrefix(unit, "session-") && strings.HasSuffix(unit, ".scope") {
		return false
	}
	if strings.HasPrefix(unit, "run-") {
		return false
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(unit, ".service"), ".scope")
	stem, _, _ = strings.Cut(stem, "@")
	for word := range strings.FieldsFuncSeq(stem, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if len(word) >= 2 && allDigits(word) {
			return false
		}
		if len(word) >= 16 && isHex(word) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
