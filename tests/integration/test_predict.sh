#!/usr/bin/env bash
# glassbox predict on the LightGBM fixtures: the output must equal the
# reference predictions within 1e-9, and a dataset missing features must
# fail with exit code 2 and a message naming every missing feature.
set -uo pipefail
bin="${1:-build/glassbox}"
fx=tests/fixtures/lightgbm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

compare() { # got expected
    /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, sys
got = list(csv.reader(open(sys.argv[1])))
exp = list(csv.reader(open(sys.argv[2])))
if got[0] != exp[0]:
    sys.exit("header %r != %r" % (got[0], exp[0]))
if len(got) != len(exp):
    sys.exit("%d rows, expected %d" % (len(got) - 1, len(exp) - 1))
worst = 0.0
for g, e in zip(got[1:], exp[1:]):
    for a, b in zip(g, e):
        worst = max(worst, abs(float(a) - float(b)))
if worst > 1e-9:
    sys.exit("max abs difference %g > 1e-9" % worst)
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
