#!/usr/bin/env bash
# Set everything up (Chromium included), then run every test: unit and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
