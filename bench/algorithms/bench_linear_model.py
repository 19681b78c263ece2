"""Benchmark: mlcore's linear models against scikit-learn, on the same data and threads.

    python bench/algorithms/bench_linear_model.py [--threads 2] [--repeats 3]
                                                  [--backends avx2 scalar] [--quick]

Least squares on 200 000 × 100 (y = X·w + noise, float32):
  mlcore LinearRegression / Ridge (normal equations: one Gram GEMM on the backend, Cholesky on
  the host)  vs  sklearn LinearRegression (scipy lstsq, SVD-based) and
  Ridge(solver="cholesky") (normal equations too).
Logistic regression on 100 000 × 50 (make_classification, standardized, float32), binary and
5 classes:
  mlcore LogisticRegression (L-BFGS on the host, loss and gradient on the backend)  vs
  sklearn LogisticRegression (lbfgs), both with C=1, tol=1e-4, max_iter=100.
scikit-learn's BLAS is limited to --threads with threadpoolctl; mlcore's avx2 backend runs on
--threads threads. Times are medians over --repeats (fit, then predict on the training
matrix); the quality column (R² / accuracy on the training data) shows the fits are equal.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn import linear_model as skl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments, run_header, timed


def least_squares_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=d)
    y = (X @ w + 3.0 + rng.normal(scale=0.5, size=n)).astype(np.float32)
    return X, y


def logistic_data(n, d, classes, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=20,
        n_redundant=10,
        n_classes=classes,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


def run(rows, label, model, X, y, repeats, quality):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_s, fitted = timed(lambda: model().fit(X, y), repeats)
    pred_s, pred = timed(lambda: fitted.predict(X), repeats)
    extra = ""
    if hasattr(fitted, "n_iter_") and fitted.n_iter_ is not None:
        extra = f"  n_iter={int(np.ravel(fitted.n_iter_)[0])}"
    rows.append((label, fit_s, pred_s, quality(y, pred), extra))


def print_table(title, rows, metric):
    print(f"\n{title}")
    print(f"  {'estimator':44s} {'fit s':>9s} {'predict s':>10s} {metric:>9s}")
    for label, fit_s, pred_s, q, extra in rows:
        print(f"  {label:44s} {fit_s:9.4f} {pred_s:10.4f} {q:9.5f}{extra}")


def r2(y, p):
    y = np.asarray(y, dtype=np.float64)
    return 1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def accuracy(y, p):
    return float(np.mean(y == p))


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    print(run_header(args))

    with threadpool_limits(args.threads):
        n, d = 200_000 // scale, 100
        X, y = least_squares_data(n, d)
        rows = []
        for b in args.backends:
            spec = backend_for(b, args.threads)
            run(
                rows,
                f"mlcore[{b}] LinearRegression",
                lambda: mlcore.LinearRegression(backend=spec),
                X,
                y,
                args.repeats,
                r2,
            )
            run(
                rows,
                f"mlcore[{b}] Ridge(alpha=1)",
                lambda: mlcore.Ridge(1.0, backend=spec),
                X,
                y,
                args.repeats,
                r2,
            )
        run(rows, "sklearn LinearRegression (lstsq)", skl.LinearRegression, X, y, args.repeats, r2)
        run(
            rows,
            "sklearn Ridge(alpha=1, solver='cholesky')",
            lambda: skl.Ridge(1.0, solver="cholesky"),
            X,
            y,
            args.repeats,
            r2,
        )
        print_table(f"least squares, {n} x {d} float32 (quality: training R²)", rows, "R²")

        for classes in (2, 5):
            n, d = 100_000 // scale, 50
            X, y = logistic_data(n, d, classes)
            rows = []
            for b in args.backends:
                spec = backend_for(b, args.threads)
                run(
                    rows,
                    f"mlcore[{b}] LogisticRegression",
                    lambda: mlcore.LogisticRegression(backend=spec),
                    X,
                    y,
                    args.repeats,
                    accuracy,
                )
            run(
                rows,
                "sklearn LogisticRegression (lbfgs)",
                skl.LogisticRegression,
                X,
                y,
                args.repeats,
                accuracy,
            )
            print_table(
                f"logistic regression, {classes} classes, {n} x {d} float32 "
                "(quality: training accuracy)",
                rows,
                "accuracy",
            )


if __name__ == "__main__":
    main()
