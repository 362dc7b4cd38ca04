#!/usr/bin/env bash
# CPU nanoseconds per iteration of a Go benchmark, from the process's CPU
# time (perf stat task-clock, garbage collection included) rather than the
# wall clock, which a shared machine skews far more. The set-up cost is
# taken out by running N and 10*N iterations and dividing the difference.
#
#   bench/cpuns.sh TEST-BINARY 'BenchmarkDefaultRules/exec$' [N [REPEATS]]
#
# Build the test binary first: go test -c -o /tmp/detect.test ./internal/detect
set -euo pipefail
bin=$1 bench=$2 n=${3:-30000} reps=${4:-5}
cpu() { perf stat -x, -e task-clock "$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
for _ in $(seq "$reps"); do
	lo=$(cpu "$n") hi=$(cpu $((10 * n)))
	awk -v lo="$lo" -v hi="$hi" -v n="$n" 'BEGIN { printf "%.0f\n", (hi - lo) * 1e6 / (9 * n) }'
done | sort -n | awk '{ v[NR] = $1 } END { printf "%s: median %d ns, min %d, max %d (CPU per iteration, %d runs)\n", "'"$bench"'", v[int((NR + 1) / 2)], v[1], v[NR], NR }'
