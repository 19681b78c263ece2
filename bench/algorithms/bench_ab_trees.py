"""A/B benchmark of mlcore's tree families between two builds of the Python module.

    python bench/algorithms/bench_ab_trees.py --a build/before_python --b build/dev/python
                                              [--rounds 3] [--threads 2] [--backend avx512]

Each round runs build A, then build B, in fresh subprocesses (one _core per process): fit and
predict (on the training matrix) of DecisionTree (unlimited depth), RandomForest (100 trees,
depth 10) and boosting (100 iterations, no early stopping) on bench_trees.py's problems
(classification 100 000 × 50, regression 200 000 × 20). Interleaving the builds round by round
gives both the same drift of a shared machine's load; the table shows medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROUND = r"""
import json, sys, time
import numpy as np
import mlcore
from sklearn.datasets import make_classification, make_regression
backend, threads = sys.argv[1], int(sys.argv[2])
mlcore.set_num_threads(threads)
Xc, yc = make_classification(n_samples=100_000, n_features=50, n_informative=20, random_state=0)
Xr, yr = make_regression(n_samples=200_000, n_features=20, noise=1.0, random_state=0)
Xc, Xr = Xc.astype(np.float32), Xr.astype(np.float32)
cases = [
    ("DecisionTree", lambda c: (mlcore.DecisionTreeClassifier if c else mlcore.DecisionTreeRegressor)(random_state=0, backend=backend)),
    ("RandomForest", lambda c: (mlcore.RandomForestClassifier if c else mlcore.RandomForestRegressor)(n_estimators=100, max_depth=10, random_state=0, backend=backend)),
    ("Boosting", lambda c: (mlcore.GradientBoostingClassifier if c else mlcore.GradientBoostingRegressor)(max_iter=100, early_stopping=False, random_state=0, backend=backend)),
]
out = {}
for family, make in cases:
    for task, X, y in (("classification", Xc, yc), ("regression", Xr, yr)):
        m = make(task == "classification")
        t0 = time.perf_counter(); m.fit(X, y); t1 = time.perf_counter()
        p = m.predict(X); t2 = time.perf_counter()
        score = float(np.mean(p == y)) if task == "classification" else float(
            1 - np.mean((p - y) ** 2) / np.var(y))
        out[f"{family} {task}"] = (t1 - t0, t2 - t1, score)
print(json.dumps(out))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="PYTHONPATH of build A (the baseline)")
    ap.add_argument("--b", required=True, help="PYTHONPATH of build B")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backend", default="avx512")
    args = ap.parse_args()
    runs = {"A": [], "B": []}
    for r in range(args.rounds):
        for name, path in (("A", args.a), ("B", args.b)):
            env = dict(os.environ, PYTHONPATH=path)
            res = subprocess.run(
                [sys.executable, "-c", ROUND, args.backend, str(args.threads)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1}: {name} done", file=sys.stderr, flush=True)
    print(
        "| case | fit A s | fit B s | B/A | predict A s | predict B s | B/A | score A | score B |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case in runs["A"][0]:
        med = {
            k: [statistics.median(run[case][i] for run in runs[k]) for i in range(3)] for k in runs
        }
        a, b = med["A"], med["B"]
        print(
            f"| {case} | {a[0]:.3f} | {b[0]:.3f} | {b[0] / a[0]:.2f} | {a[1]:.4f} | {b[1]:.4f} "
            f"| {b[1] / a[1]:.2f} | {a[2]:.4f} | {b[2]:.4f} |"
        )


if __name__ == "__main__":
    main()
