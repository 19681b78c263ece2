"""The backend comparison: the same work on every backend, side by side.

Run it as ``python -m mlcore.compare`` (or ``mlcore-compare``). For now it compares the GEMM
primitive, the multiply-accumulate workhorse behind every algorithm, at a few shapes; the
ten-algorithm comparison builds on the same table.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import primitives
from ._backends import available_backends
from .profile import last_profile

# (m, n, k): square sizes, and the tall-skinny shape of a least-squares Gram matrix (XᵀX).
DEFAULT_SHAPES = [(256, 256, 256), (1024, 1024, 1024), (64, 64, 20000)]


def gemm_row(backend: str, m: int, n: int, k: int, repeats: int, rng) -> dict:
    """Run C = A·B on `backend` and return one table row (median time of `repeats`)."""
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    seconds = []
    record = None
    for _ in range(repeats):
        c = primitives.gemm(a, b, backend=backend)
        record = last_profile()[0]
        seconds.append(record["seconds"])
    secs = float(np.median(seconds))
    rel_err = float(np.linalg.norm(c - reference) / np.linalg.norm(reference))
    bytes_moved = record["bytes_read"] + record["bytes_written"]
    return {
        "backend": backend,
        "shape": f"{m}x{n}x{k}",
        "macs": record["macs"],
        "bytes": bytes_moved,
        "intensity": record["macs"] / bytes_moved,
        "seconds": secs,
        "time_is": "simulated" if record["seconds_simulated"] else "measured",
        "gflops": 2.0 * record["macs"] / secs * 1e-9 if secs > 0 else float("inf"),
        "cycles": record.get("cycles"),
        "utilization": record.get("utilization"),
        "energy_j": record.get("energy_joules"),
        "rel_error": rel_err,
    }


def format_table(rows: list) -> str:
    """A fixed-width text table of the comparison rows."""
    header = (f"{'backend':<10} {'shape':<16} {'MACs':>12} {'bytes':>12} {'MAC/B':>7} "
              f"{'seconds':>10} {'time is':<9} {'GFLOP/s':>9} {'cycles':>12} {'util':>6} "
              f"{'energy J':>9} {'rel.err':>8}")
    lines = [header, "-" * len(header)]
    for r in rows:
        cycles = f"{r['cycles']:>12d}" if r["cycles"] is not None else f"{'-':>12}"
        util = f"{r['utilization']:>6.1%}" if r["utilization"] is not None else f"{'-':>6}"
        energy = f"{r['energy_j']:>9.2e}" if r["energy_j"] is not None else f"{'-':>9}"
        lines.append(
            f"{r['backend']:<10} {r['shape']:<16} {r['macs']:>12.3e} {r['bytes']:>12.3e} "
            f"{r['intensity']:>7.1f} {r['seconds']:>10.4g} {r['time_is']:<9} {r['gflops']:>9.2f} "
            f"{cycles} {util} {energy} {r['rel_error']:>8.1e}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mlcore-compare", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=None,
                        help="backends to compare (default: every available one)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args(argv)
    backends = args.backends or available_backends()
    unknown = [b for b in backends if b not in available_backends()]
    if unknown:
        parser.error(f"backend(s) not available here: {', '.join(unknown)}; "
                     f"available: {', '.join(available_backends())}")
    rng = np.random.default_rng(0)
    rows = []
    start = time.perf_counter()
    for m, n, k in DEFAULT_SHAPES:
        for b in backends:
            # The scalar reference is a plain triple loop: keep it to the small shape.
            if b == "scalar" and m * n * k > 256 ** 3:
                continue
            print(f"  running gemm {m}x{n}x{k} on {b} ...", file=sys.stderr, flush=True)
            rows.append(gemm_row(b, m, n, k, args.repeats, rng))
    print(format_table(rows))
    print(f"\n({time.perf_counter() - start:.1f} s; rel.err is ‖C − C_f64‖/‖C_f64‖)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
