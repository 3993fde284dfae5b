#!/usr/bin/env bash
# Creates the Python 3.12 venv holding OpenHands' own client (openhands-sdk 1.58.2 and its tools
# and workspace packages, unmodified) that the compatibility tests drive Berth's server with.
# Usage: tests/python-client/setup-venv.sh [VENV_DIR]   (default: target/oh-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-${BERTH_OH_VENV:-target/oh-venv}}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import openhands.sdk, openhands.tools.terminal, openhands.workspace" 2>/dev/null; then
  echo "venv ready: $VENV"; exit 0
fi
PY=$(command -v python3.12 || true)
if [ -z "$PY" ]; then
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do [ -x "$p" ] && PY=$p; done
fi
[ -n "$PY" ] || { echo "Python 3.12 is needed for openhands-sdk (not found on PATH or in pyenv)" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  openhands-sdk==1.58.2 openhands-tools==1.58.2 openhands-workspace==1.58.2
"$VENV/bin/python" -c "import openhands.sdk, openhands.tools.terminal, openhands.workspace"
echo "venv ready: $VENV"
