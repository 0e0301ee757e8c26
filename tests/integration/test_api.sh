#!/usr/bin/env bash
# test_api.sh - drives a real `glassbox serve` over loopback HTTP with curl:
# auth (401/403 per role), tokens, dataset upload (streamed CSV, same bytes
# -> 200), list/get/delete, runs and reviews read paths, error bodies for
# 400/404/405/409/413/415/422, audit verify, restart persistence, kill -9
# during an upload (no partial dataset, integrity_check ok) and recovery of
# a run left running.
# Usage: tests/integration/test_api.sh build/glassbox
set -uo pipefail

BIN=$(realpath "${1:?usage: $0 path/to/glassbox}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CSV="$ROOT/tests/fixtures/datasets/breast_cancer_train.csv"
CSV_TEST="$ROOT/tests/fixtures/datasets/breast_cancer_test.csv"
WORK=$(mktemp -d /tmp/gb-api-XXXXXX)
DATA="$WORK/data"
PID=""
PASS=0
FAIL=0

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
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

start() { # start [extra serve flags...]
    PORT=$(free_port)
    "$BIN" serve --data-dir "$DATA" --port "$PORT" --workers 1 "$@" \
        >>"$WORK/stdout.log" 2>>"$WORK/stderr.log" &
    PID=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; then return 0; fi
        sleep 0.05
    done
    echo "daemon did not become healthy"; cat "$WORK/stderr.log"; exit 1
}

stop() {
    kill -TERM "$PID"
    wait "$PID"
    local rc=$?
    PID=""
    return $rc
}

# req METHOD PATH TOKEN [curl args...] -> $STATUS, body in $WORK/body, headers in $WORK/headers
req() {
    local method="$1" path="$2" token="$3"; shift 3
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    STATUS=$(curl -s -X "$method" "${auth[@]}" -D "$WORK/headers" -o "$WORK/body" \
        -w '%{http_code}' "$@" "http://127.0.0.1:$PORT$path")
}

# json EXPR: evaluates a Python expression on the last body (bound to j).
json() {
    python3 -c "import json,sys; j=json.load(open('$WORK/body')); print($1)" 2>/dev/null
}

# is_error CODE: the body is {"error":{"code":CODE,"message":str,"details":{}}}
is_error() {
    python3 - "$WORK/body" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert set(j) == {"error"}, j
assert e["code"] == sys.argv[2], e
assert isinstance(e["message"], str) and e["message"], e
assert isinstance(e["details"], dict), e
PY
}

has_request_id() { grep -qi '^X-Request-Id: [0-9a-f]\{8\}-' "$WORK/headers"; }

upload() { # upload TOKEN FILE QUERY [content-type]
    req POST "/api/v1/datasets?$3" "$1" -H "Content-Type: ${4:-text/csv}" --data-binary "@$2"
}

# ---------------------------------------------------------------------------
echo "starting glassbox on a loopback port"
start
ADMIN=$(cat "$DATA/admin-token")
check "admin token printed once on first start" grep -q "$ADMIN" "$WORK/stdout.log"
check "admin-token file is 0600" [ "$(stat -c %a "$DATA/admin-token")" = 600 ]
check "dashboard URL printed" grep -q "http://127.0.0.1:$PORT/" "$WORK/stdout.log"

req GET /api/v1/health ""
check "health 200" [ "$STATUS" = 200 ]
check "health body" [ "$(json 'j["status"], j["db"], j["version"]')" = "ok ok 0.1.0" ]
check "health has X-Request-Id" has_request_id

STATUS=$(curl -s -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT/")
check "GET / answers without a token" [ "$STATUS" = 200 ]
STATUS=$(curl -s --path-as-is -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT/../glassbox.db")
check "static files cannot escape web-dir" [ "$STATUS" = 404 ]

# --- auth ---------------------------------------------------------------------
req GET /api/v1/datasets ""
check "no token -> 401" [ "$STATUS" = 401 ]
check "401 error body" is_error unauthorized
check "401 has X-Request-Id" has_request_id
req GET /api/v1/datasets "0000000000000000000000000000000000000000000000000000000000000000"
check "unknown token -> 401" [ "$STATUS" = 401 ]
req GET /api/v1/datasets "not-even-hex"
check "malformed token -> 401" [ "$STATUS" = 401 ]

# --- tokens -------------------------------------------------------------------
declare -A TOK TOKID
for role in modeler validator viewer; do
    req POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$role-user\",\"role\":\"$role\"}"
    check "create $role token -> 201" [ "$STATUS" = 201 ]
    TOK[$role]=$(json 'j["token"]')
    TOKID[$role]=$(json 'j["id"]')
    check "$role token is 64 hex" [ "${#TOK[$role]}" = 64 ]
    check "$role token role echoed" [ "$(json 'j["role"]')" = "$role" ]
done
req GET /api/v1/tokens "$ADMIN"
check "list tokens 200" [ "$STATUS" = 200 ]
check "4 tokens, newest first, no secrets" \
    [ "$(json 'j["total"], j["items"][0]["name"], any("token" in t for t in j["items"])')" = "4 viewer-user False" ]
req POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' -d '{"name":"x","role":"root"}'
check "bad role -> 422" [ "$STATUS" = 422 ]
check "422 error body names the field" [ "$(json 'j["error"]["details"]["field"]')" = role ]
req POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' -d '{"name":'
check "malformed JSON -> 400" [ "$STATUS" = 400 ]
check "400 error body" is_error invalid_json
req POST /api/v1/tokens "$ADMIN" -H 'Content-Type: text/plain' -d '{"name":"x","role":"viewer"}'
check "tokens POST wrong type -> 415" [ "$STATUS" = 415 ]
check "415 error body" is_error unsupported_media_type

# `glassbox token create` from the shell, against the live database.
CLI_TOKEN=$("$BIN" token create --role viewer --name cli-user --data-dir "$DATA" 2>/dev/null)
check "token create prints a 64-hex secret" [ "${#CLI_TOKEN}" = 64 ]
req GET /api/v1/datasets "$CLI_TOKEN"
check "CLI-created viewer token reads" [ "$STATUS" = 200 ]
req POST /api/v1/tokens "$CLI_TOKEN" -H 'Content-Type: application/json' -d '{"name":"z","role":"admin"}'
check "CLI-created viewer token cannot create tokens" [ "$STATUS" = 403 ]
"$BIN" token create --role wizard --name x --data-dir "$DATA" >/dev/null 2>&1
check "token create with a bad role exits 2" [ $? = 2 ]

# Roles: 403 for a known token calling a route its role does not allow.
req GET /api/v1/tokens "${TOK[modeler]}"
check "modeler lists tokens -> 403" [ "$STATUS" = 403 ]
check "403 error body" is_error forbidden
req POST /api/v1/tokens "${TOK[validator]}" -H 'Content-Type: application/json' -d '{"name":"a","role":"admin"}'
check "validator creates token -> 403" [ "$STATUS" = 403 ]
upload "${TOK[viewer]}" "$CSV" "name=bc&target=target"
check "viewer uploads -> 403" [ "$STATUS" = 403 ]
upload "${TOK[validator]}" "$CSV" "name=bc&target=target"
check "validator uploads -> 403" [ "$STATUS" = 403 ]

# --- datasets -------------------------------------------------------------------
upload "${TOK[modeler]}" "$CSV" "name=breast%20cancer&target=target"
check "modeler uploads CSV -> 201" [ "$STATUS" = 201 ]
DS=$(json 'j["id"]')
SHA=$(sha256sum "$CSV" | cut -d' ' -f1)
check "dataset sha256 is the bytes' SHA-256" [ "$(json 'j["sha256"]')" = "$SHA" ]
EXPECT=$(python3 - "$CSV" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, body = rows[0], rows[1:]
t = header.index("target")
print(len(body), len(header), "binary", sorted({r[t] for r in body}, key=float))
PY
)
check "rows, columns, task, classes match the file" \
    [ "$(json 'j["rows"], len(j["columns"]), j["task"], [str(c) for c in j["classes"]]')" = "$EXPECT" ]
check "blob stored at its content address" [ -f "$DATA/blobs/${SHA:0:2}/${SHA:2}" ]
upload "${TOK[modeler]}" "$CSV" "name=again&target=target"
check "same bytes again -> 200" [ "$STATUS" = 200 ]
check "same bytes -> same dataset id" [ "$(json 'j["id"]')" = "$DS" ]
upload "$ADMIN" "$CSV_TEST" "name=bc-test&target=target&task=binary"
check "admin uploads test split -> 201" [ "$STATUS" = 201 ]
DS2=$(json 'j["id"]')

req GET /api/v1/datasets "${TOK[viewer]}"
check "viewer lists datasets" [ "$STATUS" = 200 ]
check "list newest first with total" [ "$(json 'j["total"], j["items"][0]["id"]')" = "2 $DS2" ]
req GET "/api/v1/datasets?limit=1&offset=1" "${TOK[viewer]}"
check "paging" [ "$(json 'j["total"], len(j["items"]), j["items"][0]["id"]')" = "2 1 $DS" ]
req GET "/api/v1/datasets?limit=zero" "${TOK[viewer]}"
check "bad limit -> 400" [ "$STATUS" = 400 ]
check "bad limit error body" is_error invalid_input
req GET "/api/v1/datasets/$DS" "${TOK[validator]}"
check "get dataset 200" [ "$STATUS" = 200 ]
check "get dataset has stats" [ "$(json '"mean" in j["columns"][0] and j["name"] == "breast cancer"')" = True ]
req GET /api/v1/datasets/ds_doesnotexist "${TOK[viewer]}"
check "unknown dataset -> 404" [ "$STATUS" = 404 ]
check "404 error body" is_error not_found
req GET /api/v1/nothing-here "${TOK[viewer]}"
check "unknown route -> 404" [ "$STATUS" = 404 ]
req PUT /api/v1/datasets "${TOK[viewer]}"
check "wrong method -> 405" [ "$STATUS" = 405 ]
check "405 error body" is_error method_not_allowed

# Upload errors: type, parameters, CSV problems named by line and column.
upload "${TOK[modeler]}" "$CSV" "name=x&target=target" "application/json"
check "upload as JSON -> 415" [ "$STATUS" = 415 ]
check "upload 415 body" is_error unsupported_media_type
upload "${TOK[modeler]}" "$CSV" "target=target"
check "upload without name -> 400" [ "$STATUS" = 400 ]
upload "${TOK[modeler]}" "$CSV" "name=x&target=no_such_column"
check "unknown target -> 422" [ "$STATUS" = 422 ]
printf 'a,b,y\n1,2,0\n3,4\n5,6,1\n' >"$WORK/ragged.csv"
upload "${TOK[modeler]}" "$WORK/ragged.csv" "name=r&target=y"
check "ragged CSV -> 400" [ "$STATUS" = 400 ]
check "ragged CSV names line 3" [ "$(json 'j["error"]["details"]["line"]')" = 3 ]
printf '' >"$WORK/empty.csv"
upload "${TOK[modeler]}" "$WORK/empty.csv" "name=e&target=y"
check "empty CSV -> 400" [ "$STATUS" = 400 ]
req GET /api/v1/datasets "$ADMIN"
check "failed uploads left no dataset" [ "$(json 'j["total"]')" = 2 ]
check "failed uploads left no temp files" [ -z "$(ls -A "$DATA/blobs/tmp")" ]

# --- teachers -------------------------------------------------------------------
# A LightGBM model file plus a dataset carrying the reference library's own
# scores (p_1): the upload check must reproduce them.
python3 - "$ROOT/tests/fixtures/lightgbm" "$WORK/lgb.csv" <<'PY'
import csv, sys
d = sys.argv[1]
rows = list(csv.reader(open(d + "/data.csv", newline="")))
expected = list(csv.reader(open(d + "/binary_expected.csv", newline="")))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0] + ["p_1", "y"])
    for r, e in zip(rows[1:], expected[1:]):
        w.writerow(r + [e[1], "1" if float(e[1]) > 0.5 else "0"])
PY
upload "${TOK[modeler]}" "$WORK/lgb.csv" "name=lgb-scores&target=y"
check "dataset with scores -> 201" [ "$STATUS" = 201 ]
LGB_DS=$(json 'j["id"]')
LGB="$ROOT/tests/fixtures/lightgbm/binary.txt"
req POST "/api/v1/teachers?name=lgb&check_dataset=$LGB_DS&check_scores=p_1" "${TOK[modeler]}" \
    --data-binary "@$LGB"
check "teacher upload -> 201" [ "$STATUS" = 201 ]
TCH=$(json 'j["id"]')
check "teacher object" [ "$(json 'j["kind"], j["format"], j["task"], j["classes"], j["sha256"]')" = \
    "lightgbm lightgbm-text binary ['0', '1'] $(sha256sum "$LGB" | cut -d' ' -f1)" ]
check "teacher reproduces the supplied scores" \
    [ "$(json 'j["check"]["rows"], j["check"]["max_abs_diff"] < 1e-12')" = "240 True" ]
req POST "/api/v1/teachers?name=lgb-again" "${TOK[modeler]}" --data-binary "@$LGB"
check "same teacher bytes -> 200 existing" [ "$STATUS $(json 'j["id"]')" = "200 $TCH" ]
req POST "/api/v1/teachers?name=lgb&check_dataset=$LGB_DS&check_scores=age" "${TOK[modeler]}" \
    --data-binary "@$LGB"
check "check against a non-probability column -> 422" [ "$STATUS" = 422 ]
check "422 names the column" [ "$(json 'j["error"]["details"]["field"]')" = age ]
req POST "/api/v1/teachers?name=reg&check_dataset=$LGB_DS&check_scores=p_1" "${TOK[modeler]}" \
    --data-binary "@$ROOT/tests/fixtures/lightgbm/regression.txt"
check "regression teacher checked on a binary target -> 422" [ "$STATUS" = 422 ]
printf 'not a model\n' >"$WORK/junk.bin"
req POST "/api/v1/teachers?name=junk" "${TOK[modeler]}" --data-binary "@$WORK/junk.bin"
check "unrecognised model -> 422" [ "$STATUS" = 422 ]
req POST "/api/v1/teachers?name=x" "${TOK[viewer]}" --data-binary "@$LGB"
check "viewer uploads teacher -> 403" [ "$STATUS" = 403 ]
req GET /api/v1/teachers "${TOK[viewer]}"
check "teachers list" [ "$(json 'j["total"], j["items"][0]["id"]')" = "1 $TCH" ]
req GET "/api/v1/teachers/$TCH" "${TOK[validator]}"
check "teacher get" [ "$(json 'j["features"][0]')" = age ]
check "rejected teacher uploads left no temp files" [ -z "$(ls -A "$DATA/blobs/tmp")" ]

# --- teacher training: a real queued run ------------------------------------------
# train_body NAME EPOCHS [extra JSON members]
train_body() { printf '{"name":"%s","dataset_id":"%s","kind":"mlp","hidden":[8],"epochs":%s,"seed":1%s}' "$1" "$DS" "$2" "${3:-}"; }
# wait_run ID STATUS: polls GET /runs/ID for up to 30 s
wait_run() {
    for _ in $(seq 1 300); do
        req GET "/api/v1/runs/$1" "$ADMIN"
        [ "$(json 'j["status"]')" = "$2" ] && return 0
        sleep 0.1
    done
    echo "  run $1 is $(json 'j["status"], j["error"]'), wanted $2"
    return 1
}
req POST /api/v1/teachers/train "${TOK[modeler]}" -H 'Content-Type: application/json' -d "$(train_body mlp-small 5)"
check "train teacher -> 202" [ "$STATUS $(json 'j["status"]')" = "202 queued" ]
TRAIN_RUN=$(json 'j["id"]')
check "training run succeeds" wait_run "$TRAIN_RUN" succeeded
check "training progress complete" [ "$(json 'j["progress"]["fraction"], j["kind"], j["created_by"]')" = "1 teacher_train modeler-user" ]
MLP=$(json 'j["report"]["teacher_id"]')
check "report names the teacher and its size" [ "$(json 'j["report"]["rows"], j["report"]["features"], j["report"]["epochs_run"]')" = "426 30 5" ]
req GET "/api/v1/teachers/$MLP" "${TOK[viewer]}"
check "trained teacher is listed" [ "$(json 'j["kind"], j["format"], j["task"], len(j["features"])')" = "mlp glassbox-mlp binary 30" ]
req POST /api/v1/teachers/train "${TOK[modeler]}" -H 'Content-Type: application/json' -d "$(train_body bad 0)"
check "bad epochs -> 422 naming the field" [ "$STATUS $(json 'j["error"]["details"]["field"]')" = "422 epochs" ]
req POST /api/v1/teachers/train "${TOK[modeler]}" -H 'Content-Type: application/json' \
    -d '{"name":"x","dataset_id":"ds_nope","kind":"mlp"}'
check "unknown dataset -> 404" [ "$STATUS" = 404 ]
req POST /api/v1/teachers/train "${TOK[validator]}" -H 'Content-Type: application/json' -d "$(train_body x 5)"
check "validator trains -> 403" [ "$STATUS" = 403 ]
# Cancel a long run while it executes.
req POST /api/v1/teachers/train "${TOK[modeler]}" -H 'Content-Type: application/json' \
    -d "$(train_body long 100000 ',"patience":100000,"hidden":[64,64]')"
LONG=$(json 'j["id"]')
check "long run starts" wait_run "$LONG" running
req POST "/api/v1/runs/$LONG/cancel" "${TOK[modeler]}"
check "cancel running -> 200" [ "$STATUS $(json 'j["cancel_requested"]')" = "200 True" ]
check "cancelled run stops" wait_run "$LONG" cancelled
check "cancelled run says so" [ "$(json 'j["error"]["code"]')" = cancelled ]
req GET "/api/v1/runs?kind=teacher_train" "$ADMIN"
check "runs list by kind" [ "$(json 'j["total"], j["items"][0]["id"]')" = "2 $LONG" ]

# --- runs and reviews (rows inserted as a finished pipeline would) ---------------
RUN=run_integration0001
sqlite3 "$DATA/glassbox.db" >/dev/null "PRAGMA busy_timeout=5000;
  INSERT INTO runs (id, kind, status, dataset_id, config, created_at, created_by, started_at, finished_at, phase, fraction)
  VALUES ('$RUN', 'distill', 'succeeded', '$DS', '{\"seed\":0}', '2024-01-01T00:00:00.000Z', 'modeler-user',
          '2024-01-01T00:00:01.000Z', '2024-01-01T00:00:02.000Z', 'done', 1);
  INSERT INTO run_teachers (run_id, teacher_id, position) VALUES ('$RUN', '$TCH', 0);
  INSERT INTO reports (run_id, body, created_at) VALUES ('$RUN', '{\"task\":\"binary\"}', '2024-01-01T00:00:02.000Z');"
req GET "/api/v1/runs/$RUN" "${TOK[viewer]}"
check "get run 200" [ "$STATUS" = 200 ]
check "run object" [ "$(json 'j["status"], j["progress"]["fraction"], j["report"]["task"], j["config"]["seed"], j["error"]')" = "succeeded 1 binary 0 None" ]
req GET "/api/v1/runs?status=succeeded&dataset_id=$DS" "${TOK[viewer]}"
check "runs filtered (this one and the training run)" [ "$(json 'j["total"], j["items"][0]["id"]')" = "2 $RUN" ]
req GET "/api/v1/compare?runs=$RUN,$TRAIN_RUN" "${TOK[validator]}"
check "compare two runs with reports" [ "$STATUS $(json '[r["id"] for r in j["runs"]] == ["'"$RUN"'", "'"$TRAIN_RUN"'"], j["features"]')" = "200 True []" ]
req GET "/api/v1/compare?runs=$RUN,$LONG" "${TOK[validator]}"
check "compare with a run without report -> 409" [ "$STATUS" = 409 ]
req GET "/api/v1/runs?status=bogus" "${TOK[viewer]}"
check "bad status filter -> 400" [ "$STATUS" = 400 ]
req POST "/api/v1/runs/$RUN/cancel" "${TOK[modeler]}"
check "cancel finished run -> 409" [ "$STATUS" = 409 ]
check "409 error body" is_error conflict
req POST "/api/v1/runs/$RUN/cancel" "${TOK[viewer]}"
check "viewer cancels -> 403" [ "$STATUS" = 403 ]
req DELETE "/api/v1/datasets/$DS" "${TOK[modeler]}"
check "delete dataset used by a run -> 409" [ "$STATUS" = 409 ]

req GET "/api/v1/runs?teacher_id=$TCH" "${TOK[viewer]}"
check "runs filtered by teacher" [ "$(json 'j["total"], j["items"][0]["teacher_ids"]')" = "1 ['$TCH']" ]
req DELETE "/api/v1/teachers/$TCH" "${TOK[modeler]}"
check "delete teacher used by a run -> 409" [ "$STATUS" = 409 ]
req POST "/api/v1/runs/$RUN/reviews" "${TOK[validator]}" -H 'Content-Type: application/json' \
    -d '{"verdict":"approved","comment":"fidelity adequate"}'
check "validator reviews -> 201" [ "$STATUS" = 201 ]
check "review body" [ "$(json 'j["verdict"], j["created_by"], j["run_id"]')" = "approved validator-user $RUN" ]
req POST "/api/v1/runs/$RUN/reviews" "${TOK[modeler]}" -H 'Content-Type: application/json' \
    -d '{"verdict":"approved"}'
check "modeler reviews -> 403" [ "$STATUS" = 403 ]
req POST "/api/v1/runs/$RUN/reviews" "${TOK[validator]}" -H 'Content-Type: application/json' \
    -d '{"verdict":"maybe"}'
check "bad verdict -> 422" [ "$STATUS" = 422 ]
check "422 body" is_error unprocessable
req POST "/api/v1/runs/run_missing/reviews" "$ADMIN" -H 'Content-Type: application/json' \
    -d '{"verdict":"rejected"}'
check "review of unknown run -> 404" [ "$STATUS" = 404 ]
req GET "/api/v1/runs/$RUN/reviews" "${TOK[viewer]}"
check "list reviews" [ "$(json 'j["total"], j["items"][0]["comment"]')" = "1 fidelity adequate" ]

# --- a real distillation result (written by `glassbox distill`) --------------------------
"$BIN" distill --data "$WORK/lgb.csv" --target y --teacher "$LGB" --student tree \
    --param max_depth=3 --out "$WORK/report.json" --student-out "$WORK/student.json" 2>/dev/null
check "glassbox distill wrote a report and a student" [ -s "$WORK/report.json" -a -s "$WORK/student.json" ]
for rid in run_distilled01 run_distilled02; do
    sqlite3 "$DATA/glassbox.db" >/dev/null "PRAGMA busy_timeout=5000;
      INSERT INTO runs (id, kind, status, dataset_id, config, created_at, created_by, phase, fraction)
      VALUES ('$rid', 'distill', 'succeeded', '$LGB_DS', '{}', '2024-01-01T00:00:00.000Z', 'x', 'done', 1);
      INSERT INTO reports (run_id, body, created_at) VALUES ('$rid', CAST(readfile('$WORK/report.json') AS TEXT), 'now');
      INSERT INTO students (run_id, body, sha256, created_at) VALUES ('$rid', CAST(readfile('$WORK/student.json') AS TEXT), 'x', 'now');"
done
req GET /api/v1/runs/run_distilled01 "${TOK[viewer]}"
check "run shows the stored report" [ "$(json 'j["report"] == json.load(open("'"$WORK/report.json"'"))')" = True ]
req GET /api/v1/runs/run_distilled01/student "${TOK[viewer]}"
check "student artifact as stored" [ "$(json 'j == json.load(open("'"$WORK/student.json"'"))')" = True ]
req GET /api/v1/runs/run_distilled01/export "${TOK[viewer]}"
check "export json (default) is the artifact" [ "$(json 'j == json.load(open("'"$WORK/student.json"'"))')" = True ]
req GET "/api/v1/runs/run_distilled01/export?format=c" "${TOK[viewer]}"
cp "$WORK/body" "$WORK/student.c"
check "export c -> 200 text/x-c" grep -qi '^Content-Type: text/x-c' "$WORK/headers"
check "exported C compiles cleanly" cc -std=c11 -Wall -Wextra -Werror -fsyntax-only "$WORK/student.c"
req GET "/api/v1/runs/run_distilled01/export?format=sql" "${TOK[viewer]}"
check "export sql is a CASE expression" grep -q 'CASE WHEN' "$WORK/body"
req GET "/api/v1/runs/run_distilled01/export?format=pmml" "${TOK[viewer]}"
check "unknown export format -> 400" [ "$STATUS" = 400 ]
req GET "/api/v1/runs/$RUN/export" "${TOK[viewer]}"
check "export of a run without student -> 404" [ "$STATUS" = 404 ]
# predict: the daemon's answers equal `glassbox predict` on the same rows.
"$BIN" predict --model "$WORK/student.json" --data "$WORK/lgb.csv" --out "$WORK/cli_pred.csv" 2>/dev/null
req POST /api/v1/runs/run_distilled01/predict "${TOK[viewer]}" -H 'Content-Type: text/csv' \
    --data-binary "@$WORK/lgb.csv"
check "predict CSV -> 200" [ "$STATUS" = 200 ]
check "predict CSV equals glassbox predict" python3 - "$WORK/body" "$WORK/cli_pred.csv" <<'PY'
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0] == ["p_" + c for c in j["classes"]], rows[0]
assert len(j["predictions"]) == len(rows) - 1
for p, r in zip(j["predictions"], rows[1:]):
    assert all(abs(a - float(b)) <= 1e-15 for a, b in zip(p, r)), (p, r)
PY
python3 - "$WORK/lgb.csv" "$WORK/rows.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:3]
def value(v):
    try:
        return float(v)
    except ValueError:
        return v if v not in ("", "NA") else None
json.dump({"rows": [{k: value(v) for k, v in r.items()} for r in rows]}, open(sys.argv[2], "w"))
PY
req POST "/api/v1/runs/run_distilled01/predict?explain=1" "${TOK[viewer]}" \
    -H 'Content-Type: application/json' --data-binary "@$WORK/rows.json"
check "predict JSON rows with explanations -> 200" [ "$STATUS" = 200 ]
check "JSON rows give the CSV answers; attributions add up to the logit" \
    python3 - "$WORK/body" "$WORK/cli_pred.csv" <<'PY'
import csv, json, math, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2])))[1:4]
for p, r, e in zip(j["predictions"], rows, j["explanations"]):
    assert all(abs(a - float(b)) <= 1e-15 for a, b in zip(p, r)), (p, r)
    margin = e["bias"] + sum(e["contributions"].values())
    assert abs(margin - math.log(p[1] / p[0])) < 1e-9, (margin, p)
PY
req POST /api/v1/runs/run_distilled01/predict "${TOK[viewer]}" -H 'Content-Type: application/json' \
    -d '{"rows":[{"age":40}]}'
check "predict with a missing feature -> 422" [ "$STATUS" = 422 ]
req POST /api/v1/runs/run_distilled01/predict "${TOK[viewer]}" -H 'Content-Type: application/json' \
    -d '{"rows":[]}'
check "predict without rows -> 422" [ "$STATUS" = 422 ]
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: application/json' -d '{"rows":[{"a":1}]}'
check "predict on a run without student -> 404" [ "$STATUS" = 404 ]
req GET "/api/v1/compare?runs=run_distilled01,run_distilled02" "${TOK[viewer]}"
check "compare aligns the reports' global explanations" python3 - "$WORK/body" "$WORK/report.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); report = json.load(open(sys.argv[2]))
glob = report["explanations"]["global"]
assert [f["feature"] for f in j["features"]] == [g["feature"] for g in glob], j["features"]
for f, g in zip(j["features"], glob):
    for role in ("teacher", "student", "baseline"):
        assert f[role] == [g[role], g[role]], (f, g)
assert j["runs"][0]["metrics"] == report["metrics"]
assert j["runs"][1]["fidelity"] == report["fidelity"]
PY

# --- delete, revoke ------------------------------------------------------------------
req DELETE "/api/v1/datasets/$DS2" "${TOK[viewer]}"
check "viewer deletes -> 403" [ "$STATUS" = 403 ]
req DELETE "/api/v1/datasets/$DS2" "${TOK[modeler]}"
check "modeler deletes unused dataset -> 200" [ "$STATUS" = 200 ]
req GET "/api/v1/datasets/$DS2" "${TOK[modeler]}"
check "deleted dataset -> 404" [ "$STATUS" = 404 ]
SHA2=$(sha256sum "$CSV_TEST" | cut -d' ' -f1)
check "deleted dataset's blob removed" [ ! -e "$DATA/blobs/${SHA2:0:2}/${SHA2:2}" ]

req DELETE "/api/v1/tokens/${TOKID[viewer]}" "$ADMIN"
check "revoke -> 200" [ "$STATUS" = 200 ]
check "revoked_at set" [ "$(json 'j["revoked_at"] is not None')" = True ]
req GET /api/v1/datasets "${TOK[viewer]}"
check "revoked token -> 401" [ "$STATUS" = 401 ]
req DELETE /api/v1/tokens/tok_nope "$ADMIN"
check "revoke unknown -> 404" [ "$STATUS" = 404 ]

# --- audit ------------------------------------------------------------------------------
req GET "/api/v1/audit?limit=100" "${TOK[validator]}"
check "audit list" [ "$STATUS" = 200 ]
check "audit entries chained newest first" \
    [ "$(json 'all(a["prev_hash"] == b["hash"] for a, b in zip(j["items"], j["items"][1:]))')" = True ]
check "audit records actions" \
    [ "$(json '",".join(sorted({e["action"] for e in j["items"]}))')" = "dataset.create,dataset.delete,review.create,run.cancel,run.cancelled,run.succeeded,teacher.create,teacher.train,token.create,token.revoke" ]
check "audit records actor" [ "$(json '[e["actor"] for e in j["items"] if e["action"] == "dataset.delete"][0]')" = modeler-user ]
req GET /api/v1/audit/verify "${TOK[validator]}"
check "audit verify ok (18 entries)" [ "$(json 'j["ok"], j["entries"]')" = "True 18" ]

# --- 413 -----------------------------------------------------------------------------------
stop
check "SIGTERM stops cleanly (exit 0)" [ $? = 0 ]
start --max-upload-mb 1 --max-queued 1
req POST /api/v1/teachers/train "$ADMIN" -H 'Content-Type: application/json' \
    -d "$(train_body busy 100000 ',"patience":100000,"hidden":[64,64]')"
BUSY=$(json 'j["id"]')
check "busy run starts" wait_run "$BUSY" running
req POST /api/v1/teachers/train "$ADMIN" -H 'Content-Type: application/json' -d "$(train_body q1 5)"
check "one queued run fits the bound" [ "$STATUS" = 202 ]
Q1=$(json 'j["id"]')
req POST /api/v1/teachers/train "$ADMIN" -H 'Content-Type: application/json' -d "$(train_body q2 5)"
check "queue full -> 503" [ "$STATUS" = 503 ]
check "503 error body" is_error queue_full
req POST "/api/v1/runs/$Q1/cancel" "$ADMIN"
check "cancel queued -> cancelled at once" [ "$(json 'j["status"]')" = cancelled ]
python3 - "$CSV" "$WORK/big.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
with open(sys.argv[2], "w") as out:
    out.write(lines[0])
    for i in range(12):
        out.writelines(lines[1:])
PY
upload "$ADMIN" "$WORK/big.csv" "name=big&target=target"
check "upload over --max-upload-mb -> 413" [ "$STATUS" = 413 ]
check "413 error body" is_error too_large
check "413 has X-Request-Id" has_request_id
STATUS=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/big.csv" \
    "http://127.0.0.1:$PORT/api/v1/datasets?name=big&target=target")
check "chunked upload over the cap -> 413" [ "$STATUS" = 413 ]
req GET /api/v1/datasets "$ADMIN"
check "oversized uploads stored nothing" [ "$(json 'j["total"]')" = 2 ]

# --- restart persistence -------------------------------------------------------------------
stop
check "SIGTERM with a run in progress stops cleanly" [ $? = 0 ]
start
"$BIN" serve --data-dir "$DATA" --port "$(free_port)" >/dev/null 2>"$WORK/second.log"
check "a second daemon on the same data dir is refused (exit 2)" [ $? = 2 ]
check "refusal names the reason" grep -q "already serving" "$WORK/second.log"
req GET "/api/v1/runs/$BUSY" "$ADMIN"
check "run stopped by SIGTERM is interrupted" [ "$(json 'j["status"]')" = interrupted ]
check "no second admin token on restart" [ "$(grep -c 'created the first admin token' "$WORK/stdout.log")" = 1 ]
req GET "/api/v1/datasets/$DS" "${TOK[modeler]}"
check "dataset survives restart" [ "$STATUS" = 200 ]
req GET "/api/v1/runs/$RUN/reviews" "${TOK[validator]}"
check "review survives restart" [ "$(json 'j["total"]')" = 1 ]
req GET /api/v1/datasets "${TOK[viewer]}"
check "revocation survives restart" [ "$STATUS" = 401 ]
req GET /api/v1/audit/verify "$ADMIN"
check "audit chain intact after restart" [ "$(json 'j["ok"]')" = True ]

# --- kill -9 during an upload ------------------------------------------------------------------
python3 - "$CSV" "$WORK/big.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
with open(sys.argv[2], "w") as out:
    out.write(lines[0])
    for i in range(30):
        out.writelines(lines[1:])
PY
req POST /api/v1/teachers/train "$ADMIN" -H 'Content-Type: application/json' \
    -d "$(train_body doomed 100000 ',"patience":100000,"hidden":[64,64]')"
DOOMED=$(json 'j["id"]')
check "run before kill -9 starts" wait_run "$DOOMED" running
curl -s -o /dev/null --limit-rate 200k -H "Authorization: Bearer $ADMIN" -H 'Content-Type: text/csv' \
    --data-binary "@$WORK/big.csv" "http://127.0.0.1:$PORT/api/v1/datasets?name=partial&target=target" &
CURL=$!
sleep 1
check "upload in flight wrote a temp file" [ -n "$(ls -A "$DATA/blobs/tmp")" ]
{ kill -9 "$PID"; wait "$PID"; } 2>/dev/null
PID=""
wait "$CURL" 2>/dev/null
check "database integrity after kill -9" [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]
# A run the killed daemon was executing (as the worker's claim leaves it).
sqlite3 "$DATA/glassbox.db" >/dev/null "PRAGMA busy_timeout=5000;
  INSERT INTO runs (id, kind, status, dataset_id, config, created_at, created_by, started_at, phase, fraction)
  VALUES ('run_killed0001', 'distill', 'running', '$DS', '{}', '2024-01-01T00:00:00.000Z', 'x',
          '2024-01-01T00:00:01.000Z', 'fit', 0.4);"
start
req GET /api/v1/datasets "$ADMIN"
check "killed upload left no dataset" [ "$(json 'j["total"], [d["name"] for d in j["items"]]')" = "2 ['lgb-scores', 'breast cancer']" ]
check "killed upload's temp file removed at start-up" [ -z "$(ls -A "$DATA/blobs/tmp")" ]
check "no blob for the partial upload (2 datasets + 2 teachers)" \
    [ "$(find "$DATA/blobs" -type f | wc -l)" = 4 ]
req GET "/api/v1/runs/$DOOMED" "$ADMIN"
check "run killed by kill -9 is interrupted after restart" [ "$(json 'j["status"], j["error"]["code"]')" = "interrupted interrupted" ]
req GET /api/v1/runs/run_killed0001 "$ADMIN"
check "run left running is interrupted after restart" [ "$(json 'j["status"], j["error"]["code"]')" = "interrupted interrupted" ]
req GET /api/v1/audit/verify "$ADMIN"
check "audit chain intact after kill -9" [ "$(json 'j["ok"]')" = True ]
check "integrity_check ok while serving" [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]

# --- kill -9 during a run, restart with --requeue-interrupted ------------------------------
req POST /api/v1/teachers/train "$ADMIN" -H 'Content-Type: application/json' \
    -d "$(train_body phoenix 100000 ',"patience":100000,"hidden":[64,64]')"
PHOENIX=$(json 'j["id"]')
check "run before second kill -9 starts" wait_run "$PHOENIX" running
{ kill -9 "$PID"; wait "$PID"; } 2>/dev/null
PID=""
start --requeue-interrupted
check "with --requeue-interrupted the run executes again" wait_run "$PHOENIX" running
req POST "/api/v1/runs/$PHOENIX/cancel" "$ADMIN"
check "requeued run cancelled" wait_run "$PHOENIX" cancelled
req GET "/api/v1/audit?limit=1000" "$ADMIN"
check "requeue is audited" [ "$(json 'sum(1 for e in j["items"] if e["action"] == "run.requeue" and e["object"] == "'"$PHOENIX"'")')" = 1 ]

# --- concurrency: 8 clients uploading at once ------------------------------------------
for i in $(seq 1 8); do
    python3 - "$CSV" "$WORK/c$i.csv" "$i" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
k = int(sys.argv[3])
with open(sys.argv[2], "w") as out:   # a distinct subset of rows per client
    out.write(lines[0])
    out.writelines(lines[1:][k * 10:])
PY
done
BEFORE=$(curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/v1/datasets" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
PIDS=()
for i in $(seq 1 8); do
    curl -s -o "$WORK/c$i.out" -w '%{http_code}' -H "Authorization: Bearer ${TOK[modeler]}" \
        -H 'Content-Type: text/csv' --data-binary "@$WORK/c$i.csv" \
        "http://127.0.0.1:$PORT/api/v1/datasets?name=client$i&target=target" >"$WORK/c$i.code" &
    PIDS+=($!)
done
wait "${PIDS[@]}"
check "8 concurrent uploads all 201" [ "$(cat "$WORK"/c?.code)" = 201201201201201201201201 ]
req GET "/api/v1/datasets?limit=100" "$ADMIN"
check "8 concurrent uploads all stored" [ "$(json 'j["total"]')" = $((BEFORE + 8)) ]
check "concurrent rows match their files" python3 - "$WORK" "$WORK/body" <<'PY'
import json, sys
d = sys.argv[1]
items = {x["name"]: x for x in json.load(open(sys.argv[2]))["items"]}
for i in range(1, 9):
    n = sum(1 for _ in open(f"{d}/c{i}.csv")) - 1
    assert items[f"client{i}"]["rows"] == n, (i, items[f"client{i}"]["rows"], n)
PY
req GET /api/v1/audit/verify "$ADMIN"
check "audit chain intact after concurrent writes" [ "$(json 'j["ok"]')" = True ]

# --- concurrency: 8 clients starting runs at once ------------------------------------------
PIDS=()
for i in $(seq 1 8); do
    curl -s -o "$WORK/r$i.out" -w '%{http_code}' -H "Authorization: Bearer ${TOK[modeler]}" \
        -H 'Content-Type: application/json' -d "$(train_body "par$i" 3)" \
        "http://127.0.0.1:$PORT/api/v1/teachers/train" >"$WORK/r$i.code" &
    PIDS+=($!)
done
wait "${PIDS[@]}"
check "8 concurrent run requests each get 202 or 503" \
    [ -z "$(cat "$WORK"/r?.code | fold -w3 | grep -v '^202$' | grep -v '^503$')" ]
ALL_DONE=1
for i in $(seq 1 8); do
    if [ "$(cat "$WORK/r$i.code")" = 202 ]; then
        id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/r$i.out")
        wait_run "$id" succeeded || ALL_DONE=0
    fi
done
check "every accepted concurrent run succeeds" [ "$ALL_DONE" = 1 ]
req GET /api/v1/audit/verify "$ADMIN"
check "audit chain intact after concurrent runs" [ "$(json 'j["ok"]')" = True ]

# --- slow clients are dropped ----------------------------------------------------------------
stop
start --connection-timeout 1
check "a client that stops sending is disconnected" python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")   # headers never finish
s.settimeout(10)
t0 = time.time()
data = s.recv(100)            # b"" once the server closes the connection
assert data == b"" and time.time() - t0 < 5, (data, time.time() - t0)
PY
req GET /api/v1/health ""
check "server still answers after dropping a slow client" [ "$STATUS" = 200 ]

# --- backup while serving, restore by serving the copy --------------------------------------
"$BIN" backup --data-dir "$DATA" --out "$WORK/backup" >/dev/null
check "glassbox backup while serving exits 0" [ $? = 0 ]
check "backup database passes integrity_check" [ "$(sqlite3 "$WORK/backup/glassbox.db" 'PRAGMA integrity_check')" = ok ]
"$BIN" backup --data-dir "$DATA" --out "$WORK/backup" >/dev/null 2>&1
check "backup refuses an existing directory (exit 2)" [ $? = 2 ]
req GET "/api/v1/datasets?limit=100" "$ADMIN"
LIVE_DATASETS=$(json 'sorted(d["id"] for d in j["items"])')
req GET "/api/v1/audit?limit=1" "$ADMIN"
LIVE_AUDIT=$(json 'j["total"]')
MAIN_PID=$PID; MAIN_PORT=$PORT
PORT=$(free_port)
"$BIN" serve --data-dir "$WORK/backup" --port "$PORT" >>"$WORK/stdout.log" 2>>"$WORK/stderr.log" &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health" && break; sleep 0.05; done
req GET "/api/v1/datasets?limit=100" "$ADMIN"
check "restored copy serves the same datasets with the same tokens" \
    [ "$STATUS $(json 'sorted(d["id"] for d in j["items"])')" = "200 $LIVE_DATASETS" ]
req GET /api/v1/audit/verify "$ADMIN"
check "restored audit chain intact and complete" [ "$(json 'j["ok"], j["entries"]')" = "True $LIVE_AUDIT" ]
req GET "/api/v1/teachers/$TCH" "$ADMIN"
check "restored teacher readable" [ "$STATUS" = 200 ]
check "restored blobs present" [ "$(find "$WORK/backup/blobs" -type f | wc -l)" = "$(find "$DATA/blobs" -type f | wc -l)" ]
stop
PID=$MAIN_PID; PORT=$MAIN_PORT

# --- TLS ----------------------------------------------------------------------------------------
if command -v openssl >/dev/null 2>&1; then
    stop
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
        -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
    PORT=$(free_port)
    "$BIN" serve --data-dir "$DATA" --port "$PORT" --tls-cert "$WORK/cert.pem" \
        --tls-key "$WORK/key.pem" >>"$WORK/stdout.log" 2>>"$WORK/stderr.log" &
    PID=$!
    TLS_STATUS=000
    for _ in $(seq 1 100); do
        TLS_STATUS=$(curl -sk -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
            "https://127.0.0.1:$PORT/api/v1/audit/verify")
        [ "$TLS_STATUS" = 200 ] && break
        sleep 0.05
    done
    check "HTTPS with --tls-cert/--tls-key" [ "$TLS_STATUS $(json 'j["ok"]')" = "200 True" ]
    check "plain HTTP is not served on the TLS port" \
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/health")" != 200 ]
    check "banner shows the https URL" grep -q "https://127.0.0.1:$PORT/" "$WORK/stdout.log"
fi

# --- request logs -------------------------------------------------------------------------------
check "one JSON log line per request" python3 - "$WORK/stderr.log" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if "request_id" in rec:
        for k in ("time", "request_id", "method", "route", "status", "duration_ms", "actor"):
            assert k in rec, (k, rec)
        n += 1
assert n > 50, n
PY

stop
echo "test_api: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
