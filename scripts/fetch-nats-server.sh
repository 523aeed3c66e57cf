#!/usr/bin/env bash
# Puts a nats-server >= 2.10 at .cache/nats-server/nats-server (or $1/nats-server) for the crash
# tests. Debian 12 ships 2.9.10, which lacks `sync_interval: always` (fsync before the PubAck), the
# setting deploy/nats/nats-server.conf needs. Debian 13 (trixie) ships 2.10; it is a static Go
# binary, so its package is unpacked here, not installed: the machine's own nats-server (the
# shared service on :4222) is left alone. Every download is checked: InRelease against Debian's
# archive keyring, the package index against InRelease, the package against the index.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.cache/nats-server}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
if [ -x "$DEST/nats-server" ]; then "$DEST/nats-server" --version; exit 0; fi

ARCH=$(dpkg --print-architecture)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsS --retry 3 "$MIRROR/dists/$SUITE/InRelease" -o "$tmp/InRelease"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$tmp/InRelease" 2>/dev/null \
  || { echo "InRelease of $SUITE is not signed by a Debian archive key" >&2; exit 1; }
index="main/binary-$ARCH/Packages.xz"
want=$(awk -v f="$index" '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3==f {print $1}' "$tmp/InRelease")
[ -n "$want" ] || { echo "no $index in $SUITE's InRelease" >&2; exit 1; }
curl -fsS --retry 3 "$MIRROR/dists/$SUITE/$index" -o "$tmp/Packages.xz"
echo "$want  $tmp/Packages.xz" | sha256sum -c --quiet
read -r file sha < <(xz -dc "$tmp/Packages.xz" | awk '/^Package: /{p=($2=="nats-server")} p&&/^Filename:/{f=$2} p&&/^SHA256:/{s=$2} p&&/^$/{print f, s; exit}')
[ -n "${file:-}" ] || { echo "no nats-server package in $SUITE" >&2; exit 1; }
curl -fsS --retry 3 "$MIRROR/$file" -o "$tmp/nats-server.deb"
echo "$sha  $tmp/nats-server.deb" | sha256sum -c --quiet
dpkg-deb -x "$tmp/nats-server.deb" "$tmp/x"
mkdir -p "$DEST"
install -m 0755 "$tmp/x/usr/sbin/nats-server" "$DEST/nats-server"
"$DEST/nats-server" --version
