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

# wall time (best of 2) of both prediction paths, and the CPU time of the
# faster one: on a shared machine CPU seconds are the steadier measure
timings = {}
for name in ("DMatrix+predict", "inplace_predict"):
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        if name == "DMatrix+predict":
            p = b.predict(xgb.DMatrix(X, nthread=2))
        else:
            p2 = b.inplace_predict(X)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if name not in timings or dt < timings[name][0]:
            timings[name] = (dt, dc)
assert np.array_equal(p, p2)
p[:10000].astype(np.float64).tofile(os.path.join(OUT, "xgb_pred.f64"))
best = min(timings.values())
for name, (dt, dc) in timings.items():
    print("xgboost_predict_s %.4f wall %.4f cpu (%s)" % (dt, dc, name))
print("xgboost_rows_per_s %.0f" % (N_ROWS / best[0]))
print("xgboost_rows_per_cpu_s %.0f" % (N_ROWS / best[1]))
