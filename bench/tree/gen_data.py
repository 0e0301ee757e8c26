#!/usr/bin/env python3
"""Generates the tree benchmark data into a directory: a 1,000,000 x 40
binary problem whose teacher is a known logistic function of the features
(with two interactions, so a depth-8 tree has something to find), plus
200,000 held-out rows.  Files are raw little-endian float64:
X_train (n x 40, row-major), p_train (teacher P(class 1)), X_test, p_test."""
import os
import sys

import numpy as np

out = sys.argv[1]
n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
n_test = 200_000
F = 40
rng = np.random.RandomState(0)
w = rng.normal(size=F) * np.linspace(1.5, 0.05, F)


def teacher(X):
    z = X @ w + 0.8 * X[:, 0] * X[:, 1] - 0.6 * np.abs(X[:, 2]) + 0.3
    return 1.0 / (1.0 + np.exp(-z))


for name, n in (("train", n_train), ("test", n_test)):
    X = rng.normal(size=(n, F))
    X[:, 5] = np.round(X[:, 5] * 3)  # a coarse feature with few values
    X.astype("<f8").tofile(os.path.join(out, "X_" + name))
    teacher(X).astype("<f8").tofile(os.path.join(out, "p_" + name))
