"""Benchmark: the estimators whose int8 numerics live in the int8 backend (naive Bayes,
LinearSVC, PCA) on the systolic backend: simulator wall time, simulated time and int8 passes.

    python bench/algorithms/bench_int8_numerics.py [--repeats 3] [--quick] --backends systolic

Data: bench_naive_bayes.py's GaussianNB (200 000 × 100, 10 classes) and MultinomialNB (200 000
× 100 counts) problems, bench_svm.py's LinearSVC 100 000 × 50 primal problem (5 classes) and
bench_decomposition.py's PCA(10) on 200 000 × 100. Each row: median wall seconds of fit and of
predict (transform for PCA) over --repeats, the simulated seconds of the same calls (the sum of
their profile records' `seconds`), and the int8 passes of their gemm records (one per magnitude
band of a banded operand).

To compare two builds, run the script alternately with each build on PYTHONPATH (interleaved
rounds) and take medians of the rounds.
"""

from __future__ import annotations

import mlcore
from bench_common import backend_for, bench_arguments, timed
from bench_decomposition import spectrum_data
from bench_naive_bayes import count_data, gaussian_data
from bench_svm import problem


def simulated(records):
    """(simulated seconds, int8 passes of the gemm records) of a call's profile."""
    seconds = sum(r["seconds"] for r in records)
    passes = sum((r.get("passes") or 1) for r in records if r["op"] == "gemm")
    return seconds, passes


def measure(label, make, X, y, predict, repeats):
    fit_s, model = timed(lambda: make().fit(X, y) if y is not None else make().fit(X), repeats)
    fit_sim, fit_passes = simulated(model.profile_)
    pred_s, _ = timed(lambda: getattr(model, predict)(X), repeats)
    pred_sim, pred_passes = simulated(model.profile_)
    print(
        f"  {label:34s} fit {fit_s:8.4f} s (sim {fit_sim * 1e3:9.4f} ms, gemm passes "
        f"{fit_passes:3d})   {predict} {pred_s:8.4f} s (sim {pred_sim * 1e3:9.4f} ms, gemm "
        f"passes {pred_passes:3d})",
        flush=True,
    )


def main():
    ap = bench_arguments(__doc__)
    args = ap.parse_args()
    s = 10 if args.quick else 1
    big, mid = f"{200 // s}k", f"{100 // s}k"
    name = args.backends[0]
    spec = backend_for(name, args.threads)
    print(f"mlcore {mlcore.__version__}; backend {name}; repeats {args.repeats}")
    X, y = gaussian_data(200_000 // s, 100, 10)
    measure(
        f"GaussianNB {big} x 100",
        lambda: mlcore.GaussianNB(backend=spec),
        X,
        y,
        "predict_proba",
        args.repeats,
    )
    X, y = count_data(200_000 // s, 100, 10)
    measure(
        f"MultinomialNB {big} x 100",
        lambda: mlcore.MultinomialNB(backend=spec),
        X,
        y,
        "predict_proba",
        args.repeats,
    )
    X, y, _, _ = problem(100_000 // s, 10, 50, 5, 20)
    measure(
        f"LinearSVC {mid} x 50, 5 cl.",
        lambda: mlcore.LinearSVC(backend=spec),
        X,
        y,
        "predict",
        args.repeats,
    )
    X = spectrum_data(200_000 // s, 100)
    measure(
        f"PCA(10) {big} x 100",
        lambda: mlcore.PCA(10, backend=spec),
        X,
        None,
        "transform",
        args.repeats,
    )


if __name__ == "__main__":
    main()
