#!/usr/bin/env bash
# glassbox train-teacher: trains an MLP on the shared breast_cancer split, and
# checks the written glassbox-mlp file with an independent NumPy forward pass
# (scikit-learn AUC on the test split), determinism (same seed, same bytes),
# one-hot features for categorical columns, and exit codes on bad input.
set -uo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "  FAIL: $*"; exit 1; }
py=/usr/bin/python3
data=tests/fixtures/datasets

"$bin" train-teacher --data $data/breast_cancer_train.csv --target target --kind mlp \
    --hidden 32,16 --epochs 80 --seed 5 --out "$tmp/a.json" 2>"$tmp/log" || fail "training failed: $(cat "$tmp/log")"
"$bin" train-teacher --data $data/breast_cancer_train.csv --target target --kind mlp \
    --hidden 32,16 --epochs 80 --seed 5 --out "$tmp/b.json" 2>/dev/null || fail "second training failed"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "same seed gave different files"
echo "  same seed, same bytes: ok"

"$bin" predict --model "$tmp/a.json" --data $data/breast_cancer_test.csv --out "$tmp/pred.csv" \
    2>/dev/null || fail "glassbox predict on the trained teacher"
$py - "$tmp/a.json" $data/breast_cancer_test.csv "$tmp/pred.csv" <<'PY' || fail "independent scoring"
import json, sys
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
m = json.load(open(sys.argv[1]))
df = pd.read_csv(sys.argv[2])
assert m["format"] == "glassbox-mlp" and m["output"] == "sigmoid" and m["classes"] == ["0", "1"]
assert [len(l["weights"]) for l in m["layers"]] == [32, 16, 1]
X = (df[m["features"]].to_numpy() - np.array(m["preprocess"]["mean"])) / np.array(m["preprocess"]["scale"])
act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "identity": lambda z: z,
       "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
for l in m["layers"]:
    X = act[l["activation"]](X @ np.array(l["weights"]).T + np.array(l["bias"]))
p1 = 1 / (1 + np.exp(-X[:, 0]))
ours = pd.read_csv(sys.argv[3])
assert list(ours.columns) == ["p_0", "p_1"], list(ours.columns)
diff = np.max(np.abs(ours["p_1"].to_numpy() - p1))
print("  glassbox predict vs numpy forward pass: max diff %.2g" % diff)
assert diff < 1e-9, diff
auc = roc_auc_score(df["target"], X[:, 0])
print("  breast_cancer test AUC (numpy forward pass): %.4f" % auc)
assert auc >= 0.98, auc
PY

# every library fixture through `glassbox predict`
for f in tests/fixtures/mlp/*_expected.csv; do
    name=$(basename "$f" _expected.csv)
    "$bin" predict --model tests/fixtures/mlp/$name.json --data tests/fixtures/mlp/${name}_data.csv \
        --out "$tmp/$name.csv" 2>/dev/null || fail "predict $name"
    $py - "$tmp/$name.csv" "$f" <<'PY' || fail "predict $name differs from the library"
import sys, numpy as np, pandas as pd
a, b = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
assert list(a.columns) == list(b.columns), (list(a.columns), list(b.columns))
assert np.max(np.abs(a.to_numpy() - b.to_numpy())) < 1e-9
PY
done
echo "  glassbox predict reproduces scikit-learn / PyTorch fixtures: ok"

# categorical column and missing values
$py - "$tmp/cat.csv" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
with open(sys.argv[1], "w") as f:
    f.write("age,region,income,label\n")
    for i in range(300):
        age = rng.uniform(20, 70); region = ["north", "south", "east"][i % 3]
        income = "" if i % 10 == 0 else "%.2f" % rng.normal(50, 10)
        y = "yes" if (age > 45) != (region == "east") else "no"
        f.write("%.3f,%s,%s,%s\n" % (age, region, income, y))
PY
"$bin" train-teacher --data "$tmp/cat.csv" --target label --kind mlp --epochs 40 \
    --dropout 0.1 --weight-decay 0.001 --batch-size 32 --learning-rate 0.005 \
    --out "$tmp/cat.json" 2>/dev/null || fail "categorical training failed"
$py - "$tmp/cat.json" <<'PY' || fail "one-hot features"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["features"] == ["age", "region=east", "region=north", "region=south", "income"], m["features"]
assert m["classes"] == ["no", "yes"]
PY
"$bin" predict --model "$tmp/cat.json" --data "$tmp/cat.csv" --out "$tmp/cat_pred.csv" \
    2>/dev/null || fail "predict with categorical and missing inputs"
$py - "$tmp/cat.csv" "$tmp/cat_pred.csv" <<'PY' || fail "categorical model accuracy"
import sys, pandas as pd
d, p = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
acc = ((p["p_yes"] > 0.5) == (d["label"] == "yes")).mean()
print("  categorical/missing training accuracy: %.3f" % acc)
assert acc > 0.9, acc
PY
echo "  one-hot features and missing values: ok"

code() { "$bin" train-teacher "$@" >/dev/null 2>&1; echo $?; }
[ "$(code --data $data/digits_train.csv --target target --kind xgb --out "$tmp/x.json")" = 2 ] || fail "bad kind"
[ "$(code --data $data/digits_train.csv --target nope --kind mlp --out "$tmp/x.json")" = 2 ] || fail "bad target"
[ "$(code --data $data/digits_train.csv --target target --kind mlp --epochs 0 --out "$tmp/x.json")" = 2 ] || fail "bad epochs"
[ "$(code --data $data/digits_train.csv --target target --kind mlp --hidden 64,x --out "$tmp/x.json")" = 2 ] || fail "bad hidden"
[ "$(code --data $tmp/none.csv --target target --kind mlp --out "$tmp/x.json")" = 2 ] || fail "missing file"
[ "$(code --data $data/digits_train.csv --target target --kind mlp)" = 2 ] || fail "missing --out"
[ ! -e "$tmp/x.json" ] || fail "a failed run wrote output"
echo "  bad input exits 2 and writes nothing: ok"
