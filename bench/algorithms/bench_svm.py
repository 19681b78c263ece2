"""Benchmark: mlcore's SVC and LinearSVC against scikit-learn, on the same threads.

    python bench/algorithms/bench_svm.py [--threads 2] [--repeats 3] [--backends avx2] [--quick]

Problems (make_classification, float32):
  * SVC, RBF kernel, the issue's size: 10 000 × 20 training samples (10 informative features,
    2 classes), 10 000 test samples; C=1, gamma="scale", tol=1e-3, cache_size=200 MB in both
    libraries (the 400 MB kernel matrix does not fit: kernel rows are computed on demand and
    cached, in both);
  * LinearSVC, 100 000 × 50, 2 and 5 classes, defaults (squared hinge, dual="auto": the primal
    solver in both libraries, since n_samples > n_features);
  * LinearSVC, 2 000 × 5 000, 2 classes, defaults (dual="auto": the dual coordinate descent in
    both, since n_samples < n_features).
scikit-learn is limited to --threads with threadpoolctl (libsvm and liblinear are single-threaded
anyway); mlcore's avx2 backend runs on --threads threads. The libraries alternate within each
repeat and the table shows medians; the quality columns are the test accuracy and the share of
test predictions equal to scikit-learn's.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
from sklearn import svm as sks
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments


def problem(n_train, n_test, d, n_classes, informative):
    X, y = make_classification(
        n_train + n_test, d, n_informative=informative, n_classes=n_classes, random_state=0
    )
    X = X.astype(np.float32)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    s = 10 if args.quick else 1
    cases = [
        ("SVC rbf 10k x 20", "SVC", {}, problem(10000 // s, 10000 // s, 20, 2, 10)),
        (
            "LinearSVC 100k x 50, 2 cl.",
            "LinearSVC",
            {},
            problem(100000 // s, 10000 // s, 50, 2, 20),
        ),
        (
            "LinearSVC 100k x 50, 5 cl.",
            "LinearSVC",
            {},
            problem(100000 // s, 10000 // s, 50, 5, 20),
        ),
        (
            "LinearSVC 2k x 5k (dual)",
            "LinearSVC",
            {},
            problem(2000 // s, 2000 // s, 5000 // s, 2, 50 // s),
        ),
    ]
    print(f"SVMs: {args.threads} threads, median of {args.repeats}")
    print(
        f"{'problem':28s} {'library':16s} {'fit s':>8s} {'predict s':>10s} {'iters':>10s} "
        f"{'accuracy':>9s} {'same as sk':>10s}"
    )
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, cls, params, (Xtr, ytr, Xte, yte) in cases:
            libs = [
                (
                    f"mlcore[{b}]",
                    lambda b=b: getattr(mlcore, cls)(
                        backend=backend_for(b, args.threads), **params
                    ),
                )
                for b in args.backends
            ]
            libs.append(("sklearn", lambda: getattr(sks, cls)(**params)))
            fit_t = {lib: [] for lib, _ in libs}
            pred_t = {lib: [] for lib, _ in libs}
            fitted, preds = {}, {}
            for _ in range(args.repeats):
                for lib, factory in libs:
                    est = factory()
                    t = time.perf_counter()
                    est.fit(Xtr, ytr)
                    fit_t[lib].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    preds[lib] = est.predict(Xte)
                    pred_t[lib].append(time.perf_counter() - t)
                    fitted[lib] = est
            for lib, _ in libs:
                it = fitted[lib].n_iter_
                it = int(np.max(it)) if np.ndim(it) else int(it)
                print(
                    f"{label:28s} {lib:16s} {statistics.median(fit_t[lib]):8.3f} "
                    f"{statistics.median(pred_t[lib]):10.3f} {it:10d} "
                    f"{np.mean(preds[lib] == yte):9.4f} "
                    f"{np.mean(preds[lib] == preds['sklearn']):10.4f}"
                )


if __name__ == "__main__":
    main()
