package main

import (
	"fmt"
	"os"
	"os/exec"
)

// goBenchPackages hold the per-event user-space costs: decode, process
// state, the pipeline, rule evaluation and container enrichment.
var goBenchPackages = []string{"./internal/decode", "./internal/proc", "./internal/pipeline", "./internal/detect", "./internal/container"}

// runGoBench runs the micro-benchmarks briefly (the machine is shared) and
// parses them. The Docker start-up benchmark is left out: it measures
// Docker, takes seconds per op and needs dockerd.
func runGoBench(repo string, quick bool) ([]goBench, string) {
	benchtime := "200ms"
	if quick {
		benchtime = "50ms"
	}
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-skip", "DockerRunToEnriched",
		"-benchtime", benchtime, "-benchmem"}, goBenchPackages...)
	cmd := exec.Command("go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	res, perr := parseGoBench(string(out))
	switch {
	case err != nil:
		return res, fmt.Sprintf("go %v: %v (results parsed before the failure are shown)", args, err)
	case perr != nil:
		return res, perr.Error()
	}
	return res, ""
}
