#!/usr/bin/env bash
# glassbox explain: exact attributions of the XGBoost teacher fixtures must
# equal xgboost's own predict(pred_contribs=True) (tests/fixtures/explain/,
# scripts/fixtures/make_xgboost_shap.py) within 1e-5 and sum to the margin;
# sampled attributions of an MLP teacher must sum to f(x) - bias within the
# reported standard error and not depend on --threads; bad input exits 2
# and writes nothing.
set -uo pipefail
bin="${1:-build/glassbox}"
xg=tests/fixtures/xgboost
ex=tests/fixtures/explain
mlp=tests/fixtures/mlp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# check_exact got.csv shap_ref.json margin.csv class_index
check_exact() {
    /usr/bin/python3 - "$@" <<'PY'
import csv, json, sys
got = list(csv.reader(open(sys.argv[1])))
ref = json.load(open(sys.argv[2]))
margins = list(csv.reader(open(sys.argv[3])))[1:]
k = int(sys.argv[4])
names = ["income", "debt_ratio", "age", "utilisation", "n_accounts", "grade", "bias"]
if got[0] != names:
    sys.exit("header %r" % got[0])
rows = got[1:]
if len(rows) != len(ref["contribs"]):
    sys.exit("%d rows, expected %d" % (len(rows), len(ref["contribs"])))
worst = worst_sum = 0.0
for row, contrib, m in zip(rows, ref["contribs"], margins):
    vals = [float(v) for v in row]
    for a, b in zip(vals, contrib[k]):
        worst = max(worst, abs(a - b))
    margin = float(m[k])
    worst_sum = max(worst_sum, abs(sum(vals) - margin) / (1 + abs(margin)))
if worst > 1e-5:
    sys.exit("max |diff| vs xgboost pred_contribs %g > 1e-5" % worst)
if worst_sum > 1e-5:
    sys.exit("rows do not sum to the margin: %g" % worst_sum)
print("    %d rows: max |diff| vs xgboost %.3g, max |sum - margin| %.3g"
      % (len(rows), worst, worst_sum))
PY
}

run_exact() { # label model reference margin class_index [options]
    local label=$1 model=$2 ref=$3 margin=$4 k=$5
    shift 5
    if "$bin" explain --model "$model" --data "$xg/dataset.csv" --out "$tmp/shap.csv" "$@" \
        2>"$tmp/err" && check_exact "$tmp/shap.csv" "$ref" "$margin" "$k"; then
        echo "  explain $label: ok"
    else
        echo "  explain $label: FAILED"; cat "$tmp/err"; fail=1
    fi
}

run_exact "xgboost binary (json)" "$xg/binary.json" "$ex/shap_teacher_binary.json" \
    "$xg/binary_margin.csv" 0
run_exact "xgboost binary (ubjson)" "$xg/binary.ubj" "$ex/shap_teacher_binary.json" \
    "$xg/binary_margin.csv" 0
run_exact "xgboost multiclass, default last class" "$xg/multiclass.json" \
    "$ex/shap_teacher_multiclass.json" "$xg/multiclass_margin.csv" 2
run_exact "xgboost multiclass --class 0" "$xg/multiclass.ubj" \
    "$ex/shap_teacher_multiclass.json" "$xg/multiclass_margin.csv" 0 --class 0
run_exact "xgboost regression" "$xg/regression.json" \
    "$ex/shap_teacher_regression.json" "$xg/regression_margin.csv" 0
grep -q "exact attributions" "$tmp/err" || { echo "  no method line on stderr"; fail=1; }

# Binary --class 0 is the negated logit attribution.
if "$bin" explain --model "$xg/binary.json" --data "$xg/dataset.csv" --class 0 \
        >"$tmp/neg.csv" 2>/dev/null &&
    "$bin" explain --model "$xg/binary.json" --data "$xg/dataset.csv" >"$tmp/pos.csv" \
        2>/dev/null &&
    /usr/bin/python3 - "$tmp/neg.csv" "$tmp/pos.csv" <<'PY'
import csv, sys
a = list(csv.reader(open(sys.argv[1])))[1:]
b = list(csv.reader(open(sys.argv[2])))[1:]
assert len(a) == len(b) == 400
assert all(float(x) == -float(y) for r, s in zip(a, b) for x, y in zip(r, s))
PY
then
    echo "  explain binary --class 0 (stdout): ok"
else
    echo "  explain binary --class 0: FAILED"; fail=1
fi

# Sampled Shapley values of an MLP teacher: additivity within the reported
# standard error, seeded, independent of --threads.
sampled() { # out se threads
    "$bin" explain --model "$mlp/binary_relu.json" --data "$mlp/binary_relu_data.csv" \
        --permutations 32 --background 40 --seed 7 --threads "$3" --out "$1" --se "$2"
}
if sampled "$tmp/s1.csv" "$tmp/se1.csv" 1 2>"$tmp/err" &&
    sampled "$tmp/s2.csv" "$tmp/se2.csv" 2 2>/dev/null &&
    "$bin" predict --model "$mlp/binary_relu.json" --data "$mlp/binary_relu_data.csv" \
        --out "$tmp/p.csv" &&
    cmp -s "$tmp/s1.csv" "$tmp/s2.csv" && cmp -s "$tmp/se1.csv" "$tmp/se2.csv" &&
    grep -q "sampled Shapley values (mlp model, margins, 32 permutations, 40 background" \
        "$tmp/err" &&
    /usr/bin/python3 - "$tmp/s1.csv" "$tmp/se1.csv" "$tmp/p.csv" <<'PY'
import csv, math, sys
phi = list(csv.reader(open(sys.argv[1])))
se = list(csv.reader(open(sys.argv[2])))
pred = list(csv.reader(open(sys.argv[3])))[1:]
assert phi[0] == se[0] and phi[0][-1] == "bias" and len(phi[0]) == 31
assert len(phi) - 1 == len(pred) == 150
worst = 0.0
for r, s, p in zip(phi[1:], se[1:], pred):
    vals = [float(v) for v in r]
    p0, p1 = float(p[0]), float(p[1])
    fx = math.log(p1) - math.log(p0)             # the logit margin
    gap = abs(sum(vals[:-1]) - (fx - vals[-1]))  # vs f(x) - E f
    err = float(s[-1])                           # standard error of the sum
    assert err > 0
    worst = max(worst, gap / err)
    if gap > 4 * err + 1e-9:
        sys.exit("row sums to f(x) - E f +- %g, standard error %g" % (gap, err))
print("    150 rows: worst |sum - (f(x) - E f)| = %.2f standard errors" % worst)
PY
then
    echo "  explain mlp (sampled): ok"
else
    echo "  explain mlp (sampled): FAILED"; cat "$tmp/err"; fail=1
fi

# Bad input: exit code 2, a message, and no output file.
bad() { # label expected-message-fragment args...
    local label=$1 frag=$2
    shift 2
    rm -f "$tmp/bad.csv"
    "$bin" explain "$@" --out "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
    local rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$frag" "$tmp/err" && [ ! -e "$tmp/bad.csv" ]; then
        echo "  explain rejects $label: ok"
    else
        echo "  explain rejects $label: FAILED (exit $rc)"; cat "$tmp/err"; fail=1
    fi
}
cut -d, -f1-3 "$xg/dataset.csv" >"$tmp/narrow.csv"
printf 'income,debt_ratio\n1,2,3\n' >"$tmp/ragged.csv"
bad "a missing option" "required" --data "$xg/dataset.csv"
bad "an unknown option" "unknown option" --model "$xg/binary.json" --data "$xg/dataset.csv" --bogus 1
bad "missing features" "utilisation, n_accounts, grade" --model "$xg/binary.json" --data "$tmp/narrow.csv"
bad "a malformed CSV" "line 2" --model "$xg/binary.json" --data "$tmp/ragged.csv"
bad "an unknown class" "not a class" --model "$xg/binary.json" --data "$xg/dataset.csv" --class 7
bad "--class on regression" "classification" --model "$xg/regression.json" --data "$xg/dataset.csv" --class 1
bad "--permutations 1" "out of range" --model "$mlp/binary_relu.json" --data "$mlp/binary_relu_data.csv" --permutations 1
bad "--background 0" "out of range" --model "$mlp/binary_relu.json" --data "$mlp/binary_relu_data.csv" --background 0
bad "a missing model file" "nope.json" --model "$tmp/nope.json" --data "$xg/dataset.csv"

exit $fail
