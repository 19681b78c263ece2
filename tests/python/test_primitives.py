"""The Python primitives against numpy (float64), on every f32 backend, plus bad input."""

import numpy as np
import pytest

import mlcore
from conftest import AVAILABLE, F32_BACKENDS, REQUIRED, quantized, unavailable_reason

SHAPES = [(1, 1, 1), (7, 3, 5), (37, 41, 29), (128, 65, 257)]


def assert_close(got, ref, rtol, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize(
    "trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)]
)
def test_gemm_matches_numpy(backend, m, n, k, trans_a, trans_b, rng):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    c_before = c.copy()
    oa = a.T.astype(np.float64) if trans_a else a.astype(np.float64)
    ob = b.T.astype(np.float64) if trans_b else b.astype(np.float64)
    got = mlcore.gemm(
        a, b, trans_a=trans_a, trans_b=trans_b, alpha=0.5, c=c, beta=2.0, backend=backend
    )
    ref = 0.5 * oa @ ob + 2.0 * c.astype(np.float64)
    scale = 0.5 * np.abs(oa) @ np.abs(ob) + 2.0 * np.abs(c)
    assert got.dtype == np.float32 and got.shape == (m, n)
    assert np.all(np.abs(got - ref) <= 1e-6 + (k + 2) * 1.2e-7 * scale)
    np.testing.assert_array_equal(c, c_before)  # inputs are never modified


@pytest.mark.parametrize("backend", AVAILABLE)
def test_int8_gemm_is_exact(backend, rng):
    a = rng.integers(-128, 128, size=(19, 70), dtype=np.int8)
    b = rng.integers(-128, 128, size=(70, 23), dtype=np.int8)
    got = mlcore.gemm(a, b, backend=backend)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_gemv_sqdist_and_reductions_match_numpy(backend, rng):
    a = rng.standard_normal((53, 17)).astype(np.float32)
    x = rng.standard_normal(17).astype(np.float32)
    assert_close(mlcore.gemv(a, x, backend=backend), a.astype(np.float64) @ x, rtol=1e-5)
    z = rng.standard_normal(53)
    assert_close(
        mlcore.gemv(a, z, trans_a=True, backend=backend),
        a.T.astype(np.float64) @ z,
        rtol=1e-5,
        atol=1e-5,
    )
    b = rng.standard_normal((11, 17)).astype(np.float32)
    ref = ((a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2).sum(-1)
    d = mlcore.sqdist(a, b, backend=backend)
    assert_close(d, ref, rtol=1e-5, atol=1e-4)
    assert (mlcore.sqdist(a, a, backend=backend) >= 0).all()
    for op, fn in [("sum", np.sum), ("mean", np.mean), ("var", np.var)]:
        assert_close(
            mlcore.reduce_cols(a, op, backend=backend),
            fn(a.astype(np.float64), axis=0),
            rtol=1e-5,
            atol=1e-6,
        )


@pytest.mark.parametrize("backend", AVAILABLE)
def test_argmin_and_topk_match_numpy(backend, rng):
    d = rng.standard_normal((31, 97)).astype(np.float32)
    idx, val = mlcore.argmin_rows(d, backend=backend)
    np.testing.assert_array_equal(idx, d.argmin(axis=1))
    np.testing.assert_array_equal(val, d.min(axis=1))
    idx, val = mlcore.topk_rows(d, 10, backend=backend)
    order = np.argsort(d, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_array_equal(val, np.take_along_axis(d, order, axis=1))


@pytest.mark.parametrize("backend", AVAILABLE)
def test_map_and_softmax_match_numpy(backend, rng):
    x = rng.uniform(-5, 5, size=(40, 9)).astype(np.float32)
    x64 = x.astype(np.float64)
    cases = {
        "exp": np.exp(x64),
        "tanh": np.tanh(x64),
        "sigmoid": 1 / (1 + np.exp(-x64)),
        "relu": np.maximum(x64, 0),
        "abs": np.abs(x64),
        "square": x64**2,
        "log1pexp": np.logaddexp(0, x64),
    }
    for fn, ref in cases.items():
        assert_close(mlcore.map(fn, x, backend=backend), ref, rtol=1e-5, atol=1e-6)
    assert_close(
        mlcore.map("log", np.abs(x) + 0.1, backend=backend),
        np.log(np.abs(x64) + 0.1),
        rtol=1e-5,
        atol=1e-6,
    )
    assert_close(
        mlcore.map("pow", x, scale=0.5, shift=1.0, exponent=3.0, backend=backend),
        (0.5 * x64 + 1.0) ** 3,
        rtol=1e-5,
        atol=1e-5,
    )
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))
    soft = e / e.sum(axis=1, keepdims=True)
    assert_close(mlcore.softmax_rows(x, backend=backend), soft, rtol=1e-5, atol=1e-7)
    assert_close(
        mlcore.softmax_rows(x, log=True, backend=backend), np.log(soft), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("backend", AVAILABLE)
def test_elementwise_scatter_gather_match_numpy(backend, rng):
    x = rng.standard_normal((25, 4)).astype(np.float32)
    y = rng.standard_normal((25, 4)).astype(np.float32)
    v = rng.standard_normal(4).astype(np.float32)
    w = rng.standard_normal(25).astype(np.float32)
    assert_close(mlcore.axpby(2.0, x, -1.0, y, backend=backend), 2.0 * x - y, rtol=1e-6)
    assert_close(mlcore.multiply(x, y, backend=backend), x * y, rtol=1e-6)
    assert_close(mlcore.add_row_vector(y, v, alpha=3.0, backend=backend), y + 3.0 * v, rtol=1e-6)
    assert_close(mlcore.scale_rows(y, w, backend=backend), y * w[:, None], rtol=1e-6)
    index = rng.integers(-1, 6, size=25)
    ref = np.zeros((6, 4))
    for i, t in enumerate(index):
        if t >= 0:
            ref[t] += x[i]
    assert_close(
        mlcore.scatter_add(index, x, 6, backend=backend),
        ref,
        rtol=1e-4,
        atol=5e-2 if quantized(backend) else 1e-5,
    )
    rows = rng.integers(0, 25, size=9)
    np.testing.assert_array_equal(mlcore.gather_rows(x, rows, backend=backend), x[rows])


def test_float32_c_contiguous_input_is_not_copied():
    a = np.ones((4, 3), dtype=np.float32)
    from mlcore._validation import as_float32_matrix

    assert as_float32_matrix(a, "a") is a
    assert as_float32_matrix(np.asfortranarray(a), "a") is not a  # converted, still correct
    got = mlcore.gemm(np.asfortranarray(a), np.ones((3, 2)), backend="scalar")
    np.testing.assert_array_equal(got, np.full((4, 2), 3.0))


def test_last_profile_holds_the_last_calls_records():
    mlcore.gemm(np.ones((4, 3)), np.ones((3, 5)), backend="scalar")
    prof = mlcore.last_profile()
    assert len(prof) == 1
    r = prof[0]
    assert (r["op"], r["backend"], r["m"], r["n"], r["k"]) == ("gemm", "scalar", 4, 5, 3)
    assert r["macs"] == 60
    assert r["bytes_read"] == 4 * (12 + 15) and r["bytes_written"] == 4 * 20
    assert r["seconds"] >= 0 and r["seconds_simulated"] is False
    assert prof.total()["macs"] == 60
    assert '"macs": 60' in prof.to_json()
    mlcore.sqdist(np.ones((2, 3)), np.ones((5, 3)), backend="scalar")
    assert mlcore.last_profile()[0]["op"] == "sqdist"


@pytest.mark.parametrize(
    "bad,exc,phrase",
    [
        (np.ones((2, 2), dtype=np.complex64), TypeError, "complex"),
        (np.array([["a", "b"]]), TypeError, "dtype"),
        (np.array([[object(), 1]], dtype=object), TypeError, "dtype"),
        (np.ones((2, 2, 2)), ValueError, "2-D"),
        (np.ones(3), ValueError, "2-D"),
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf]]), ValueError, "infinity"),
        (np.ones((0, 3)), ValueError, "empty"),
    ],
)
def test_bad_inputs_raise_clear_errors(bad, exc, phrase):
    with pytest.raises(exc, match=phrase):
        mlcore.sqdist(bad, np.ones((2, 2)), backend="scalar")


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="inner dimensions"):
        mlcore.gemm(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown backend 'tpu9'"):
        mlcore.gemm(np.ones((2, 2)), np.ones((2, 2)), backend="tpu9")
    with pytest.raises(TypeError, match="backend must be"):
        mlcore.gemm(np.ones((2, 2)), np.ones((2, 2)), backend=3)
    with pytest.raises(ValueError, match="k must be in"):
        mlcore.topk_rows(np.ones((2, 3)), 4)
    with pytest.raises(ValueError, match="unknown map function"):
        mlcore.map("cosh", np.ones((2, 2)))
    with pytest.raises(ValueError, match="out has only 2 rows"):
        mlcore.scatter_add([0, 5], np.ones((2, 2)), 2)
    with pytest.raises(TypeError, match="both be int8"):
        mlcore.gemm(np.ones((2, 2), dtype=np.int8), np.ones((2, 2)))


@pytest.mark.skipif(mlcore.cuda_available(), reason="this machine has a GPU: cuda is available")
def test_unavailable_cuda_says_why():
    with pytest.raises(RuntimeError, match="cuda"):
        mlcore.gemm(np.ones((2, 2)), np.ones((2, 2)), backend="cuda")


def test_backend_objects_compare_print_and_pickle():
    import copy
    import pickle

    a = mlcore.backend("avx2", num_threads=1) if "avx2" in AVAILABLE else mlcore.backend("scalar")
    b = pickle.loads(pickle.dumps(a))
    assert a == b and hash(a) == hash(b)
    assert copy.deepcopy(a) == a
    assert "mlcore.Backend(" in repr(a)
    got = mlcore.gemm(np.ones((2, 2)), np.ones((2, 2)), backend=b)
    np.testing.assert_array_equal(got, np.full((2, 2), 2.0))
    assert mlcore.backend("scalar") != mlcore.Backend("avx2")


@pytest.mark.parametrize("backend", AVAILABLE)
def test_backends_report_their_ceilings(backend):
    peaks = mlcore.backend(backend).peaks
    assert peaks["macs_per_second"] > 0 and peaks["bytes_per_second"] > 0, peaks
    assert isinstance(peaks["source"], str) and peaks["source"]


@pytest.mark.backend("avx2")
def test_avx2_ceiling_is_above_plain_scalar_code():
    # 8 SIMD lanes on every core against one scalar lane on one core.
    assert (
        mlcore.backend("avx2").peaks["macs_per_second"]
        > 2 * mlcore.backend("scalar").peaks["macs_per_second"]
    )


@pytest.mark.parametrize("name", REQUIRED)
def test_required_backends_are_available(name):
    # MLCORE_REQUIRE=avx512,cuda on the project's machines: a listed backend that cannot run
    # fails here with the registry's reason (elsewhere its tests would only be skipped).
    assert unavailable_reason(name) == "", f"MLCORE_REQUIRE lists {name}"


def test_default_backend_is_the_fastest_f32_cpu_backend_here():
    info = {b["name"]: b for b in mlcore.backend_info()}
    expected = next(n for n in ("avx512", "avx2", "scalar") if info[n]["available"])
    assert mlcore.default_backend() == expected
    assert [b["name"] for b in info.values() if b["default"]] == [expected]
    # Estimators and primitives left without a backend run there, and their records say so.
    mlcore.gemm(np.ones((3, 2)), np.ones((2, 4)))
    assert mlcore.last_profile()[0]["backend"] == expected
    assert mlcore.KMeans(n_clusters=2, n_init=1).get_params()["backend"] is None
    km = mlcore.KMeans(n_clusters=2, n_init=1, random_state=0).fit(np.random.rand(20, 3))
    assert {r["backend"] for r in km.profile_} == {expected}


def test_absent_backends_say_why():
    for b in mlcore.backend_info():
        assert b["available"] == (b["reason"] == ""), b
        if not b["available"]:
            with pytest.raises(RuntimeError, match=b["name"]):
                mlcore.gemm(np.ones((2, 2)), np.ones((2, 2)), backend=b["name"])


@pytest.mark.parametrize("backend", AVAILABLE)
def test_capabilities_are_what_the_backend_does(backend):
    """Backend.capabilities is what tests branch on instead of names: it must match behaviour."""
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (37, 53)).astype(np.float32)
    b = rng.uniform(-1, 1, (53, 29)).astype(np.float32)
    caps = mlcore.backend(backend).capabilities
    c = mlcore.primitives.gemm(a, b, backend=backend)
    err = np.abs(c - a.astype(np.float64) @ b).max()
    assert (err < 1e-4) == caps["exact_f32"], err
    gemm = [r for r in mlcore.last_profile() if r["op"] == "gemm"]
    assert gemm and all(r["seconds_simulated"] == caps["simulated_time"] for r in gemm)
    assert caps["device_memory"] == (mlcore.backend(backend)._get().device != "host")


def test_cpu_info_agrees_with_the_backends_and_the_int8_kernel():
    info = mlcore.cpu_info()
    assert info["avx2"] == ("avx2" in AVAILABLE) and info["avx512"] == ("avx512" in AVAILABLE)
    assert info["amx"] == (info["amx_reason"] == "")
    expected = (
        "amx"
        if info["amx"]
        else "avx512_vnni"
        if info["avx512"]
        else "avx2"
        if info["avx2"]
        else "scalar"
    )
    assert info["int8_kernel"] == expected
    if "amx" in REQUIRED:  # MLCORE_REQUIRE=amx on the project's AMX machines
        assert info["amx"], info["amx_reason"]


def test_host_int8_gemm_is_exact_and_the_amx_peak_needs_amx():
    """The int8 benchmarks' entry points: the host's int8 GEMM (AMX where it runs) against numpy's
    integer product, awkward sizes; the AMX peak probe refuses where AMX cannot run."""
    rng = np.random.default_rng(5)
    for m, k, n in [(1, 1, 1), (17, 131, 33), (64, 64, 16)]:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        b = rng.integers(-128, 128, (k, n), dtype=np.int8)
        got = mlcore._core.host_int8_gemm(a, b, 2)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))
    with pytest.raises(ValueError, match="int8"):
        mlcore._core.host_int8_gemm(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.int8))
    if mlcore.cpu_info()["amx"]:
        assert mlcore._core.measure_amx_int8_peak(1) > 1e11
    else:
        with pytest.raises(RuntimeError, match="AMX is not available"):
            mlcore._core.measure_amx_int8_peak(1)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_histogram_sums_the_listed_rows_per_feature_bin(backend, rng):
    """histogram against a plain loop: out[offsets[p] + codes[r, p]] += x[r] for listed rows
    (repeats included, codes above 127 read unsigned); int64 sums exact, f32 sums of integers."""
    n, P = 301, 3
    codes = rng.integers(0, 200, size=(n, P)).astype(np.uint8)
    offsets = np.array([0, 200, 400], np.int32)
    rows = rng.integers(0, n, size=450).astype(np.int32)
    x64 = rng.integers(-(2**40), 2**40, size=(n, 2)).astype(np.int64)
    x32 = rng.integers(0, 50, size=(n, 3)).astype(np.float32)
    for x in (x64, x32):
        want = np.zeros((600, x.shape[1]), dtype=x.dtype)
        for r in rows:
            for p in range(P):
                want[offsets[p] + codes[r, p]] += x[r]
        got = mlcore.primitives.histogram(codes, offsets, rows, x, 600, backend=backend)
        np.testing.assert_array_equal(got, want)
        assert mlcore.last_profile()[0]["op"] == "histogram"
    with pytest.raises(ValueError, match="rows must be in"):
        mlcore.primitives.histogram(codes, offsets, [n], x32, 600, backend=backend)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_loss_gradients_match_numpy(backend, rng):
    """loss_gradients against numpy's float64 formulas (within a few ulps) for each loss,
    weighted and not, and the ranges as the columns' maxima; a bad class code is refused."""
    n = 211
    losses = (
        ("squared_error", 1),
        ("binary_log_loss", 1),
        ("softmax_log_loss", 4),
        ("half_poisson", 1),
        ("half_gamma", 1),
    )
    for loss, K in losses:
        raw = rng.normal(scale=5, size=(n, K))
        if loss == "squared_error":
            y = rng.normal(size=n)
        elif loss == "half_poisson":
            y = rng.poisson(3.0, size=n).astype(np.float64)
        elif loss == "half_gamma":
            y = rng.gamma(2.0, 1.5, size=n)
        else:
            y = rng.integers(0, 2 if K == 1 else K, size=n).astype(np.float64)
        for w in (None, rng.uniform(0, 2, size=n)):
            grad, hess, ranges = mlcore.primitives.loss_gradients(
                loss, y, raw, sample_weight=w, backend=backend
            )
            if loss == "squared_error":
                g, h = raw - y[:, None], np.ones_like(raw)
            elif loss == "binary_log_loss":
                p = 1 / (1 + np.exp(-raw))
                g, h = p - y[:, None], p * (1 - p)
            elif loss == "half_poisson":  # log link: mean e^raw
                g, h = np.exp(raw) - y[:, None], np.exp(raw)
            elif loss == "half_gamma":
                h = y[:, None] * np.exp(-raw)
                g = 1 - h
            else:
                e = np.exp(raw - raw.max(axis=1, keepdims=True))
                p = e / e.sum(axis=1, keepdims=True)
                g, h = p - (y[:, None] == np.arange(K)), p * (1 - p)
            if w is not None:
                g, h = g * w[:, None], (h * w[:, None] if loss != "squared_error" else w[:, None])
            np.testing.assert_allclose(grad, g, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(hess, np.broadcast_to(h, raw.shape), rtol=1e-13, atol=1e-15)
            np.testing.assert_array_equal(ranges[0], np.abs(grad).max(axis=0))
            np.testing.assert_array_equal(ranges[1], hess.max(axis=0))
            assert mlcore.last_profile()[-1]["op"] == "loss_gradients"
    with pytest.raises(ValueError, match=r"y\[0\] = 4"):
        mlcore.primitives.loss_gradients("softmax_log_loss", np.full(n, 4.0), raw, backend=backend)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("m", [1, 7, 401])
def test_partition_rows_is_a_stable_partition(backend, m, rng):
    """partition_rows against a Python stable partition: lefts first, each side in order;
    the missing code goes to its side whatever the bin, codes above 127 read unsigned."""
    P, n = 3, 503
    codes = rng.integers(0, 256, size=(P, n)).astype(np.uint8)
    rows = rng.integers(0, n, size=m).astype(np.int32)
    for feature, bin_, missing_left in ((0, 130, False), (2, 7, True), (1, 255, False)):
        c = codes[feature, rows]
        left = np.where(c == 200, missing_left, c <= bin_)
        got, n_left = mlcore.primitives.partition_rows(
            codes, rows, feature, bin_, 200, missing_left=missing_left, backend=backend
        )
        np.testing.assert_array_equal(got, np.concatenate([rows[left], rows[~left]]))
        assert n_left == int(left.sum())
        assert mlcore.last_profile()[-1]["op"] == "partition_rows"
    with pytest.raises(ValueError, match="rows must be in"):
        mlcore.primitives.partition_rows(codes, [n], 0, 1, 2, backend=backend)
    with pytest.raises(ValueError, match="feature must be in"):
        mlcore.primitives.partition_rows(codes, rows, P, 1, 2, backend=backend)
    with pytest.raises(ValueError, match="bin must be in"):
        mlcore.primitives.partition_rows(codes, rows, 0, 256, 2, backend=backend)


def _random_forest_table(rng, d, trees, max_depth):
    """A random forest in one node table (children after parents), and its roots."""
    left, right, feature, threshold, missing, roots = [], [], [], [], [], []
    for _ in range(trees):
        roots.append(len(left))
        open_nodes = [(len(left), 0)]
        left.append(-1), right.append(-1), feature.append(0), threshold.append(0.0)
        missing.append(False)
        for j, depth in open_nodes:
            if depth >= max_depth or rng.random() < 0.2:
                continue
            left[j], right[j] = len(left), len(left) + 1
            feature[j], threshold[j] = int(rng.integers(d)), float(rng.normal() * 0.5)
            missing[j] = bool(rng.integers(2))
            for _child in range(2):
                left.append(-1), right.append(-1), feature.append(0), threshold.append(0.0)
                missing.append(False)
                open_nodes.append((len(left) - 1, depth + 1))
    nodes = mlcore.primitives.tree_nodes(left, right, feature, threshold, missing)
    return nodes, np.array(roots), (left, right, feature, np.float32(threshold), missing)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("m", [1, 7, 513, 2001])
def test_tree_walk_matches_a_python_walk(backend, m, rng):
    d = 5
    nodes, roots, (left, right, feature, threshold, missing) = _random_forest_table(rng, d, 4, 9)
    x = rng.normal(size=(m, d)).astype(np.float32)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    want = np.empty((m, len(roots)), dtype=np.int32)
    for i in range(m):
        for t, j in enumerate(roots):
            while left[j] >= 0:
                v = x[i, feature[j]]
                j = left[j] if (v <= threshold[j] or (np.isnan(v) and missing[j])) else right[j]
            want[i, t] = j
    np.testing.assert_array_equal(
        mlcore.primitives.tree_walk(nodes, roots, x, backend=backend), want
    )
    assert mlcore.last_profile()[-1]["op"] == "tree_walk"
    values = rng.normal(size=(len(left), 3)).astype(np.float32)
    got = mlcore.primitives.tree_walk_sum(nodes, roots, values, x, scale=0.25, backend=backend)
    ref = (0.25 * values.astype(np.float64)[want].sum(axis=1)).astype(np.float32)
    np.testing.assert_allclose(got, ref, rtol=2e-7, atol=1e-7)  # float64 sums, one rounding


def test_tree_walk_refuses_a_cycle():
    nodes = mlcore.primitives.tree_nodes([0, -1], [1, -1], [0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="node 0's children 0, 1 must lie after it"):
        mlcore.primitives.tree_walk(nodes, [0], np.zeros((2, 1), np.float32))
