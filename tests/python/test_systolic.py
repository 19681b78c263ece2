"""The systolic backend from Python: configuration objects, cycles, the wavefront trace."""

import copy
import pickle

import numpy as np
import pytest

import mlcore

from conftest import F32_BACKENDS


def test_default_backend_is_tpu_v1():
    assert mlcore.systolic() == mlcore.backend("systolic")
    assert "systolic[tpu-v1]: 256x256 ws physical analytic, 700 MHz" in str(mlcore.systolic())
    assert mlcore.systolic().config["accumulator_bytes"] == 4 << 20


def test_configured_gemm_records_its_cycles(rng):
    tpu = mlcore.systolic(rows=32, cols=32, dataflow="os")
    a = rng.standard_normal((64, 48)).astype(np.float32)
    b = rng.standard_normal((48, 16)).astype(np.float32)
    c = mlcore.gemm(a, b, backend=tpu)
    record = mlcore.last_profile()[0]
    assert record["backend"] == "systolic"
    assert record["seconds_simulated"]
    assert record["compute_cycles"] == tpu.cycles(64, 16, 48)["compute_cycles"]
    assert 0 < record["quant_error"] < 0.05
    # int8 per-tensor / per-channel quantization: ~1% relative error on random data
    assert np.linalg.norm(c - a @ b) / np.linalg.norm(a @ b) < 0.05


def test_backend_objects_print_compare_and_survive_pickle():
    a = mlcore.systolic(rows=32, cols=32, dataflow="os", convention="scalesim")
    b = mlcore.systolic(dataflow="os", rows=32, cols=32, convention="scalesim", clock_hz=700e6)
    assert a == b and hash(a) == hash(b)  # the preset's own values are not kept as overrides
    assert a != mlcore.systolic(rows=32, cols=32)
    assert repr(a) == "mlcore.systolic(cols=32, convention='scalesim', dataflow='os', rows=32)"
    assert "32x32 os scalesim" in str(a)
    for clone in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert clone == a
        assert isinstance(clone, mlcore.SystolicBackend)
        assert clone.cycles(10, 10, 10) == a.cycles(10, 10, 10)
    edge = mlcore.systolic(preset="edge-npu")
    assert edge.config["rows"] == 32 and "edge-npu" in str(edge)


def test_bad_settings_raise_value_error():
    with pytest.raises(ValueError, match="rows"):
        mlcore.systolic(rows=0)
    with pytest.raises(ValueError, match="unknown systolic setting"):
        mlcore.systolic(row=8)
    with pytest.raises(ValueError, match="dataflow"):
        mlcore.systolic(dataflow="rs")
    with pytest.raises(ValueError, match="preset"):
        mlcore.systolic(preset="tpu-v9")


def test_worked_example_of_the_docs():
    # docs/SYSTOLIC.md: 1000x64 . 64x10 on tpu-v1
    s = mlcore.systolic().cycles(1000, 10, 64)
    assert s["compute_cycles"] == 2 * 256 + 1000 + 10 - 2
    assert s["cycles"] == 3675
    assert s["utilization"] == pytest.approx(640000 / (65536 * 3675))


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_wavefront_trace_is_numpy(dataflow, rng):
    tpu = mlcore.systolic(rows=4, cols=3, dataflow=dataflow)
    a = rng.integers(-128, 128, size=(5, 6), dtype=np.int8)
    b = rng.integers(-128, 128, size=(6, 2), dtype=np.int8)
    t = tpu.trace(a, b)
    cycles = tpu.cycles(5, 2, 6)["compute_cycles"]
    for key, dtype in (("left", np.int8), ("top", np.int8), ("acc", np.int32), ("busy", np.uint8)):
        assert t[key].shape == (cycles, 4, 3)
        assert t[key].dtype == dtype
    assert t["busy"].sum() == 5 * 2 * 6  # one busy PE-cycle per useful MAC
    np.testing.assert_array_equal(t["c"], a.astype(np.int32) @ b.astype(np.int32))


def test_stepped_mode_matches_analytic(rng):
    a = rng.standard_normal((30, 20)).astype(np.float32)
    b = rng.standard_normal((20, 9)).astype(np.float32)
    out = {}
    for mode in ("analytic", "stepped"):
        c = mlcore.gemm(a, b, backend=mlcore.systolic(rows=8, cols=8, mode=mode))
        out[mode] = (c, mlcore.last_profile()[0]["cycles"])
    np.testing.assert_array_equal(out["analytic"][0], out["stepped"][0])
    assert out["analytic"][1] == out["stepped"][1]


def _wide_range(rng, rows, cols):
    """Columns that mix magnitudes: ordinary values ±10^u (u in [-2, 1)) and, in every third
    column, a few values near 1e8 (GaussianNB's precisions of a class constant on a feature)."""
    b = 10.0 ** rng.uniform(-2, 1, (rows, cols)) * rng.choice([-1.0, 1.0], (rows, cols))
    hard = (np.arange(cols) % 3 == 1) & (rng.random((rows, cols)) < 0.2)
    b[hard] = np.sign(b[hard]) * 1e8 * rng.uniform(1, 2, hard.sum())
    return b.astype(np.float32)


@pytest.mark.parametrize(
    "m,n,k", [(1, 1, 1), (1, 7, 3), (13, 1, 17), (17, 19, 23), (300, 10, 64), (37, 257, 41)]
)
def test_wide_range_b_keeps_every_products_relative_precision(rng, m, n, k):
    # With wide_range_b each value of b is quantized within R/254 of itself (R = 8, the band
    # ratio), so |c - exact| is bounded by sum_p |a|·|b| terms (float64 reference), not by
    # max|b| per column as with one int8 scale per column.
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = _wide_range(rng, k, n)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact = a64 @ b64
    half_a = np.abs(a64).max(axis=1, keepdims=True) / 254
    eb = 8 / 254 * np.abs(b64)
    bound = np.abs(a64) @ eb + half_a * ((np.abs(b64) + eb).sum(axis=0)) + 1e-6 * np.abs(exact)
    c = mlcore.gemm(a, b, backend="systolic", wide_range_b=True)
    assert np.all(np.abs(c - exact) <= bound + 1e-30)
    record = mlcore.last_profile()[0]
    assert 1 <= record["passes"] <= 8 and record["macs"] == m * n * k
    # f32 backends compute the same product with or without the hint (asked by capability:
    # the int8 ones, systolic and amx, use it)
    for name in F32_BACKENDS:
        if name != "cuda":
            np.testing.assert_array_equal(
                mlcore.gemm(a, b, backend=name, wide_range_b=True), mlcore.gemm(a, b, backend=name)
            )


def test_bands_show_as_passes_and_a_smaller_error(rng):
    # One hard value 1e6 per column where a is 0, ordinary values ~1 and ~1e-3: one scale per
    # column rounds the ordinary ones to 0 (c = 0); three bands keep them.
    a = rng.uniform(0.5, 1, (40, 31)).astype(np.float32)
    a[:, 0] = 0
    sizes = np.where(np.arange(31) == 0, 1e6, np.where(np.arange(31) % 2 == 1, 1.0, 1e-3))
    b = (sizes[:, None] * rng.uniform(0.5, 1, (31, 6))).astype(np.float32)
    exact = a.astype(np.float64) @ b
    plain = mlcore.gemm(a, b, backend="systolic")
    p1 = mlcore.last_profile()[0]
    banded = mlcore.gemm(a, b, backend="systolic", wide_range_b=True)
    p3 = mlcore.last_profile()[0]
    assert (p1["passes"], p3["passes"]) == (1, 3)
    assert p3["compute_cycles"] >= 3 * p1["compute_cycles"]
    assert np.linalg.norm(plain - exact) / np.linalg.norm(exact) > 0.5 and p1["quant_error"] > 0.5
    assert np.linalg.norm(banded - exact) / np.linalg.norm(exact) < 0.02
    assert p3["quant_error"] < 0.02
    with pytest.raises(ValueError, match="int8 GEMM is exact"):
        mlcore.gemm(np.ones((2, 2), np.int8), np.ones((2, 2), np.int8), wide_range_b=True)


def test_rows_up_to_constant_resolves_differences_on_a_large_offset(rng):
    # Every row of b is 100 plus a spread of ±1: the differences between result columns carry
    # the information. With the row medians subtracted first, the int8 step is set by the
    # spread, not by the offset of 100.
    a = rng.uniform(-1, 1, (29, 31)).astype(np.float32)
    b = rng.uniform(99, 101, (31, 11)).astype(np.float32)
    exact = a.astype(np.float64) @ b
    diff = exact - exact[:, :1]
    c = mlcore.gemm(a, b, backend="systolic", rows_up_to_constant=True)
    plain = mlcore.gemm(a, b, backend="systolic")
    err = np.abs((c - c[:, :1]) - diff).max()
    err_plain = np.abs((plain - plain[:, :1]) - diff).max()
    assert err * 4 < err_plain
    assert err <= 2 * np.abs(a).sum(axis=1).max() * (1 / 127 + 3 / 254)
