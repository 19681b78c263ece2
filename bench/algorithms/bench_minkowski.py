"""kNN with Minkowski metrics other than Euclidean (issue 19): mlcore's minkowski_dist search
against scikit-learn's brute force, interleaved rounds, medians; and the primitive alone.

    PYTHONPATH=build/dev/python python3 bench/algorithms/bench_minkowski.py
"""

import time

import numpy as np

import mlcore
from sklearn.neighbors import KNeighborsClassifier as SK

rng = np.random.default_rng(0)
n, q, d, k = 50000, 2000, 32, 5
X = rng.standard_normal((n, d)).astype(np.float32)
y = rng.integers(0, 4, n)
Q = rng.standard_normal((q, d)).astype(np.float32)
cases = {}
for metric in ("manhattan", "chebyshev", "euclidean"):
    cases[("mlcore avx2", metric)] = mlcore.KNeighborsClassifier(
        k, metric=metric, backend="avx2"
    ).fit(X, y)
    cases[("sklearn brute n_jobs=2", metric)] = SK(
        k, metric=metric, algorithm="brute", n_jobs=2
    ).fit(X, y)
cases[("mlcore scalar", "manhattan")] = mlcore.KNeighborsClassifier(
    k, metric="manhattan", backend="scalar"
).fit(X, y)
times = {c: [] for c in cases}
for r in range(5):
    for c, m in cases.items():
        Qc = Q[:200] if c[0] == "mlcore scalar" else Q
        t = time.perf_counter()
        m.predict(Qc)
        dt = time.perf_counter() - t
        times[c].append(dt * len(Q) / len(Qc))
for c, t in times.items():
    med = np.median(t)
    terms = n * q * d
    print(
        f"{c[1]:10s} {c[0]:24s} predict {med:.3f} s (x{q} queries)  {terms / med / 1e9:6.2f} G terms/s  spread {(max(t) - min(t)) / med:.0%}"
    )
# the primitive alone
A = Q[:512]
B = X[:8192]
for be in ("avx2", "scalar"):
    for p in (1.0, np.inf, 3.0):
        ts = []
        for r in range(5):
            t = time.perf_counter()
            mlcore.minkowski_dist(A, B, p, backend=be)
            ts.append(time.perf_counter() - t)
        print(
            f"minkowski_dist {be:6s} p={p}: 512x8192x32 {np.median(ts) * 1e3:.1f} ms = {512 * 8192 * 32 / np.median(ts) / 1e9:.2f} G terms/s"
        )
