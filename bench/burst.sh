#!/bin/bash
# bench/burst.sh VIGIL RATE: runs `vigil run` with the default and
# ground-truth rules, drives RATE open/close pairs per second for 4 s with
# bench/workload, and prints what the agent's metrics counted meanwhile:
# events read, pipeline and kernel drops, full-queue waits and the truth
# rule's matches against the opens the workload made. Needs root, curl and
# python3. Example: sudo bench/burst.sh ./vigil 80000
set -euo pipefail
vigil=$(realpath "${1:?usage: bench/burst.sh VIGIL RATE}")
rate=${2:?usage: bench/burst.sh VIGIL RATE}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/vigil-workload" ./bench/workload
addr=127.0.0.1:9912
"$vigil" run --with-defaults --rules bench/rules/truth.yaml --metrics-addr "$addr" >/dev/null 2>"$work/agent.log" &
agent=$!
trap 'kill -INT $agent 2>/dev/null; wait $agent 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$addr/readyz" >/dev/null && break; sleep 0.2; done
metrics() {
	curl -s "$addr/metrics" | python3 -c '
import sys, collections
want = ("vigil_events_received_total", "vigil_pipeline_drops_total", "vigil_kernel_drops_total",
        "vigil_pipeline_full_waits_total", "vigil_rule_matches_total{rule=\"bench truth open\"}")
sums = collections.Counter()
for line in sys.stdin:
    if line.startswith("#"):
        continue
    name, _, value = line.rpartition(" ")
    for w in want:
        if name == w or (name.startswith(w + "{") and "{" not in w):
            sums[w] += float(value)
for w in want:
    print(f"{w}\t{sums[w]:.0f}")'
}
metrics >"$work/before"
out=$("$work/vigil-workload" -rate "$rate" -threads 2 -duration 4s)
sleep 3
metrics >"$work/after"
echo "workload: $out"
paste "$work/before" "$work/after" | awk -F'\t' '{ printf "%-55s %12d\n", $1, $4 - $2 }'
