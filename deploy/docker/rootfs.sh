#!/bin/sh
# Lays out the image's files besides the binary in DIR: the users the
# processes run as (root for the agent, nonroot 65532 for the server), CA
# certificates for TLS to NATS, PostgreSQL and webhooks, /tmp, and the
# agent's state directory (the spool; a volume in Kubernetes). Used by the
# Dockerfile's build stage and by `make image`, so both give one layout.
set -eu
dir=${1:?usage: rootfs.sh DIR}
mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/var/lib/vigil" "$dir/etc/vigil"
chmod 1777 "$dir/tmp"
cat >"$dir/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$dir/etc/group" <<GROUP
root:x:0:
nonroot:x:65532:
GROUP
ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$ca" ]; then
	cp "$ca" "$dir/etc/ssl/certs/ca-certificates.crt"
else
	echo "rootfs.sh: no $ca (install ca-certificates); the image will trust no CA" >&2
	: >"$dir/etc/ssl/certs/ca-certificates.crt"
fi
