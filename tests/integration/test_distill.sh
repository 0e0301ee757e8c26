#!/usr/bin/env bash
# glassbox distill end to end: every teacher kind (file, ensemble, score
# columns) x student (tree, logistic, linear) x task (binary, multiclass,
# regression); report shape per API.md; byte-identical reports with 1 and 2
# threads (timings dropped); every bad setting exits 2 naming the problem.
set -euo pipefail
G="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
D="$(cd "$(dirname "$0")/../fixtures/datasets" && pwd)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "test_distill: $*" >&2; exit 1; }

# Teachers trained in-service (deterministic, fast).
"$G" train-teacher --data "$D/breast_cancer_train.csv" --target target --kind mlp \
    --hidden 16 --epochs 60 --seed 1 --out bc.json 2>/dev/null
"$G" train-teacher --data "$D/breast_cancer_train.csv" --target target --kind mlp \
    --hidden 8 --epochs 60 --seed 2 --out bc2.json 2>/dev/null
"$G" train-teacher --data "$D/digits_train.csv" --target target --kind mlp \
    --hidden 32 --epochs 40 --seed 1 --out dg.json 2>/dev/null
"$G" train-teacher --data "$D/diabetes_train.csv" --target target --kind mlp \
    --hidden 16 --epochs 200 --seed 1 --out db.json 2>/dev/null
"$G" train-teacher --data "$D/credit_train.csv" --target target --kind mlp \
    --hidden 16 --epochs 60 --seed 1 --out cr.json 2>/dev/null

# A dataset carrying the teacher's scores as columns: predict, then paste.
"$G" predict --model bc.json --data "$D/breast_cancer_train.csv" --out p_train.csv
"$G" predict --model bc.json --data "$D/breast_cancer_test.csv" --out p_test.csv
paste -d, "$D/breast_cancer_train.csv" p_train.csv > scored_train.csv
paste -d, "$D/breast_cancer_test.csv" p_test.csv > scored_test.csv
"$G" predict --model db.json --data "$D/diabetes_train.csv" --out r_train.csv
paste -d, "$D/diabetes_train.csv" r_train.csv > scored_reg.csv

check_report() { # file task
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); task = sys.argv[2]
assert r["task"] == task, r["task"]
for k in ["classes", "split", "metrics", "fidelity", "complexity", "timings", "hashes", "version"]:
    assert k in r, k
for who in ["teacher", "student", "baseline"]:
    m = r["metrics"][who]
    keys = ["rmse", "mae", "r2"] if task == "regression" else ["accuracy", "auc", "logloss", "brier", "ks"]
    for k in keys:
        assert k in m and isinstance(m[k], float | int), (who, k)
f = r["fidelity"]
for k in ["agreement", "r2", "kl", "mae", "spearman", "auc_vs_teacher", "agreement_at_cutoff", "deciles", "ci95"]:
    assert k in f, k
assert isinstance(f["r2"], float | int)
if task != "regression":
    assert 0 <= f["agreement"] <= 1
    lo, hi = f["ci95"]["agreement"]
    assert lo <= f["agreement"] <= hi, (lo, f["agreement"], hi)
for k in ["teacher_predict_s", "student_fit_s", "baseline_fit_s", "explain_s", "total_s"]:
    assert k in r["timings"], k
for k in ["dataset", "teacher", "config", "student"]:
    assert k in r["hashes"], k
if task == "binary":
    for who in ["teacher", "student", "baseline"]:
        c = r["roc"][who]
        assert c["fpr"][0] == 0 and c["tpr"][0] == 0 and c["fpr"][-1] == 1 and c["tpr"][-1] == 1
        assert len(c["fpr"]) == len(c["tpr"]) <= 101
        if len(c["fpr"]) < 101:  # not thinned: the trapezoid area is the AUC
            area = sum((c["fpr"][i] - c["fpr"][i - 1]) * (c["tpr"][i] + c["tpr"][i - 1]) / 2
                       for i in range(1, len(c["fpr"])))
            assert abs(area - r["metrics"][who]["auc"]) < 1e-9, (who, area)
else:
    assert "roc" not in r
assert r["split"]["train_rows"] > 0 and r["split"]["test_rows"] > 0
EOF
}

n=0
for student in tree logistic; do
    # file teacher, binary, test file
    "$G" distill --data "$D/breast_cancer_train.csv" --test "$D/breast_cancer_test.csv" \
        --target target --teacher bc.json --student $student --out b_$student.json \
        --student-out s_$student.json
    check_report b_$student.json binary; n=$((n + 1))
    "$G" predict --model s_$student.json --data "$D/breast_cancer_test.csv" > /dev/null
    # ensemble, binary, drawn split
    "$G" distill --data "$D/breast_cancer_train.csv" --target target --teacher bc.json \
        --teacher bc2.json --weights 2,1 --student $student --out e_$student.json
    check_report e_$student.json binary; n=$((n + 1))
    # score columns, binary
    "$G" distill --data scored_train.csv --test scored_test.csv --target target \
        --scores p_1 --student $student --out c_$student.json
    check_report c_$student.json binary; n=$((n + 1))
    # multiclass file teacher
    "$G" distill --data "$D/digits_train.csv" --test "$D/digits_test.csv" --target target \
        --teacher dg.json --student $student --param max_iter=50 --out m_$student.json \
        2>/dev/null || "$G" distill --data "$D/digits_train.csv" --test "$D/digits_test.csv" \
        --target target --teacher dg.json --student $student --out m_$student.json
    check_report m_$student.json multiclass; n=$((n + 1))
    # categoricals and missing values, text classes
    "$G" distill --data "$D/credit_train.csv" --test "$D/credit_test.csv" --target target \
        --teacher cr.json --student $student --temperature 2 --alpha 0.3 --out k_$student.json
    check_report k_$student.json binary; n=$((n + 1))
done
for student in tree linear; do
    "$G" distill --data "$D/diabetes_train.csv" --test "$D/diabetes_test.csv" \
        --target target --teacher db.json --student $student --out r_$student.json
    check_report r_$student.json regression; n=$((n + 1))
    "$G" distill --data scored_reg.csv --target target --scores prediction \
        --student $student --out rs_$student.json
    check_report rs_$student.json regression; n=$((n + 1))
done

# Same inputs and seed: identical report (timings dropped) and artifact, 1 or 2 threads.
for student in tree logistic; do
    for th in 1 2; do
        "$G" distill --data "$D/credit_train.csv" --target target --teacher cr.json \
            --student $student --seed 3 --threads $th --out det_$th.json \
            --student-out dets_$th.json
        python3 -c "import json,sys; r=json.load(open('det_$th.json')); r.pop('timings'); print(json.dumps(r, sort_keys=False))" > det_$th.txt
    done
    cmp -s det_1.txt det_2.txt || fail "$student report differs between 1 and 2 threads"
    cmp -s dets_1.json dets_2.json || fail "$student artifact differs between 1 and 2 threads"
    n=$((n + 1))
done

# SBDT: the report gives both the max-path and the mixture metrics.
"$G" distill --data "$D/digits_train.csv" --test "$D/digits_test.csv" --target target \
    --teacher "$(dirname "$D")/distill/teacher_digits.json" --student sbdt \
    --param epochs=10 --explain none --bootstrap 0 --out sbdt.json --student-out sbdt_s.json
python3 - <<'EOF2'
import json
r = json.load(open("sbdt.json")); m = r["metrics"]
for k in ["student", "baseline", "student_mixture", "baseline_mixture"]:
    assert 0.5 < m[k]["accuracy"] <= 1, (k, m[k])
a = json.load(open("sbdt_s.json"))
assert a["image"] == {"width": 8, "height": 8}, a.get("image")
EOF2
n=$((n + 1))

# MUNGE: on digits a depth-4 tree gains fidelity from teacher-labelled rows.
"$G" distill --data "$D/digits_train.csv" --test "$D/digits_test.csv" --target target \
    --teacher "$(dirname "$D")/distill/teacher_digits.json" --student tree \
    --param max_depth=4 --augment munge:2 --bootstrap 0 --out munge.json
python3 - <<'EOF2'
import json
a = json.load(open("munge.json"))["augmentation"]
assert a["rows_added"] == 2 * 1347, a
w, wo = a["fidelity_with"]["agreement"], a["fidelity_without"]["agreement"]
print("munge digits depth 4: fidelity %.4f with, %.4f without" % (w, wo))
assert w > wo, (w, wo)
EOF2
n=$((n + 1))

# Settings search (validation rows only) and the fidelity/complexity frontier.
"$G" distill --data "$D/credit_train.csv" --test "$D/credit_test.csv" --target target \
    --teacher cr.json --student tree --param max_depth=4 --search-temperatures 1,2,4 \
    --search-alphas 0,0.5 --search-augment yes --augment munge:1 --frontier yes \
    --bootstrap 0 --out search.json
python3 - <<'EOF2'
import json
r = json.load(open("search.json"))
c = r["search"]["candidates"]
assert len(c) == 12, len(c)
chosen = [k for k in c if k["chosen"]]
assert len(chosen) == 1
best = max(k["validation_fidelity"] for k in c)
assert chosen[0]["validation_fidelity"] == best
assert r["distill"]["temperature"] == chosen[0]["temperature"]
assert r["distill"]["alpha"] == chosen[0]["alpha"]
assert ("augmentation" in r) == chosen[0]["augment"]
f = r["frontier"]
assert [p["setting"]["max_depth"] for p in f] == ["1", "2", "3", "4"], f
assert all(f[i]["complexity"] <= f[i + 1]["complexity"] for i in range(3))
assert all(0 <= p["fidelity"] <= 1 and 0 <= p["auc"] <= 1 for p in f)
e = r["explanations"]
for k in ["global", "method", "agreement", "student_vs_baseline", "pdp", "disagreement"]:
    assert k in e, k
EOF2
n=$((n + 1))
"$G" distill --data "$D/credit_train.csv" --target target --teacher cr.json \
    --student logistic --frontier yes --explain none --bootstrap 0 --out lfront.json
python3 -c "
import json; r=json.load(open('lfront.json')); f=r['frontier']
assert f[0]['setting'] == {'l1': '0.3'} and f[-1]['setting'] == {'l1': '0'}, f
assert f[0]['complexity'] <= f[-1]['complexity']
assert 'explanations' not in r"
n=$((n + 1))

# Bad settings: exit 2 with a message naming the problem; no report written.
expect_2() { # pattern args...
    local pattern="$1"; shift
    set +e
    "$G" distill "$@" --out bad.json 2> err.txt
    local rc=$?
    set -e
    [ $rc -eq 2 ] || fail "expected exit 2 for $* (got $rc): $(cat err.txt)"
    grep -qi -- "$pattern" err.txt || fail "message for $* lacks '$pattern': $(cat err.txt)"
    [ ! -e bad.json ] || fail "a report was written for bad input $*"
    n=$((n + 1))
}
B=(--data "$D/breast_cancer_train.csv" --target target --teacher bc.json)
expect_2 "nonsense" "${B[@]}" --student tree --param nonsense=1
expect_2 "max_depth" "${B[@]}" --student tree --param max_depth=0
expect_2 "max_depth" "${B[@]}" --student tree --param max_depth=1000
expect_2 "alpha" "${B[@]}" --student tree --alpha 1.5
expect_2 "alpha" "${B[@]}" --student tree --alpha -0.1
expect_2 "temperature" "${B[@]}" --student tree --temperature 0
expect_2 "temperature" "${B[@]}" --student tree --temperature -1
expect_2 "student" "${B[@]}" --student forest
expect_2 "target" --data "$D/breast_cancer_train.csv" --target nope --teacher bc.json --student tree
expect_2 "mean_radius" --data scored_train.csv --target target --scores mean_radius --student tree
expect_2 "lacks 30 features" --data "$D/digits_train.csv" --target target --teacher bc.json --student tree
expect_2 "augment" --data scored_train.csv --target target --scores p_1 --student tree --augment munge:2
expect_2 "augment" "${B[@]}" --student tree --augment munge:2:1.5
expect_2 "search.alphas" "${B[@]}" --student tree --search-alphas 0,2
expect_2 "explain" "${B[@]}" --student tree --explain lots
expect_2 "teacher" --data "$D/breast_cancer_train.csv" --target target --student tree
echo "test_distill: $n checks passed"
