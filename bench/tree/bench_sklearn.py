#!/usr/bin/env python3
"""scikit-learn side of the tree benchmark: DecisionTreeRegressor(max_depth=8)
on the teacher's probabilities; prints fit seconds and test fidelity
(agreement of argmax with the teacher) as one JSON line."""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeRegressor

d = sys.argv[1]
F = 40
X = np.fromfile(os.path.join(d, "X_train"), dtype="<f8").reshape(-1, F).astype(np.float32)
p = np.fromfile(os.path.join(d, "p_train"), dtype="<f8")
Xt = np.fromfile(os.path.join(d, "X_test"), dtype="<f8").reshape(-1, F)
pt = np.fromfile(os.path.join(d, "p_test"), dtype="<f8")
t0, cpu0 = time.perf_counter(), time.process_time()
reg = DecisionTreeRegressor(max_depth=8, random_state=0).fit(X, p)
fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
ps = reg.predict(Xt.astype(np.float32))
print(json.dumps({"library": "scikit-learn " + sklearn.__version__, "fit_s": fit_s, "fit_cpu_s": fit_cpu_s,
                  "fidelity": float(((ps > 0.5) == (pt > 0.5)).mean()),
                  "mse_vs_teacher": float(((ps - pt) ** 2).mean()),
                  "leaves": int(reg.get_n_leaves())}))
