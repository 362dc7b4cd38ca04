package vulnrank

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/vulndb"
)

// The factors of the score (docs/scan.md explains the choice).
const (
	FactorUnused       = 0.25 // processes were seen, none uses the package
	FactorNotRunning   = 0.5  // no runtime facts: unknown whether it is used
	FactorListenPublic = 1.5  // the using process listens on a non-loopback address
	FactorListenLocal  = 1.2  // ... on loopback only
	FactorRoot         = 1.15 // the using process runs as uid 0
	FactorPrivileged   = 1.3  // the container is privileged or nearly so
	FactorFix          = 1.1  // a fixed version exists: the finding is actionable
)

// severityBase is the base score of a finding without a CVSS v3 vector:
// the middle of the word's CVSS band. UNKNOWN counts as MEDIUM, so an
// unrated finding is neither buried nor inflated.
var severityBase = map[string]float64{
	"CRITICAL": 9.5, "HIGH": 7.9, "MEDIUM": 5.5, "LOW": 2.0, "NONE": 0, "UNKNOWN": 5.5,
}

// Ranked is one finding for one installed package, with its score and
// the reasons for it.
type Ranked struct {
	Score   float64        `json:"score"`
	Base    float64        `json:"base"`
	Finding vulndb.Finding `json:"finding"`
	Package PackageRef     `json:"package"`
	// Use is UseExecuted, UseLoaded, UseUnused or UseNotRunning.
	Use       string       `json:"use"`
	Processes []ProcessRef `json:"processes,omitempty"`
	// Reasons explain the score, one factor each, base first.
	Reasons []string `json:"reasons"`
}

// PackageRef names the installed package, without its file list.
type PackageRef struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Type     string `json:"type"`
	Location string `json:"location"`
}

// ProcessRef is a process using the package.
type ProcessRef struct {
	PID       int      `json:"pid"`
	Comm      string   `json:"comm"`
	UID       uint32   `json:"uid"`
	How       string   `json:"how"`  // executed or loaded
	File      string   `json:"file"` // the package's file it uses
	Listeners []string `json:"listeners,omitempty"`
}

// Query is the vulndb query for an installed package.
func Query(p *sbom.Package) vulndb.Query {
	return vulndb.Query{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem,
		SourceName: p.SourceName, SourceVersion: p.SourceVersion, PURL: p.PURL}
}

// Queries returns the inventory's queries, each once (a Go module in two
// binaries is one query).
func Queries(inv *sbom.Inventory) []vulndb.Query {
	seen := map[vulndb.Query]bool{}
	var out []vulndb.Query
	for i := range inv.Packages {
		q := Query(&inv.Packages[i])
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// Rank scores every finding for every installed package it concerns and
// sorts them, highest score first. facts is nil when the target is not
// running (a root file system or an image). root is where the processes'
// root file system can be read, for resolving merged-/usr links ("/" for
// the host, /proc/<pid>/root for a container; "" for none).
func Rank(inv *sbom.Inventory, findings []vulndb.Finding, facts *Facts, root string) []Ranked {
	byQuery := map[vulndb.Query][]*sbom.Package{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		byQuery[Query(p)] = append(byQuery[Query(p)], p)
	}
	ix := newUsageIndex(facts, newPathNormalizer(root))
	var out []Ranked
	for _, f := range findings {
		for _, p := range byQuery[f.Package] {
			out = append(out, score(f, p, ix.uses(p), facts))
		}
	}
	slices.SortStableFunc(out, func(a, b Ranked) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Base, a.Base),
			cmp.Compare(a.Package.Name, b.Package.Name), cmp.Compare(a.Package.Location, b.Package.Location),
			cmp.Compare(primaryID(a.Finding), primaryID(b.Finding)))
	})
	return out
}

func primaryID(f vulndb.Finding) string {
	if len(f.IDs) > 0 {
		return f.IDs[0]
	}
	return f.Record
}

// score computes one finding's score: base × use × exposure × privilege
// × fix, each factor recorded as a reason.
func score(f vulndb.Finding, p *sbom.Package, uses []Use, facts *Facts) Ranked {
	r := Ranked{Finding: f, Package: PackageRef{Name: p.Name, Version: p.Version, Type: p.Type, Location: p.Location}}
	if f.CVSS > 0 {
		r.Base = f.CVSS
		r.Reasons = append(r.Reasons, fmt.Sprintf("base %s: CVSS %s", num(r.Base), f.Vector))
	} else {
		sev := f.Severity
		if _, ok := severityBase[sev]; !ok {
			sev = "UNKNOWN"
		}
		r.Base = severityBase[sev]
		r.Reasons = append(r.Reasons, fmt.Sprintf("base %s: severity %s, no CVSS v3 vector", num(r.Base), sev))
	}
	s := r.Base
	switch {
	case facts == nil:
		r.Use = UseNotRunning
		s *= FactorNotRunning
		r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: the target is not running, so whether %s is used is unknown", num(FactorNotRunning), p.Name))
	case len(uses) == 0:
		r.Use = UseUnused
		s *= FactorUnused
		r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: no process uses %s", num(FactorUnused), p.Name))
	default:
		best, exposure, why := mostExposed(uses)
		r.Use = best.How
		for _, u := range uses {
			if u.How == UseExecuted {
				r.Use = UseExecuted
			}
			r.Processes = append(r.Processes, processRef(u))
		}
		s *= exposure
		r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: %s %s %s by %s %s", num(exposure), p.Name, verb(best), best.File, best.Process.label(), why))
		if len(uses) > 1 {
			r.Reasons[len(r.Reasons)-1] += fmt.Sprintf(" (and %d more processes)", len(uses)-1)
		}
		if ok, what := facts.Container.powerful(); ok {
			s *= FactorPrivileged
			r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: %s", num(FactorPrivileged), what))
		} else if best.Process.UID == 0 {
			s *= FactorRoot
			r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: %s runs as root", num(FactorRoot), best.Process.label()))
		}
	}
	if f.FixedVersion != "" {
		s *= FactorFix
		r.Reasons = append(r.Reasons, fmt.Sprintf("×%s: fixed in %s", num(FactorFix), f.FixedVersion))
	} else {
		r.Reasons = append(r.Reasons, "×1: no fix known")
	}
	r.Score = math.Round(s*100) / 100
	return r
}

// mostExposed picks the use whose process is the most reachable, then
// root, then executing over loading.
func mostExposed(uses []Use) (Use, float64, string) {
	var best Use
	bestF, bestRank := 0.0, -1
	var bestWhy string
	for _, u := range uses {
		f, why := exposure(u.Process)
		rank := int(f * 100)
		if u.Process.UID == 0 {
			rank += 2
		}
		if u.How == UseExecuted {
			rank++
		}
		if rank > bestRank {
			best, bestF, bestRank, bestWhy = u, f, rank, why
		}
	}
	return best, bestF, bestWhy
}

// exposure is the reachability factor of a process.
func exposure(p *Process) (float64, string) {
	var local []Listener
	for _, l := range p.Listeners {
		if !l.Loopback() {
			return FactorListenPublic, "which listens on " + l.String()
		}
		local = append(local, l)
	}
	if len(local) > 0 {
		return FactorListenLocal, "which listens on loopback only (" + local[0].String() + ")"
	}
	return 1, "which does not listen"
}

func verb(u Use) string {
	if u.How == UseExecuted {
		return "is executed as"
	}
	return "is loaded from"
}

func processRef(u Use) ProcessRef {
	r := ProcessRef{PID: u.Process.PID, Comm: u.Process.Comm, UID: u.Process.UID, How: u.How, File: u.File}
	for _, l := range u.Process.Listeners {
		r.Listeners = append(r.Listeners, l.String())
	}
	return r
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
