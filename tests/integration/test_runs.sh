#!/usr/bin/env bash
# test_runs.sh - distillation runs over a real `glassbox serve` on loopback:
# upload -> teacher -> POST /runs -> poll progress -> report -> student ->
# export (json; sql run through sqlite3 and c compiled with cc, both
# compared with predict) -> predict (CSV and JSON, ?explain=1 adds up to the
# margin) -> report.html (CSP hash of its style) -> review -> compare ->
# audit verify; every 422 of a bad run request; cancel of a long run; kill -9
# during a run (interrupted after restart, integrity_check ok); 8 concurrent
# clients uploading and starting runs (202 or 503, nothing corrupted).
# Usage: tests/integration/test_runs.sh build/glassbox
set -uo pipefail

BIN=$(realpath "${1:?usage: $0 path/to/glassbox}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FX="$ROOT/tests/fixtures"
BC="$FX/datasets/breast_cancer_train.csv"
BC_TEST="$FX/datasets/breast_cancer_test.csv"
DIGITS="$FX/datasets/digits_train.csv"
DIGITS_TEST="$FX/datasets/digits_test.csv"
CREDIT="$FX/datasets/credit_train.csv"
WORK=$(mktemp -d /tmp/gb-runs-XXXXXX)
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

one_of() { # one_of VALUE CHOICE...
    local v="$1"; shift
    for c in "$@"; do [ "$v" = "$c" ] && return 0; done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() { # start [extra serve flags...]
    PORT=$(free_port)
    "$BIN" serve --data-dir "$DATA" --port "$PORT" "$@" \
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
    PID=""
}

# req METHOD PATH TOKEN [curl args...] -> $STATUS, body in $WORK/body
req() {
    local method="$1" path="$2" token="$3"; shift 3
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    STATUS=$(curl -s -X "$method" "${auth[@]}" -D "$WORK/headers" -o "$WORK/body" \
        -w '%{http_code}' "$@" "http://127.0.0.1:$PORT$path")
}

json() { # json EXPR: a Python expression on the last body (bound to j)
    python3 -c "import json,sys; j=json.load(open('$WORK/body')); print($1)" 2>/dev/null
}

is_error() { # is_error CODE [FIELD]
    python3 - "$WORK/body" "$1" "${2:-}" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert set(j) == {"error"}, j
assert e["code"] == sys.argv[2], e
assert isinstance(e["message"], str) and e["message"], e
assert isinstance(e["details"], dict), e
if sys.argv[3]:
    assert e["details"].get("field") == sys.argv[3], e
PY
}

post_run() { # post_run TOKEN JSON
    req POST /api/v1/runs "$1" -H 'Content-Type: application/json' -d "$2"
}

# wait_run ID STATUS [tries]: polls until the run has STATUS (0.1 s apart).
wait_run() {
    local id="$1" want="$2" tries="${3:-600}" st=""
    for _ in $(seq 1 "$tries"); do
        st=$(curl -s -H "Authorization: Bearer $ADMIN" \
            "http://127.0.0.1:$PORT/api/v1/runs/$id" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)
        [ "$st" = "$want" ] && return 0
        case "$st" in succeeded|failed|cancelled|interrupted) [ "$st" != "$want" ] && {
            echo "  run $id ended $st, wanted $want"; return 1; } ;; esac
        sleep 0.1
    done
    echo "  run $id still $st"
    return 1
}

# ---------------------------------------------------------------------------
echo "starting glassbox on a loopback port"
start --workers 1
ADMIN=$(cat "$DATA/admin-token")
declare -A TOK
for role in modeler validator viewer; do
    req POST /api/v1/tokens "$ADMIN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$role-user\",\"role\":\"$role\"}"
    TOK[$role]=$(json 'j["token"]')
done
MOD=${TOK[modeler]}

req POST "/api/v1/datasets?name=bc&target=target" "$MOD" -H 'Content-Type: text/csv' --data-binary "@$BC"
DS=$(json 'j["id"]')
req POST "/api/v1/datasets?name=digits&target=target" "$MOD" -H 'Content-Type: text/csv' --data-binary "@$DIGITS"
DS_DIGITS=$(json 'j["id"]')
req POST "/api/v1/datasets?name=credit&target=target" "$MOD" -H 'Content-Type: text/csv' --data-binary "@$CREDIT"
DS_CREDIT=$(json 'j["id"]')
req POST "/api/v1/teachers?name=bc-mlp" "$MOD" --data-binary "@$FX/distill/teacher_breast_cancer.json"
TCH=$(json 'j["id"]')
req POST "/api/v1/teachers?name=digits-mlp" "$MOD" --data-binary "@$FX/distill/teacher_digits.json"
TCH_DIGITS=$(json 'j["id"]')
check "fixtures uploaded" [ -n "$DS" ] && [ -n "$DS_DIGITS" ] && [ -n "$TCH" ] && [ -n "$TCH_DIGITS" ]

# --- a tree run from start to report ------------------------------------------------
post_run "${TOK[viewer]}" "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"tree\"}}"
check "viewer cannot start a run (403)" [ "$STATUS" = 403 ]
post_run "$MOD" "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH\"},
  \"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":4,\"min_samples_leaf\":5}},
  \"distill\":{\"temperature\":2,\"alpha\":0.1},\"split\":{\"test_fraction\":0.25,\"seed\":3},
  \"explain\":{\"level\":\"fast\",\"pdp_features\":3},\"seed\":7}"
check "POST /runs -> 202" [ "$STATUS" = 202 ]
check "202 body {id, status queued}" [ "$(json 'j["status"], j["id"].startswith("run_")')" = "queued True" ]
RUN=$(json 'j["id"]')
PHASES=""
for _ in $(seq 1 300); do
    req GET "/api/v1/runs/$RUN" "${TOK[viewer]}"
    PHASES="$PHASES $(json 'j["status"] + ":" + j["progress"]["phase"] + ":" + str(0 <= j["progress"]["fraction"] <= 1)')"
    [ "$(json 'j["status"]')" = succeeded ] && break
    sleep 0.05
done
check "run succeeded" [ "$(json 'j["status"], j["error"]')" = "succeeded None" ]
check "progress fractions stay in [0,1]" bash -c "! grep -q False <<<'$PHASES'"
check "progress ends done:1" [ "$(json 'j["progress"]["phase"], j["progress"]["fraction"]')" = "done 1" ]
check "normalised config stored" [ "$(json 'j["config"]["student"]["params"]["max_depth"], j["config"]["distill"]["temperature"], j["config"]["split"]["seed"], j["config"]["distill"]["augment"]["method"]')" = "4 2 3 none" ]
check "report included" [ "$(json 'j["report"]["task"], j["report"]["split"]["seed"], j["report"]["distill"]["alpha"]')" = "binary 3 0.1" ]
check "report has metrics, fidelity, explanations" [ "$(json 'sorted(j["report"]["metrics"]), "ci95" in j["report"]["fidelity"], len(j["report"]["explanations"]["global"]) > 0')" = "['baseline', 'student', 'teacher'] True True" ]
cp "$WORK/body" "$WORK/run.json"

req GET "/api/v1/runs/$RUN/student" "${TOK[viewer]}"
check "student artifact 200" [ "$STATUS" = 200 ]
cp "$WORK/body" "$WORK/student.json"
check "hashes.student is the artifact's SHA-256" [ "$(sha256sum <"$WORK/student.json" | cut -c1-64)" = "$(python3 -c "import json; print(json.load(open('$WORK/run.json'))['report']['hashes']['student'])")" ]
req GET "/api/v1/runs/$RUN/export?format=json" "${TOK[viewer]}"
check "export json is the artifact" cmp -s "$WORK/body" "$WORK/student.json"
req GET "/api/v1/runs/$RUN/export?format=yaml" "${TOK[viewer]}"
check "export of an unknown format -> 400" [ "$STATUS" = 400 ]

# predict on the test rows (CSV) is the reference for the exports
req POST "/api/v1/runs/$RUN/predict?explain=1" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$BC_TEST"
check "predict CSV 200" [ "$STATUS" = 200 ]
check "predict names the classes" [ "$(json 'j["classes"], j["task"]')" = "['0', '1'] binary" ]
check "a tree explains by attributions" [ "$(json 'j["explanation_kind"]')" = attributions ]
cp "$WORK/body" "$WORK/pred.json"
check "one prediction per test row" [ "$(json 'len(j["predictions"]), len(j["explanations"])')" = "$(( $(wc -l <"$BC_TEST") - 1 )) $(( $(wc -l <"$BC_TEST") - 1 ))" ]
check "explanations add up to the logit" python3 - "$WORK/pred.json" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
for p, e in zip(j["predictions"], j["explanations"]):
    margin = e["bias"] + sum(e["contributions"].values())
    p1 = min(max(p[1], 1e-15), 1 - 1e-15)
    assert abs(margin - math.log(p1 / (1 - p1))) < 1e-6, (margin, p)
PY

# SQL export through sqlite3 on the same rows
req GET "/api/v1/runs/$RUN/export?format=sql" "${TOK[viewer]}"
check "export sql 200 application/sql" grep -qi '^Content-Type: application/sql' "$WORK/headers"
cp "$WORK/body" "$WORK/student.sql"
python3 - "$BC_TEST" "$WORK/student.sql" >"$WORK/run.sql" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
cols = ", ".join('"%s"' % c for c in rows[0])
print("CREATE TABLE t (rid INTEGER, %s);" % ", ".join('"%s" REAL' % c for c in rows[0]))
for i, r in enumerate(rows[1:]):
    vals = ", ".join("NULL" if v in ("", "NA") else v for v in r)
    print("INSERT INTO t VALUES (%d, %s);" % (i, vals))
print(".mode csv")
print("SELECT rid, " + open(sys.argv[2]).read() + " FROM t ORDER BY rid;")
PY
sqlite3 :memory: <"$WORK/run.sql" >"$WORK/sql.out" 2>"$WORK/sql.err"
check "sql export matches predict" python3 - "$WORK/sql.out" "$WORK/pred.json" <<'PY'
import csv, json, sys
pred = json.load(open(sys.argv[2]))["predictions"]
rows = list(csv.reader(open(sys.argv[1])))
assert len(rows) == len(pred), (len(rows), len(pred))
for r, p in zip(rows, pred):
    assert abs(float(r[1]) - p[0]) < 1e-12 and abs(float(r[2]) - p[1]) < 1e-12, (r, p)
PY

# C export compiled with cc on the same rows
req GET "/api/v1/runs/$RUN/export?format=c" "${TOK[viewer]}"
check "export c 200 text/x-c" grep -qi '^Content-Type: text/x-c' "$WORK/headers"
cp "$WORK/body" "$WORK/student.c"
python3 - "$BC_TEST" "$WORK/student.json" >"$WORK/main.c" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
feats = [f["name"] if isinstance(f, dict) else f for f in json.load(open(sys.argv[2]))["features"]]
print('#include <math.h>\n#include <stdio.h>\nvoid glassbox_predict(const double *x, double *out);')
print("static const double X[%d][%d] = {" % (len(rows), len(feats)))
for r in rows:
    print("{" + ", ".join(("NAN" if r[f] in ("", "NA") else repr(float(r[f]))) for f in feats) + "},")
print("};\nint main(void){double out[2];for(int i=0;i<%d;i++){glassbox_predict(X[i],out);"
      'printf("%%.17g,%%.17g\\n",out[0],out[1]);}return 0;}' % len(rows))
PY
check "c export compiles" cc -std=c11 -O1 -o "$WORK/student_c" "$WORK/main.c" "$WORK/student.c" -lm
"$WORK/student_c" >"$WORK/c.out" 2>/dev/null
check "c export matches predict" python3 - "$WORK/c.out" "$WORK/pred.json" <<'PY'
import json, sys
pred = json.load(open(sys.argv[2]))["predictions"]
rows = [l.split(",") for l in open(sys.argv[1]).read().split()]
assert len(rows) == len(pred)
for r, p in zip(rows, pred):
    assert float(r[0]) == p[0] and float(r[1]) == p[1], (r, p)
PY

# JSON rows give the same numbers as CSV rows
python3 - "$BC_TEST" >"$WORK/rows.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:5]
print(json.dumps({"rows": [{k: (float(v) if k != "target" else v) for k, v in r.items()} for r in rows]}))
PY
req POST "/api/v1/runs/$RUN/predict?explain=1" "${TOK[viewer]}" -H 'Content-Type: application/json' --data-binary "@$WORK/rows.json"
check "predict JSON 200" [ "$STATUS" = 200 ]
check "predict JSON rows = CSV rows" python3 - "$WORK/body" "$WORK/pred.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["predictions"] == b["predictions"][:5]
assert a["explanations"] == b["explanations"][:5]
PY
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$BC_TEST"
check "predict without explain: no explanation fields" [ "$(json 'sorted(j)')" = "['classes', 'predictions', 'run_id', 'task']" ]
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: application/json' -d '{"rows":[{"mean_radius":"wide"}]}'
check "predict: a text value for a numeric column -> 422" [ "$STATUS" = 422 ]
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: application/json' -d '{"rows":[{"mean_radius":1}]}'
check "predict: missing columns named (422)" [ "$STATUS" = 422 ] && grep -q worst_radius "$WORK/body"
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: text/plain' -d 'x'
check "predict: other content type (415)" [ "$STATUS" = 415 ]
req POST "/api/v1/runs/run_doesnotexist/predict" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$BC_TEST"
check "predict: unknown run (404)" [ "$STATUS" = 404 ]

# report.html
req GET "/api/v1/runs/$RUN/report.html" "${TOK[viewer]}"
check "report.html 200 text/html" [ "$STATUS" = 200 ] && grep -qi '^Content-Type: text/html' "$WORK/headers"
check "report.html: no script, CSP hash of its style" python3 - "$WORK/body" "$WORK/headers" <<'PY'
import base64, hashlib, re, sys
page = open(sys.argv[1]).read(); headers = open(sys.argv[2]).read()
assert "<script" not in page.lower()
styles = re.findall(r"<style>(.*?)</style>", page, re.S)
assert len(styles) == 1
h = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
csps = re.findall(r"(?im)^Content-Security-Policy: (.*?)\r?$", headers)
assert len(csps) == 1, csps  # browsers enforce every policy they are sent
csp = csps[0]
assert "style-src 'sha256-%s'" % h in csp, csp
assert "default-src 'none'" in csp
for part in ("Metrics on the test split", "Fidelity", "decile", "Global explanations",
             "rules (one per leaf)", "Hashes", "No review yet"):
    assert part in page, part
PY

# review, then the report shows it
req POST "/api/v1/runs/$RUN/reviews" "${TOK[validator]}" -H 'Content-Type: application/json' \
    -d '{"verdict":"approved","comment":"fidelity <good> & stable"}'
check "validator review 201" [ "$STATUS" = 201 ]
req GET "/api/v1/runs/$RUN/report.html" "${TOK[viewer]}"
check "report.html lists the review, escaped" grep -q "fidelity &lt;good&gt; &amp; stable" "$WORK/body"

# a second run (logistic) and compare
post_run "$MOD" "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"logistic\",\"params\":{\"l2\":0.01}},\"explain\":\"fast\"}"
RUN2=$(json 'j["id"]')
check "logistic run succeeds" wait_run "$RUN2" succeeded
req GET "/api/v1/runs/$RUN2/report.html" "${TOK[viewer]}"
check "report.html of a logistic student lists coefficients" grep -q "odds ratio" "$WORK/body"
req GET "/api/v1/compare?runs=$RUN,$RUN2" "${TOK[viewer]}"
check "compare 200" [ "$STATUS" = 200 ]
check "compare aligns two runs" python3 - "$WORK/body" "$RUN" "$RUN2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert [r["id"] for r in j["runs"]] == sys.argv[2:4]
assert [r["student"]["type"] for r in j["runs"]] == ["tree", "logistic"]
for r in j["runs"]:
    assert set(r["metrics"]) == {"teacher", "student", "baseline"}
    assert 0 <= r["fidelity"]["agreement"] <= 1
assert len(j["features"]) == 30
assert all(len(g[w]) == 2 and None not in g[w] for g in j["features"] for w in ("teacher", "student", "baseline"))
PY
req GET "/api/v1/compare?runs=$RUN,run_nope" "${TOK[viewer]}"
check "compare unknown id -> 404 naming it" [ "$STATUS" = 404 ] && grep -q run_nope "$WORK/body"
req GET "/api/v1/compare?runs=$RUN" "${TOK[viewer]}"
check "compare one run -> 400" [ "$STATUS" = 400 ]

# an SBDT run: ?explain=1 gives each row's maximum-probability path, checked
# against an independent evaluation of the artifact (every leaf's path
# probability, the argmax, the path back to the root)
post_run "$MOD" "{\"dataset_id\":\"$DS_DIGITS\",\"teacher\":{\"id\":\"$TCH_DIGITS\"},\"student\":{\"type\":\"sbdt\",\"params\":{\"max_depth\":4,\"epochs\":5}},\"explain\":\"none\",\"seed\":5}"
SB=$(json 'j["id"]')
check "sbdt run succeeds" wait_run "$SB" succeeded
req GET "/api/v1/runs/$SB/student" "${TOK[viewer]}"
cp "$WORK/body" "$WORK/sbdt.json"
# the digits test rows with some cells blank (missing: imputed with the mean)
/usr/bin/python3 - "$DIGITS_TEST" >"$WORK/digits_rows.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(rows[0])
for i, r in enumerate(rows[1:]):
    if i % 7 == 3:
        for c in range(i % 5, len(r) - 1, 9):
            r[c] = ""
    w.writerow(r)
PY
req POST "/api/v1/runs/$SB/predict" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$WORK/digits_rows.csv"
check "sbdt predict without explain: no explanation fields" [ "$(json 'sorted(j)')" = "['classes', 'predictions', 'run_id', 'task']" ]
cp "$WORK/body" "$WORK/sbdt_plain.json"
req POST "/api/v1/runs/$SB/predict?explain=1" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$WORK/digits_rows.csv"
check "sbdt predict?explain=1 200" [ "$STATUS" = 200 ]
cp "$WORK/body" "$WORK/sbdt_pred.json"
check "sbdt paths equal an independent evaluation to 1e-12" /usr/bin/python3 - "$WORK/digits_rows.csv" "$WORK/sbdt.json" "$WORK/sbdt_pred.json" "$WORK/sbdt_plain.json" <<'PY'
import csv, json, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
a = json.load(open(sys.argv[2]))
j = json.load(open(sys.argv[3]))
plain = json.load(open(sys.argv[4]))
assert sorted(j) == ["classes", "explanation_kind", "explanations", "predictions",
                     "run_id", "task"], sorted(j)
assert j["explanation_kind"] == "path" and j["task"] == "multiclass"
assert j["classes"] == a["classes"] and j["predictions"] == plain["predictions"]
feats = a["features"]
X = np.array([[float(r[f]) if r[f] != "" else np.nan for f in feats] for r in rows])
Z = (X - np.array(a["standardise"]["mean"])) / np.array(a["standardise"]["scale"])
Z[np.isnan(Z)] = 0.0  # a missing value is imputed with the mean
d = a["depth"]
n_inner = 2 ** d - 1
assert [e["node"] for e in a["inner"]] == list(range(n_inner))
assert [(e["leaf"], e["node"]) for e in a["leaves"]] == [(l, n_inner + l) for l in range(n_inner + 1)]
W = np.array([e["filter"] for e in a["inner"]])
b = np.array([e["bias"] for e in a["inner"]])
P = 1.0 / (1.0 + np.exp(-a["beta"] * (Z @ W.T + b)))  # probability of going right
assert len(j["explanations"]) == len(rows) == len(j["predictions"])
worst = 0.0
greedy_differs = 0
for i, (e, pred) in enumerate(zip(j["explanations"], j["predictions"])):
    p = P[i]
    mu = np.zeros(2 * n_inner + 1)  # path probability of every node, root first
    mu[0] = 1.0
    for k in range(n_inner):
        mu[2 * k + 1] = mu[k] * (1.0 - p[k])
        mu[2 * k + 2] = mu[k] * p[k]
    leaf = int(np.argmax(mu[n_inner:]))  # ties: the lowest leaf
    steps, node = [], n_inner + leaf
    while node > 0:
        parent = (node - 1) // 2
        right = node == 2 * parent + 2
        steps.append((parent, int(np.floor(np.log2(parent + 1))),
                      "right" if right else "left", p[parent] if right else 1.0 - p[parent]))
        node = parent
    steps.reverse()
    g = 0  # the greedy walk (larger branch at each node), for information only
    while g < n_inner:
        g = 2 * g + 2 if p[g] > 0.5 else 2 * g + 1
    greedy_differs += g != n_inner + leaf
    assert sorted(e) == ["leaf", "leaf_node", "path", "path_probability"], sorted(e)
    assert (e["leaf"], e["leaf_node"]) == (leaf, n_inner + leaf), (i, e["leaf"], leaf)
    assert len(e["path"]) == d
    for s, (node, depth, direction, prob) in zip(e["path"], steps):
        assert sorted(s) == ["depth", "direction", "node", "probability"], sorted(s)
        assert (s["node"], s["depth"], s["direction"]) == (node, depth, direction), (i, s)
        assert a["inner"][s["node"]]["depth"] == s["depth"]
        worst = max(worst, abs(s["probability"] - prob))
    prod = float(np.prod([s["probability"] for s in e["path"]]))
    worst = max(worst, abs(e["path_probability"] - mu[n_inner + leaf]),
                abs(e["path_probability"] - prod))
    # the prediction shown is the distribution of the leaf the path reaches
    assert pred == a["leaves"][e["leaf"]]["distribution"], i
assert worst <= 1e-12, worst
print("    sbdt paths: %d rows, max abs difference %.3g, greedy walk differs on %d"
      % (len(rows), worst, greedy_differs))
PY
req POST "/api/v1/runs/$SB/predict?explain=1" "${TOK[viewer]}" -H 'Content-Type: application/json' \
    -d '{"rows":[{"px0":0,"px10":null}]}'
check "sbdt predict?explain=1: missing features named (422)" [ "$STATUS" = 422 ] && grep -q px63 "$WORK/body"

# an ensemble of two teachers with weights
post_run "$MOD" "{\"dataset_id\":\"$DS\",\"teacher\":{\"ids\":[\"$TCH\",\"$TCH\"],\"weights\":[1,3]},\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":2}},\"explain\":\"none\"}"
ENS=$(json 'j["id"]')
check "ensemble run succeeds" wait_run "$ENS" succeeded
req GET "/api/v1/runs/$ENS" "$ADMIN"
check "ensemble teacher kind and hash" [ "$(json 'j["report"]["teacher"]["kind"], j["teacher_ids"] == ["'"$TCH"'"] * 2, len(j["report"]["hashes"]["teacher"])')" = "ensemble True 64" ]

# augmentation, settings search and the frontier through the API, with a GAM
post_run "$MOD" "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"gam\",\"params\":{\"rounds\":200,\"bags\":2}},\"distill\":{\"augment\":{\"method\":\"munge\",\"multiplier\":1},\"search\":{\"temperatures\":[1,2],\"augment\":true}},\"explain\":{\"level\":\"none\",\"frontier\":true}}"
AUG=$(json 'j["id"]')
check "augment + search + frontier run succeeds" wait_run "$AUG" succeeded 1200
req GET "/api/v1/runs/$AUG" "$ADMIN"
check "report lists 4 search candidates, one chosen" [ "$(json 'len(j["report"]["search"]["candidates"]), sum(c["chosen"] for c in j["report"]["search"]["candidates"])')" = "4 1" ]
check "report has a GAM frontier" [ "$(json 'j["report"]["frontier"][0]["setting"], len(j["report"]["frontier"]) > 2')" = "{'rounds': '10'} True" ]
check "augmentation reported when chosen" [ "$(json '("augmentation" in j["report"]) == [c for c in j["report"]["search"]["candidates"] if c["chosen"]][0]["augment"]')" = "True" ]

post_run "$MOD" "{\"dataset_id\":\"$DS_CREDIT\",\"teacher\":{\"scores\":[]},\"student\":{\"type\":\"logistic\"}}"
check "empty scores list -> 422" is_error unprocessable teacher.scores

# --- 422 (and 404) before queueing -----------------------------------------------
bad_run() { # bad_run DESCRIPTION STATUS FIELD JSON
    post_run "$MOD" "$4"
    check "$1 -> $2" [ "$STATUS" = "$2" ]
    check "$1: error names $3" is_error "$( [ "$2" = 404 ] && echo not_found || echo unprocessable)" "$3"
}
BASE="\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH\"}"
bad_run "unknown student type" 422 student.type "{$BASE,\"student\":{\"type\":\"forest\"}}"
bad_run "tree depth 1000" 422 student.params.max_depth "{$BASE,\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":1000}}}"
bad_run "alpha 2" 422 distill.alpha "{$BASE,\"student\":{\"type\":\"tree\"},\"distill\":{\"alpha\":2}}"
bad_run "temperature 0" 422 distill.temperature "{$BASE,\"student\":{\"type\":\"tree\"},\"distill\":{\"temperature\":0}}"
bad_run "test_fraction 1" 422 split.test_fraction "{$BASE,\"student\":{\"type\":\"tree\"},\"split\":{\"test_fraction\":1}}"
bad_run "unknown top-level field" 422 bogus "{$BASE,\"student\":{\"type\":\"tree\"},\"bogus\":1}"
check "every unknown field is listed" grep -q "'bogus'" "$WORK/body"
bad_run "unknown distill field" 422 distill.temprature "{$BASE,\"student\":{\"type\":\"tree\"},\"distill\":{\"temprature\":2}}"
bad_run "unknown explain field" 422 explain.shapley "{$BASE,\"student\":{\"type\":\"tree\"},\"explain\":{\"shapley\":true}}"
bad_run "unknown split field" 422 split.sed "{$BASE,\"student\":{\"type\":\"tree\"},\"split\":{\"sed\":1}}"
bad_run "unknown student parameter" 422 student.params.depth "{$BASE,\"student\":{\"type\":\"tree\",\"params\":{\"depth\":3}}}"
bad_run "student type missing" 422 student.type "{$BASE,\"student\":{}}"
bad_run "teacher missing" 422 teacher "{\"dataset_id\":\"$DS\",\"student\":{\"type\":\"tree\"}}"
bad_run "augment method" 422 distill.augment.method "{$BASE,\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{\"method\":\"smote\"}}}"
bad_run "explain level" 422 explain.level "{$BASE,\"student\":{\"type\":\"tree\"},\"explain\":{\"level\":\"deep\"}}"
bad_run "unknown dataset" 404 dataset_id "{\"dataset_id\":\"ds_nope\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"tree\"}}"
bad_run "unknown teacher" 404 teacher.id "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"tch_nope\"},\"student\":{\"type\":\"tree\"}}"
bad_run "teacher features missing" 422 px0 "{\"dataset_id\":\"$DS\",\"teacher\":{\"id\":\"$TCH_DIGITS\"},\"student\":{\"type\":\"tree\"}}"
check "every missing feature listed" [ "$(json 'len(j["error"]["details"]["missing"]), j["error"]["details"]["missing"][63]')" = "64 px63" ]
bad_run "scores column not a probability" 422 mean_radius "{\"dataset_id\":\"$DS\",\"teacher\":{\"scores\":[\"mean_radius\"]},\"student\":{\"type\":\"tree\"}}"
bad_run "scores column unknown" 422 p_1 "{\"dataset_id\":\"$DS\",\"teacher\":{\"scores\":[\"p_1\"]},\"student\":{\"type\":\"tree\"}}"
bad_run "augment with score columns" 422 distill.augment "{\"dataset_id\":\"$DS\",\"teacher\":{\"scores\":[\"target\"]},\"student\":{\"type\":\"tree\"},\"distill\":{\"augment\":{\"method\":\"munge\",\"multiplier\":2}}}"
req POST /api/v1/runs "$MOD" -H 'Content-Type: application/json' -d '{"dataset_id":'
check "malformed JSON -> 400" [ "$STATUS" = 400 ]
req POST /api/v1/runs "$MOD" -H 'Content-Type: text/plain' -d '{}'
check "wrong content type -> 415" [ "$STATUS" = 415 ]
req GET "/api/v1/runs?status=queued" "$ADMIN"
check "no bad request was queued" [ "$(json 'j["total"]')" = 0 ]

# --- cancel a long run -----------------------------------------------------------
LONG="{\"dataset_id\":\"$DS_DIGITS\",\"teacher\":{\"id\":\"$TCH_DIGITS\"},
  \"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":32}},
  \"distill\":{\"augment\":{\"method\":\"munge\",\"multiplier\":10},
    \"search\":{\"temperatures\":[1,2,3,4,5,6,7,8],\"alphas\":[0,0.1,0.2,0.3,0.4,0.5,0.6,0.7]}},
  \"explain\":{\"level\":\"full\",\"frontier\":true}}"
post_run "$MOD" "$LONG"
LONG1=$(json 'j["id"]')
check "long run starts" wait_run "$LONG1" running
sleep 0.5
req POST "/api/v1/runs/$LONG1/predict" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$BC_TEST"
check "predict on a running run -> 404 (no student yet)" [ "$STATUS" = 404 ]
req GET "/api/v1/runs/$LONG1/report.html" "${TOK[viewer]}"
check "report.html of a running run -> 409" [ "$STATUS" = 409 ]
req GET "/api/v1/compare?runs=$RUN,$LONG1" "${TOK[viewer]}"
check "compare with a running run -> 409 naming it" [ "$STATUS" = 409 ] && grep -q "$LONG1" "$WORK/body"
# a run queued behind it whose dataset bytes vanish from disk fails clearly
awk 'NR <= 200' "$BC" >"$WORK/bc_small.csv"
req POST "/api/v1/datasets?name=small&target=target" "$MOD" -H 'Content-Type: text/csv' --data-binary "@$WORK/bc_small.csv"
SMALL_SHA=$(json 'j["sha256"]')
post_run "$MOD" "{\"dataset_id\":\"$(json 'j["id"]')\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"tree\"}}"
DOOMED=$(json 'j["id"]')
check "run queued behind the long run" [ "$STATUS" = 202 ]
rm -f "$DATA/blobs/${SMALL_SHA:0:2}/${SMALL_SHA:2}"
req POST "/api/v1/runs/$LONG1/cancel" "$MOD"
check "cancel accepted" [ "$STATUS" = 200 ]
check "long run is cancelled" wait_run "$LONG1" cancelled 300
req GET "/api/v1/runs/$LONG1" "$ADMIN"
check "cancelled run has no report" [ "$(json 'j["report"], j["error"]["code"]')" = "None cancelled" ]
check "run without its data fails" wait_run "$DOOMED" failed 300
req GET "/api/v1/runs/$DOOMED" "$ADMIN"
check "failed run records a clear error" python3 - "$WORK/body" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert j["report"] is None
assert e["code"] and "cannot" in e["message"] and isinstance(e["details"], dict), e
PY

# --- kill -9 during a run ------------------------------------------------------------
post_run "$MOD" "$LONG"
LONG2=$(json 'j["id"]')
check "run before kill -9 starts" wait_run "$LONG2" running
sleep 0.5
{ kill -9 "$PID"; wait "$PID"; } 2>/dev/null
PID=""
check "database integrity after kill -9" [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]
start --workers 1 --max-queued 3
req GET "/api/v1/runs/$LONG2" "$ADMIN"
check "run killed by kill -9 is interrupted after restart" [ "$(json 'j["status"], j["error"]["code"], j["report"]')" = "interrupted interrupted None" ]
req POST "/api/v1/runs/$RUN/predict" "${TOK[viewer]}" -H 'Content-Type: text/csv' --data-binary "@$BC_TEST"
check "predictions identical after restart" python3 -c "
import json; a=json.load(open('$WORK/body'))['predictions']; b=json.load(open('$WORK/pred.json'))['predictions']; assert a==b"

# --- 8 concurrent clients uploading and starting runs (queue bound 3) -----------------
CLIENTS=()
for i in $(seq 1 8); do
    (
        awk -v i="$i" 'NR==1 || NR % 2 == (i % 2)' "$BC" >"$WORK/c$i.csv"
        s=$(curl -s -o "$WORK/up$i" -w '%{http_code}' -H "Authorization: Bearer $MOD" \
            -H 'Content-Type: text/csv' --data-binary "@$WORK/c$i.csv" \
            "http://127.0.0.1:$PORT/api/v1/datasets?name=c$i&target=target")
        d=$(python3 -c "import json; print(json.load(open('$WORK/up$i'))['id'])" 2>/dev/null)
        r=$(curl -s -o "$WORK/run$i" -w '%{http_code}' -H "Authorization: Bearer $MOD" \
            -H 'Content-Type: application/json' \
            -d "{\"dataset_id\":\"$d\",\"teacher\":{\"id\":\"$TCH\"},\"student\":{\"type\":\"tree\",\"params\":{\"max_depth\":3}},\"explain\":\"none\"}" \
            "http://127.0.0.1:$PORT/api/v1/runs")
        echo "$s $r" >"$WORK/status$i"
    ) &
    CLIENTS+=($!)
done
wait "${CLIENTS[@]}"
ACCEPTED=()
for i in $(seq 1 8); do
    read -r s r <"$WORK/status$i"
    check "client $i upload 201/200" one_of "$s" 201 200
    check "client $i run 202 or 503" one_of "$r" 202 503
    if [ "$r" = 202 ]; then
        ACCEPTED+=("$(python3 -c "import json; print(json.load(open('$WORK/run$i'))['id'])")")
    else
        check "client $i 503 body" python3 -c "import json; assert json.load(open('$WORK/run$i'))['error']['code'] == 'queue_full'"
    fi
done
check "some concurrent runs accepted" [ "${#ACCEPTED[@]}" -ge 1 ]
for r in "${ACCEPTED[@]}"; do
    check "concurrent run $r succeeds" wait_run "$r" succeeded
done
check "database integrity after concurrency" [ "$(sqlite3 "$DATA/glassbox.db" 'PRAGMA integrity_check')" = ok ]
check "one stored report per succeeded run" [ "$(sqlite3 "$DATA/glassbox.db" "SELECT (SELECT count(*) FROM runs WHERE status='succeeded') = (SELECT count(*) FROM reports)")" = 1 ]

# --- audit -------------------------------------------------------------------------
req GET /api/v1/audit/verify "${TOK[validator]}"
check "audit chain verifies" [ "$(json 'j["ok"]')" = True ]
req GET "/api/v1/audit?limit=1000" "$ADMIN"
check "run.create and run.succeeded audited" python3 - "$WORK/body" "$RUN" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
acts = {(e["action"], e["object"]) for e in j["items"]}
assert ("run.create", sys.argv[2]) in acts, acts
assert ("run.succeeded", sys.argv[2]) in acts
assert any(a == "run.cancel" for a, _ in acts)
PY

stop
check "no sanitizer report (with an ASan build)" bash -c "! grep -q 'Sanitizer\|runtime error' '$WORK/stderr.log'"
echo "test_runs: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
