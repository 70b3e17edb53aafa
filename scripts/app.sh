#!/usr/bin/env bash
# Set everything up, then serve the app on http://localhost:${PORT:-8501}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}" "$@"
