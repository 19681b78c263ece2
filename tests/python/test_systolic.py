"""The systolic backend from Python: configuration objects, cycles, the wavefront trace."""

import copy
import pickle

import numpy as np
import pytest

import mlcore


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
