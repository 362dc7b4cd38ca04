#!/usr/bin/env bash
# Makes Docker and podman usable for the container tests (internal/container):
# installs docker.io, podman and busybox-static if missing, starts dockerd in
# the background when its socket does not answer (there is no systemd), and
# builds the local image vigil-test/busybox:1 for both engines from Debian's
# static busybox, since no registry can be reached. Idempotent: when all of
# that is in place it only checks and returns, in well under a second.
set -euo pipefail

IMAGE=vigil-test/busybox:1
SOCK=/var/run/docker.sock
DOCKER=/usr/bin/docker # Debian's CLI, matching its daemon (another may come first in PATH)

log() { printf 'docker-up: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "docker-up: run as root" >&2
	exit 1
fi

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

answers() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! answers; then
	# A socket left by a daemon that is gone would make dockerd refuse to bind.
	[ -S "$SOCK" ] && rm -f "$SOCK"
	log "starting dockerd (log: /var/log/vigil-dockerd.log)"
	setsid nohup dockerd >/var/log/vigil-dockerd.log 2>&1 </dev/null &
	for _ in $(seq 1 60); do
		answers && break
		sleep 0.5
	done
	if ! answers; then
		echo "docker-up: dockerd did not come up; last log lines:" >&2
		tail -n 20 /var/log/vigil-dockerd.log >&2 || true
		exit 1
	fi
fi

rootfs=""
make_rootfs() {
	[ -n "$rootfs" ] && return
	rootfs=$(mktemp -d)
	trap 'rm -rf "$rootfs"' EXIT
	mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
	chmod 1777 "$rootfs/tmp"
	cp /bin/busybox "$rootfs/bin/busybox"
	for applet in sh cat sleep ls echo id cp chmod true false ps env head grep touch; do
		ln -s busybox "$rootfs/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
	echo 'root:x:0:' >"$rootfs/etc/group"
}

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
	log "building $IMAGE for docker"
	make_rootfs
	tar -C "$rootfs" -c . | "$DOCKER" import - "$IMAGE" >/dev/null
fi
if ! podman image exists "$IMAGE" 2>/dev/null; then
	log "building $IMAGE for podman"
	make_rootfs
	tar -C "$rootfs" -c . | podman import --quiet - "$IMAGE" >/dev/null
fi
log "ready: $("$DOCKER" version --format 'docker {{.Server.Version}}'), $(podman --version)"
