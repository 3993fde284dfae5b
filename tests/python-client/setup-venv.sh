#!/usr/bin/env bash
# Creates the Python 3.12 venv holding OpenHands' own client (openhands-sdk 1.58.2 and its tools
# and workspace packages, unmodified) that the compatibility tests drive Berth's server with, and
# OpenHands' agent-server 1.58.2 that the benchmark compares Berth's with.
# Usage: tests/python-client/setup-venv.sh [VENV_DIR]   (default: target/oh-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
export OPENHANDS_SUPPRESS_BANNER=1 LITELLM_LOCAL_MODEL_COST_MAP=True
VENV=${1:-${BERTH_OH_VENV:-target/oh-venv}}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import openhands.sdk, openhands.tools.terminal, openhands.workspace, openhands.agent_server" 2>/dev/null; then
  echo "venv ready: $VENV"; exit 0
fi
# pyenv's shim for python3.12 exists even when 3.12 is not selected, and then fails: try the
# installed versions directly first, and keep the first candidate that really runs 3.12.
PY=
for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 "$(command -v python3.12 || true)"; do
  if [ -n "$p" ] && "$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "Python 3.12 is needed for openhands-sdk (not found in pyenv or on PATH)" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  openhands-sdk==1.58.2 openhands-tools==1.58.2 openhands-workspace==1.58.2 openhands-agent-server==1.58.2
"$VENV/bin/python" -c "import openhands.sdk, openhands.tools.terminal, openhands.workspace, openhands.agent_server"
echo "venv ready: $VENV"
