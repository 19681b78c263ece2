"""Where mlcore's time goes in bench_peers.py's cases: one call after a warm-up, its wall time
against the sum of its primitive records (est.profile_), and the five costliest primitives.

    PYTHONPATH=build/dev/python python bench/algorithms/bench_peers_profile.py knn linreg pca svc logreg kmeans rf

The rest of the wall time is host work (validation, the NaN scan, Eigen's small solves, loops
around the primitives). Same data and sizes as bench_peers.py, mlcore's avx512 backend, 2 threads.
"""

import collections
import sys
import time

import numpy as np

import mlcore

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from bench_decomposition import spectrum_data
from sklearn.datasets import make_classification, make_regression, make_blobs

mlcore.set_num_threads(2)
b = mlcore.avx512(2)


def split(label, fn, est):
    fn()
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    recs = list(est.profile_)
    agg = collections.defaultdict(lambda: [0, 0.0, 0])
    for r in recs:
        a = agg[r["op"]]
        a[0] += 1
        a[1] += r["seconds"]
        a[2] += r.get("macs", 0)
    prim = sum(a[1] for a in agg.values())
    top = sorted(agg.items(), key=lambda kv: -kv[1][1])[:5]
    print(
        f"{label}: wall {wall * 1e3:.1f} ms, primitives {prim * 1e3:.1f} ms ({prim / wall:.0%}), host {(wall - prim) * 1e3:.1f} ms, {len(recs)} calls"
    )
    for op, (c, s, m) in top:
        print(
            f"    {op:24s} x{c:<6d} {s * 1e3:8.1f} ms  {m / 1e6:10.0f} M MAC  {m / s / 1e9 if s else 0:6.1f} GMAC/s"
        )


which = sys.argv[1:]
if "knn" in which:
    X, y = make_classification(
        60000, 32, n_informative=16, n_redundant=10, n_classes=4, random_state=0
    )
    X = X.astype(np.float32)
    e = mlcore.KNeighborsClassifier(5, backend=b).fit(X[:50000], y[:50000])
    split("kNN predict", lambda: e.predict(X[50000:]), e)
if "linreg" in which:
    X, y = make_regression(200000, 100, n_informative=50, noise=10.0, random_state=0)
    X = X.astype(np.float32)
    e = mlcore.LinearRegression(backend=b)
    split("LinearRegression fit", lambda: e.fit(X, y), e)
    e = mlcore.Ridge(backend=b)
    split("Ridge fit", lambda: e.fit(X, y), e)
    split("LinearRegression predict", lambda: e.predict(X[:20000]), e)
if "pca" in which:
    X = spectrum_data(200000, 100)
    e = mlcore.PCA(10, backend=b)
    split("PCA fit", lambda: e.fit(X), e)
    split("PCA transform", lambda: e.transform(X), e)
if "svc" in which:
    X, y = make_classification(20000, 20, n_informative=10, n_redundant=10, random_state=0)
    X = X.astype(np.float32)
    e = mlcore.SVC(backend=b)
    split("SVC fit", lambda: e.fit(X[:10000], y[:10000]), e)
    split("SVC predict", lambda: e.predict(X[10000:]), e)
if "logreg" in which:
    X, y = make_classification(
        100000, 50, n_informative=20, n_redundant=10, n_classes=2, random_state=0
    )
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    e = mlcore.LogisticRegression(backend=b)
    split("LogReg2 fit", lambda: e.fit(X, y), e)
    split("LogReg2 predict 100k", lambda: e.predict(X), e)
if "kmeans" in which:
    X, _ = make_blobs(200000, 32, centers=64, cluster_std=3.0, random_state=0)
    X = X.astype(np.float32)
    init = X[np.random.default_rng(0).choice(200000, 64, replace=False)]
    e = mlcore.KMeans(64, init=init, n_init=1, max_iter=20, tol=0.0, backend=b)
    split("KMeans fit 20 it", lambda: e.fit(X), e)
if "rf" in which:
    X, y = make_classification(100000, 50, n_informative=20, n_redundant=10, random_state=0)
    X = X.astype(np.float32)
    e = mlcore.RandomForestClassifier(100, max_depth=10, random_state=0, n_jobs=2, backend=b)
    split("RF fit", lambda: e.fit(X, y), e)
