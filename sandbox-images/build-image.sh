#!/usr/bin/env bash
# Builds the sandbox image from a locally built agent-server binary.
# Usage: sandbox-images/build-image.sh [BINARY] [TAG]
#   BINARY defaults to target/release/berth-agent-server, TAG to berth-sandbox:latest.
# Uses berth-base:bookworm when it exists (no registry needed), else debian:bookworm-slim.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/berth-agent-server}
TAG=${2:-berth-sandbox:latest}
[ -x "$BIN" ] || { echo "no agent-server binary at $BIN: cargo build --release -p berth-agent-server" >&2; exit 1; }
BASE=debian:bookworm-slim
docker image inspect berth-base:bookworm >/dev/null 2>&1 && BASE=berth-base:bookworm
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
cp sandbox-images/Dockerfile "$BIN" "$CTX/"
cp -r skills "$CTX/skills"
docker build -q --build-arg "BASE=$BASE" -t "$TAG" "$CTX" >/dev/null
echo "$TAG built on $BASE: $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1000000}')"
