#!/usr/bin/env bash
# Set everything up, then serve the app on 127.0.0.1 (extra args go to the server, e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m tools.serve "$@"
