package container

import "strings"

// ParseProcCgroup finds the container in the contents of /proc/<pid>/cgroup.
// It tries the cgroup v2 line ("0::<path>") first and then every v1
// controller line ("<n>:<controllers>:<path>"), so it works on v1-only,
// hybrid and v2-only hosts: on a v1-only host the v2 line is "/" or absent
// while the controllers carry the container's path. Malformed lines are
// skipped.
func ParseProcCgroup(content string) (Match, bool) {
	if p, ok := ProcCgroupV2Path(content); ok {
		if m, ok := ParseCgroupPath(p); ok {
			return m, true
		}
	}
	for line := range strings.SplitSeq(content, "\n") {
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok || controllers == "" {
			continue
		}
		if m, ok := ParseCgroupPath(path); ok {
			return m, true
		}
	}
	return Match{}, false
}

// ProcCgroupV2Path returns the unified-hierarchy path from the contents of
// /proc/<pid>/cgroup, if there is a "0::" line.
func ProcCgroupV2Path(content string) (string, bool) {
	for line := range strings.SplitSeq(content, "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, true
		}
	}
	return "", false
}
