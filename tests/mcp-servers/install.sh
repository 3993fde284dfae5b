#!/usr/bin/env bash
# Installs the real MCP servers the tests run, at pinned versions, into the folder given
# (default target/mcp-servers). Idempotent: an installed version is kept.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
DEST=${1:-../../target/mcp-servers}
mkdir -p "$DEST"
cp package.json package-lock.json "$DEST"/ 2>/dev/null || cp package.json "$DEST"/
cd "$DEST"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
test -x node_modules/.bin/mcp-server-everything
# The PyPI server, in a virtual environment of its own.
[ -x py/bin/python ] || python3 -m venv py
py/bin/pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
test -x py/bin/mcp-server-time
echo "MCP test servers in $PWD"
