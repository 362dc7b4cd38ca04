#!/usr/bin/env bash
# Regenerates the rpm database samples the tests read: the same two tiny
# packages, built here with rpmbuild, installed into a scratch root with
# Debian's rpm 4.18 into a SQLite database (rpmdb.sqlite) and converted to
# NDB (Packages.db); the Berkeley DB sample (Packages) is built with
# db5.3_load from the same header blobs, since rpm 4.18 can only read BDB.
# Needs: apt-get install -y rpm db5.3-util python3.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkspec() { # name version release epoch license source
	cat >"$work/$1.spec" <<SPEC
Name: $1
Version: $2
Release: $3
${4:+Epoch: $4}
Summary: vigil test package $1
License: $5
BuildArch: x86_64
%description
A package made for Vigil's rpm database tests.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/$1
echo '#!/bin/sh' > %{buildroot}/usr/bin/$1
chmod 755 %{buildroot}/usr/bin/$1
echo doc > %{buildroot}/usr/share/$1/README
%files
/usr/bin/$1
/usr/share/$1/README
SPEC
	if [ -n "${6:-}" ]; then # a subpackage, so its source rpm differs from its name
		cat >>"$work/$1.spec" <<SPEC
%package $6
Summary: vigil test subpackage
%description $6
Subpackage.
%files $6
/usr/lib64/lib$1.so.1
SPEC
		sed -i "s|^%install|%install\nmkdir -p %{buildroot}/usr/lib64 \&\& echo lib > %{buildroot}/usr/lib64/lib$1.so.1|" "$work/$1.spec"
	fi
}
mkspec vigil-hello 1.2.3 4.el9 "" "MIT"
mkspec vigil-tools 2.0 1.el9 3 "GPL-2.0-or-later AND MIT" libs

for s in vigil-hello vigil-tools; do
	rpmbuild -bb --quiet --define "_topdir $work/build" --define "_build_id_links none" "$work/$s.spec" >/dev/null
done
root="$work/root"
mkdir -p "$root"
rpm --root "$root" --define "_db_backend sqlite" --dbpath /var/lib/rpm --initdb
rpm --root "$root" --define "_db_backend sqlite" --dbpath /var/lib/rpm -i --nodeps --noscripts \
	"$work"/build/RPMS/x86_64/*.rpm
cp "$root/var/lib/rpm/rpmdb.sqlite" "$out/rpmdb.sqlite"

# NDB (Packages.db): Debian's rpm is built without the ndb backend, so it is
# written here from the same blobs, following rpm's lib/backend/ndb/rpmpkg.c:
# a 4096-byte slot page (32-byte header, then 16-byte slots) and 16-byte
# blocks holding each blob between a head and a tail with an adler32.
python3 - "$out/rpmdb.sqlite" "$out/Packages.db" <<'PY'
import sqlite3, struct, sys, zlib
db = sqlite3.connect(sys.argv[1])
rows = list(db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"))
page = bytearray(4096)
struct.pack_into("<4sIIII", page, 0, b"RpmP", 0, 1, 1, len(rows) + 1)
for i in range(2, 256):
    struct.pack_into("<4s", page, i * 16, b"Slot")
data = bytearray()
blk = 4096 // 16
for n, (hnum, blob) in enumerate(rows):
    blob = bytes(blob)
    cnt = (16 + len(blob) + 12 + 15) // 16
    head = struct.pack("<4sIII", b"BlbS", hnum, 0, len(blob))
    pad = b"\0" * (cnt * 16 - 16 - len(blob) - 12)
    adl = zlib.adler32(head + blob + pad)
    data += head + blob + pad + struct.pack("<II4s", adl, len(blob), b"BlbE")
    struct.pack_into("<4sIII", page, (2 + n) * 16, b"Slot", hnum, blk, cnt)
    blk += cnt
open(sys.argv[2], "wb").write(bytes(page) + bytes(data))
PY

# Berkeley DB hash file: key = header number (native endian uint32),
# value = header blob, in db_dump's bytevalue text form.
python3 - "$out/rpmdb.sqlite" >"$work/dump.txt" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
print("VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END")
# Record 0 holds the next header number, as rpm writes it.
print(" 00000000")
print(" " + struct.pack("<I", 1 + max(h for h, in db.execute("SELECT hnum FROM Packages"))).hex())
for hnum, blob in db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"):
    print(" " + struct.pack("<I", hnum).hex())
    print(" " + bytes(blob).hex())
print("DATA=END")
PY
rm -f "$out/Packages"
db5.3_load -f "$work/dump.txt" "$out/Packages"
ls -l "$out"
