#!/usr/bin/env bash
# The kernel time of Vigil's exec hook per exec: starts `vigil run` (the
# embedded rules, default configuration), switches on the kernel's BPF
# statistics, runs N fork+execs of /bin/true with the standard streams
# given (/dev/null, pipes, or a TCP socket), and divides the run_time_ns
# bpftool reports for the vigil_exec program by its run_cnt. Each round
# reads the counters before and after its own loop, so other execs on the
# machine only add samples of the same program.
#
#   bench/execcost.sh VIGIL-BINARY [N [ROUNDS]]
#
# Run as root; it leaves kernel.bpf_stats_enabled as it found it.
set -euo pipefail
vigil=$1 n=${2:-5000} rounds=${3:-5}
cfg=$(mktemp --suffix=.yaml)
log=$(mktemp)
echo "log_format: json" >"$cfg"
old=$(sysctl -n kernel.bpf_stats_enabled)
# execids lists the ids of the loaded vigil_exec programs: the agent's is
# the one that appears once it has started (bpftool here cannot tell the
# pid that holds a program).
execids() {
	bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == "vigil_exec":
        print(p["id"])
'
}
before=$(execids)
"$vigil" run --config "$cfg" >/dev/null 2>"$log" &
agent=$!
cleanup() {
	kill "$agent" 2>/dev/null || true
	wait "$agent" 2>/dev/null || true
	sysctl -q -w kernel.bpf_stats_enabled="$old"
	rm -f "$cfg" "$log"
}
trap cleanup EXIT
for _ in $(seq 300); do
	grep -q '"msg":"running ' "$log" && break
	sleep 0.1
done
grep -q '"msg":"running ' "$log" || { echo "vigil did not start:"; cat "$log"; exit 1; } >&2
prog=$(comm -13 <(echo "$before" | sort) <(execids | sort))
[ "$(echo "$prog" | wc -w)" = 1 ] || { echo "cannot tell the agent's vigil_exec among: $prog" >&2; exit 1; }
sysctl -q -w kernel.bpf_stats_enabled=1

# counters prints "run_time_ns run_cnt" of the agent's vigil_exec program.
counters() {
	bpftool -j prog show id "$prog" | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))
'
}

# loop runs n execs of /bin/true with the streams the mode names.
loop() {
	case $1 in
	null) for _ in $(seq "$n"); do /bin/true </dev/null >/dev/null 2>&1; done ;;
	pipe) seq "$n" | while read -r _; do /bin/true 2>&1 | cat >/dev/null; done ;;
	socket)
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		python3 - "$port" "$n" <<'EOF'
import os, socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
threading.Thread(target=lambda: srv.accept()[0].recv(1), daemon=True).start()
c = socket.create_connection(("127.0.0.1", port))
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        for fd in (0, 1, 2):
            os.dup2(c.fileno(), fd)
        os.execv("/bin/true", ["true"])
    os.waitpid(pid, 0)
EOF
		;;
	esac
}

for mode in null pipe socket; do
	for _ in $(seq "$rounds"); do
		read -r t0 c0 < <(counters)
		loop "$mode"
		read -r t1 c1 < <(counters)
		awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { if (c > 0) printf "%d\n", t / c }'
	done | sort -n | awk -v mode="$mode" -v n="$n" '{ v[NR] = $1 } END {
		printf "vigil_exec, stdio %s: median %d ns per exec (min %d, max %d; %d rounds of %d execs)\n", mode, v[int((NR + 1) / 2)], v[1], v[NR], NR, n }'
done
