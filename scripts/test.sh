#!/usr/bin/env bash
# Set everything up (Chromium included), check the house style, then run every test: unit and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/lint.sh
exec .venv/bin/python -m pytest "$@"
