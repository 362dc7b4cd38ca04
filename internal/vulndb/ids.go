package vulndb

import (
	"sort"
	"strings"
)

// idClass orders vulnerability ids for display: the primary id of a
// finding is the most widely recognised one. CVE first (every scanner and
// advisory speaks it), then GitHub advisories, then distribution
// advisories (whose fixes an operator installs), then the ecosystem
// databases (GO-, PYSEC-, RUSTSEC-, …), then anything else.
func idClass(id string) int {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return 0
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	for _, p := range []string{"DSA-", "DLA-", "DTSA-", "DEBIAN-", "USN-", "UBUNTU-", "ALPINE-",
		"ALSA-", "ALBA-", "ALEA-", "RLSA-", "RXSA-", "RHSA-", "RHBA-", "SUSE-", "openSUSE-", "MGASA-", "OESA-"} {
		if strings.HasPrefix(id, p) {
			return 2
		}
	}
	for _, p := range []string{"GO-", "PYSEC-", "RUSTSEC-", "RSEC-", "GSD-", "OSV-", "MAL-"} {
		if strings.HasPrefix(id, p) {
			return 3
		}
	}
	return 4
}

// sortIDs orders ids by idClass, then alphabetically, without duplicates.
func sortIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := idClass(out[i]), idClass(out[j])
		if ci != cj {
			return ci < cj
		}
		return out[i] < out[j]
	})
	return out
}

// unionFind groups ids that alias one another, transitively.
type unionFind map[string]string

func (u unionFind) find(x string) string {
	for {
		p, ok := u[x]
		if !ok || p == x {
			return x
		}
		x = p
	}
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if ra < rb { // deterministic roots
		u[rb] = ra
	} else {
		u[ra] = rb
	}
}
