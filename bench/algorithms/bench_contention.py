"""Contention: every family's fit and predict, quiet and with one core held by a busy process.

A student's laptop or a shared notebook server always has something else running. With one of
two cores taken, a fit should take at most ~2× (it lost half the machine) — the target is ≤ 3×.
Before mlcore had its own thread pool, OpenMP teams spun at every barrier while a member was
descheduled, and a k-means fit went from 0.27 s to 23–28 s.

Each round measures every case quiet, then with a busy process (a Python loop that never
sleeps) started for that round; the ratio busy / quiet of the medians over --repeats rounds is
the slowdown. Quiet and busy alternate so that both see the same drift of a shared machine.

    PYTHONPATH=build/dev/python python bench/algorithms/bench_contention.py --threads 2
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time

import numpy as np
from sklearn.datasets import make_blobs, make_classification, make_regression

import mlcore
from bench_common import backend_for, bench_arguments


def spin_forever():
    while True:
        pass


def cases(scale, backend):
    """(name, fit thunk, predict thunk) per family, at sizes that take ~0.05–0.5 s quiet."""
    Xc, yc = make_classification(40_000 // scale, 32, n_informative=16, n_classes=2, random_state=0)
    Xc = Xc.astype(np.float32)
    Xr, yr = make_regression(100_000 // scale, 50, noise=1.0, random_state=0)
    Xr = Xr.astype(np.float32)
    Xb, _ = make_blobs(100_000 // scale, 32, centers=16, random_state=0)
    Xb = Xb.astype(np.float32)
    Xs, ys = Xc[: 8000 // scale], yc[: 8000 // scale]
    b = backend
    families = [
        ("LinearRegression", lambda: mlcore.LinearRegression(backend=b), Xr, yr),
        ("LogisticRegression", lambda: mlcore.LogisticRegression(backend=b), Xc, yc),
        ("GaussianNB", lambda: mlcore.GaussianNB(backend=b), Xc, yc),
        ("KNeighbors", lambda: mlcore.KNeighborsClassifier(backend=b), Xc, yc),
        ("KMeans", lambda: mlcore.KMeans(16, n_init=1, random_state=0, backend=b), Xb, None),
        ("PCA", lambda: mlcore.PCA(10, backend=b), Xr, None),
        ("SVC", lambda: mlcore.SVC(backend=b), Xs, ys),
        ("LinearSVC", lambda: mlcore.LinearSVC(backend=b), Xc, yc),
        ("DecisionTree", lambda: mlcore.DecisionTreeClassifier(max_depth=12, backend=b), Xc, yc),
        (
            "RandomForest",
            lambda: mlcore.RandomForestClassifier(20, max_depth=10, random_state=0, backend=b),
            Xc,
            yc,
        ),
        (
            "GradientBoosting",
            lambda: mlcore.GradientBoostingClassifier(max_iter=30, early_stopping=False, backend=b),
            Xc,
            yc,
        ),
    ]
    out = []
    for name, make, X, y in families:
        est = make().fit(X, y)
        query = X[: 10_000 // scale] if name == "KNeighbors" else X
        predict = est.transform if name == "PCA" else est.predict
        out.append(
            (
                name,
                (lambda make=make, X=X, y=y: make().fit(X, y)),
                (lambda predict=predict, query=query: predict(query)),
            )
        )
    return out


def measure(thunk):
    t = time.perf_counter()
    thunk()
    return time.perf_counter() - t


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    mlcore.set_num_threads(args.threads)
    backend = backend_for(args.backends[0], args.threads)
    todo = cases(scale, backend)
    quiet = {(n, w): [] for n, _, _ in todo for w in ("fit", "predict")}
    busy = {k: [] for k in quiet}
    for _ in range(args.repeats):
        for label, times in (("quiet", quiet), ("busy", busy)):
            hog = None
            if label == "busy":
                hog = mp.get_context("spawn").Process(target=spin_forever, daemon=True)
                hog.start()
                time.sleep(0.5)  # let it start spinning
            try:
                for name, fit, predict in todo:
                    times[(name, "fit")].append(measure(fit))
                    times[(name, "predict")].append(measure(predict))
            finally:
                if hog is not None:
                    hog.terminate()
                    hog.join()
    print(
        f"mlcore {mlcore.__version__}, backend {mlcore.backend(backend).description}; "
        f"{args.threads} threads; medians of {args.repeats} rounds; busy = one process "
        f"spinning on a core"
    )
    print(f"{'family':20s} {'call':8s} {'quiet s':>9s} {'busy s':>9s} {'slowdown':>9s}")
    worst = 0.0
    for (name, what), q in quiet.items():
        mq, mb = statistics.median(q), statistics.median(busy[(name, what)])
        worst = max(worst, mb / mq)
        print(f"{name:20s} {what:8s} {mq:9.4f} {mb:9.4f} {mb / mq:8.2f}x")
    print(f"worst slowdown {worst:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
