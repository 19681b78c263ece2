"""Benchmark: mlcore's trees against scikit-learn and XGBoost, all on the same threads.

    python bench/algorithms/bench_trees.py [--threads 2] [--repeats 1] [--backends avx2]
                                           [--families DecisionTree,RandomForest,Boosting]
                                           [--tasks classification,regression] [--quick]

Two synthetic problems (the issue's sizes): classification 100 000 × 50 (make_classification,
20 informative features) and regression 200 000 × 20 (make_regression). On each, fit and predict
(on the training matrix) of
  DecisionTree (unlimited depth)        mlcore DecisionTree*      vs sklearn DecisionTree*
  RandomForest (100 trees, depth 10)    mlcore RandomForest*      vs sklearn RandomForest*
  boosting (100 iterations)             mlcore GradientBoosting*  vs sklearn HistGradientBoosting*
                                                                 and XGBoost tree_method="hist"
scikit-learn and XGBoost are limited to --threads with threadpoolctl (and n_jobs / nthread),
mlcore's thread pool with mlcore.set_num_threads; boosting runs without early stopping so every library does 100 iterations.
Times are medians over --repeats, run interleaved (each library once per round, so all see the
same drift of a shared machine's load); the quality column is the training accuracy / R² so a fast
but wrong fit shows. mlcore's binning (quantile thresholds + codes, O(n·d) host work) is inside
its fit time, as scikit-learn's and XGBoost's is inside theirs.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from sklearn import ensemble as sk_ens
from sklearn import tree as sk_tree
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import timed

try:
    import xgboost
except ImportError:  # pip install xgboost
    xgboost = None


def candidates(task, backends, threads):
    """(family, library, estimator factory) for one task."""
    clf = task == "classification"
    out = []
    for b in backends:
        out += [
            (
                "DecisionTree",
                f"mlcore[{b}]",
                lambda b=b: (
                    mlcore.DecisionTreeClassifier if clf else mlcore.DecisionTreeRegressor
                )(random_state=0, backend=b),
            ),
            (
                "RandomForest",
                f"mlcore[{b}]",
                lambda b=b: (
                    mlcore.RandomForestClassifier if clf else mlcore.RandomForestRegressor
                )(100, max_depth=10, random_state=0, n_jobs=threads, backend=b),
            ),
            (
                "Boosting",
                f"mlcore[{b}]",
                lambda b=b: (
                    mlcore.GradientBoostingClassifier if clf else mlcore.GradientBoostingRegressor
                )(max_iter=100, early_stopping=False, random_state=0, backend=b),
            ),
        ]
    out += [
        (
            "DecisionTree",
            "sklearn",
            lambda: (sk_tree.DecisionTreeClassifier if clf else sk_tree.DecisionTreeRegressor)(
                random_state=0
            ),
        ),
        (
            "RandomForest",
            "sklearn",
            lambda: (sk_ens.RandomForestClassifier if clf else sk_ens.RandomForestRegressor)(
                100, max_depth=10, random_state=0, n_jobs=threads
            ),
        ),
        (
            "Boosting",
            "sklearn HGB",
            lambda: (
                sk_ens.HistGradientBoostingClassifier
                if clf
                else sk_ens.HistGradientBoostingRegressor
            )(max_iter=100, early_stopping=False, random_state=0),
        ),
    ]
    if xgboost is not None:
        out.append(
            (
                "Boosting",
                "xgboost hist",
                lambda: (xgboost.XGBClassifier if clf else xgboost.XGBRegressor)(
                    tree_method="hist", n_estimators=100, n_jobs=threads, random_state=0
                ),
            )
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument(
        "--backends",
        default=mlcore.default_backend(),
        help="comma-separated mlcore backends (default: the fastest f32 CPU backend "
        "here, mlcore.default_backend())",
    )
    ap.add_argument(
        "--families",
        default="DecisionTree,RandomForest,Boosting",
        help="comma-separated families to run (e.g. Boosting alone with more repeats: "
        "scikit-learn's forests take minutes per fit)",
    )
    ap.add_argument(
        "--tasks",
        default="classification,regression",
        help="comma-separated problems to run (classification, regression)",
    )
    ap.add_argument("--quick", action="store_true", help="10x smaller problems (a smoke test)")
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b in mlcore.available_backends()]
    scale = 10 if args.quick else 1
    problems = {
        "classification": make_classification(
            n_samples=100_000 // scale, n_features=50, n_informative=20, random_state=0
        ),
        "regression": make_regression(
            n_samples=200_000 // scale, n_features=20, n_informative=10, noise=10.0, random_state=0
        ),
    }
    print(f"threads={args.threads} repeats={args.repeats} backends={backends}")
    print(
        f"{'task':15s} {'family':13s} {'library':14s} {'fit s':>8s} {'predict s':>10s} "
        f"{'train score':>12s}"
    )
    mlcore.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        for task, (X, y) in problems.items():
            if task not in args.tasks.split(","):
                continue
            X = np.ascontiguousarray(X, dtype=np.float32)
            for family in args.families.split(","):
                rows = [
                    (library, make)
                    for fam, library, make in candidates(task, backends, args.threads)
                    if fam == family
                ]
                # Repeats interleaved (library A, B, C, then A, B, C again, ...): the machine's
                # load drifts over minutes, and a library timed minutes after another would
                # see a different machine. Medians of the paired rounds are reported.
                fit_times = {library: [] for library, _ in rows}
                pred_times = {library: [] for library, _ in rows}
                models, preds = {}, {}
                for _ in range(args.repeats):
                    for library, make in rows:
                        t, models[library] = timed(lambda: make().fit(X, y), 1)
                        fit_times[library].append(t)
                        t, preds[library] = timed(lambda: models[library].predict(X), 1)
                        pred_times[library].append(t)
                for library, _ in rows:
                    pred = preds[library]
                    score = (
                        np.mean(pred == y)
                        if task == "classification"
                        else 1 - np.mean((pred - y) ** 2) / np.var(y)
                    )
                    print(
                        f"{task:15s} {family:13s} {library:14s} "
                        f"{statistics.median(fit_times[library]):8.2f} "
                        f"{statistics.median(pred_times[library]):10.3f} {score:12.4f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
