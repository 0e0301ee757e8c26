#!/usr/bin/env python3
"""bench/gam data: N rows (default 100000) x 10 features with an additive
logit of smooth, kinked, step and null effects, plus 20000 test rows from
the same law.  Writes train.csv and test.csv (columns x0..x9, target)."""
import sys

import numpy as np

out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(12345)


def gen(m):
    X = np.column_stack([rng.uniform(-3, 3, m), rng.uniform(-2, 2, m), rng.uniform(0, 1, m),
                         rng.normal(0, 1, m), rng.uniform(-1, 1, m), rng.exponential(1.0, m),
                         rng.uniform(-2, 2, m), rng.normal(0, 1, m), rng.uniform(0, 1, m),
                         rng.uniform(-1, 1, m)])
    logit = (1.5 * np.sin(X[:, 0]) + 0.8 * X[:, 1] ** 2 - 1.0 + 1.2 * (X[:, 2] > 0.6)
             + 0.7 * X[:, 3] + np.abs(X[:, 4]) - 0.5 - 0.6 * np.log1p(X[:, 5])
             + 0.5 * np.tanh(3 * X[:, 6]) + 0.3 * X[:, 7] ** 3 / 3)
    y = (rng.uniform(size=m) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


for name, m in (("train.csv", n), ("test.csv", 20000)):
    X, y = gen(m)
    with open("%s/%s" % (out, name), "w") as f:
        f.write(",".join("x%d" % j for j in range(10)) + ",target\n")
        np.savetxt(f, np.column_stack([X, y]), fmt=["%.8g"] * 10 + ["%d"], delimiter=",")
