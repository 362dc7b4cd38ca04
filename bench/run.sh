#!/usr/bin/env bash
# Reproduces the syscall-slowdown table in BENCHMARKS.md. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
go build -o /tmp/vigil-workload ./bench/workload
go run ./bench/harness -vigil ./vigil -workload /tmp/vigil-workload "$@"
