package vulnrank

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilsec/vigil/internal/sbom"
)

// How a package is used at runtime.
const (
	UseExecuted   = "executed"    // a process runs one of its files
	UseLoaded     = "loaded"      // a process has one of its files mapped
	UseUnused     = "unused"      // processes were looked at and none uses it
	UseNotRunning = "not running" // the target has no runtime facts (rootfs, image)
)

// Use is one process using a package.
type Use struct {
	Process *Process
	How     string // UseExecuted or UseLoaded
	File    string // the package's file the process uses
}

// usageIndex maps paths inside the target to the processes using them.
type usageIndex struct {
	byPath map[string][]Use
	norm   pathNormalizer
}

func newUsageIndex(f *Facts, norm pathNormalizer) *usageIndex {
	ix := &usageIndex{byPath: map[string][]Use{}, norm: norm}
	if f == nil {
		return ix
	}
	for i := range f.Processes {
		p := &f.Processes[i]
		ix.add(p.Exe, Use{Process: p, How: UseExecuted})
		for _, m := range p.Mapped {
			ix.add(m, Use{Process: p, How: UseLoaded})
		}
	}
	return ix
}

func (ix *usageIndex) add(path string, u Use) {
	path = ix.norm.normalize(path)
	u.File = path
	ix.byPath[path] = append(ix.byPath[path], u)
}

// uses returns every process use of the package's files, one per process
// (executing beats loading).
func (ix *usageIndex) uses(p *sbom.Package) []Use {
	files := p.Files
	switch p.Type {
	case sbom.TypeGoModule, sbom.TypeGoStdlib, sbom.TypeJava:
		// The binary or archive the package lives in is what runs.
		files = append([]string{p.Location}, files...)
	}
	var out []Use
	at := map[int]int{} // pid -> index in out
	for _, f := range files {
		for _, u := range ix.byPath[ix.norm.normalize(f)] {
			if i, ok := at[u.Process.PID]; ok {
				if u.How == UseExecuted && out[i].How != UseExecuted {
					out[i] = u
				}
				continue
			}
			at[u.Process.PID] = len(out)
			out = append(out, u)
		}
	}
	return out
}

// pathNormalizer rewrites the top-level directories a merged-/usr system
// links into /usr (bin -> usr/bin), so that a package listing /bin/sleep
// matches a process whose exe is /usr/bin/sleep.
type pathNormalizer map[string]string // "/bin/" -> "/usr/bin/"

// newPathNormalizer reads the top-level links of the root the processes
// see (the host's "/", a container's /proc/<pid>/root). An unreadable
// root gives no rewriting.
func newPathNormalizer(root string) pathNormalizer {
	n := pathNormalizer{}
	if root == "" {
		return n
	}
	for _, d := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		target, err := os.Readlink(filepath.Join(root, d))
		if err != nil {
			continue
		}
		target = strings.TrimPrefix(filepath.Clean(target), "/")
		if target == "usr/"+d {
			n["/"+d+"/"] = "/usr/" + d + "/"
		}
	}
	return n
}

func (n pathNormalizer) normalize(p string) string {
	if len(n) == 0 || len(p) < 2 {
		return p
	}
	i := strings.IndexByte(p[1:], '/')
	if i < 0 {
		return p
	}
	if to, ok := n[p[:i+2]]; ok {
		return to + p[i+2:]
	}
	return p
}
