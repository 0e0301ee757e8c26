#!/usr/bin/env python3
"""bench/sbdt/distill_sweep.py: does distillation beat hard labels for a
depth-4 soft decision tree on digits?  Runs `glassbox distill` (teacher:
tests/fixtures/distill/teacher_digits.json, a glassbox-mlp) at temperatures
1, 2, 4, without and with MUNGE (multiplier 2), over SEEDS student seeds,
and prints mean test accuracies: the hard-label baseline, the distilled
student (max-path), the distilled student's mixture prediction (computed
here from the exported artifact in numpy), and the fidelity (agreement with
the teacher).  Environment: SEEDS (default 5), GLASSBOX (build/glassbox).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GB = os.environ.get("GLASSBOX", os.path.join(ROOT, "build", "glassbox"))
DATA = os.path.join(ROOT, "tests", "fixtures", "datasets")
SEEDS = int(os.environ.get("SEEDS", "5"))


def sbdt_predict(art, X):
    """(max-path, mixture) class probabilities of an sbdt artifact."""
    st = art["standardise"]
    Z = (X - np.array(st["mean"])) / np.array(st["scale"])
    Z[np.isnan(Z)] = 0.0
    W = np.array([n["filter"] for n in art["inner"]])
    b = np.array([n["bias"] for n in art["inner"]])
    with np.errstate(over="ignore"):
        p = 1.0 / (1.0 + np.exp(-art["beta"] * (Z @ W.T + b)))
    mu = np.ones((X.shape[0], 1))
    for lv in range(art["depth"]):
        pl = p[:, 2 ** lv - 1: 2 ** (lv + 1) - 1]
        mu = np.stack([mu * (1 - pl), mu * pl], axis=2).reshape(X.shape[0], -1)
    Q = np.array([l["distribution"] for l in art["leaves"]])
    return Q[mu.argmax(1)], mu @ Q


def run(T, augment, seed, tmp):
    out, student = os.path.join(tmp, "r.json"), os.path.join(tmp, "s.json")
    cmd = [GB, "distill", "--data", os.path.join(DATA, "digits_train.csv"),
           "--test", os.path.join(DATA, "digits_test.csv"), "--target", "target",
           "--teacher", os.path.join(ROOT, "tests", "fixtures", "distill",
                                     "teacher_digits.json"),
           "--student", "sbdt", "--temperature", str(T), "--seed", str(seed),
           "--out", out, "--student-out", student]
    if augment:
        cmd += ["--augment", "munge:2"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)
    with open(student) as f:
        art = json.load(f)
    return r, art


def main():
    te = np.loadtxt(os.path.join(DATA, "digits_test.csv"), delimiter=",", skiprows=1)
    Xte, yte = te[:, :-1], te[:, -1].astype(int)
    print("digits, sbdt depth 4 (defaults), teacher mlp; means over %d seeds" % SEEDS)
    print("%-4s %-6s %9s %9s %9s %9s %9s" % ("T", "munge", "baseline", "student",
                                           "mixture", "fidelity", "rows_add"))
    with tempfile.TemporaryDirectory() as tmp:
        for augment in (False, True):
            for T in (1, 2, 4):
                rows = []
                for seed in range(1, SEEDS + 1):
                    r, art = run(T, augment, seed, tmp)
                    maxp, mix = sbdt_predict(art, Xte)
                    classes = [int(c) for c in art["classes"]]
                    acc_max = float((np.array(classes)[maxp.argmax(1)] == yte).mean())
                    acc_mix = float((np.array(classes)[mix.argmax(1)] == yte).mean())
                    if abs(acc_max - r["metrics"]["student"]["accuracy"]) > 1e-12:
                        sys.exit("artifact max-path accuracy %g != report %g"
                                 % (acc_max, r["metrics"]["student"]["accuracy"]))
                    rows.append([r["metrics"]["baseline"]["accuracy"], acc_max, acc_mix,
                                 r["fidelity"]["agreement"],
                                 r.get("augmentation", {}).get("rows_added", 0)])
                m = np.mean(rows, axis=0)
                print("%-4g %-6s %9.4f %9.4f %9.4f %9.4f %9d" % (
                    T, "yes" if augment else "no", m[0], m[1], m[2], m[3], m[4]),
                    flush=True)


if __name__ == "__main__":
    main()
