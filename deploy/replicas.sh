#!/usr/bin/env bash
# Start N optlab replicas on consecutive loopback ports, for nginx to balance (deploy/README.md).
#
#   deploy/replicas.sh start N [FIRST_PORT]     start N replicas (default first port 8501), wait until each is healthy
#   deploy/replicas.sh stop                     stop the replicas started from this run directory
#   deploy/replicas.sh upstream N [FIRST_PORT]  print the `server` lines of nginx.conf's upstream block
#
# OPTLAB_RUN_DIR   pids, logs and the shared cookie secret (default: /tmp/optlab-replicas)
# OPTLAB_PYTHON    the interpreter with optlab installed (default: .venv/bin/python)
# OPTLAB_BIND      the address the replicas listen on (default 127.0.0.1: only nginx on this host reaches them)
# Every other variable passes through, e.g. OPTLAB_TRAIN_WORKERS=1 for several replicas on a small machine
# (each replica has its own training pool, sized from the cores).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_DIR=${OPTLAB_RUN_DIR:-/tmp/optlab-replicas}
PY=${OPTLAB_PYTHON:-.venv/bin/python}
BIND=${OPTLAB_BIND:-127.0.0.1}
HEALTH_S=${OPTLAB_HEALTH_S:-180}

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

parse_count() {  # sets n and first from N [FIRST_PORT], or exits saying what a valid value is
    n=${1:-}
    first=${2:-8501}
    [[ $n =~ ^[0-9]{1,2}$ ]] && n=$((10#$n)) || n=0
    if ((n < 1 || n > 64)); then
        echo "N must be a whole number from 1 to 64, got '${1:-}'" >&2
        exit 2
    fi
    [[ $first =~ ^[0-9]{1,5}$ ]] && first=$((10#$first)) || first=0
    if ((first < 1024 || first + n - 1 > 65535)); then
        echo "FIRST_PORT must be a port from 1024 up, with all N ports below 65536, got '${2:-}'" >&2
        exit 2
    fi
}

healthy() {  # port -> 0 when /_stcore/health answers ok
    "$PY" - "$BIND" "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/_stcore/health", timeout=2) as r:
        sys.exit(0 if r.read().strip() == b"ok" else 1)
except OSError:
    sys.exit(1)
PY
}

start() {
    parse_count "$@"
    mkdir -p "$RUN_DIR"
    # One cookie secret for all replicas: a cookie signed by one replica is valid on every other.
    secret_file="$RUN_DIR/cookie_secret"
    if [ ! -s "$secret_file" ]; then
        (umask 077; "$PY" -c 'import secrets; print(secrets.token_hex(32))' > "$secret_file")
    fi
    for ((i = 0; i < n; i++)); do
        port=$((first + i))
        pidfile="$RUN_DIR/replica-$port.pid"
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "replica on port $port already running (pid $(cat "$pidfile"))"
            continue
        fi
        STREAMLIT_SERVER_COOKIE_SECRET="$(cat "$secret_file")" nohup "$PY" -m streamlit run app.py \
            --server.headless true --server.address "$BIND" --server.port "$port" \
            --browser.gatherUsageStats false --server.fileWatcherType none \
            > "$RUN_DIR/replica-$port.log" 2>&1 &
        echo $! > "$pidfile"
    done
    for ((i = 0; i < n; i++)); do
        port=$((first + i))
        for ((t = 0; t < HEALTH_S * 2; t++)); do
            healthy "$port" && break
            if ! kill -0 "$(cat "$RUN_DIR/replica-$port.pid")" 2>/dev/null; then
                echo "replica on port $port exited; its log:" >&2
                tail -n 20 "$RUN_DIR/replica-$port.log" >&2
                exit 1
            fi
            sleep 0.5
        done
        healthy "$port" || { echo "replica on port $port not healthy after ${HEALTH_S} s" >&2; exit 1; }
        echo "replica $((i + 1)) of $n: http://$BIND:$port (pid $(cat "$RUN_DIR/replica-$port.pid"))"
    done
}

stop() {
    shopt -s nullglob
    for pidfile in "$RUN_DIR"/replica-*.pid; do
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for ((t = 0; t < 40; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
        echo "stopped $(basename "$pidfile" .pid)"
    done
}

upstream() {
    parse_count "$@"
    for ((i = 0; i < n; i++)); do echo "    server $BIND:$((first + i));"; done
}

cmd=${1:-}
shift || true
case "$cmd" in
    start) start "$@" ;;
    stop) stop ;;
    upstream) upstream "$@" ;;
    *) usage ;;
esac
