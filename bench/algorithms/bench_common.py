"""What every bench/algorithms script shares: a median timer, the backend for a name, and the
common command-line options.

The scripts run as `python bench/algorithms/bench_<family>.py`, so this folder is on sys.path
and they import this module by its plain name.
"""

from __future__ import annotations

import argparse
import statistics
import time

import mlcore


def timed(fn, repeats):
    """(median seconds over `repeats` calls of fn(), the last call's result)."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# The threaded CPU backends, each pinned to --threads like scikit-learn's BLAS.
_THREADED = {"avx2": mlcore.avx2, "avx512": mlcore.avx512}


def backend_for(name, threads):
    """The mlcore backend called `name`; avx2 / avx512 pinned to `threads` threads, like
    scikit-learn."""
    return _THREADED[name](threads) if name in _THREADED else mlcore.backend(name)


def bench_arguments(doc):
    """A parser with the options every script takes (--threads, --repeats, --backends, --quick),
    described by the first line of `doc`; the script adds its own before parsing."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--backends",
        nargs="+",
        default=[mlcore.default_backend()],
        help="mlcore backends (default: mlcore.default_backend(), the fastest f32 "
        f"CPU backend here: {mlcore.default_backend()})",
    )
    ap.add_argument("--quick", action="store_true", help="a tenth of the samples (a smoke test)")
    return ap


def run_header(args):
    """The line a script prints first: mlcore's version, threads, repeats, the backends."""
    names = ", ".join(
        mlcore.backend(backend_for(b, args.threads)).description for b in args.backends
    )
    return (
        f"mlcore {mlcore.__version__}; threads={args.threads}; repeats={args.repeats}; "
        f"backends: {names}; default backend here: {mlcore.default_backend()}"
    )
