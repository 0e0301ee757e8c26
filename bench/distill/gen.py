#!/usr/bin/env python3
"""Writes a generated binary dataset with a teacher's probabilities:
N rows x 40 numeric features, `target` drawn from a known logistic-plus-
interaction teacher, and `p_1`, the teacher's probability.  Usage:
gen.py OUT.csv N"""
import sys

import numpy as np
import pandas as pd

out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, 40))
w = rng.standard_normal(40) / np.sqrt(40)
z = X @ w + 0.8 * np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
p = 1.0 / (1.0 + np.exp(-z))
df = pd.DataFrame(X, columns=["x%d" % j for j in range(40)])
df["target"] = (rng.random(n) < p).astype(int)
df["p_1"] = p
df.to_csv(out, index=False, float_format="%.10g")
