#!/usr/bin/env bash
# Distillation measured against scikit-learn on the same teacher: for the
# committed MLP teachers on breast_cancer and digits, glassbox's distilled
# tree (depths 3-8) and distilled logistic model must reach at least the test
# fidelity of DecisionTreeRegressor on the teacher's probabilities and of a
# soft-target logistic regression, minus 0.01 (reference values from
# scripts/fixtures/make_distill_reference.py).  For trees the 0.01 holds for
# the mean over depths 3-8; a single depth may trail by up to 0.02, since
# scikit-learn breaks ties between equally good splits by a random feature
# order and glassbox by the lower feature index (ALGORITHMS.md), which on
# digits' discrete pixels changes deep trees either way.  The teacher's test accuracy
# must equal the reference's (its scorer is checked independently too).
# Prints the whole table.
set -euo pipefail
G="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
F="$(cd "$(dirname "$0")/../fixtures" && pwd)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for name in breast_cancer digits; do
    for depth in 3 4 5 6 7 8; do
        "$G" distill --data "$F/datasets/${name}_train.csv" --test "$F/datasets/${name}_test.csv" \
            --target target --teacher "$F/distill/teacher_$name.json" --student tree \
            --param max_depth=$depth --param min_samples_leaf=1 --bootstrap 0 \
            --out "$T/${name}_tree_$depth.json"
    done
    "$G" distill --data "$F/datasets/${name}_train.csv" --test "$F/datasets/${name}_test.csv" \
        --target target --teacher "$F/distill/teacher_$name.json" --student logistic \
        --param l2=0.0001 --bootstrap 0 --out "$T/${name}_logistic.json"
done

python3 - "$T" "$F/distill/reference_fidelity.json" <<'EOF'
import json, sys
tmp, ref = sys.argv[1], json.load(open(sys.argv[2]))
bad = []
sums = {}
print("%-14s %-9s %9s %9s %9s | %9s %9s %9s %9s" % (
    "dataset", "student", "gb_fid", "gb_acc", "gb_bacc",
    "sk_fid", "sk_acc", "sk_bfid", "sk_bacc"))
for name, rec in ref.items():
    rows = [("tree d%s" % d, "%s/%s_tree_%s.json" % (tmp, name, d), r) for d, r in sorted(rec["tree"].items())]
    rows.append(("logistic", "%s/%s_logistic.json" % (tmp, name), rec["logistic"]))
    for label, path, r in rows:
        rep = json.load(open(path))
        t_acc = rep["metrics"]["teacher"]["accuracy"]
        if abs(t_acc - rec["teacher_accuracy"]) > 1e-12:
            bad.append("%s teacher accuracy %.6f != reference %.6f" % (name, t_acc, rec["teacher_accuracy"]))
        fid = rep["fidelity"]["agreement"]
        acc = rep["metrics"]["student"]["accuracy"]
        bacc = rep["metrics"]["baseline"]["accuracy"]
        print("%-14s %-9s %9.4f %9.4f %9.4f | %9.4f %9.4f %9s %9s" % (
            name, label, fid, acc, bacc, r["distilled_fidelity"], r["distilled_accuracy"],
            "%.4f" % r["baseline_fidelity"] if "baseline_fidelity" in r else "",
            "%.4f" % r["baseline_accuracy"] if "baseline_accuracy" in r else ""))
        margin = 0.02 if label.startswith("tree") else 0.01
        if fid < r["distilled_fidelity"] - margin:
            bad.append("%s %s fidelity %.4f < reference %.4f - %.2f" % (name, label, fid, r["distilled_fidelity"], margin))
        if label.startswith("tree"):
            sums.setdefault(name, [0.0, 0.0])
            sums[name][0] += fid / 6
            sums[name][1] += r["distilled_fidelity"] / 6
for name, (gb, sk) in sums.items():
    print("%s: mean tree fidelity over depths 3-8: glassbox %.4f, scikit-learn %.4f" % (name, gb, sk))
    if gb < sk - 0.01:
        bad.append("%s mean tree fidelity %.4f < reference %.4f - 0.01" % (name, gb, sk))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF
echo "test_distill_evidence: ok"
