#!/usr/bin/env bash
# Builds the sandbox's base image without a registry: a minimal Debian bookworm root file system
# from debootstrap (Debian's package mirror only), imported with `docker import`. Node.js and
# Python are there for MCP servers that run in the sandbox.
# Usage: sandbox-images/build-base.sh [TAG]   (default berth-base:bookworm; idempotent)
set -euo pipefail
TAG=${1:-berth-base:bookworm}
if docker image inspect "$TAG" >/dev/null 2>&1; then echo "$TAG exists"; exit 0; fi
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
debootstrap --variant=minbase --include=bash,git,python3,ca-certificates,ripgrep,tini,iproute2,nodejs \
  bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; exit 1; }
rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/* \
  "$WORK"/rootfs/var/cache/apt/*.bin
# git pulls in the whole of Perl (46 MB) for a few scripted subcommands; perl-base stays (so
# `perl -pi -e` works), which leaves room for Node.js within the image's 300 MB.
chroot "$WORK/rootfs" dpkg --purge --force-depends perl perl-modules-5.36 libperl5.36 \
  >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; exit 1; }
tar -C "$WORK/rootfs" --exclude=./usr/share/doc --exclude=./usr/share/man \
    --exclude=./usr/share/locale --exclude=./usr/share/info -c . \
  | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$TAG" >/dev/null
echo "$TAG built: $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1000000}')"
