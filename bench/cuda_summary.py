#!/usr/bin/env python3
"""The summary table of bench_cuda's JSON output (Google Benchmark --benchmark_out).

    python3 bench/cuda_summary.py build-gpu-check/out/bench_cuda.json
    python3 bench/cuda_summary.py --no-gpu      (gpu_check.sh --dry-run: the table, unmeasured)

Prints a markdown table: primitive, ours, cuBLAS (or the floor), ratio, target, pass/fail, for
the issue's three targets first, then the other figures for reference. Exit status 1 when a
target is missed or its benchmark did not run (0 with --no-gpu, where nothing can run).
"""

from __future__ import annotations

import json
import re
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        # Google Benchmark appends settings to the name ("/min_time:0.300", "/iterations:2",
        # "/manual_time"); drop them so the names are the registered ones plus their arguments.
        name = "/".join(
            part
            for part in b["name"].split("/")
            if not re.match(r"(min_time|iterations|repeats):|manual_time$|real_time$", part)
        )
        runs[name] = b
    return data.get("context", {}), runs


def counter(runs, name, key):
    b = runs.get(name)
    if b is None or b.get("error_occurred"):
        return None
    v = b.get(key)
    return float(v) if v is not None else None


def error_of(runs, name):
    b = runs.get(name)
    if b is None:
        return "did not run"
    if b.get("error_occurred"):
        return b.get("error_message", "error")
    return None


def fmt(v, unit, digits=1):
    return "—" if v is None else f"{v:.{digits}f} {unit}"


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    no_gpu = argv[1] == "--no-gpu"
    try:
        context, runs = ({}, {}) if no_gpu else load(argv[1])
    except (OSError, ValueError) as e:
        print(f"no benchmark results: {e}")
        return 1
    peak_f32 = float(context.get("gpu_peak_f32_tflops", 0) or 0)
    peak_int8 = float(context.get("gpu_peak_int8_tops", 0) or 0)
    peak_bw = float(context.get("gpu_peak_dram_gbps", 0) or 0)
    if "gpu_name" in context:
        print(
            f"GPU: {context['gpu_name']} (compute capability "
            f"{context.get('gpu_compute_capability', '?')}, "
            f"{context.get('gpu_sm_count', '?')} SMs); peaks at max clock: f32 "
            f"{peak_f32:.1f} TFLOP/s, int8 {peak_int8:.0f} TOP/s, DRAM {peak_bw:.0f} GB/s"
        )
    bw = counter(runs, "memcpy_d2d", "GBps")
    if bw:
        print(f"measured device-to-device copy: {bw:.0f} GB/s (read + write)")
    print()

    ok = True
    rows = []

    def target_row(label, ours, ref, ratio, target_text, passed, note=""):
        nonlocal ok
        if no_gpu:  # the dry run: the same rows, nothing measured
            rows.append((label, "no GPU", "no GPU", "—", target_text, "not run (dry run)"))
            return
        ok = ok and passed
        rows.append(
            (
                label,
                ours,
                ref,
                ratio,
                target_text,
                ("PASS" if passed else "FAIL") + (f" ({note})" if note else ""),
            )
        )

    # 1. SGEMM 4096³, TF32 off, against cublasSgemm.
    ours = counter(runs, "sgemm/register_blocked/4096", "TFLOPs")
    ref = counter(runs, "sgemm/cublas/4096", "TFLOPs")
    ratio = ours / ref if ours and ref else None
    target_row(
        "SGEMM 4096³ f32 (TF32 off)",
        fmt(ours, "TFLOP/s"),
        fmt(ref, "TFLOP/s") + " cuBLAS",
        fmt(ratio, "", 2).strip(),
        "≥ 0.60 of cuBLAS",
        ratio is not None and ratio >= 0.60,
        error_of(runs, "sgemm/register_blocked/4096") or error_of(runs, "sgemm/cublas/4096") or "",
    )
    # 2. int8 GEMM 4096³ on the tensor cores, against cublasGemmEx int8.
    ours = counter(runs, "igemm/ours/4096", "TFLOPs")
    ref = counter(runs, "igemm/cublas/4096", "TFLOPs")
    ratio = ours / ref if ours and ref else None
    target_row(
        "int8 GEMM 4096³ (tensor cores)",
        fmt(ours, "TOP/s", 0),
        fmt(ref, "TOP/s", 0) + " cuBLAS",
        fmt(ratio, "", 2).strip(),
        "≥ 0.40 of cuBLAS",
        ratio is not None and ratio >= 0.40,
        error_of(runs, "igemm/ours/4096") or error_of(runs, "igemm/cublas/4096") or "",
    )
    # 3. One k-means step against its memory-bound floor.
    secs = counter(runs, "kmeans_step/library", "seconds")
    floor = counter(runs, "kmeans_step/library", "floor_seconds")
    ratio = secs / floor if secs and floor else None
    target_row(
        "k-means step 10⁶×32, 64 centroids",
        fmt(secs and secs * 1e3, "ms", 3),
        fmt(floor and floor * 1e3, "ms", 3) + " floor",
        fmt(ratio, "×", 2),
        "≤ 2× the floor",
        ratio is not None and ratio <= 2.0,
        error_of(runs, "kmeans_step/library") or "",
    )

    print("| primitive | ours | reference | ratio | target | result |")
    print("|---|---|---|---|---|---|")
    for label, o, r, ratio, target, result in rows:
        print(f"| {label} | {o} | {r} | {ratio} | {target} | {result} |")

    # For reference: the ladder, TF32, gemv, the other primitives.
    print()
    print("| for reference | ours | reference | ratio | % of peak |")
    print("|---|---|---|---|---|")
    for step in ("naive", "coalesced", "shared_tiles", "register_blocked"):
        v = counter(runs, f"sgemm/{step}/4096", "TFLOPs")
        pct = f"{100 * v / peak_f32:.0f}% of f32" if v and peak_f32 else "—"
        print(f"| sgemm ladder: {step} | {fmt(v, 'TFLOP/s')} | | | {pct} |")
    for name, label, ref_name in (
        ("sgemm_tf32/ours/4096", "TF32 GEMM 4096³ (WMMA)", "sgemm_tf32/cublas/4096"),
        ("igemm/ours_packed/4096", "int8 GEMM 4096³, B stored k×n (packed)", "igemm/cublas/4096"),
    ):
        v, r = counter(runs, name, "TFLOPs"), counter(runs, ref_name, "TFLOPs")
        ratio = f"{v / r:.2f}" if v and r else "—"
        print(f"| {label} | {fmt(v, 'T/s')} | {fmt(r, 'T/s')} cuBLAS | {ratio} | |")
    for op, label in (("gemv_n", "gemv 8192² y = A·x"), ("gemv_t", "gemv 8192² y = Aᵀ·x")):
        v, r = counter(runs, f"{op}/ours/8192", "GBps"), counter(runs, f"{op}/cublas/8192", "GBps")
        ratio = f"{v / r:.2f}" if v and r else "—"
        pct = f"{100 * v / bw:.0f}% of copy" if v and bw else "—"
        print(f"| {label} | {fmt(v, 'GB/s', 0)} | {fmt(r, 'GB/s', 0)} cuBLAS | {ratio} | {pct} |")
    gpu_s = counter(runs, "kmeans_step/library", "gpu_seconds")
    fused = counter(runs, "kmeans_step/library", "fused_floor_seconds")
    if gpu_s:
        print(
            f"| k-means step, GPU time only (events) | {gpu_s * 1e3:.3f} ms | "
            f"{fmt(fused and fused * 1e3, 'ms', 3)} one fused pass | | |"
        )
    for name, label in (
        ("sqdist/ours", "sqdist 10⁶×64, d=32"),
        ("argmin_rows/ours", "argmin_rows 10⁶×64"),
        ("scatter_add/ours", "scatter_add 10⁶×32 → 64 (deterministic)"),
        ("scatter_add/atomic", "scatter_add 10⁶×32 → 64 (atomics)"),
        ("topk_rows/ours/10", "topk_rows 10⁴×8192, k=10"),
        ("topk_rows/ours/100", "topk_rows 10⁴×8192, k=100"),
        ("softmax_rows/ours", "softmax_rows 65536×1000"),
        ("reduce_cols_var/ours", "reduce_cols var 10⁶×32"),
        ("map_exp/ours", "map exp 2²⁶"),
    ):
        v = counter(runs, name, "GBps")
        pct = f"{100 * v / bw:.0f}% of copy" if v and bw else (error_of(runs, name) or "—")
        print(f"| {label} | {fmt(v, 'GB/s', 0)} | | | {pct} |")
    print()
    if no_gpu:
        print("targets: not measured (dry run: no GPU)")
        return 0
    print("targets:", "all met" if ok else "NOT all met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
