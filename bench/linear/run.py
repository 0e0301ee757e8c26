#!/usr/bin/env python3
"""bench/linear driver: generates the data once, runs glassbox's fit (the C
program given as argv[1]) and scikit-learn's in the same run, and compares
times and final losses.

The loss (alpha = 0, T = 1, binary):  mean_i KL(q_i || sigmoid(z_i)) +
l2/2 ||w||^2 on the standardised design (training mean, population sd), the
intercept unpenalised.  scikit-learn only takes hard labels, so each row is
given twice, with label 1 weighted q and label 0 weighted 1 - q: the weighted
cross-entropy is then the soft cross-entropy (KL plus the constant entropy
of q), and LogisticRegression's objective  1/2||w||^2 + C sum_i w_i CE_i  is
n times ours with C = 1 / (l2 n).  A scipy L-BFGS-B fit on the exact loss
(numpy, n rows) is timed too, as a second reference.
"""
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.linear_model import LogisticRegression

ROWS = int(os.environ.get("BENCH_LINEAR_ROWS", "1000000"))
THREADS = int(os.environ.get("BENCH_LINEAR_THREADS", "2"))
REPEAT = int(os.environ.get("BENCH_LINEAR_REPEAT", "3"))  # best of, for a shared machine
P = 40
L2 = 1e-4
OUT = "build/bench"


def generate(xpath, qpath):
    rng = np.random.default_rng(20240601)
    scales = rng.uniform(0.1, 100.0, size=P)
    offsets = rng.normal(0.0, 50.0, size=P)
    U = rng.normal(size=(ROWS, P))
    w = rng.normal(size=P) / np.sqrt(P) * 2.0
    z = U @ w + 0.8 * np.sin(U[:, 0] * U[:, 1]) + 0.3 * U[:, 2] ** 2 - 0.3 \
        + 0.5 * np.tanh(U[:, 3] - U[:, 4])
    q = 1.0 / (1.0 + np.exp(-z))
    X = U * scales + offsets
    X.astype(np.float64).tofile(xpath)
    q.astype(np.float64).tofile(qpath)


def loss_grad(theta, Z, q, l2):
    w, b = theta[:-1], theta[-1]
    z = Z @ w + b
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where(q > 0, q * np.log(q), 0.0) + np.where(q < 1, (1 - q) * np.log1p(-q), 0.0)
    kl = ent + q * np.logaddexp(0.0, -z) + (1 - q) * np.logaddexp(0.0, z)
    n = Z.shape[0]
    r = (1.0 / (1.0 + np.exp(-z)) - q) / n
    g = np.concatenate([Z.T @ r + l2 * w, [r.sum()]])
    return kl.mean() + 0.5 * l2 * (w @ w), g


def main():
    exe = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    xpath = os.path.join(OUT, "linear_%d_X.f64" % ROWS)
    qpath = os.path.join(OUT, "linear_%d_q.f64" % ROWS)
    if not (os.path.exists(xpath) and os.path.exists(qpath)):
        generate(xpath, qpath)
    print("data: %d rows x %d float64 features, teacher probabilities; l2 = %g "
          "(sklearn C = %g); %d threads; fit times are the best of %d; load average %.1f"
          % (ROWS, P, L2, 1.0 / (L2 * ROWS), THREADS, REPEAT, os.getloadavg()[0]))

    # glassbox (OpenBLAS single-threaded: the student owns the threads).
    res_path = os.path.join(OUT, "linear_glassbox.json")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    t_gb = float("inf")
    for _ in range(REPEAT):
        subprocess.check_call([exe, xpath, qpath, str(ROWS), str(P), repr(L2), str(THREADS),
                               res_path], env=env)
        gb = json.load(open(res_path))
        t_gb = min(t_gb, gb["fit_seconds"])

    X = np.fromfile(xpath).reshape(ROWS, P)
    q = np.fromfile(qpath)
    Z = (X - X.mean(0)) / X.std(0)
    del X
    theta_gb = np.array(gb["coef_std"] + [gb["intercept_std"]])
    loss_gb = loss_grad(theta_gb, Z, q, L2)[0]

    # scikit-learn: the sample-weight trick on 2n rows.
    Z2 = np.vstack([Z, Z])
    y2 = np.concatenate([np.zeros(ROWS), np.ones(ROWS)])
    w2 = np.concatenate([1.0 - q, q])
    t_sk = float("inf")
    for _ in range(REPEAT):
        sk = LogisticRegression(C=1.0 / (L2 * ROWS), solver="lbfgs", max_iter=1000)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk.fit(Z2, y2, sample_weight=w2)
        t_sk = min(t_sk, time.perf_counter() - t0)
    del Z2, y2, w2
    theta_sk = np.concatenate([sk.coef_.ravel(), sk.intercept_])
    loss_sk = loss_grad(theta_sk, Z, q, L2)[0]

    # scipy L-BFGS-B on the exact loss (n rows).
    t_sp = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        sp = scipy.optimize.minimize(loss_grad, np.zeros(P + 1), args=(Z, q, L2), jac=True,
                                     method="L-BFGS-B",
                                     options={"gtol": 1e-7, "maxiter": 1000})
        t_sp = min(t_sp, time.perf_counter() - t0)
    loss_sp = loss_grad(sp.x, Z, q, L2)[0]

    rel = abs(loss_gb - loss_sk) / abs(loss_sk)
    print("glassbox  fit %7.2f s  iterations %4d (%s)  loss %.12g (own report %.12g)" % (
        t_gb, gb["fit"]["iterations"], gb["fit"]["stop"], loss_gb, gb["fit"]["loss"]))
    print("sklearn   fit %7.2f s  iterations %4d  loss %.12g   [LogisticRegression lbfgs, "
          "2n weighted rows]" % (t_sk, sk.n_iter_[0], loss_sk))
    print("scipy     fit %7.2f s  iterations %4d  loss %.12g   [L-BFGS-B, numpy loss, n rows]"
          % (t_sp, sp.nit, loss_sp))
    print("ratio sklearn/glassbox %.2fx (target >= 2x)  scipy/glassbox %.2fx" % (
        t_sk / t_gb, t_sp / t_gb))
    print("final loss relative difference glassbox vs sklearn %.2e (target <= 1e-6) %s; "
          "max |coef difference| %.2e" % (rel, "ok" if rel <= 1e-6 else "FAIL",
                                          np.abs(theta_gb - theta_sk).max()))


if __name__ == "__main__":
    main()
