#!/usr/bin/env bash
# Set everything up, lint, then run the full test suite (pass pytest options through, e.g. -k adam).
# Two worker processes (pytest-xdist): the browser tests share one worker and its app server, the rest of the suite
# spreads over both. OPTLAB_TEST_WORKERS=0 runs everything in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n "${OPTLAB_TEST_WORKERS:-2}" --dist loadgroup "$@"
