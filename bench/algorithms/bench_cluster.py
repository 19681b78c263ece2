"""Benchmark: mlcore's KMeans against scikit-learn, on the same threads.

    python bench/algorithms/bench_cluster.py [--threads 2] [--repeats 3] [--backends avx2]
                                             [--quick]

The issue's size: 200 000 samples × 32 features, 64 clusters (make_blobs with 64 centres,
cluster_std 3, float32). Two fits, each mlcore on every backend against scikit-learn's Lloyd
(algorithm="lloyd"):
  * from the same initial centres (init = 64 samples drawn once, n_init=1): the same iterations
    in both libraries, so the times compare Lloyd's loop itself and the inertias must agree;
  * the defaults: k-means++ seeding (n_init="auto", i.e. one run), random_state=0. The seeds
    differ (different random streams), so the inertias are close, not equal.
predict is timed on the 200 000 training samples. scikit-learn's OpenMP/BLAS are limited to
--threads with threadpoolctl; mlcore's avx2 backend runs on --threads threads. The libraries
alternate within each repeat and the table shows medians.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn import cluster as skc
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    n, d, k = (20000, 32, 64) if args.quick else (200000, 32, 64)
    X, _ = make_blobs(n, d, centers=k, cluster_std=3.0, random_state=0)
    X = X.astype(np.float32)
    init = X[np.random.default_rng(0).choice(n, k, replace=False)]

    configs = [
        ("same initial centres", dict(init=init, n_init=1)),
        ("k-means++ (defaults)", dict(random_state=0)),
    ]
    print(f"KMeans: {n} x {d}, {k} clusters, {args.threads} threads, median of {args.repeats}")
    print(
        f"{'start':22s} {'library':16s} {'fit s':>8s} {'iters':>6s} {'s/iter':>8s} "
        f"{'predict s':>10s} {'inertia':>14s} {'vs sklearn':>10s}"
    )
    with threadpool_limits(args.threads):
        for label, params in configs:
            libs = [
                (
                    f"mlcore[{b}]",
                    lambda b=b: mlcore.KMeans(k, backend=backend_for(b, args.threads), **params),
                )
                for b in args.backends
            ]
            libs.append(("sklearn", lambda: skc.KMeans(k, **params)))
            fit_t = {lib: [] for lib, _ in libs}
            pred_t = {lib: [] for lib, _ in libs}
            fitted = {}
            for _ in range(args.repeats):
                for lib, factory in libs:
                    est = factory()
                    t = time.perf_counter()
                    est.fit(X)
                    fit_t[lib].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    est.predict(X)
                    pred_t[lib].append(time.perf_counter() - t)
                    fitted[lib] = est
            ref = fitted["sklearn"].inertia_
            for lib, _ in libs:
                est = fitted[lib]
                fit_s = statistics.median(fit_t[lib])
                print(
                    f"{label:22s} {lib:16s} {fit_s:8.3f} {est.n_iter_:6d} "
                    f"{fit_s / est.n_iter_:8.4f} {statistics.median(pred_t[lib]):10.3f} "
                    f"{est.inertia_:14.6g} {est.inertia_ / ref - 1:+10.2%}"
                )


if __name__ == "__main__":
    main()
