"""What every bench/algorithms script shares: a median timer and the backend for a name.

The scripts run as `python bench/algorithms/bench_<family>.py`, so this folder is on sys.path
and they import this module by its plain name.
"""

from __future__ import annotations

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


def backend_for(name, threads):
    """The mlcore backend called `name`; avx2 pinned to `threads` threads, like scikit-learn."""
    return mlcore.avx2(threads) if name == "avx2" else mlcore.backend(name)
