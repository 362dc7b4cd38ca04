#!/usr/bin/env bash
# Makes a PostgreSQL server available for the central service's tests
# (internal/server, test/cluster): installs Debian's postgresql if missing,
# and starts a private cluster (not the distribution's own) owned by the
# postgres user, listening on 127.0.0.1:$PORT and a socket in $RUN, with
# trust authentication for local connections only. Idempotent: when the
# cluster answers it only prints its URL. Prints the connection URL on
# stdout; logs go to stderr.
set -euo pipefail

PORT=${VIGIL_TEST_PG_PORT:-55432}
DATA=/var/lib/vigil-test/pg
RUN=/var/run/vigil-test-pg
LOG=/var/log/vigil-test-pg.log
URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"

log() { printf 'postgres-up: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	echo "postgres-up: run as root" >&2
	exit 1
fi

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(bindir)" ]; then
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
BIN=$(bindir)

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

if ready; then
	echo "$URL"
	exit 0
fi

mkdir -p "$RUN" "$(dirname "$DATA")"
chown postgres:postgres "$RUN"
if [ ! -f "$DATA/PG_VERSION" ]; then
	log "creating a cluster in $DATA"
	install -d -o postgres -g postgres "$DATA"
	su postgres -s /bin/sh -c "'$BIN/initdb' -D '$DATA' -A trust -U postgres --no-sync -E UTF8" >&2
	# Tests only: durability is traded for speed (fsync off), which the
	# restart tests do not need since they stop the server cleanly or kill
	# the clients, not the machine.
	cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
CONF
fi
touch "$LOG" && chown postgres:postgres "$LOG"
log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
# The server outlives this script: it must not inherit the caller's
# descriptors beyond stdio (a lock file the caller holds, such as a flock
# serialising kernel tests, would stay held as long as PostgreSQL runs).
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
done
su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$DATA' -l '$LOG' -w -t 60 start" >&2
ready || { log "PostgreSQL did not come up"; tail -n 20 "$LOG" >&2; exit 1; }
echo "$URL"
