#!/usr/bin/env bash
# Builds Berth and opens it, on a Debian or Ubuntu machine with Rust and Node.js: installs the
# Debian packages it needs (with sudo unless root), starts nothing else. Run from anywhere:
#   scripts/open-berth.sh            # the desktop window
#   scripts/open-berth.sh serve      # web mode instead (prints the address to open)
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
mapfile -t PKGS < <(sed -e 's/#.*//' .ci/packages.txt | tr -s ' ' '\n' | grep -v '^$')
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
(cd ui && npm ci --no-audit --no-fund && npm run build)
cargo build --release -p berth-agent-server -p berth
exec target/release/berth "$@"
