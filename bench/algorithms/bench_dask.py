"""mlcore.dask on a LocalCluster: 1 vs 2 workers (one thread each), and against dask-ml.

    python bench/algorithms/bench_dask.py [--rows 2000000] [--quick] [--repeats 3]
    python bench/algorithms/bench_dask.py --out-of-core [--ooc-rows 8000000] [--features 20]

For each family the same dask array (generated on the workers and persisted before timing, so
only the fit is timed) is fitted on a cluster of one worker and on one of two workers, each
worker with one thread and mlcore's avx2 backend pinned to one thread. Scaling efficiency =
t(1 worker) / (2 · t(2 workers)). The iterative fits run a fixed amount of work (KMeans:
max_iter iterations from given centres with tol = 0; LogisticRegression: max_iter L-BFGS
iterations with tol = 0; GradientBoosting: max_iter iterations, no early stopping, bins from
the sketch) so that both clusters do the same iterations. dask-ml (if installed:
pip install dask-ml) runs on the two-worker cluster with the same data and iteration budget;
its quality (inertia, R², log-loss, explained variance) is printed beside its time.
Every fit's profile splits the time into the workers' compute and the rounds' communication.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np

import dask.array as da
from distributed import Client, LocalCluster
from distributed import wait as _wait

import mlcore
import mlcore.dask as md
from bench_common import backend_for, bench_arguments, timed
from mlcore.dask import cost_model


def _chunk(rows, d, seed):
    """One row chunk of every array: X (rows × d, float32), a regression target y, a binary label
    and Xk, the rows moved to one of 8 blob centres (for KMeans)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, d)).astype(np.float32)
    y = X @ np.linspace(-1, 1, d).astype(np.float32) + rng.normal(size=rows).astype(np.float32)
    centres = (np.linspace(-3, 3, 8)[:, None] * np.ones((1, d))).astype(np.float32)
    Xk = X + centres[rng.integers(0, 8, rows)]
    return X, y, (y > 0).astype(np.int32), Xk


def data(client, rows, d, chunks, seed=0):
    """X, y, label, Xk as dask arrays of `chunks` row chunks, persisted with chunk i of all four
    made on worker i mod n_workers: a fit's tasks then find their X and y rows on one worker.
    (Left to the scheduler, the chunks of y could gather on one worker and pull a fit's tasks
    there, leaving the other idle: what the first runs of this script measured.)"""
    import dask

    workers = sorted(client.scheduler_info()["workers"])
    size = -(-rows // chunks)
    made = [
        (
            client.submit(
                _chunk, min(size, rows - s), d, seed + i, workers=[workers[i % len(workers)]]
            ),
            min(size, rows - s),
        )
        for i, s in enumerate(range(0, rows, size))
    ]
    kinds = [((d,), np.float32), ((), np.float32), ((), np.int32), ((d,), np.float32)]
    arrays = [
        da.concatenate(
            [
                da.from_delayed(dask.delayed(lambda t, j: t[j])(f, j), (n,) + tail, dtype=dt)
                for f, n in made
            ]
        )
        for j, (tail, dt) in enumerate(kinds)
    ]
    arrays = client.persist(arrays)
    _wait(arrays)
    del made  # the tuples: each array's chunk is now a task result of its own
    return arrays


FAMILIES = ["LinearRegression", "PCA", "KMeans", "LogisticRegression", "GradientBoosting"]
NOT_IN_DASKML = {"GradientBoosting"}  # dask-ml has no histogram boosting of its own


def mlcore_fit(name, backend, X, y, label, Xk, iters):
    if name == "LinearRegression":
        return md.LinearRegression(backend=backend).fit(X, y)
    if name == "PCA":
        return md.PCA(n_components=5, backend=backend).fit(X)
    if name == "KMeans":
        init = np.linspace(-2.5, 2.5, 8)[:, None] * np.ones((1, X.shape[1]), np.float32)
        return md.KMeans(8, init=init, max_iter=iters, tol=0.0, backend=backend).fit(Xk)
    if name == "GradientBoosting":
        return md.GradientBoostingClassifier(
            max_iter=iters, early_stopping=False, backend=backend
        ).fit(X, label)
    return md.LogisticRegression(max_iter=iters, tol=0.0, backend=backend).fit(X, label)


def daskml_fit(name, X, y, label, Xk, iters):
    import dask_ml.cluster
    import dask_ml.decomposition
    import dask_ml.linear_model

    if name == "LinearRegression":
        return dask_ml.linear_model.LinearRegression(solver="lbfgs", max_iter=iters).fit(X, y)
    if name == "PCA":
        return dask_ml.decomposition.PCA(n_components=5, svd_solver="tsqr").fit(X)
    if name == "KMeans":
        init = np.linspace(-2.5, 2.5, 8)[:, None] * np.ones((1, X.shape[1]), np.float32)
        return dask_ml.cluster.KMeans(
            8, init=init, max_iter=iters, tol=0.0, oversampling_factor=2
        ).fit(Xk)
    return dask_ml.linear_model.LogisticRegression(solver="lbfgs", max_iter=iters, tol=0.0).fit(
        X, label
    )


def quality(name, est, X, y, label, Xk, sample=200_000):
    """One number to compare the two libraries' fits on the first `sample` rows."""
    Xs, ys, ls, Xks = (a[:sample].compute() for a in (X, y, label, Xk))
    if name == "LinearRegression":
        pred = np.asarray(est.predict(Xs))
        return f"R²={1 - np.mean((ys - pred) ** 2) / np.var(ys):.5f}"
    if name == "PCA":
        return f"explained={float(np.sum(est.explained_variance_ratio_)):.5f}"
    if name == "KMeans":
        C = np.asarray(est.cluster_centers_)
        d2 = ((Xks[:, None, :] - C[None]) ** 2).sum(-1).min(1)
        return f"inertia/row={d2.mean():.4f}"
    # float64 before clipping: 1 − 1e-12 is 1.0 in float32, the dtype predict_proba keeps
    p = np.clip(np.asarray(est.predict_proba(Xs), dtype=np.float64)[:, 1], 1e-12, 1 - 1e-12)
    return f"logloss={-np.mean(ls * np.log(p) + (1 - ls) * np.log(1 - p)):.5f}"


# ---- out of core: a data set larger than the workers' memory -------------------------------


def write_npy(path, rows, d, block=250_000, seed=0):
    """A .npy file of rows × d float32 blobs (8 centres) written block by block, never whole in
    memory; y = X·w + noise in a second file."""
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(path + "-X.npy", mode="w+", dtype=np.float32, shape=(rows, d))
    y = np.lib.format.open_memmap(path + "-y.npy", mode="w+", dtype=np.float32, shape=(rows,))
    w = np.linspace(-1, 1, d).astype(np.float32)
    centres = (np.linspace(-3, 3, 8)[:, None] * np.ones((1, d))).astype(np.float32)
    for start in range(0, rows, block):
        stop = min(rows, start + block)
        Xb = rng.normal(size=(stop - start, d)).astype(np.float32)
        Xb += centres[rng.integers(0, 8, stop - start)]
        X[start:stop] = Xb
        y[start:stop] = Xb @ w + rng.normal(size=stop - start).astype(np.float32)
    X.flush()
    y.flush()
    del X, y


def _read_rows(path, start, stop):
    """One chunk read from the memory-mapped file (the task that dask recomputes if needed)."""
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def npy_rows(path, chunk):
    """A dask array over a .npy file, one task per row chunk: each task maps the file and copies
    its rows (da.from_array on a memmap would pickle the whole array into the graph)."""
    import dask

    shape = np.load(path, mmap_mode="r").shape
    parts = [
        da.from_delayed(
            dask.delayed(_read_rows)(path, s, min(shape[0], s + chunk)),
            shape=(min(shape[0], s + chunk) - s,) + shape[1:],
            dtype=np.float32,
        )
        for s in range(0, shape[0], chunk)
    ]
    return da.concatenate(parts)


def out_of_core(args):
    """KMeans and LinearRegression on a .npy data set larger than the two workers' memory
    limits together; the workers' peak RSS (sampled every 0.1 s) against their limit."""
    import os
    import tempfile
    import threading

    import psutil

    rows, d = args.ooc_rows, args.features
    limit = args.ooc_memory_limit
    with tempfile.TemporaryDirectory(dir=args.ooc_dir) as tmp:
        path = os.path.join(tmp, "data")
        write_npy(path, rows, d)
        size = os.path.getsize(path + "-X.npy") + os.path.getsize(path + "-y.npy")
        print(
            f"out of core: {rows} × {d} float32 + y on disk = {size / 2**20:.0f} MiB; "
            f"2 workers × memory_limit {limit / 2**20:.0f} MiB = {2 * limit / 2**20:.0f} MiB; "
            f"chunks of {args.ooc_chunk} rows",
            flush=True,
        )
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                memory_limit=limit,
                dashboard_address=":0",
                local_directory=tmp,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            peak = {}
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    try:
                        for w, rss in client.run(
                            lambda: psutil.Process().memory_info().rss, nanny=False
                        ).items():
                            peak[w] = max(peak.get(w, 0), rss)
                    except Exception:  # noqa: BLE001 - a worker restarting: try again
                        pass
                    stop.wait(0.1)

            X, y = (
                npy_rows(path + "-X.npy", args.ooc_chunk),
                npy_rows(path + "-y.npy", args.ooc_chunk),
            )
            backend = mlcore.avx2(1)
            md.LinearRegression(backend=backend).fit(X[:10000], y[:10000])  # imports
            base = dict(client.run(lambda: psutil.Process().memory_info().rss))
            thread = threading.Thread(target=sample, daemon=True)
            thread.start()
            init = (np.linspace(-2.5, 2.5, 8)[:, None] * np.ones((1, d))).astype(np.float32)
            for name, fit in (
                ("LinearRegression", lambda: md.LinearRegression(backend=backend).fit(X, y)),
                (
                    "KMeans",
                    lambda: md.KMeans(
                        8, init=init, max_iter=args.iters, tol=0.0, backend=backend
                    ).fit(X),
                ),
            ):
                peak.clear()
                t0 = time.perf_counter()
                est = fit()
                t = time.perf_counter() - t0
                what = (
                    f"R² on 10k rows={est.score(X[:10000].compute(), y[:10000].compute()):.4f}"
                    if name == "LinearRegression"
                    else f"inertia/row={est.inertia_ / rows:.3f}"
                )
                print(
                    f"{name:18s} out of core: {t:7.1f} s; peak worker RSS "
                    + ", ".join(f"{v / 2**20:.0f} MiB" for v in peak.values())
                    + f" (idle {max(base.values()) / 2**20:.0f} MiB, limit "
                    f"{limit / 2**20:.0f} MiB); {what}",
                    flush=True,
                )
            stop.set()
            thread.join()


def main():
    ap = bench_arguments(__doc__)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--families", nargs="+", default=FAMILIES)
    ap.add_argument(
        "--chunks",
        type=int,
        default=2,
        help="row chunks (the same on both clusters; 2 = one per worker on two)",
    )
    ap.add_argument("--no-daskml", action="store_true")
    ap.add_argument(
        "--daskml-repeats", type=int, default=1, help="repeats of the (slower) dask-ml fits"
    )
    ap.add_argument(
        "--out-of-core",
        action="store_true",
        help="only the out-of-core runs: KMeans and LinearRegression on a .npy "
        "file larger than the workers' memory",
    )
    ap.add_argument("--ooc-rows", type=int, default=8_000_000)
    ap.add_argument("--ooc-chunk", type=int, default=200_000)
    ap.add_argument("--ooc-memory-limit", type=int, default=300 * 2**20)
    ap.add_argument("--ooc-dir", default=None, help="where the .npy files go (default: /tmp)")
    args = ap.parse_args()
    if args.out_of_core:
        return out_of_core(args)
    rows = args.rows // 10 if args.quick else args.rows
    # One thread per worker: the workers are the parallelism. --backends' first name (default:
    # the fastest f32 CPU backend here).
    backend = backend_for(args.backends[0], 1)
    print(
        f"mlcore {mlcore.__version__}; rows={rows}; features={args.features}; "
        f"chunks={args.chunks}; iters={args.iters}; repeats={args.repeats}; "
        f"backend={backend.description}"
    )
    warnings.simplefilter("ignore")
    results = {}
    for n_workers in (1, 2):
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            # The same partitions on both clusters (by default two: one per worker on two, as
            # XGBoost and LightGBM advise; every round then costs one task per partition).
            # Every worker must be up before the data are made, or the first one to start holds
            # all of them and the second has nothing to do.
            client.wait_for_workers(n_workers)
            client.run(lambda: __import__("mlcore.dask"))  # every worker, not only the first
            arrays = data(client, rows, args.features, args.chunks)
            held = client.has_what()
            print(f"partitions per worker: {sorted(len(keys) for keys in held.values())}")
            X, y, label, Xk = arrays
            for name in args.families:
                # warm-up: one iteration on all the data, so every worker has run the fit once
                mlcore_fit(name, backend, X, y, label, Xk, 1)
                t, est = timed(
                    lambda: mlcore_fit(name, backend, X, y, label, Xk, args.iters), args.repeats
                )
                s = cost_model.summary(est.profile_)
                results[(name, n_workers)] = t
                print(
                    f"{name:18s} workers={n_workers} mlcore.dask {t:8.3f} s  rounds="
                    f"{s['rounds']:3d}  compute per worker="
                    f"{'/'.join(f'{v:.3f}' for v in sorted(s['compute_seconds_per_worker'].values()))}"
                    " s  "
                    f"comm={s['comm_seconds']:.3f} s  {quality(name, est, X, y, label, Xk)}",
                    flush=True,
                )
                if n_workers == 2 and not args.no_daskml and name not in NOT_IN_DASKML:
                    try:
                        t_ml, est_ml = timed(
                            lambda: daskml_fit(name, X, y, label, Xk, args.iters),
                            args.daskml_repeats,
                        )
                    except ImportError:
                        print("  dask-ml is not installed (pip install dask-ml)")
                        continue
                    print(
                        f"{name:18s} workers=2 dask-ml     {t_ml:8.3f} s  "
                        f"{quality(name, est_ml, X, y, label, Xk)}  "
                        f"mlcore.dask is {t_ml / t:.1f}x faster",
                        flush=True,
                    )
    for name in args.families:
        t1, t2 = results[(name, 1)], results[(name, 2)]
        print(
            f"{name:18s} 1 worker {t1:.3f} s, 2 workers {t2:.3f} s: speed-up {t1 / t2:.2f}, "
            f"efficiency {t1 / (2 * t2):.0%}"
        )


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f} s")
