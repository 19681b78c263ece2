"""Benchmark: mlcore's naive Bayes against scikit-learn, on the same data and threads.

    python bench/algorithms/bench_naive_bayes.py [--threads 2] [--repeats 3]
                                                 [--backends avx2 scalar] [--quick]

GaussianNB on 200 000 × 100, 10 classes (make_classification, float32), and MultinomialNB on
200 000 × 100 word counts, 10 classes (Poisson counts with class-dependent rates, float32):
  mlcore: fit = scatter_adds of the rows into their class (plus a gather / square / scatter
  pass for GaussianNB's variances); predict = the joint log-likelihood as GEMMs and an argmax
  vs scikit-learn GaussianNB / MultinomialNB (numpy; MultinomialNB's score is a BLAS GEMM too).
scikit-learn's BLAS is limited to --threads with threadpoolctl; mlcore's avx2 backend runs on
--threads threads. Times are medians over --repeats; predict runs on the training matrix, and
the quality column is the training accuracy (the same model should give the same labels).
"""

from __future__ import annotations


import numpy as np
from sklearn import naive_bayes as sknb
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments, run_header, timed


def gaussian_data(n, d, classes, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=30,
        n_redundant=0,
        n_classes=classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X.astype(np.float32), y


def count_data(n, d, classes, seed=0):
    rng = np.random.default_rng(seed)
    rates = rng.gamma(2.0, 1.0, size=(classes, d))  # each class its own word frequencies
    y = rng.integers(0, classes, size=n)
    X = rng.poisson(rates[y]).astype(np.float32)
    return X, y


def run(rows, label, model, X, y, repeats):
    fit_s, fitted = timed(lambda: model().fit(X, y), repeats)
    pred_s, pred = timed(lambda: fitted.predict(X), repeats)
    proba_s, _ = timed(lambda: fitted.predict_proba(X), repeats)
    rows.append((label, fit_s, pred_s, proba_s, float(np.mean(pred == y))))


def print_table(title, rows):
    print(f"\n{title}")
    print(f"  {'estimator':32s} {'fit s':>9s} {'predict s':>10s} {'proba s':>9s} {'accuracy':>9s}")
    for label, fit_s, pred_s, proba_s, acc in rows:
        print(f"  {label:32s} {fit_s:9.4f} {pred_s:10.4f} {proba_s:9.4f} {acc:9.5f}")


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    n, d, k = (200_000 // (10 if args.quick else 1)), 100, 10
    print(run_header(args))
    with threadpool_limits(args.threads):
        for title, data, ours, ref in (
            ("GaussianNB", gaussian_data, mlcore.GaussianNB, sknb.GaussianNB),
            ("MultinomialNB", count_data, mlcore.MultinomialNB, sknb.MultinomialNB),
        ):
            X, y = data(n, d, k)
            rows = []
            for b in args.backends:
                spec = backend_for(b, args.threads)
                run(rows, f"mlcore[{b}] {title}", lambda: ours(backend=spec), X, y, args.repeats)
            run(rows, f"sklearn {title}", ref, X, y, args.repeats)
            print_table(
                f"{title}, {n} x {d} float32, {k} classes (predict on the training set)", rows
            )


if __name__ == "__main__":
    main()
