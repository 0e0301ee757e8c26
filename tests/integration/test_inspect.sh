#!/usr/bin/env bash
# glassbox inspect: dataset JSON for a good CSV, exit 2 with a message naming
# line and column for a bad one.  $1 = path to the glassbox binary.
set -euo pipefail
bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_inspect: $*" >&2; exit 1; }

data="$root/tests/fixtures/datasets/breast_cancer_train.csv"
"$bin" inspect --data "$data" --target target >"$tmp/out.json" || fail "inspect exited $?"
expect_sha="$(sha256sum "$data" | cut -d' ' -f1)"
/usr/bin/python3 - "$tmp/out.json" "$expect_sha" "$data" <<'PY' || fail "JSON checks failed"
import json, sys, csv, statistics
d = json.load(open(sys.argv[1]))
assert d["name"] == "breast_cancer_train.csv", d["name"]
assert d["sha256"] == sys.argv[2], d["sha256"]
rows = list(csv.DictReader(open(sys.argv[3])))
assert d["rows"] == len(rows), d["rows"]
assert d["target"] == "target" and d["task"] == "binary", (d["target"], d["task"])
assert d["classes"] == ["0", "1"], d["classes"]
names = [c["name"] for c in d["columns"]]
assert names == list(rows[0].keys()), names
for c in d["columns"]:
    assert c["type"] == "numeric" and c["missing"] == 0, c
    v = [float(r[c["name"]]) for r in rows]
    assert c["min"] == min(v) and c["max"] == max(v), c
    assert abs(c["mean"] - statistics.fmean(v)) <= 1e-9 * max(1.0, abs(c["mean"])), c
    assert abs(c["sd"] - statistics.stdev(v)) <= 1e-9 * max(1.0, c["sd"]), c
print("  inspect: breast_cancer JSON matches python csv/statistics")
PY

# Categorical columns, missing values, multiclass inference.
printf 'age,city,grade\n31,Oslo,2\nNA,Bergen,1\n45,"Oslo",3\n' >"$tmp/small.csv"
"$bin" inspect --data "$tmp/small.csv" --target grade >"$tmp/small.json" || fail "small exited $?"
/usr/bin/python3 - "$tmp/small.json" <<'PY' || fail "small JSON checks failed"
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in d["columns"]}
assert c["age"]["missing"] == 1 and c["age"]["mean"] == 38, c["age"]
assert c["city"]["type"] == "categorical" and c["city"]["levels"] == ["Bergen", "Oslo"], c["city"]
assert d["task"] == "multiclass" and d["classes"] == ["1", "2", "3"], d
print("  inspect: categorical levels, missing counts, multiclass")
PY
"$bin" inspect --data "$tmp/small.csv" --target grade --task regression | grep -q '"task":[[:space:]]*"regression"' \
    || fail "--task regression not honoured"

# A ragged row: exit 2, message with line and column.
printf 'a,b,c\n1,2,3\n4,5\n' >"$tmp/bad.csv"
set +e
"$bin" inspect --data "$tmp/bad.csv" --target c >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad CSV: exit $rc, expected 2"
grep -q "line 3, column 3" "$tmp/bad.err" || fail "bad CSV message lacks line/column: $(cat "$tmp/bad.err")"
grep -q "ragged" "$tmp/bad.err" || fail "bad CSV message: $(cat "$tmp/bad.err")"
[ ! -s "$tmp/bad.out" ] || fail "bad CSV printed something on stdout"
echo "  inspect: ragged row -> exit 2, $(cat "$tmp/bad.err")"

# Target with a missing value, unknown target, missing file, bad usage.
printf 'x,y\n1,0\n2,\n3,1\n' >"$tmp/ymiss.csv"
set +e
"$bin" inspect --data "$tmp/ymiss.csv" --target y 2>"$tmp/e1"; r1=$?
"$bin" inspect --data "$tmp/ymiss.csv" --target nope 2>"$tmp/e2"; r2=$?
"$bin" inspect --data "$tmp/does-not-exist.csv" --target y 2>"$tmp/e3"; r3=$?
"$bin" inspect --target y 2>"$tmp/e4"; r4=$?
"$bin" inspect --data "$tmp/ymiss.csv" --target x --task nonsense 2>"$tmp/e5"; r5=$?
set -e
[ "$r1" -eq 2 ] && grep -q "line 3" "$tmp/e1" || fail "target with missing: $r1 $(cat "$tmp/e1")"
[ "$r2" -eq 2 ] && grep -q "nope" "$tmp/e2" || fail "unknown target: $r2 $(cat "$tmp/e2")"
[ "$r3" -eq 2 ] && grep -q "does-not-exist" "$tmp/e3" || fail "missing file: $r3 $(cat "$tmp/e3")"
[ "$r4" -eq 2 ] || fail "missing --data: $r4"
[ "$r5" -eq 2 ] && grep -q "nonsense" "$tmp/e5" || fail "bad task: $r5"
echo "  inspect: target errors, missing file and usage errors -> exit 2"
