#!/usr/bin/env bash
# Benchmark: Berth's agent-server beside OpenHands' Python agent-server 1.58.2 (installed into a
# venv here), printed as a table with ratios. Usage: agent-server/server/benches/vs-openhands.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
VENV=${BERTH_OH_VENV:-$PWD/target/oh-venv}
tests/python-client/setup-venv.sh "$VENV"
BERTH_OH_VENV="$VENV" cargo bench -q -p berth-agent-server --bench vs_openhands
