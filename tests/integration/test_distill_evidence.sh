#!/usr/bin/env bash
# Distillation measured against scikit-learn on the same teacher, for the
# committed MLP teachers on breast_cancer and digits (reference values from
# scripts/fixtures/make_distill_reference.py):
# - the distilled logistic model must reach the test fidelity of a
#   soft-target logistic regression minus 0.01;
# - the distilled tree (depths 3-8) must be, node for node, the exact CART
#   tree of ALGORITHMS.md grown independently by brute force (each of whose
#   splits scikit-learn confirms), with the same test fidelity and accuracy.
#   Its fidelity against DecisionTreeRegressor (random_state 0 and the
#   spread over random states 0..19) is printed: scikit-learn breaks ties
#   between equally good splits at random, ALGORITHMS.md by the lower feature
#   index, and on these small sets that alone moves deep trees by a few rows.
# The teacher's test accuracy must equal the reference's (its scorer is
# checked independently too).  Prints the whole table.
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
            --out "$T/${name}_tree_$depth.json" --student-out "$T/${name}_tree_${depth}_student.json"
    done
    "$G" distill --data "$F/datasets/${name}_train.csv" --test "$F/datasets/${name}_test.csv" \
        --target target --teacher "$F/distill/teacher_$name.json" --student logistic \
        --param l2=0.0001 --bootstrap 0 --out "$T/${name}_logistic.json"
done

python3 - "$T" "$F/distill/reference_fidelity.json" <<'EOF'
import json, sys
tmp, ref = sys.argv[1], json.load(open(sys.argv[2]))
bad = []


def same_tree(path, expect, label):
    nodes = json.load(open(path))["nodes"]
    if len(nodes) != len(expect):
        return "%s: %d nodes, exact CART %d" % (label, len(nodes), len(expect))
    for i, (g, e) in enumerate(zip(nodes, expect)):
        if ("feature" in e) != ("value" not in g):
            return "%s node %d: split/leaf differs from exact CART" % (label, i)
        if g["n"] != e["n"]:
            return "%s node %d: %d rows, exact CART %d" % (label, i, g["n"], e["n"])
        if "feature" in e:
            if g["feature_name"] != e["feature"] or g["threshold"] != e["threshold"]:
                return "%s node %d: %s <= %r, exact CART %s <= %r" % (
                    label, i, g["feature_name"], g["threshold"], e["feature"], e["threshold"])
        else:
            v = g["value"][1:] if len(g["value"]) == 2 else g["value"]
            if any(abs(a - b) > 1e-12 for a, b in zip(v, e["value"])):
                return "%s leaf %d: values differ from exact CART" % (label, i)
    return None


def fmt(v):
    return "%.4f" % v if v is not None else ""


print("%-14s %-9s %8s %8s %8s | %8s %8s | %8s %8s %8s %8s %8s" % (
    "dataset", "student", "gb_fid", "gb_acc", "gb_bacc", "ex_fid", "ex_acc",
    "sk_fid", "sk_acc", "sk_bacc", "sk_min", "sk_mean"))
sums = {}
for name, rec in ref.items():
    rows = [("tree d%s" % d, "%s/%s_tree_%s" % (tmp, name, d), r) for d, r in sorted(rec["tree"].items())]
    rows.append(("logistic", "%s/%s_logistic" % (tmp, name), rec["logistic"]))
    for label, path, r in rows:
        rep = json.load(open(path + ".json"))
        t_acc = rep["metrics"]["teacher"]["accuracy"]
        if abs(t_acc - rec["teacher_accuracy"]) > 1e-12:
            bad.append("%s teacher accuracy %.6f != reference %.6f" % (name, t_acc, rec["teacher_accuracy"]))
        fid = rep["fidelity"]["agreement"]
        acc = rep["metrics"]["student"]["accuracy"]
        bacc = rep["metrics"]["baseline"]["accuracy"]
        ex = r.get("exact_cart") or {}
        spread = r.get("distilled_fidelity_random_states_0_19") or {}
        print("%-14s %-9s %8.4f %8.4f %8.4f | %8s %8s | %8.4f %8.4f %8s %8s %8s" % (
            name, label, fid, acc, bacc, fmt(ex.get("fidelity")), fmt(ex.get("accuracy")),
            r["distilled_fidelity"], r["distilled_accuracy"], fmt(r.get("baseline_accuracy")),
            fmt(spread.get("min")), fmt(spread.get("mean"))))
        if not ex:
            if fid < r["distilled_fidelity"] - 0.01:
                bad.append("%s %s fidelity %.4f < reference %.4f - 0.01" % (name, label, fid, r["distilled_fidelity"]))
            continue
        why = same_tree(path + "_student.json", ex["nodes"], "%s %s" % (name, label))
        if why:
            bad.append(why)
        if fid != ex["fidelity"] or acc != ex["accuracy"]:
            bad.append("%s %s fidelity/accuracy %.6f/%.6f != exact CART %.6f/%.6f" % (
                name, label, fid, acc, ex["fidelity"], ex["accuracy"]))
        s = sums.setdefault(name, [0.0, 0.0, 0.0])
        s[0] += fid / 6
        s[1] += r["distilled_fidelity"] / 6
        s[2] += spread["mean"] / 6
for name, (gb, sk, skm) in sums.items():
    print("%s: mean tree fidelity over depths 3-8: glassbox %.4f, DecisionTreeRegressor "
          "random_state 0 %.4f, mean over random states 0..19 %.4f" % (name, gb, sk, skm))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF
echo "test_distill_evidence: ok"
