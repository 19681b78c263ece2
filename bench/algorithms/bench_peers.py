"""Benchmark: mlcore's best CPU backend against the fastest CPU peers, side by side.

    pip install -r bench/requirements-peers.txt     # the peers (optional; not test dependencies)
    PYTHONPATH=build/dev/python python bench/algorithms/bench_peers.py [--threads 2] [--repeats 3]
        [--cases knn,logreg2,logreg5,svc,linreg,ridge,rf,pca,kmeans,boosting,sgemm] [--quick]

Peers: plain scikit-learn, scikit-learn-intelex (its sklearnex estimators, oneDAL underneath),
FAISS (IndexFlatL2 for kNN, faiss.Kmeans), LightGBM and XGBoost (tree_method="hist"), and
numpy's BLAS for SGEMM. A peer that is not installed is named at the start and left out.

Cases (issue 18's sizes, float32 data):
  knn       KNeighborsClassifier k=5, 50 000 x 32 train, 10 000 queries, 4 classes
  logreg2   LogisticRegression (lbfgs, C=1, max_iter=100), 100 000 x 50, 2 classes
  logreg5   the same, 5 classes
  svc       SVC rbf (C=1, gamma="scale"), 10 000 x 20 train, 10 000 test
  linreg    LinearRegression, 200 000 x 100
  ridge     Ridge(alpha=1), 200 000 x 100
  rf        RandomForestClassifier, 100 trees, max_depth=10, 100 000 x 50
  pca       PCA(10) fit / transform, 200 000 x 100 (decaying spectrum)
  kmeans    KMeans k=64, 200 000 x 32 blobs, Lloyd from the same 64 initial centres, 20
            iterations (tol=0): the fit time divided by the iterations run, "s/iter"
  boosting  gradient boosting, 100 iterations, 100 000 x 50 classification (mlcore
            GradientBoosting, sklearn HistGradientBoosting, LightGBM, XGBoost hist), all with
            learning rate 0.1 and trees of at most 31 leaves
  sgemm     2048^3 float32 GEMM: mlcore.gemm against numpy's matmul

Same threads for everybody: threadpoolctl limits every BLAS/OpenMP library (scikit-learn,
numpy, FAISS, LightGBM, XGBoost), n_jobs / n_jobs-like parameters are set to --threads,
daal4py.daalinit(--threads) sets oneDAL's TBB arena, mlcore.set_num_threads(--threads) and the
backend pinned to --threads set mlcore's pool. Each round runs every library once per case
(fit, then predict), so all see the same drift of a shared machine's load; the table shows
medians over rounds and mlcore's spread (max - min) / median so noisy cases can be rerun.

Quality is checked per case against plain scikit-learn on held-out data: accuracy within 0.01
(kNN: also >= 99 % of predictions equal to scikit-learn's), R^2 within 1e-4, PCA explained
variance within 1e-3 relative, k-means inertia within 0.5 %, SGEMM relative error < 1e-5
against a float64 product. A failed check is marked FAIL beside the library's time.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import statistics
import time

import numpy as np
from sklearn import cluster as skc
from sklearn import decomposition as skd
from sklearn import ensemble as ske
from sklearn import linear_model as skl
from sklearn import neighbors as skn
from sklearn import svm as sks
from sklearn.datasets import make_blobs, make_classification, make_regression
from threadpoolctl import threadpool_limits

import mlcore
from bench_common import backend_for
from bench_decomposition import spectrum_data

# import name -> the package that provides it (bench/requirements-peers.txt)
PEER_PACKAGES = {
    "sklearnex": "scikit-learn-intelex",
    "faiss": "faiss-cpu",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
}
PEER_COLUMNS = ["sklearn", "sklearnex", "faiss", "lightgbm", "xgboost", "numpy"]


def import_peers():
    """{import name: module or None}, and the missing packages' names."""
    mods, missing = {}, []
    for name, package in PEER_PACKAGES.items():
        try:
            mods[name] = importlib.import_module(name)
        except ImportError:
            mods[name] = None
            missing.append(package)
    return mods, missing


def accuracy(pred, y):
    return float(np.mean(np.asarray(pred) == y))


def r2(pred, y):
    pred = np.asarray(pred, dtype=np.float64)
    return float(1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))


def inertia(X, centres):
    """Sum of squared distances to the nearest centre, in float64 (the same for every library,
    whatever its own inertia_ means)."""
    X64, C = X.astype(np.float64), np.asarray(centres, dtype=np.float64)
    total = 0.0
    for i in range(0, len(X64), 20000):
        blk = X64[i : i + 20000]
        d = (blk**2).sum(1)[:, None] - 2 * blk @ C.T + (C**2).sum(1)[None, :]
        total += float(np.maximum(d.min(1), 0).sum())
    return total


class FaissKNN:
    """kNN classification on faiss.IndexFlatL2: exact search, then the majority vote of the k
    labels (ties to the smallest label, as scikit-learn)."""

    def __init__(self, faiss, k):
        self.faiss, self.k = faiss, k

    def fit(self, X, y):
        self.index = self.faiss.IndexFlatL2(X.shape[1])
        self.index.add(np.ascontiguousarray(X, dtype=np.float32))
        self.classes_, self.y_ = np.unique(y, return_inverse=True)
        return self

    def predict(self, X):
        _, idx = self.index.search(np.ascontiguousarray(X, dtype=np.float32), self.k)
        labels = self.y_[idx]
        counts = np.zeros((len(X), len(self.classes_)), dtype=np.int32)
        np.add.at(counts, (np.arange(len(X))[:, None], labels), 1)
        return self.classes_[counts.argmax(1)]


class FaissKMeans:
    """faiss.Kmeans over every sample (max_points_per_centroid raised: FAISS subsamples to 256
    points per centre by default, which would time a 16 384-point problem), Lloyd for a fixed
    number of iterations from the given centres."""

    def __init__(self, faiss, k, init, niter):
        self.faiss, self.k, self.init, self.n_iter_ = faiss, k, init, niter

    def fit(self, X):
        self.km = self.faiss.Kmeans(
            X.shape[1],
            self.k,
            niter=self.n_iter_,
            verbose=False,
            max_points_per_centroid=len(X) + 1,
            min_points_per_centroid=1,
        )
        self.km.train(np.ascontiguousarray(X, dtype=np.float32), init_centroids=self.init)
        self.cluster_centers_ = self.km.centroids
        return self

    def predict(self, X):
        return self.km.index.search(np.ascontiguousarray(X, dtype=np.float32), 1)[1][:, 0]


# The compute-or-memory floors the issue asks about (full sizes): (timed op, MACs, bytes that
# must move at least once). kNN: every query against every training row (10k · 50k · 32 MACs);
# the data that must be read is the two matrices (the 10k x 50k distance matrix is an
# implementation's choice, not part of the floor). k-means, per Lloyd iteration: n · k · d MACs
# for the distances, and one pass over X (n · d floats) for the distances and the new sums.
FLOORS = {
    "knn": ("predict", 10000 * 50000 * 32, (10000 + 50000) * 32 * 4),
    "kmeans": ("fit", 200000 * 64 * 32, 200000 * 32 * 4),
}


class Entry:
    """One library on one case: make() -> estimator; fit(est); predict(est) -> output or None;
    quality(est, output) -> float."""

    def __init__(self, library, make, fit, predict, quality):
        self.library, self.make, self.fit, self.predict, self.quality = (
            library,
            make,
            fit,
            predict,
            quality,
        )


def classification(n_train, n_test, d, classes, informative, standardize=False):
    X, y = make_classification(
        n_train + n_test,
        d,
        n_informative=informative,
        n_redundant=min(10, d - informative),
        n_classes=classes,
        random_state=0,
    )
    if standardize:
        X = (X - X.mean(0)) / X.std(0)
    X = X.astype(np.float32)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def supervised(pairs, Xtr, ytr, Xte, yte, score):
    """Entries for estimators with fit(X, y) / predict(X), scored on the held-out set."""
    return [
        Entry(
            lib,
            make,
            lambda est: est.fit(Xtr, ytr),
            lambda est: est.predict(Xte),
            lambda est, out: score(out, yte),
        )
        for lib, make in pairs
    ]


def build_cases(args, peers, spec):
    """{case name: (label, quality label, check(q, q_sklearn, output, output_sklearn) -> bool,
    [Entry])}."""
    s = 10 if args.quick else 1
    T = args.threads
    sx, fa, lg, xg = (peers[n] for n in ("sklearnex", "faiss", "lightgbm", "xgboost"))
    cases = {}
    within = lambda tol: lambda q, ref, out, out_ref: abs(q - ref) <= tol  # noqa: E731

    def knn():
        Xtr, ytr, Xte, yte = classification(50000 // s, 10000 // s, 32, 4, 16)
        pairs = [
            ("mlcore", lambda: mlcore.KNeighborsClassifier(5, backend=spec)),
            ("sklearn", lambda: skn.KNeighborsClassifier(5, n_jobs=T)),
        ]
        if sx:
            pairs.append(("sklearnex", lambda: sx.neighbors.KNeighborsClassifier(5, n_jobs=T)))
        if fa:
            pairs.append(("faiss", lambda: FaissKNN(fa, 5)))

        def check(q, ref, out, out_ref):  # same accuracy and the same neighbours' votes
            return abs(q - ref) <= 0.01 and np.mean(out == out_ref) >= 0.99

        return (
            "kNN k=5, 50k x 32, 10k queries",
            "accuracy",
            check,
            supervised(pairs, Xtr, ytr, Xte, yte, accuracy),
        )

    def logreg(classes):
        Xtr, ytr, Xte, yte = classification(
            100000 // s, 20000 // s, 50, classes, 20, standardize=True
        )
        kw = dict(C=1.0, tol=1e-4, max_iter=100)
        pairs = [
            ("mlcore", lambda: mlcore.LogisticRegression(backend=spec, **kw)),
            ("sklearn", lambda: skl.LogisticRegression(**kw)),
        ]
        if sx:
            pairs.append(("sklearnex", lambda: sx.linear_model.LogisticRegression(**kw)))
        return (
            f"LogisticRegression, 100k x 50, {classes} classes",
            "accuracy",
            within(0.01),
            supervised(pairs, Xtr, ytr, Xte, yte, accuracy),
        )

    def svc():
        Xtr, ytr, Xte, yte = classification(10000 // s, 10000 // s, 20, 2, 10)
        pairs = [("mlcore", lambda: mlcore.SVC(backend=spec)), ("sklearn", lambda: sks.SVC())]
        if sx:
            pairs.append(("sklearnex", lambda: sx.svm.SVC()))
        return (
            "SVC rbf, 10k x 20",
            "accuracy",
            within(0.01),
            supervised(pairs, Xtr, ytr, Xte, yte, accuracy),
        )

    def regression(name):
        X, y = make_regression(220000 // s, 100, n_informative=50, noise=10.0, random_state=0)
        X = X.astype(np.float32)
        n = 200000 // s
        if name == "linreg":
            pairs = [
                ("mlcore", lambda: mlcore.LinearRegression(backend=spec)),
                ("sklearn", lambda: skl.LinearRegression()),
            ]
            if sx:
                pairs.append(("sklearnex", lambda: sx.linear_model.LinearRegression()))
            label = "LinearRegression, 200k x 100"
        else:
            pairs = [
                ("mlcore", lambda: mlcore.Ridge(1.0, backend=spec)),
                ("sklearn", lambda: skl.Ridge(1.0)),
            ]
            if sx:
                pairs.append(("sklearnex", lambda: sx.linear_model.Ridge(1.0)))
            label = "Ridge(alpha=1), 200k x 100"
        return (label, "R^2", within(1e-4), supervised(pairs, X[:n], y[:n], X[n:], y[n:], r2))

    def rf():
        Xtr, ytr, Xte, yte = classification(100000 // s, 20000 // s, 50, 2, 20)
        kw = dict(n_estimators=100, max_depth=10, random_state=0, n_jobs=T)
        pairs = [
            ("mlcore", lambda: mlcore.RandomForestClassifier(backend=spec, **kw)),
            ("sklearn", lambda: ske.RandomForestClassifier(**kw)),
        ]
        if sx:
            pairs.append(("sklearnex", lambda: sx.ensemble.RandomForestClassifier(**kw)))
        return (
            "RandomForest 100 trees depth 10, 100k x 50",
            "accuracy",
            within(0.01),
            supervised(pairs, Xtr, ytr, Xte, yte, accuracy),
        )

    def boosting():
        Xtr, ytr, Xte, yte = classification(100000 // s, 20000 // s, 50, 2, 20)
        pairs = [
            (
                "mlcore",
                lambda: mlcore.GradientBoostingClassifier(
                    max_iter=100, early_stopping=False, random_state=0, backend=spec
                ),
            ),
            (
                "sklearn",
                lambda: ske.HistGradientBoostingClassifier(
                    max_iter=100, early_stopping=False, random_state=0
                ),
            ),
        ]
        if lg:
            pairs.append(
                (
                    "lightgbm",
                    lambda: lg.LGBMClassifier(
                        n_estimators=100, n_jobs=T, random_state=0, verbose=-1
                    ),
                )
            )
        if xg:
            # XGBoost's defaults (learning rate 0.3, depth-6 trees) fit a different model;
            # these are the others' (0.1, 31 leaves grown best-first), for equal quality.
            pairs.append(
                (
                    "xgboost",
                    lambda: xg.XGBClassifier(
                        tree_method="hist",
                        n_estimators=100,
                        learning_rate=0.1,
                        grow_policy="lossguide",
                        max_leaves=31,
                        max_depth=0,
                        n_jobs=T,
                        random_state=0,
                    ),
                )
            )
        return (
            "boosting 100 iterations, 100k x 50",
            "accuracy",
            within(0.01),
            supervised(pairs, Xtr, ytr, Xte, yte, accuracy),
        )

    def pca():
        X = spectrum_data(200000 // s, 100)
        pairs = [("mlcore", lambda: mlcore.PCA(10, backend=spec)), ("sklearn", lambda: skd.PCA(10))]
        if sx:
            pairs.append(("sklearnex", lambda: sx.decomposition.PCA(10)))

        def check(q, ref, out, out_ref):
            return abs(q / ref - 1) <= 1e-3

        return (
            "PCA(10) fit / transform, 200k x 100",
            "sum expl. var.",
            check,
            [
                Entry(
                    lib,
                    make,
                    lambda est: est.fit(X),
                    lambda est: est.transform(X),
                    lambda est, out: float(np.sum(est.explained_variance_)),
                )
                for lib, make in pairs
            ],
        )

    def kmeans():
        n, d, k, iters = 200000 // s, 32, 64, 20
        X, _ = make_blobs(n, d, centers=k, cluster_std=3.0, random_state=0)
        X = X.astype(np.float32)
        init = X[np.random.default_rng(0).choice(n, k, replace=False)]
        kw = dict(init=init, n_init=1, max_iter=iters, tol=0.0)
        pairs = [
            ("mlcore", lambda: mlcore.KMeans(k, backend=spec, **kw)),
            ("sklearn", lambda: skc.KMeans(k, algorithm="lloyd", **kw)),
        ]
        if sx:
            pairs.append(("sklearnex", lambda: sx.cluster.KMeans(k, algorithm="lloyd", **kw)))
        if fa:
            pairs.append(("faiss", lambda: FaissKMeans(fa, k, init, iters)))

        def check(q, ref, out, out_ref):
            return abs(q / ref - 1) <= 5e-3

        return (
            "KMeans k=64 d=32, 200k, per Lloyd iteration",
            "inertia",
            check,
            [
                Entry(
                    lib,
                    make,
                    lambda est: est.fit(X),
                    lambda est: est.predict(X),
                    lambda est, out: inertia(X, est.cluster_centers_),
                )
                for lib, make in pairs
            ],
        )

    def sgemm():
        n = 2048 // (4 if args.quick else 1)
        rng = np.random.default_rng(0)
        A = rng.standard_normal((n, n), dtype=np.float32)
        B = rng.standard_normal((n, n), dtype=np.float32)
        ref = A.astype(np.float64) @ B.astype(np.float64)
        err = lambda C: float(np.linalg.norm(C - ref) / np.linalg.norm(ref))  # noqa: E731
        entries = [
            Entry(
                "mlcore",
                lambda: None,
                lambda _: mlcore.gemm(A, B, backend=spec),
                None,
                lambda est, out: err(mlcore.gemm(A, B, backend=spec)),
            ),
            Entry("numpy", lambda: None, lambda _: A @ B, None, lambda est, out: err(A @ B)),
        ]
        return (
            f"SGEMM {n}^3",
            "rel. error",
            lambda q, ref, out, out_ref: q < 1e-5,
            entries,
            2.0 * n**3,
        )

    makers = {
        "knn": knn,
        "logreg2": lambda: logreg(2),
        "logreg5": lambda: logreg(5),
        "svc": svc,
        "linreg": lambda: regression("linreg"),
        "ridge": lambda: regression("ridge"),
        "rf": rf,
        "pca": pca,
        "kmeans": kmeans,
        "boosting": boosting,
        "sgemm": sgemm,
    }
    for name in args.cases.split(","):
        if name not in makers:
            raise SystemExit(f"--cases: unknown case {name!r}; known: {', '.join(makers)}")
        cases[name] = makers[name]
    return cases


# OpenBLAS (numpy's and scipy's BLAS, so also scikit-learn's) keeps its worker threads spinning
# for about 2^28 cycles (~0.1 s; OPENBLAS_THREAD_TIMEOUT) after each call. A library timed right
# after it shares its cores with those threads: on the 2-vCPU Intel Xeon, mlcore's SGEMM 2048³
# measured 171 GFLOP/s right after numpy's and 287 GFLOP/s with the spinning cut short
# (bench/RESULTS.md "peers"). Each library starts on quiet cores instead.
SETTLE_SECONDS = 0.3


def settle():
    time.sleep(SETTLE_SECONDS)


def run_case(case, rounds, per_iteration):
    """Times {library: {"fit": [...], "predict": [...]}}, iterations, quality, outputs."""
    entries = case[3]
    times = {e.library: {"fit": [], "predict": []} for e in entries}
    models, outputs, iters = {}, {}, {}
    for _ in range(rounds):
        for e in entries:  # every library once per round
            est = e.make()
            settle()
            t = time.perf_counter()
            r = e.fit(est)
            times[e.library]["fit"].append(time.perf_counter() - t)
            models[e.library] = est if est is not None else r
            if per_iteration:
                iters[e.library] = est.n_iter_
            if e.predict is not None:
                t = time.perf_counter()
                outputs[e.library] = e.predict(est)
                times[e.library]["predict"].append(time.perf_counter() - t)
    quality = {e.library: e.quality(models[e.library], outputs.get(e.library)) for e in entries}
    return times, iters, quality, outputs


def fmt(t):
    return "-" if t is None else (f"{t:.4f}" if t < 0.1 else f"{t:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds per case")
    ap.add_argument(
        "--backend",
        default=mlcore.default_backend(),
        help="mlcore backend (default: the fastest f32 CPU backend here, "
        f"{mlcore.default_backend()})",
    )
    ap.add_argument(
        "--cases", default="knn,logreg2,logreg5,svc,linreg,ridge,rf,pca,kmeans,boosting,sgemm"
    )
    ap.add_argument("--quick", action="store_true", help="a tenth of the samples (a smoke test)")
    args = ap.parse_args()

    peers, missing = import_peers()
    if missing:
        print(
            f"MISSING PEERS (left out of the table): {', '.join(missing)} -- "
            "pip install -r bench/requirements-peers.txt"
        )
    T = args.threads
    mlcore.set_num_threads(T)
    spec = backend_for(args.backend, T)
    if peers["sklearnex"] is not None:
        import daal4py  # installed with scikit-learn-intelex: oneDAL's TBB arena size

        daal4py.daalinit(T)
        for sub in ("neighbors", "linear_model", "svm", "ensemble", "decomposition", "cluster"):
            importlib.import_module(f"sklearnex.{sub}")
    if peers["faiss"] is not None:
        peers["faiss"].omp_set_num_threads(T)
    versions = [
        f"mlcore {mlcore.__version__} [{mlcore.backend(spec).description}]",
        f"scikit-learn {importlib.import_module('sklearn').__version__}",
        f"numpy {np.__version__}",
    ]
    versions += [
        f"{PEER_PACKAGES[n]} {importlib.metadata.version(PEER_PACKAGES[n])}"
        for n, m in peers.items()
        if m is not None
    ]
    print(f"threads={T}; rounds={args.repeats} (interleaved, medians); " + "; ".join(versions))

    peaks = mlcore.backend(spec).peaks
    mac_peak, bw_peak = peaks["macs_per_second"], peaks["bytes_per_second"]
    print(
        f"measured peaks ({T} threads, {peaks['source']}): FMA {mac_peak / 1e9:.1f} G MAC/s, "
        f"memory {bw_peak / 1e9:.1f} GB/s"
    )
    present = (
        ["sklearn"]
        + [n for n in ("sklearnex", "faiss", "lightgbm", "xgboost") if peers[n] is not None]
        + ["numpy"]
    )
    header = (
        ["case", "op", "mlcore", "spread"]
        + present
        + ["fastest peer", "peer/mlcore", "sklearn/mlcore", "quality"]
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    floors = []
    with threadpool_limits(T):
        for name, make_case in build_cases(args, peers, spec).items():
            case = make_case()
            label, qname, check = case[0], case[1], case[2]
            flops = case[4] if len(case) > 4 else None
            per_iteration = name == "kmeans"
            times, iters, quality, outputs = run_case(case, args.repeats, per_iteration)
            ref_q = quality.get("sklearn", quality.get("numpy"))
            ref_out = outputs.get("sklearn")
            ok = {
                lib: (lib in ("sklearn",) or check(q, ref_q, outputs.get(lib), ref_out))
                for lib, q in quality.items()
            }
            qtxt = "; ".join(
                f"{lib} {quality[lib]:.5g}{'' if ok[lib] else ' FAIL'}" for lib in quality
            )
            for op in ("fit", "predict"):
                med = {}
                for lib, tt in times.items():
                    if tt[op]:
                        m = statistics.median(tt[op])
                        if per_iteration and op == "fit":
                            m /= iters[lib]
                        med[lib] = m
                if "mlcore" not in med:
                    continue
                ml = med["mlcore"]
                raw = times["mlcore"][op]
                spread = (max(raw) - min(raw)) / statistics.median(raw)
                peer_libs = {lib: t for lib, t in med.items() if lib != "mlcore"}
                best = min(peer_libs, key=peer_libs.get) if peer_libs else None
                cells = [
                    f"{fmt(med[lib])}{'' if ok.get(lib, True) else ' FAIL'}" if lib in med else "-"
                    for lib in present
                ]
                opname = "fit s/iter" if per_iteration and op == "fit" else op
                if flops and op == "fit":
                    opname = (
                        f"fit ({flops / ml / 1e9:.0f} vs {flops / med['numpy'] / 1e9:.0f} GFLOP/s)"
                    )
                sk = f"{med['sklearn'] / ml:.2f}" if "sklearn" in med else "-"
                print(
                    f"| {label} | {opname} | {fmt(ml)}{'' if ok['mlcore'] else ' FAIL'} | "
                    f"{spread:.0%} | "
                    + " | ".join(cells)
                    + f" | {best} | {peer_libs[best] / ml:.2f} | {sk} | "
                    + (f"{qname}: {qtxt}" if op == "fit" else "")
                    + " |",
                    flush=True,
                )
            if name in FLOORS and not args.quick:
                floors.append((label, FLOORS[name], times, iters))
    for label, (op, macs, nbytes), times, iters in floors:
        t = statistics.median(times["mlcore"][op]) / (iters["mlcore"] if op == "fit" else 1)
        compute, memory = macs / mac_peak, nbytes / bw_peak
        bound = "compute" if compute >= memory else "memory"
        print(
            f"floor, {label} {op}: {macs / 1e6:.0f} M MACs / peak = {compute * 1e3:.2f} ms, "
            f"{nbytes / 1e6:.1f} MB / bandwidth = {memory * 1e3:.2f} ms -> {bound}-bound; "
            f"mlcore {t * 1e3:.2f} ms = {t / max(compute, memory):.2f}x the floor, "
            f"{macs / t / mac_peak:.0%} of the FMA peak"
        )


if __name__ == "__main__":
    main()
