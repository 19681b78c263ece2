"""The cuda backend from Python: every primitive against numpy (float64), on shapes that are not
multiples of any tile size. Skipped, with the reason, where the cuda backend cannot run."""

import numpy as np
import pytest

import mlcore

# Skipped with the reason where cuda cannot run; on the GPU machine (bench/gpu_check.sh sets
# MLCORE_REQUIRE_CUDA=1, the older spelling of MLCORE_REQUIRE=cuda) a missing device fails.
pytestmark = pytest.mark.backend("cuda")

EPS = np.finfo(np.float32).eps


def test_cuda_is_listed_and_describes_its_device():
    assert "cuda" in mlcore.available_backends()
    b = mlcore.backend("cuda")
    assert b.description.startswith("cuda: ")
    peaks = b.peaks  # from the device's attributes: what "% of peak" divides by
    assert peaks["macs_per_second"] > 1e12 and peaks["bytes_per_second"] > 1e11
    assert "SMs" in peaks["source"]


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (37, 41, 29), (130, 257, 65), (500, 300, 1000)])
@pytest.mark.parametrize(
    "trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)]
)
def test_gemm_f32(m, n, k, trans_a, trans_b, rng):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    oa = a.T.astype(np.float64) if trans_a else a.astype(np.float64)
    ob = b.T.astype(np.float64) if trans_b else b.astype(np.float64)
    got = mlcore.gemm(
        a, b, trans_a=trans_a, trans_b=trans_b, alpha=0.5, c=c, beta=2.0, backend="cuda"
    )
    ref = 0.5 * oa @ ob + 2.0 * c
    scale = 0.5 * np.abs(oa) @ np.abs(ob) + 2.0 * np.abs(c)
    assert np.all(np.abs(got - ref) <= 1e-6 + (k + 2) * EPS * scale)
    profile = mlcore.last_profile()
    assert any(r["op"] == "gemm" and r["backend"] == "cuda" for r in profile)


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (19, 23, 70), (128, 128, 64), (300, 130, 1001)])
def test_int8_gemm_on_tensor_cores_is_exact(m, n, k, rng):
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    b = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    got = mlcore.gemm(a, b, backend="cuda")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))
    got_t = mlcore.gemm(a, np.ascontiguousarray(b.T), trans_b=True, backend="cuda")
    np.testing.assert_array_equal(got_t, a.astype(np.int64) @ b.astype(np.int64))


def test_gemv_sqdist_argmin_topk(rng):
    a = rng.standard_normal((1000, 33)).astype(np.float32)
    x = rng.standard_normal(33).astype(np.float32)
    np.testing.assert_allclose(
        mlcore.gemv(a, x, backend="cuda"), a.astype(np.float64) @ x, rtol=1e-5, atol=1e-5
    )
    z = rng.standard_normal(1000).astype(np.float32)
    np.testing.assert_allclose(
        mlcore.gemv(a, z, trans_a=True, backend="cuda"),
        a.T.astype(np.float64) @ z,
        rtol=1e-4,
        atol=1e-4,
    )
    centroids = rng.standard_normal((64, 33)).astype(np.float32)
    d = mlcore.sqdist(a, centroids, backend="cuda")
    ref = ((a[:, None, :].astype(np.float64) - centroids[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(d, ref, rtol=1e-5, atol=1e-4)
    assert (mlcore.sqdist(a, a[:10], backend="cuda") >= 0).all()
    index, value = mlcore.argmin_rows(ref.astype(np.float32), backend="cuda")
    np.testing.assert_array_equal(np.ravel(index), np.argmin(ref.astype(np.float32), axis=1))
    q = np.round(rng.standard_normal((7, 500)) * 4).astype(np.float32) / 4  # ties
    index, value = mlcore.topk_rows(q, 64, backend="cuda")
    np.testing.assert_array_equal(index, np.argsort(q, axis=1, kind="stable")[:, :64])
    np.testing.assert_array_equal(value, np.sort(q, axis=1)[:, :64])


def test_map_softmax_elementwise_reductions(rng):
    x = rng.uniform(-5, 5, size=(257, 33)).astype(np.float32)
    np.testing.assert_allclose(
        mlcore.map("exp", x, backend="cuda"), np.exp(x.astype(np.float64)), rtol=8 * EPS
    )
    np.testing.assert_allclose(
        mlcore.map("sigmoid", x, backend="cuda"),
        1 / (1 + np.exp(-x.astype(np.float64))),
        rtol=8 * EPS,
    )
    s = mlcore.softmax_rows(x, backend="cuda")
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(s, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    y = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_allclose(
        mlcore.axpby(2.0, x, -1.0, y, backend="cuda"), 2.0 * x - y, rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(mlcore.multiply(x, y, backend="cuda"), x * y, rtol=1e-6)
    big = rng.uniform(99, 101, size=(100000, 3)).astype(np.float32)
    for op, fn in [("sum", np.sum), ("mean", np.mean), ("var", np.var)]:
        np.testing.assert_allclose(
            mlcore.reduce_cols(big, op, backend="cuda"),
            fn(big.astype(np.float64), axis=0),
            rtol=64 * EPS,
        )


def test_scatter_add_and_gather(rng):
    x = rng.standard_normal((20000, 32)).astype(np.float32)
    labels = rng.integers(-1, 64, size=20000).astype(np.int32)
    got = mlcore.scatter_add(labels, x, 64, backend="cuda")
    ref = np.zeros((64, 32))
    keep = labels >= 0
    np.add.at(ref, labels[keep], x[keep].astype(np.float64))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-3)
    idx = rng.integers(0, 20000, size=77).astype(np.int32)
    np.testing.assert_array_equal(mlcore.gather_rows(x, idx, backend="cuda"), x[idx])
    with pytest.raises(ValueError, match="out has only"):
        mlcore.scatter_add(np.array([0, 70], dtype=np.int32), x[:2], 64, backend="cuda")
