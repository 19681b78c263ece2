"""Benchmark: mlcore's PCA against scikit-learn, on the same data and threads.

    python bench/algorithms/bench_decomposition.py [--threads 2] [--repeats 3]
                                                   [--backends avx2 scalar] [--quick]

PCA(n_components=10) on 200 000 × 100 float32 data with a decaying spectrum (a random rotation
of independent columns whose standard deviations fall from 10 to 0.1):
  mlcore PCA: column means and the covariance XᵀX (one GEMM) on the backend, Eigen's symmetric
  eigensolver on the host; transform = one GEMM
  vs scikit-learn PCA (svd_solver="auto", which picks "covariance_eigh" for this shape: the same
  method, with numpy's XᵀX) and svd_solver="full" (LAPACK SVD of the centred data).
scikit-learn's BLAS is limited to --threads with threadpoolctl; mlcore's avx2 backend runs on
--threads threads. Times are medians over --repeats; transform runs on the training matrix. The
quality column is the largest relative difference of explained_variance_ to the "full" solver.
"""

from __future__ import annotations


import numpy as np
from sklearn import decomposition as skd
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for, bench_arguments, run_header, timed


def spectrum_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    sd = np.geomspace(10.0, 0.1, d)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    X = (rng.normal(size=(n, d)) * sd) @ Q.T + rng.normal(size=d)
    return X.astype(np.float32)


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--components", type=int, default=10)
    args = ap.parse_args()
    n, d, k = (200_000 // (10 if args.quick else 1)), 100, args.components
    print(run_header(args))
    X = spectrum_data(n, d)
    with threadpool_limits(args.threads):
        reference = skd.PCA(k, svd_solver="full").fit(X).explained_variance_
        candidates = [
            (
                f"mlcore[{b}] PCA",
                lambda spec=backend_for(b, args.threads): mlcore.PCA(k, backend=spec),
            )
            for b in args.backends
        ]
        candidates += [
            ("sklearn PCA (auto: covariance_eigh)", lambda: skd.PCA(k)),
            ("sklearn PCA (full SVD)", lambda: skd.PCA(k, svd_solver="full")),
        ]
        print(f"\nPCA(n_components={k}), {n} x {d} float32 (transform on the training set)")
        print(f"  {'estimator':38s} {'fit s':>9s} {'transform s':>12s} {'max rel dvar':>13s}")
        for label, make in candidates:
            fit_s, fitted = timed(lambda: make().fit(X), args.repeats)
            tr_s, _ = timed(lambda: fitted.transform(X), args.repeats)
            rel = np.max(np.abs(fitted.explained_variance_ / reference - 1))
            print(f"  {label:38s} {fit_s:9.4f} {tr_s:12.4f} {rel:13.2e}")


if __name__ == "__main__":
    main()
