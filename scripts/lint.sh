#!/usr/bin/env bash
# The house style, checked by tools (zero findings, or a non-zero exit): ruff (lint and format) for
# Python, Biome (lint and format) for the JavaScript, import-linter for the layering (pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: ruff check"
.venv/bin/ruff check --quiet .
echo "lint: ruff format --check"
.venv/bin/ruff format --check --quiet .
echo "lint: biome ci"
node_modules/.bin/biome ci --colors=off --error-on-warnings
echo "lint: lint-imports"
.venv/bin/lint-imports --no-cache | sed -n '/^Contracts:/p'
