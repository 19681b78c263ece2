"""The backend comparison: the same algorithms on every backend, side by side.

``python -m mlcore.compare`` (or the ``mlcore-compare`` command) fits and evaluates the ten
algorithm families on every available backend, on data bundled with scikit-learn (digits for the
classifiers, clustering and PCA; diabetes for the regressors), and prints one table: per
algorithm and backend, the fit and predict time (measured, or simulated for the systolic array),
the MACs and bytes the primitives moved, arithmetic intensity, achieved GOP/s, cycles and
utilization (systolic), the energy estimate, the score, and its difference from the f32 scalar
result. ``--out DIR`` also writes the table as CSV and JSON and the plots as PNG.

In Python, :func:`compare` does the same for one estimator.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ._backends import Backend, available_backends, backend as make_backend, default_backend
from .profile import Profile

# ---- what is compared ----------------------------------------------------------------------


@dataclass(frozen=True)
class AlgorithmSpec:
    """One row group of the comparison: an mlcore estimator, its parameters, how it is scored."""

    key: str  # the --algorithms name
    title: str  # what the table prints
    estimator: str  # class name in the mlcore package
    task: str  # classification | regression | clustering | decomposition
    params: dict = field(default_factory=dict)


# The ten families. Parameters are scikit-learn's names; sizes are kept modest so the whole
# comparison, scalar reference included, runs in minutes on a laptop.
ALGORITHMS = [
    AlgorithmSpec("linear_regression", "least squares", "LinearRegression", "regression"),
    AlgorithmSpec(
        "logistic_regression",
        "logistic regression",
        "LogisticRegression",
        "classification",
        {"max_iter": 300},
    ),
    AlgorithmSpec(
        "decision_tree",
        "decision tree",
        "DecisionTreeClassifier",
        "classification",
        {"max_depth": 10, "random_state": 0},
    ),
    AlgorithmSpec("svm", "SVM (RBF)", "SVC", "classification", {"kernel": "rbf"}),
    AlgorithmSpec("naive_bayes", "naive Bayes", "GaussianNB", "classification"),
    AlgorithmSpec(
        "knn", "k-nearest neighbours", "KNeighborsClassifier", "classification", {"n_neighbors": 5}
    ),
    AlgorithmSpec(
        "kmeans",
        "k-means",
        "KMeans",
        "clustering",
        {"n_clusters": 10, "n_init": 1, "random_state": 0},
    ),
    AlgorithmSpec(
        "random_forest",
        "random forest",
        "RandomForestClassifier",
        "classification",
        {"n_estimators": 50, "max_depth": 10, "random_state": 0},
    ),
    AlgorithmSpec("pca", "PCA", "PCA", "decomposition", {"n_components": 16}),
    AlgorithmSpec(
        "gradient_boosting",
        "gradient boosting",
        "GradientBoostingClassifier",
        "classification",
        {"max_iter": 50, "random_state": 0},
    ),
]
ALGORITHM_KEYS = [a.key for a in ALGORITHMS]

SCORE_NAMES = {
    "classification": "accuracy",
    "regression": "R2",
    "clustering": "ARI",
    "decomposition": "var kept",
}

DATASETS = ("digits", "diabetes", "iris", "wine", "breast_cancer")

# ---- data ------------------------------------------------------------------------------------


def load_data(task: str, dataset: str | None = None, n_samples: int | None = None, seed: int = 0):
    """(X_train, X_test, y_train, y_test), standardised, float32.

    ``dataset`` defaults to digits (diabetes for regression). ``n_samples`` replaces the bundled
    data with synthetic data of that size (for scaling studies).
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if n_samples is not None:
        if task == "regression":
            X, y = datasets.make_regression(
                n_samples=n_samples, n_features=20, noise=10.0, random_state=seed
            )
        elif task == "clustering":
            X, y = datasets.make_blobs(
                n_samples=n_samples, n_features=32, centers=10, random_state=seed
            )
        else:
            X, y = datasets.make_classification(
                n_samples=n_samples, n_features=32, n_informative=16, n_classes=4, random_state=seed
            )
    else:
        name = dataset or ("diabetes" if task == "regression" else "digits")
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        if task == "regression" and name != "diabetes":
            name = "diabetes"  # the only bundled regression set; classifiers use the choice
        if task != "regression" and name == "diabetes":
            name = "digits"
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype(np.float32)
    X_test = scaler.transform(X_test).astype(np.float32)
    if task == "regression":
        y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
    return X_train, X_test, y_train, y_test


def score(task: str, est, X_test, y_test) -> float:
    """The task's score on held-out data: accuracy, R², adjusted Rand index, variance kept."""
    if task in ("classification", "regression"):
        return float(est.score(X_test, y_test))
    if task == "clustering":
        from sklearn.metrics import adjusted_rand_score

        return float(adjusted_rand_score(y_test, est.predict(X_test)))
    return float(np.sum(est.explained_variance_ratio_))


# ---- one measurement ---------------------------------------------------------------------


def _totals(profile: Profile) -> dict:
    """Sums over a call's records, with the simulator's MAC-weighted utilization."""
    t = {
        "macs": 0,
        "bytes": 0,
        "seconds": 0.0,
        "wall": 0.0,
        "cycles": None,
        "energy_j": None,
        "dram_bytes": None,
        "simulated": False,
        "util_weight": 0.0,
    }
    for r in profile:
        t["macs"] += r["macs"]
        t["bytes"] += r["bytes_read"] + r["bytes_written"]
        t["seconds"] += r["seconds"]
        t["wall"] += r["wall_seconds"]
        if r.get("dram_read_bytes") is not None:
            t["dram_bytes"] = (t["dram_bytes"] or 0) + r["dram_read_bytes"] + r["dram_write_bytes"]
        t["simulated"] |= bool(r["seconds_simulated"])
        if r.get("cycles") is not None:
            t["cycles"] = (t["cycles"] or 0) + r["cycles"]
            t["util_weight"] += r["utilization"] * r["cycles"]
        if r.get("energy_joules") is not None:
            t["energy_j"] = (t["energy_j"] or 0.0) + r["energy_joules"]
    return t


def measure(estimator, task: str, data, backend) -> dict:
    """Fit and evaluate a clone of ``estimator`` on ``backend``; one table row."""
    from sklearn.base import clone

    X_train, X_test, y_train, y_test = data
    est = clone(estimator).set_params(backend=backend)
    start = time.perf_counter()
    if task in ("classification", "regression"):
        est.fit(X_train, y_train)
    else:
        est.fit(X_train)
    fit_wall = time.perf_counter() - start
    fit_profile = Profile(getattr(est, "profile_", []))
    start = time.perf_counter()
    if task == "decomposition":
        est.transform(X_test)
    else:
        est.predict(X_test)
    predict_wall = time.perf_counter() - start
    predict_profile = Profile(getattr(est, "profile_", []))
    fit_t, pred_t = _totals(fit_profile), _totals(predict_profile)
    simulated = fit_t["simulated"] or pred_t["simulated"]
    # A measured backend's time is the wall clock of the whole call (host glue included); the
    # simulator's is the simulated time of its primitives (the host glue is not modelled).
    fit_s = fit_t["seconds"] if simulated else fit_wall
    predict_s = pred_t["seconds"] if simulated else predict_wall
    macs = fit_t["macs"] + pred_t["macs"]
    nbytes = fit_t["bytes"] + pred_t["bytes"]
    prim_seconds = fit_t["seconds"] + pred_t["seconds"]
    cycles = None
    utilization = None
    if fit_t["cycles"] is not None or pred_t["cycles"] is not None:
        cycles = (fit_t["cycles"] or 0) + (pred_t["cycles"] or 0)
        if cycles:
            utilization = (fit_t["util_weight"] + pred_t["util_weight"]) / cycles
    energy = None
    if fit_t["energy_j"] is not None or pred_t["energy_j"] is not None:
        energy = (fit_t["energy_j"] or 0.0) + (pred_t["energy_j"] or 0.0)
    dram_bytes = None
    if fit_t["dram_bytes"] is not None or pred_t["dram_bytes"] is not None:
        dram_bytes = (fit_t["dram_bytes"] or 0) + (pred_t["dram_bytes"] or 0)
    # Time spent outside the primitives (host glue: validation, small dense solves, split
    # finding, tree walking), measured on every backend. The simulator does not model it, so
    # for trees a systolic fit_s shows only the accelerator's share.
    host_s = max(0.0, fit_wall + predict_wall - fit_t["wall"] - pred_t["wall"])
    name = backend.name if isinstance(backend, Backend) else str(backend)
    return {
        "backend": name,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "time_is": "simulated" if simulated else "measured",
        "macs": macs,
        "bytes": nbytes,
        "intensity": macs / nbytes if nbytes else 0.0,
        # The simulator's own DRAM traffic (int8 operands, re-reads): its true intensity.
        "dram_bytes": dram_bytes,
        "host_s": host_s,
        "gops": 2.0 * macs / prim_seconds * 1e-9 if prim_seconds > 0 else 0.0,
        "cycles": cycles,
        "utilization": utilization,
        "energy_j": energy,
        "score": score(task, est, X_test, y_test),
        "profile": {"fit": list(fit_profile), "predict": list(predict_profile)},
    }


def _with_deltas(rows: list) -> list:
    """Adds ``score_delta``: each row's score minus the scalar (f32 reference) row's."""
    by_algorithm = {}
    for r in rows:
        if r["backend"] == "scalar":
            by_algorithm[r.get("algorithm")] = r["score"]
    for r in rows:
        ref = by_algorithm.get(r.get("algorithm"))
        r["score_delta"] = None if ref is None else r["score"] - ref
    return rows


def compare(estimator, X, y=None, backends=None, *, test_size=0.25, random_state=0):
    """Run one estimator on several backends and return the side-by-side table.

    The data are split into train and test parts; each backend fits a clone of ``estimator``
    on the training part and is scored on the test part. Returns a pandas DataFrame when pandas
    is installed, otherwise a list of dicts (one per backend; the full profiles are under
    ``"profile"``).
    """
    from sklearn.model_selection import train_test_split

    X = np.asarray(X)
    task = _task_of(estimator)
    backends = list(backends) if backends is not None else available_backends()
    if y is None:
        X_train, X_test = train_test_split(X, test_size=test_size, random_state=random_state)
        y_train = y_test = None
        if task == "clustering":
            raise ValueError("compare() needs y to score a clustering (adjusted Rand index)")
    else:
        X_train, X_test, y_train, y_test = train_test_split(
            X, np.asarray(y), test_size=test_size, random_state=random_state
        )
    data = (X_train, X_test, y_train, y_test)
    rows = []
    for b in backends:
        row = measure(estimator, task, data, b)
        row["algorithm"] = type(estimator).__name__
        rows.append(row)
    rows = _with_deltas(rows)
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def _task_of(estimator) -> str:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    if hasattr(estimator, "explained_variance_ratio_") or hasattr(estimator, "inverse_transform"):
        return "decomposition"
    return "clustering"


# ---- the whole comparison ------------------------------------------------------------------


def run(
    algorithms=None,
    backends=None,
    dataset=None,
    n_samples=None,
    systolic_preset=None,
    progress=True,
) -> list:
    """The comparison table as a list of rows (see :func:`format_table`)."""
    import mlcore

    algorithms = algorithms or ALGORITHM_KEYS
    unknown = [a for a in algorithms if a not in ALGORITHM_KEYS]
    if unknown:
        raise ValueError(f"unknown algorithm(s) {unknown}; known: {', '.join(ALGORITHM_KEYS)}")
    backends = backends or available_backends()
    specs = [a for a in ALGORITHMS if a.key in algorithms]
    jobs = []
    skipped = []
    for spec in specs:
        cls = getattr(mlcore, spec.estimator, None)
        if cls is None:
            skipped.append(spec.title)
            continue
        for b in backends:
            jobs.append((spec, cls, b))
    if skipped and progress:
        print(f"(not yet in this build, skipped: {', '.join(skipped)})", file=sys.stderr)
    rows = []
    data_cache = {}
    bar = _Progress(len(jobs), enabled=progress)
    for spec, cls, b in jobs:
        bar.update(f"{spec.title} on {b}")
        if spec.task not in data_cache:
            data_cache[spec.task] = load_data(spec.task, dataset, n_samples)
        be = make_backend(b, preset=systolic_preset) if (b == "systolic" and systolic_preset) else b
        row = measure(cls(**spec.params), spec.task, data_cache[spec.task], be)
        row.update(
            {
                "algorithm": spec.title,
                "key": spec.key,
                "task": spec.task,
                "score_name": SCORE_NAMES[spec.task],
            }
        )
        rows.append(row)
    bar.close()
    return _with_deltas(rows)


class _Progress:
    """A one-line progress bar on stderr (tqdm's when installed)."""

    def __init__(self, total, enabled=True):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self._tqdm = None
        if self.enabled:
            try:
                from tqdm import tqdm

                self._tqdm = tqdm(total=total, file=sys.stderr, leave=False)
            except ImportError:
                pass

    def update(self, label):
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.set_description(label)
            if self.done:
                self._tqdm.update(1)
        else:
            width = 30
            filled = int(width * self.done / self.total)
            print(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label:<40}",
                end="",
                file=sys.stderr,
                flush=True,
            )
        self.done += 1

    def close(self):
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.update(1)
            self._tqdm.close()
        else:
            print("\r" + " " * 90 + "\r", end="", file=sys.stderr, flush=True)


# ---- output --------------------------------------------------------------------------------

COLUMNS = [
    "algorithm",
    "backend",
    "fit_s",
    "predict_s",
    "time_is",
    "host_s",
    "macs",
    "bytes",
    "intensity",
    "gops",
    "cycles",
    "utilization",
    "energy_j",
    "score_name",
    "score",
    "score_delta",
]


def _fmt(key, value) -> str:
    if value is None:
        return "-"
    if key in ("fit_s", "predict_s", "host_s"):
        return f"{value:.3g}"
    if key in ("macs", "bytes", "cycles"):
        return f"{value:.2e}" if value else "0"
    if key == "intensity":
        return f"{value:.1f}"
    if key == "gops":
        return f"{value:.2f}"
    if key == "utilization":
        return f"{value:.1%}"
    if key == "energy_j":
        return f"{value:.2e}"
    if key == "score":
        return f"{value:.4f}"
    if key == "score_delta":
        return f"{value:+.4f}"
    return str(value)


HEADERS = {
    "algorithm": "algorithm",
    "backend": "backend",
    "fit_s": "fit s",
    "predict_s": "predict s",
    "time_is": "time is",
    "host_s": "host s",
    "macs": "MACs",
    "bytes": "bytes",
    "intensity": "MAC/B",
    "gops": "GOP/s",
    "cycles": "cycles",
    "utilization": "util",
    "energy_j": "energy J",
    "score_name": "score",
    "score": "value",
    "score_delta": "vs scalar",
}


def format_table(rows: list) -> str:
    """A fixed-width text table of the comparison."""
    cells = [[HEADERS[c] for c in COLUMNS]]
    for r in rows:
        cells.append([_fmt(c, r.get(c)) for c in COLUMNS])
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    left = {"algorithm", "backend", "time_is", "score_name"}
    lines = []
    for n, row in enumerate(cells):
        parts = [
            v.ljust(w) if COLUMNS[i] in left else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def write_outputs(rows: list, out_dir: str) -> list:
    """Writes comparison.csv, comparison.json and the plots into ``out_dir``; returns paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    csv_path = os.path.join(out_dir, "comparison.csv")
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + ["key", "task"], extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
    paths.append(csv_path)
    json_path = os.path.join(out_dir, "comparison.json")
    with open(json_path, "w") as f:
        json.dump(rows, f, indent=1, default=float)
    paths.append(json_path)
    try:
        import matplotlib

        matplotlib.use("Agg")
        from . import plot
    except ImportError:
        print("(matplotlib is not installed: no plots written)", file=sys.stderr)
        return paths
    for name, draw in (("comparison.png", plot.compare), ("roofline.png", plot.roofline)):
        fig = draw(rows)
        path = os.path.join(out_dir, name)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlcore-compare",
        description="Run the ten algorithm families on every backend and compare what the "
        "hardware did.",
    )
    parser.add_argument(
        "--algorithms",
        nargs="+",
        metavar="NAME",
        choices=ALGORITHM_KEYS,
        help=f"subset to run (default: all): {', '.join(ALGORITHM_KEYS)}",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        metavar="NAME",
        help="backends to compare (default: every available one)",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        help="bundled dataset for the classifiers/clustering/PCA "
        "(default: digits; regressors always use diabetes)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        metavar="N",
        help="use synthetic data of N samples instead (scaling studies)",
    )
    parser.add_argument(
        "--systolic-preset", metavar="NAME", help="systolic array preset (default: tpu-v1)"
    )
    parser.add_argument("--out", metavar="DIR", help="write CSV, JSON and PNG plots here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    available = available_backends()
    if args.backends:
        missing = [b for b in args.backends if b not in available]
        if missing:
            parser.error(
                f"backend(s) not available here: {', '.join(missing)}; "
                f"available: {', '.join(available)}"
            )
    if args.n_samples is not None and args.n_samples < 20:
        parser.error("--n-samples must be at least 20")
    start = time.perf_counter()
    rows = run(
        args.algorithms,
        args.backends,
        args.dataset,
        args.n_samples,
        args.systolic_preset,
        progress=not args.quiet,
    )
    if not rows:
        print("nothing to compare: no requested algorithm is in this build", file=sys.stderr)
        return 1
    print(format_table(rows))
    print(
        f"\nDefault backend here (what an estimator uses when none is named): "
        f"{default_backend()}, the fastest f32 CPU backend this machine runs."
    )
    print(
        f"\n{len(rows)} runs in {time.perf_counter() - start:.0f} s. Times are measured "
        "wall-clock for CPU/GPU backends and simulated from cycle counts for systolic; "
        "'host s' is measured time outside the primitives (not in a simulated time); "
        "GOP/s = 2·MACs / primitive time; 'vs scalar' is the score minus the f32 scalar "
        "backend's."
    )
    if args.out:
        for p in write_outputs(rows, args.out):
            print(f"wrote {p}")
    return 0


class _CallableModule(type(sys)):
    """Lets ``mlcore.compare(estimator, X, y)`` call :func:`compare` while ``mlcore.compare``
    stays the module that ``python -m mlcore.compare`` runs."""

    def __call__(self, *args, **kwargs):
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    sys.exit(main())
