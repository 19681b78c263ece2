"""Benchmark: mlcore's k-nearest neighbours against scikit-learn, on the same threads.

    python bench/algorithms/bench_neighbors.py [--threads 2] [--repeats 3] [--backends avx2]
                                               [--quick]

The issue's size: 50 000 training samples × 32 features, 10 000 queries, k = 5
(make_classification, 16 informative features, 4 classes, float32). For KNeighborsClassifier
(uniform and distance weights) and KNeighborsRegressor: fit, predict and kneighbors, mlcore on
each backend against scikit-learn's default (algorithm="auto", which is brute force at 32
features). scikit-learn's BLAS/OpenMP and its n_jobs are limited to --threads with
threadpoolctl; mlcore's avx2 backend runs on --threads threads. Runs of the libraries alternate
within each repeat (the machine is shared; alternating spreads its noise evenly) and the table
shows medians. The quality column is the test accuracy (R² for the regressor) and the share of
predictions equal to scikit-learn's.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn import neighbors as skn
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    n_train, n_query, d = (5000, 1000, 32) if args.quick else (50000, 10000, 32)
    X, y = make_classification(n_train + n_query, d, n_informative=16, n_classes=4, random_state=0)
    X = X.astype(np.float32)
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    yreg = Xtr[:, 0] * 2.0 + Xtr[:, 1] ** 2
    yreg_te = Xte[:, 0] * 2.0 + Xte[:, 1] ** 2

    tasks = [
        (
            "KNeighborsClassifier uniform",
            lambda mod, **kw: mod.KNeighborsClassifier(5, **kw),
            ytr,
            yte,
        ),
        (
            "KNeighborsClassifier distance",
            lambda mod, **kw: mod.KNeighborsClassifier(5, weights="distance", **kw),
            ytr,
            yte,
        ),
        (
            "KNeighborsRegressor uniform",
            lambda mod, **kw: mod.KNeighborsRegressor(5, **kw),
            yreg,
            yreg_te,
        ),
    ]
    print(
        f"kNN: {n_train} x {d} train, {n_query} queries, k = 5, {args.threads} threads, "
        f"median of {args.repeats}"
    )
    print(
        f"{'estimator':32s} {'library':16s} {'fit s':>8s} {'predict s':>10s} "
        f"{'kneighbors s':>13s} {'quality':>8s} {'same as sk':>10s}"
    )
    with threadpool_limits(args.threads):
        for name, make, y_fit, y_test in tasks:
            libs = [
                (
                    f"mlcore[{b}]",
                    lambda make=make, b=b: make(mlcore, backend=backend_for(b, args.threads)),
                )
                for b in args.backends
            ]
            libs.append(("sklearn", lambda make=make: make(skn, n_jobs=args.threads)))
            times = {lib: {"fit": [], "predict": [], "kneighbors": []} for lib, _ in libs}
            preds = {}
            for _ in range(args.repeats):
                for lib, factory in libs:  # alternate the libraries within a repeat
                    est = factory()
                    t = time.perf_counter()
                    est.fit(Xtr, y_fit)
                    times[lib]["fit"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    preds[lib] = est.predict(Xte)
                    times[lib]["predict"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    est.kneighbors(Xte)
                    times[lib]["kneighbors"].append(time.perf_counter() - t)
                    preds[lib + " score"] = est.score(Xte, y_test)
            for lib, _ in libs:
                same = (
                    np.mean(preds[lib] == preds["sklearn"])
                    if "Classifier" in name
                    else np.max(np.abs(preds[lib] - preds["sklearn"])) < 1e-3
                )
                med = {k: statistics.median(v) for k, v in times[lib].items()}
                print(
                    f"{name:32s} {lib:16s} {med['fit']:8.3f} {med['predict']:10.3f} "
                    f"{med['kneighbors']:13.3f} {preds[lib + ' score']:8.4f} "
                    f"{float(same):10.4f}"
                )


if __name__ == "__main__":
    main()
