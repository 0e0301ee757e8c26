#!/usr/bin/env bash
# run.sh - the dashboard's browser suite: starts a real `glassbox serve` on a
# free loopback port with a temporary data directory, trains a small
# teacher with the CLI, and drives headless Chromium through every view
# (tests/browser/dashboard.mjs).  Screenshots go to build/screenshots/.
# Usage: tests/browser/run.sh [path/to/glassbox]
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/build/glassbox}")
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ]; then
    echo "browser: SKIPPED - no Chromium at $CHROMIUM (scripts/install-deps installs it)"
    exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "browser: SKIPPED - node and npm are needed (scripts/install-deps installs them)"
    exit 0
fi
for dir in "$ROOT/web" "$ROOT/tests/browser"; do
    if [ ! -d "$dir/node_modules" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "browser: npm ci failed in $dir"; exit 1; }
    fi
done

WORK=$(mktemp -d /tmp/gb-browser-XXXXXX)
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$BIN" serve --data-dir "$WORK/data" --port "$PORT" --workers 2 --web-dir "$ROOT/web" \
    >"$WORK/stdout.log" 2>"$WORK/stderr.log" &
PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health" && break
    sleep 0.05
done
if ! curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; then
    echo "browser: the daemon did not start"; cat "$WORK/stderr.log"; exit 1
fi

"$BIN" train-teacher --data "$ROOT/tests/fixtures/datasets/credit_train.csv" --target target \
    --kind mlp --seed 1 --out "$WORK/credit_mlp.json" >/dev/null || { echo "browser: train-teacher failed"; exit 1; }

"$BIN" train-teacher --data "$ROOT/tests/fixtures/datasets/digits_train.csv" --target target \
    --kind mlp --hidden 32 --epochs 30 --seed 1 --out "$WORK/digits_mlp.json" >/dev/null \
    || { echo "browser: train-teacher (digits) failed"; exit 1; }

mkdir -p "$ROOT/build/screenshots"
rm -f "$ROOT/build/screenshots/"*.png
GB_URL="http://127.0.0.1:$PORT" GB_TOKEN=$(cat "$WORK/data/admin-token") \
GB_DATASET="$ROOT/tests/fixtures/datasets/credit_train.csv" GB_TEACHER="$WORK/credit_mlp.json" \
GB_IMAGES="$ROOT/tests/fixtures/datasets/digits_train.csv" GB_IMAGE_TEACHER="$WORK/digits_mlp.json" \
GB_SHOTS="$ROOT/build/screenshots" CHROMIUM="$CHROMIUM" \
    timeout 240 node "$ROOT/tests/browser/dashboard.mjs" | tee "$WORK/result.log"
rc=${PIPESTATUS[0]}
# "browser: N checks passed, M failed" -> build/test-results.txt for make test's summary
summary=$(grep -E '^browser: [0-9]+ checks passed, [0-9]+ failed' "$WORK/result.log" | tail -1)
if [ -n "$summary" ]; then
    read -r passed failed < <(echo "$summary" | sed -E 's/^browser: ([0-9]+) checks passed, ([0-9]+) failed.*/\1 \2/')
    echo "browser chromium $passed $failed" >>"$ROOT/build/test-results.txt"
else
    echo "browser chromium 0 1" >>"$ROOT/build/test-results.txt"
fi
if [ $rc -ne 0 ]; then
    echo "browser: daemon log (last lines):"; tail -20 "$WORK/stderr.log"
fi
exit $rc
