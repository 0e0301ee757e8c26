#!/usr/bin/env python3
"""Bench data and reference timing for the XGBoost teacher.

Trains a 500-tree depth-6 binary:logistic model with xgboost on generated data
(numeric features with missing values), writes the model (JSON) and
1,000,000 rows as raw little-endian float64 (row-major) into OUT, times
xgboost's own predict on those rows with nthread=2 (best of 3) and writes its
probabilities for the first 10,000 rows.  Prints "xgboost_rows_per_s <value>".
"""
import os
import sys
import time

import numpy as np
import xgboost as xgb

OUT = sys.argv[1]
N_ROWS = 1_000_000
N_FEAT = 20
N_TRAIN = 50_000

os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)
X = rng.normal(size=(N_ROWS, N_FEAT)).astype(np.float32)
X[rng.random(X.shape) < 0.05] = np.nan
w = rng.normal(size=N_FEAT)
Xt = np.nan_to_num(X[:N_TRAIN])
y = ((Xt @ w + np.sin(3 * Xt[:, 0]) * 2 + Xt[:, 1] * Xt[:, 2]
      + rng.normal(size=N_TRAIN)) > 0).astype(int)

model_path = os.path.join(OUT, "xgb500.json")
if not os.path.exists(model_path):
    d = xgb.DMatrix(X[:N_TRAIN], label=y)
    b = xgb.train({"objective": "binary:logistic", "tree_method": "hist",
                   "max_depth": 6, "eta": 0.05, "nthread": 2, "seed": 0}, d, 500)
    b.save_model(model_path)
b = xgb.Booster(model_file=model_path)
b.set_param({"nthread": 2})

X.astype(np.float64).tofile(os.path.join(OUT, "rows.f64"))

best = None
for _ in range(3):
    t0 = time.perf_counter()
    d = xgb.DMatrix(X, nthread=2)
    p = b.predict(d)
    dt = time.perf_counter() - t0
    best = dt if best is None or dt < best else best
best_inplace = None
for _ in range(3):
    t0 = time.perf_counter()
    p2 = b.inplace_predict(X)
    dt = time.perf_counter() - t0
    best_inplace = dt if best_inplace is None or dt < best_inplace else best_inplace
assert np.array_equal(p, p2)
p[:10000].astype(np.float64).tofile(os.path.join(OUT, "xgb_pred.f64"))
print("xgboost_predict_s %.4f (DMatrix+predict) %.4f (inplace_predict)"
      % (best, best_inplace))
print("xgboost_rows_per_s %.0f" % (N_ROWS / min(best, best_inplace)))
