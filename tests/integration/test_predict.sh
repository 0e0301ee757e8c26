#!/usr/bin/env bash
# glassbox predict on the LightGBM fixtures: the output must equal the
# reference predictions within 1e-9, and a dataset missing features must
# fail with exit code 2 and a message naming every missing feature.  The
# other teacher formats go through the same command: XGBoost (JSON and
# UBJSON, float32: 1e-6), glassbox-mlp (1e-9), and a student artifact.
set -uo pipefail
bin="${1:-build/glassbox}"
fx=tests/fixtures/lightgbm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

compare() { # got expected [tolerance [values]]: "values" skips the header
    # check and compares the expected columns with the last ones of the output
    /usr/bin/python3 - "$1" "$2" "${3:-1e-9}" "${4:-header}" <<'PY'
import csv, sys
got = list(csv.reader(open(sys.argv[1])))
exp = list(csv.reader(open(sys.argv[2])))
tol, mode = float(sys.argv[3]), sys.argv[4]
if mode == "header" and got[0] != exp[0]:
    sys.exit("header %r != %r" % (got[0], exp[0]))
if len(got) != len(exp):
    sys.exit("%d rows, expected %d" % (len(got) - 1, len(exp) - 1))
k = len(exp[0])
worst = 0.0
for g, e in zip(got[1:], exp[1:]):
    for a, b in zip(g[len(g) - k:], e):
        worst = max(worst, abs(float(a) - float(b)))
if worst > tol:
    sys.exit("max abs difference %g > %g" % (worst, tol))
print("    max abs difference %g over %d rows" % (worst, len(got) - 1))
PY
}

for model in binary multiclass regression; do
    if ! "$bin" predict --model "$fx/$model.txt" --data "$fx/data.csv" --out "$tmp/$model.csv"; then
        echo "  predict $model: nonzero exit"; fail=1; continue
    fi
    if compare "$tmp/$model.csv" "$fx/${model}_expected.csv"; then
        echo "  predict $model --out: ok"
    else
        echo "  predict $model --out: MISMATCH"; fail=1
    fi
done

# XGBoost JSON and UBJSON (categorical levels taken from the data).
xg=tests/fixtures/xgboost
for pair in binary.json:binary multiclass.ubj:multiclass regression.ubj:regression; do
    file=${pair%%:*}; name=${pair##*:}
    if "$bin" predict --model "$xg/$file" --data "$xg/dataset.csv" --out "$tmp/xgb.csv" &&
        compare "$tmp/xgb.csv" "$xg/${name}_pred.csv" 1e-6 values; then
        echo "  predict xgboost $file: ok"
    else
        echo "  predict xgboost $file: FAILED"; fail=1
    fi
done

# glassbox-mlp
mlp=tests/fixtures/mlp
for name in binary_softmax diabetes_sigmoid; do
    if "$bin" predict --model "$mlp/$name.json" --data "$mlp/${name}_data.csv" --out "$tmp/mlp.csv" &&
        compare "$tmp/mlp.csv" "$mlp/${name}_expected.csv"; then
        echo "  predict mlp $name: ok"
    else
        echo "  predict mlp $name: FAILED"; fail=1
    fi
done

# A student artifact written by distill scores through the same command.
if "$bin" distill --data "$xg/dataset.csv" --target y --teacher "$xg/binary.json" \
        --student tree --out "$tmp/report.json" --student-out "$tmp/student.json" \
        >/dev/null 2>"$tmp/distill.err" &&
    "$bin" predict --model "$tmp/student.json" --data "$xg/dataset.csv" --out "$tmp/student.csv" &&
    [ "$(head -1 "$tmp/student.csv")" = "p_0,p_1" ] &&
    [ "$(wc -l <"$tmp/student.csv")" -eq "$(wc -l <"$xg/dataset.csv")" ]; then
    echo "  predict student artifact: ok"
else
    echo "  predict student artifact: FAILED ($(cat "$tmp/distill.err"))"; fail=1
fi

# stdout without --out
if "$bin" predict --model "$fx/binary.txt" --data "$fx/data.csv" >"$tmp/stdout.csv" &&
    compare "$tmp/stdout.csv" "$fx/binary_expected.csv" >/dev/null; then
    echo "  predict to stdout: ok"
else
    echo "  predict to stdout: FAILED"; fail=1
fi

# Missing features: exit 2, every missing name listed, no output file.
cut -d, -f1,3,4 "$fx/data.csv" >"$tmp/partial.csv"   # keeps age, balance, region
"$bin" predict --model "$fx/binary.txt" --data "$tmp/partial.csv" --out "$tmp/none.csv" 2>"$tmp/err.txt"
rc=$?
if [ $rc -eq 2 ] && grep -q income "$tmp/err.txt" && grep -q color "$tmp/err.txt" &&
    grep -q segment "$tmp/err.txt" && ! grep -q "age" "$tmp/err.txt" && [ ! -e "$tmp/none.csv" ]; then
    echo "  missing features: ok ($(cat "$tmp/err.txt"))"
else
    echo "  missing features: FAILED (exit $rc: $(cat "$tmp/err.txt"))"; fail=1
fi

# Bad usage and unreadable model.
"$bin" predict --data "$fx/data.csv" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && echo "  no --model: ok" || { echo "  no --model: exit $rc"; fail=1; }
"$bin" predict --model "$tmp/nope.txt" --data "$fx/data.csv" 2>"$tmp/err2.txt"; rc=$?
if [ $rc -eq 2 ] && grep -q "nope.txt" "$tmp/err2.txt"; then
    echo "  missing model file: ok"
else
    echo "  missing model file: exit $rc"; fail=1
fi
printf 'hello\n' >"$tmp/junk.txt"
"$bin" predict --model "$tmp/junk.txt" --data "$fx/data.csv" 2>"$tmp/err3.txt"; rc=$?
if [ $rc -eq 2 ] && grep -q "unrecognised model format" "$tmp/err3.txt"; then
    echo "  unrecognised model: ok"
else
    echo "  unrecognised model: exit $rc"; fail=1
fi
exit $fail
