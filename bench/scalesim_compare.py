"""Cross-check the systolic backend's ``scalesim`` convention against SCALE-Sim itself.

Runs SCALE-Sim (``pip install scalesim``; it needs numpy < 2.4) in GEMM mode on a spread of
array sizes, dataflows and GEMM shapes, and compares its reported compute cycles ("Total
Cycles" minus "Stall Cycles", in its CALC bandwidth mode where stalls are 0) with
``mlcore.systolic(convention="scalesim").cycles(m, n, k)``. Also times both. Prints Markdown
for bench/RESULTS.md, section "systolic".

    PYTHONPATH=build/python python bench/scalesim_compare.py            # the spread
    PYTHONPATH=build/python python bench/scalesim_compare.py --big      # + 1024^3 on 256x256
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time


import mlcore

CONFIG = """[general]
run_name = mlcore

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSRAMSzkB: 8192
FilterSRAMSzkB: 8192
OfmapSRAMSzkB: 8192
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow: {dataflow}
Bandwidth: 10
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def run_scalesim(rows, cols, dataflow, m, n, k):
    """SCALE-Sim's (total cycles, stall cycles, wall seconds) for C (m x n) = A (m x k) B (k x n)."""
    from scalesim.scale_sim import scalesim  # imported here: optional dependency

    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "mlcore.cfg")
        topo = os.path.join(tmp, "gemm.csv")
        layout = os.path.join(tmp, "layout.csv")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(rows=rows, cols=cols, dataflow=dataflow))
        with open(topo, "w") as f:  # SCALE-Sim's GEMM topology: Layer, M, N, K
            f.write(f"Layer, M, N, K,\ngemm, {m}, {n}, {k},\n")
        with open(layout, "w") as f:  # required by its parser, unused without custom layouts
            f.write("Layer name, x,\n")
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(
                save_disk_space=True,
                verbose=False,
                config=cfg,
                topology=topo,
                layout=layout,
                input_type_gemm=True,
            )
            sim.run_scale(top_path=os.path.join(tmp, "out"))
        wall = time.perf_counter() - start
        report = None
        for dirpath, _, files in os.walk(os.path.join(tmp, "out")):
            if "COMPUTE_REPORT.csv" in files:
                report = os.path.join(dirpath, "COMPUTE_REPORT.csv")
        with open(report) as f:
            header = [h.strip() for h in f.readline().split(",")]
            values = [v.strip() for v in f.readline().split(",")]
        row = dict(zip(header, values))
        return int(row["Total Cycles"]), int(row["Stall Cycles"]), wall


def ours(rows, cols, dataflow, m, n, k):
    """mlcore's scalesim-convention compute cycles and the time to count them."""
    backend = mlcore.systolic(rows=rows, cols=cols, dataflow=dataflow, convention="scalesim")
    start = time.perf_counter()
    cycles = backend.cycles(m, n, k)["compute_cycles"]
    return cycles, time.perf_counter() - start


# (rows, cols, m, n, k): square and rectangular arrays, 1 x 1 GEMMs, primes, shapes smaller and
# larger than the array in every dimension.
SPREAD = [
    (4, 4, 1, 1, 1),
    (8, 8, 8, 8, 8),
    (8, 8, 20, 12, 10),
    (4, 8, 7, 13, 5),
    (8, 4, 30, 3, 17),
    (3, 5, 11, 7, 13),
    (16, 16, 5, 40, 33),
    (16, 16, 100, 64, 64),
    (32, 32, 97, 61, 131),
    (32, 16, 256, 100, 50),
    (64, 64, 200, 300, 150),
    (128, 128, 1000, 10, 64),
]
BIG = [(256, 256, 1000, 10, 64), (256, 256, 1024, 1024, 1024)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the tpu-v1-sized GEMMs")
    args = parser.parse_args()
    cases = SPREAD + (BIG if args.big else [])
    print(
        "| array | dataflow | M x N x K | SCALE-Sim cycles | mlcore scalesim | match | "
        "SCALE-Sim wall s | mlcore count s |"
    )
    print("|---|---|---|---:|---:|---|---:|---:|")
    mismatches = 0
    for rows, cols, m, n, k in cases:
        for df in ("os", "ws", "is"):
            total, stall, wall = run_scalesim(rows, cols, df, m, n, k)
            mine, t_mine = ours(rows, cols, df, m, n, k)
            ok = total - stall == mine
            mismatches += not ok
            print(
                f"| {rows}x{cols} | {df} | {m}x{n}x{k} | {total - stall} | {mine} | "
                f"{'yes' if ok else 'NO'} | {wall:.3f} | {t_mine:.2e} |",
                flush=True,
            )
    print(f"\n{len(cases) * 3 - mismatches} of {len(cases) * 3} match")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
