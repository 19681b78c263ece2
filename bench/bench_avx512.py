"""The avx512 backend's GEMMs against numpy's OpenBLAS, the measured AVX-512 FMA peak and the
avx2 backend: the figures of bench/RESULTS.md, section "avx512".

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python bench/bench_avx512.py [--threads 2] [--repeats 9] [--sizes 1024 2048]

Prints, for each size n: SGEMM GFLOP/s of numpy (OpenBLAS), the avx2 and the avx512 backend,
the ratio avx512 / OpenBLAS and avx512's share of the measured AVX-512 FMA peak; then the int8
GEMM (GOP/s, 2 ops per MAC) of avx2 (vpmaddwd) and avx512 (VNNI vpdpbusd) and their ratio; and,
where the CPU and OS run AMX (mlcore.cpu_info()), the host's int8 GEMM on AMX tiles against the
tile unit's peak (a loop of tile multiplies on resident tiles, measured in the same run, TOP/s)
and against the VNNI GEMM.

The machine is shared: every round runs the contenders back to back (interleaved), each figure
is the median over the rounds, and a ratio is the ratio of medians taken in the same run, so a
neighbour's load slows all contenders alike instead of favouring whichever ran in a quiet
moment. Peaks are the best of short runs (what the cores *can* do). OpenBLAS is limited to
--threads with threadpoolctl. Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old
OpenBLAS builds; they slow a current one, so unset both for this command (the script says which
OpenBLAS kernel it ran).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import mlcore


def cpu_line() -> str:
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", "unknown CPU", "x86_64"):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = sorted(f for f in flags if f.startswith(("avx512", "amx")))
    return f"{model}, {os.cpu_count()} logical CPUs; {' '.join(simd) or 'no AVX-512'}"


# Each round, each contender first runs untimed for WARM_SECONDS, then BURST timed calls, of which
# the fastest is the round's figure. The warm-up absorbs what the previous contender left
# behind: its worker threads keep spinning after their call returned, waiting for the next one
# (OpenBLAS's for ~2^28 cycles by default), and on a 2-vCPU machine they hold a core. Measured
# here: for ~100 ms after three OpenBLAS calls, mlcore's 1024³ SGEMM took 13–14 ms instead of
# 8.2; with one call per round it showed half its speed. (Resting instead of warming does not
# work: after a sleep every contender, OpenBLAS included, ran slower.)
WARM_SECONDS = 0.15
BURST = 3


def interleaved(contenders: dict, repeats: int) -> dict:
    """name -> median over `repeats` rounds of the fastest of BURST calls made after
    WARM_SECONDS of untimed calls. Rounds interleave the contenders, so a neighbour's load
    drifting over minutes slows them alike."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            while time.perf_counter() - start < WARM_SECONDS:
                fn()
            burst = []
            for _ in range(BURST):
                t = time.perf_counter()
                fn()
                burst.append(time.perf_counter() - t)
            times[name].append(min(burst))
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048])
    args = ap.parse_args()
    if "avx512" not in mlcore.available_backends():
        reason = next(b["reason"] for b in mlcore.backend_info() if b["name"] == "avx512")
        raise SystemExit(f"the avx512 backend cannot run here: {reason}")

    blas = next((i for i in threadpool_info() if i["user_api"] == "blas"), {})
    print(f"CPU: {cpu_line()}")
    print(
        f"numpy {np.__version__}, BLAS {blas.get('internal_api')} {blas.get('version')} "
        f"(kernel: {blas.get('architecture')}); OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; threads={args.threads}; "
        f"repeats={args.repeats} interleaved rounds (warm-up, best of a burst), medians"
    )
    b2, b5 = mlcore.avx2(args.threads), mlcore.avx512(args.threads)
    # GFLOP/s = 2 flops per MAC.
    peak2 = 2 * b2.peaks["macs_per_second"] / 1e9
    peak5 = 2 * b5.peaks["macs_per_second"] / 1e9
    print(
        f"measured FMA peak, {args.threads} threads: AVX2 {peak2:.0f} GFLOP/s, "
        f"AVX-512 {peak5:.0f} GFLOP/s"
    )

    rng = np.random.default_rng(0)
    print(
        f"\n{'n':>6} {'OpenBLAS':>9} {'avx2':>7} {'avx512':>7}  {'512/BLAS':>8} "
        f"{'%peak512':>8}   {'i8 avx2':>8} {'i8 avx512':>9} {'VNNI/avx2':>9}   (GFLOP/s, GOP/s)"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for n in args.sizes:
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            t = interleaved(
                {
                    # Both sides allocate their result, as a user's `a @ b` and mlcore.gemm do.
                    "blas": lambda: np.matmul(a, b),
                    "avx2": lambda: mlcore.gemm(a, b, backend=b2),
                    "avx512": lambda: mlcore.gemm(a, b, backend=b5),
                },
                args.repeats,
            )
            ai = rng.integers(-128, 128, (n, n), dtype=np.int8)
            bi = rng.integers(-128, 128, (n, n), dtype=np.int8)
            ti = interleaved(
                {
                    "avx2": lambda: mlcore.gemm(ai, bi, backend=b2),
                    "avx512": lambda: mlcore.gemm(ai, bi, backend=b5),
                },
                args.repeats,
            )
            g = {k: 2 * n**3 / v / 1e9 for k, v in t.items()}
            gi = {k: 2 * n**3 / v / 1e9 for k, v in ti.items()}
            print(
                f"{n:>6} {g['blas']:>9.1f} {g['avx2']:>7.1f} {g['avx512']:>7.1f}  "
                f"{t['blas'] / t['avx512']:>8.2f} {g['avx512'] / peak5:>8.0%}   "
                f"{gi['avx2']:>8.1f} {gi['avx512']:>9.1f} {ti['avx2'] / ti['avx512']:>9.2f}"
            )
    amx_table(args, b5, rng)


def amx_table(args, b5, rng) -> None:
    """The AMX int8 GEMM (the host's int8 kernel where AMX runs) against the tile-loop peak and
    the avx512 backend's VNNI GEMM, interleaved."""
    cpu = mlcore.cpu_info()
    if not cpu["amx"]:
        print(f"\nAMX: not measured here ({cpu['amx_reason']})")
        return
    peak = 2 * mlcore._core.measure_amx_int8_peak(args.threads) / 1e12
    print(f"\nAMX tile-loop peak, {args.threads} threads: {peak:.2f} TOP/s")
    print(f"{'n':>6} {'i8 VNNI':>9} {'i8 AMX':>9} {'%peak':>6} {'AMX/VNNI':>9}   (TOP/s)")
    for n in args.sizes:
        ai = rng.integers(-128, 128, (n, n), dtype=np.int8)
        bi = rng.integers(-128, 128, (n, n), dtype=np.int8)
        t = interleaved(
            {
                "vnni": lambda: mlcore.gemm(ai, bi, backend=b5),
                "amx": lambda: mlcore._core.host_int8_gemm(ai, bi, args.threads),
            },
            args.repeats,
        )
        top = {k: 2 * n**3 / v / 1e12 for k, v in t.items()}
        print(
            f"{n:>6} {top['vnni']:>9.2f} {top['amx']:>9.2f} {top['amx'] / peak:>6.0%} "
            f"{t['vnni'] / t['amx']:>9.2f}"
        )


if __name__ == "__main__":
    main()
