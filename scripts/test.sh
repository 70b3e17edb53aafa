#!/usr/bin/env bash
# Set everything up, lint, then run the full test suite (pass pytest options through, e.g. -k adam).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
