#!/usr/bin/env bash
# Everything the project needs, installed by the project itself. Idempotent.
#   scripts/setup.sh          Python venv (with py/digitnet installed editable) + npm packages
#                             + Pyodide assets + the digitnet wheel the page loads
#   scripts/setup.sh --test   ...and Chromium and nginx for the end-to-end tests, PyTorch for the bench tests
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! cmp -s requirements.txt .venv/.requirements.txt; then
  echo "setup: installing Python packages (requirements.txt)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.requirements.txt
fi
if ! cmp -s pyproject.toml .venv/.pyproject.toml; then
  echo "setup: installing the digitnet package (py/digitnet/, editable)"
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
  cp pyproject.toml .venv/.pyproject.toml
fi
if [ ! -d node_modules/pyodide ] || ! cmp -s package-lock.json node_modules/.setup-lock.json; then
  echo "setup: installing npm packages (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.setup-lock.json
fi
.venv/bin/python -m tools.assets
.venv/bin/python -m tools.package
.venv/bin/python -m training.page_data  # static/data/mnist.npz: the page's training view's digits

if [ "${1:-}" = "--test" ] && ! cmp -s requirements-bench.txt .venv/.requirements-bench.txt; then
  echo "setup: installing the benchmarks' packages for their tests (requirements-bench.txt: PyTorch CPU)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
  cp requirements-bench.txt .venv/.requirements-bench.txt
fi
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium for the end-to-end tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ "${1:-}" = "--test" ] && [ ! -x /usr/sbin/nginx ]; then
  echo "setup: installing Debian's nginx for the deploy test (tests/test_deploy.py serves tools.site's folder)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
fi
