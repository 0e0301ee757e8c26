#!/usr/bin/env bash
# test_faults.sh - crash and disk-full behaviour of a real `glassbox serve`.
# 20 seeded rounds: start the daemon, begin uploads (small and large,
# throttled) and a teacher-training run, kill -9 at a random moment,
# restart; after every restart the database passes PRAGMA integrity_check,
# the audit chain verifies, every listed dataset and teacher has its blob
# and the blob hashes to its sha256, every file under blobs/ hashes to its
# own name (nothing half-written under a final name), no temporary upload
# is left, and every run the killed daemon was executing is marked
# interrupted.  Then a data directory on a 2 MiB tmpfs: an upload that
# fills the disk gets 507 and stores nothing, and the daemon keeps serving.
# Usage: tests/integration/test_faults.sh build/glassbox
# GB_FAULT_SEED=N replays a given schedule.
set -uo pipefail

BIN=$(realpath "${1:?usage: $0 path/to/glassbox}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CSV="$ROOT/tests/fixtures/datasets/breast_cancer_train.csv"
WORK=$(mktemp -d /tmp/gb-faults-XXXXXX)
DATA="$WORK/data"
SEED=${GB_FAULT_SEED:-20261122}
ROUNDS=20
PID=""
MNT=""
CLIENTS=()
PASS=0
FAIL=0

cleanup() {
    for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null; done
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL: $*"; }
check() { # check "description" test-expression...
    local what="$1"; shift
    if "$@"; then ok; else bad "$what"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() { # start DATA-DIR [extra serve flags...]
    local dir="$1"; shift
    PORT=$(free_port)
    "$BIN" serve --data-dir "$dir" --port "$PORT" --workers 1 "$@" \
        >>"$WORK/stdout.log" 2>>"$WORK/stderr.log" &
    PID=$!
    for _ in $(seq 1 200); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; then return 0; fi
        sleep 0.05
    done
    echo "daemon did not become healthy"; tail -20 "$WORK/stderr.log"; exit 1
}

B() { echo "http://127.0.0.1:$PORT$1"; }
req() { # req METHOD PATH [curl args...] -> $STATUS, body in $WORK/body
    local method="$1" path="$2"; shift 2
    STATUS=$(curl -s -m 30 -X "$method" -H "Authorization: Bearer $ADMIN" -o "$WORK/body" \
        -w '%{http_code}' "$@" "$(B "$path")")
}
json() {
    python3 -c "import json,sys; j=json.load(open('$WORK/body')); print($1)" 2>/dev/null
}

# Every listed dataset/teacher has a blob hashing to its sha256; every blob
# hashes to its own name; no temporary file.  Prints what is wrong.
blobs_consistent() { # blobs_consistent DATA-DIR
    local dir="$1"
    req GET "/api/v1/datasets?limit=1000"
    cp "$WORK/body" "$WORK/datasets.json"
    req GET "/api/v1/teachers?limit=1000"
    cp "$WORK/body" "$WORK/teachers.json"
    python3 - "$dir" "$WORK/datasets.json" "$WORK/teachers.json" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
bad = []
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
for listing in sys.argv[2:]:
    for item in json.load(open(listing))["items"]:
        sha = item["sha256"]
        path = os.path.join(d, "blobs", sha[:2], sha[2:])
        if not os.path.isfile(path):
            bad.append(f"{item['id']}: blob missing")
        elif digest(path) != sha:
            bad.append(f"{item['id']}: blob does not hash to {sha}")
for sub in os.listdir(os.path.join(d, "blobs")):
    full = os.path.join(d, "blobs", sub)
    if sub == "tmp":
        if os.listdir(full):
            bad.append(f"temporary files left: {os.listdir(full)}")
        continue
    for name in os.listdir(full):
        if digest(os.path.join(full, name)) != sub + name:
            bad.append(f"blob {sub}/{name} does not hash to its name")
if bad:
    print("  " + "\n  ".join(bad))
    sys.exit(1)
PY
}

# ------------------------------------------------------------------------------------------
echo "fault rounds: $ROUNDS, seed $SEED (GB_FAULT_SEED to replay)"
RANDOM=$SEED
mkdir -p "$DATA"
# Inputs: small files finish in milliseconds (a kill may land on the commit);
# large ones are throttled so a kill lands mid-body.
python3 - "$CSV" "$WORK" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
for k in range(1, 9):  # small: distinct row subsets
    with open(f"{sys.argv[2]}/small{k}.csv", "w") as f:
        f.write(lines[0]); f.writelines(lines[1 + k * 5:])
with open(f"{sys.argv[2]}/large.csv", "w") as f:
    f.write(lines[0])
    for i in range(25):
        f.writelines(lines[1:])
PY
start "$DATA"
ADMIN=$(cat "$DATA/admin-token")
req POST "/api/v1/datasets?name=base&target=target" -H 'Content-Type: text/csv' --data-binary "@$CSV"
check "base dataset -> 201" [ "$STATUS" = 201 ]
BASE_DS=$(json 'j["id"]')
interrupted_total=0
for round in $(seq 1 "$ROUNDS"); do
    # What to start this round (bit 0: a training run, bit 1: a large upload,
    # bit 2: small uploads) and when to kill (50..1500 ms).
    what=$((RANDOM % 7 + 1))
    delay_ms=$((RANDOM % 1451 + 50))
    small=$((RANDOM % 8 + 1))
    CLIENTS=()
    if [ $((what & 1)) = 1 ]; then
        body=$(printf '{"name":"r%d","dataset_id":"%s","kind":"mlp","hidden":[32],"epochs":100000,"patience":100000,"seed":%d}' \
            "$round" "$BASE_DS" "$round")
        req POST /api/v1/teachers/train -H 'Content-Type: application/json' -d "$body"
        [ "$STATUS" = 202 ] || bad "round $round: training run not queued ($STATUS)"
    fi
    if [ $((what & 2)) = 2 ]; then
        curl -s -o /dev/null --limit-rate $((200 + RANDOM % 800))k -H "Authorization: Bearer $ADMIN" \
            -H 'Content-Type: text/csv' --data-binary "@$WORK/large.csv" \
            "$(B "/api/v1/datasets?name=large$round&target=target")" &
        CLIENTS+=($!)
    fi
    if [ $((what & 4)) = 4 ]; then
        for k in $(seq 1 "$small"); do
            curl -s -o /dev/null -H "Authorization: Bearer $ADMIN" -H 'Content-Type: text/csv' \
                --data-binary "@$WORK/small$k.csv" \
                "$(B "/api/v1/datasets?name=small$round-$k&target=target")" &
            CLIENTS+=($!)
        done
    fi
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    { kill -9 "$PID"; wait "$PID"; } 2>/dev/null
    PID=""
    for c in "${CLIENTS[@]}"; do wait "$c" 2>/dev/null; done
    CLIENTS=()
    running=$(sqlite3 "$DATA/glassbox.db" "PRAGMA busy_timeout=5000; SELECT id FROM runs WHERE status = 'running'" | grep -v '^5000$')
    check "round $round: integrity_check after kill -9" \
        [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]
    start "$DATA"
    req GET /api/v1/audit/verify
    check "round $round: audit chain verifies" [ "$(json 'j["ok"]')" = True ]
    check "round $round: blobs consistent (what=$what, kill at ${delay_ms} ms)" blobs_consistent "$DATA"
    for id in $running; do
        req GET "/api/v1/runs/$id"
        check "round $round: run $id marked interrupted" \
            [ "$(json 'j["status"], j["error"]["code"]')" = "interrupted interrupted" ]
        interrupted_total=$((interrupted_total + 1))
    done
    # Queued runs would start now: cancel them so rounds stay independent.
    req GET "/api/v1/runs?limit=1000"
    for id in $(json '" ".join(r["id"] for r in j["items"] if r["status"] in ("queued", "running"))'); do
        req POST "/api/v1/runs/$id/cancel"
    done
done
check "kills interrupted at least one run ($interrupted_total)" [ "$interrupted_total" -ge 1 ]
req GET "/api/v1/datasets?limit=1000"
echo "  after $ROUNDS kills: $(json 'j["total"]') datasets, $interrupted_total runs interrupted"
kill -TERM "$PID"; wait "$PID"
check "SIGTERM after the rounds exits 0" [ $? = 0 ]
PID=""
check "final integrity_check" [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]

# --- disk full ---------------------------------------------------------------------------
MNT="$WORK/full"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" 2>"$WORK/mount.log"; then
    echo "  disk-full test skipped: cannot mount a tmpfs here ($(tail -1 "$WORK/mount.log"))"
    MNT=""
else
    start "$MNT/data"
    ADMIN=$(cat "$MNT/data/admin-token")
    req POST "/api/v1/datasets?name=fits&target=target" -H 'Content-Type: text/csv' \
        --data-binary "@$WORK/small1.csv"
    check "a small upload fits -> 201" [ "$STATUS" = 201 ]
    for attempt in 1 2; do
        req POST "/api/v1/datasets?name=toolarge&target=target" -H 'Content-Type: text/csv' \
            --data-binary "@$WORK/large.csv"
        check "upload filling the disk -> 507 (attempt $attempt, got $STATUS)" [ "$STATUS" = 507 ]
        check "507 error body" [ "$(json 'j["error"]["code"]')" = insufficient_storage ]
    done
    check "disk-full uploads left no temporary file" [ -z "$(ls -A "$MNT/data/blobs/tmp")" ]
    check "disk-full left the blobs consistent" blobs_consistent "$MNT/data"
    req GET /api/v1/datasets
    check "disk-full stored no dataset" [ "$(json 'j["total"], j["items"][0]["name"]')" = "1 fits" ]
    req POST "/api/v1/datasets?name=after&target=target" -H 'Content-Type: text/csv' \
        --data-binary "@$WORK/small2.csv"
    check "daemon still stores small uploads after a full disk -> 201" [ "$STATUS" = 201 ]
    req GET /api/v1/audit/verify
    check "audit chain verifies after a full disk" [ "$(json 'j["ok"]')" = True ]
    kill -TERM "$PID"; wait "$PID"
    check "SIGTERM after disk full exits 0" [ $? = 0 ]
    PID=""
    check "integrity_check after disk full" \
        [ "$(sqlite3 "$MNT/data/glassbox.db" 'PRAGMA integrity_check')" = ok ]
fi

echo "test_faults: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
