"""Property-based fuzzing of the primitives against numpy (issue 17, item 6).

Each example calls one primitive on every available backend, in the spawned worker of
fuzz_isolation.py (so a crash or a hang fails the example, not the run), with operands of odd
shapes (0, 1, huge aspect), layouts (Fortran order, strided, read-only, lists, pandas) and, now
and then, a hostile operand (NaN / ±inf where the primitive does not take them, complex or
string data, sparse, 1-D or 3-D where a matrix is due). Every backend must give the same kind of
outcome (a result, or a ValueError / TypeError with a message), leave its inputs unmodified,
and a result must match numpy within the backend's arithmetic: float32 rounding on the IEEE
backends, the int8 quantization bound on the systolic array (docs/SYSTOLIC.md)."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AVAILABLE, quantized
from fuzz_isolation import Isolated, build
from test_fuzz_estimators import check_outcomes

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("MLCORE_FUZZ_EXAMPLES", 60)),
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
TIMEOUT_S = 60

DIMS = [0, 1, 2, 3, 7, 16, 33]
BENIGN_LAYOUTS = ["C", "C", "F", "strided", "readonly", "list", "pandas"]
HOSTILE = [
    ("special", "nan"),
    ("special", "inf"),
    ("dtype", "complex128"),
    ("dtype", "str"),
    ("layout", "sparse"),
    ("layout", "1d"),
    ("layout", "3d"),
]


@pytest.fixture(scope="module")
def worker():
    w = Isolated()
    yield w
    w.close()


@st.composite
def operand(draw, rows, cols, hostile=None):
    """A matrix recipe of rows × cols; `hostile` (a (dimension, choice) pair) replaces one
    benign choice."""
    spec = {
        "values": "normal",
        "special": None,
        "dtype": draw(st.sampled_from(["float64", "float32"])),
        "layout": draw(st.sampled_from(BENIGN_LAYOUTS)),
    }
    if hostile:
        spec[hostile[0]] = hostile[1]
    if spec["layout"] == "pandas" and cols == 0:
        spec["layout"] = "C"
    return (
        "matrix",
        draw(st.integers(0, 2**16)),
        rows,
        cols,
        spec["values"],
        spec["special"],
        spec["dtype"],
        spec["layout"],
    )


def hostile_or_none(draw):
    return draw(st.sampled_from([None] * 6 + HOSTILE))


def as64(recipe):
    return np.asarray(build(recipe), dtype=np.float64)


def run(worker, name, args, kwargs):
    results = worker.call("primitive_call", (name, args, kwargs, AVAILABLE), TIMEOUT_S)
    check_outcomes(results, f"{name}(args={args}, kwargs={kwargs})")
    return results if results[0][1] == "ok" else None


def close(got, want, atol, what):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, numpy's {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=what)


def mac_atol(backend, depth, a_max, b_max):
    """The error bound of depth-long dot products of values up to a_max and b_max: float32
    rounding (~depth · 2⁻²⁴ relative), or on the array two int8 roundings per product, each at
    most half a step of max/127 (docs/SYSTOLIC.md, "Quantization")."""
    scale = max(depth, 1) * a_max * b_max
    return scale * (1.0 / 127.0 if quantized(backend) else 1e-5) + 1e-6


@FUZZ
@given(st.data())
def test_fuzz_gemm_and_gemv(worker, data):
    m, k, n = (data.draw(st.sampled_from(DIMS)) for _ in range(3))
    trans_a, trans_b = data.draw(st.booleans()), data.draw(st.booleans())
    hostile = hostile_or_none(data.draw)
    a = data.draw(operand(k if trans_a else m, m if trans_a else k, hostile))
    b = data.draw(operand(n if trans_b else k, k if trans_b else n))
    results = run(worker, "gemm", [a, b], {"trans_a": trans_a, "trans_b": trans_b, "alpha": 0.5})
    if results:
        A, B = as64(a), as64(b)
        A, B = (A.T if trans_a else A), (B.T if trans_b else B)
        want = 0.5 * A @ B
        amax, bmax = np.abs(A).max(initial=0), np.abs(B).max(initial=0)
        for backend, _, _, _, got in results:
            close(got, want, 0.5 * mac_atol(backend, k, amax, bmax), f"gemm on {backend}")
    x = data.draw(operand(k, 1))
    x = x[:7] + ("C" if x[7] in ("pandas", "strided") else x[7],)
    results = run(worker, "gemv", [a, x], {"trans_a": trans_a})
    if results:
        A = as64(a)
        A = A.T if trans_a else A
        want = A @ as64(x).ravel()
        for backend, _, _, _, got in results:
            close(
                got,
                want,
                mac_atol(backend, k, np.abs(A).max(initial=0), np.abs(as64(x)).max(initial=0)),
                f"gemv on {backend}",
            )


@FUZZ
@given(st.data())
def test_fuzz_sqdist_argmin_topk(worker, data):
    m, n, d = (data.draw(st.sampled_from(DIMS)) for _ in range(3))
    hostile = hostile_or_none(data.draw)
    a, b = data.draw(operand(m, d, hostile)), data.draw(operand(n, d))
    results = run(worker, "sqdist", [a, b], {})
    if results:
        A, B = as64(a), as64(b)
        want = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)
        top = max(np.abs(A).max(initial=0), np.abs(B).max(initial=0))
        for backend, _, _, _, got in results:
            # ‖a − b‖² from norms and a product: cancellation costs up to the norms' size.
            atol = 4 * mac_atol(backend, d, top, top)
            close(got, want, atol, f"sqdist on {backend}")
            assert (np.asarray(got) >= 0).all(), f"sqdist on {backend} went negative"
    D = data.draw(operand(m, n, data.draw(st.sampled_from([None, ("special", "nan")]))))
    results = run(worker, "argmin_rows", [D], {})
    if results:
        M = as64(D).astype(np.float32)  # ties and order as the backends see them
        for backend, _, _, _, (index, value) in results:
            finite_rows = ~np.isnan(M).all(axis=1) if M.size else np.ones(m, bool)
            want = np.nanargmin(np.where(np.isnan(M), np.inf, M), axis=1) if n else index
            np.testing.assert_array_equal(
                index[finite_rows], want[finite_rows], err_msg=f"argmin_rows on {backend}"
            )
    k = data.draw(st.sampled_from([0, 1, 2, 5, 40]))
    results = run(worker, "topk_rows", [D, ("raw", k)], {})
    if results:
        M = as64(D).astype(np.float32)
        if not np.isnan(M).any():
            want = np.argsort(M, axis=1, kind="stable")[:, :k]
            for backend, _, _, _, (index, value) in results:
                np.testing.assert_array_equal(index, want, err_msg=f"topk_rows on {backend}")


@FUZZ
@given(st.data())
def test_fuzz_reductions_and_softmax(worker, data):
    m, n = data.draw(st.sampled_from(DIMS)), data.draw(st.sampled_from(DIMS))
    x = data.draw(operand(m, n, hostile_or_none(data.draw)))
    op = data.draw(st.sampled_from(["sum", "mean", "var", "max"]))
    results = run(worker, "reduce_cols", [x, ("raw", op)], {})
    if results:
        X = as64(x)
        want = {"sum": X.sum(axis=0), "mean": X.mean(axis=0), "var": X.var(axis=0)}[op]
        top = np.abs(X).max(initial=0)
        for backend, _, _, _, got in results:
            scale = top * top if op == "var" else top
            depth = m if op == "sum" else 1
            atol = depth * scale * (1 / 50 if quantized(backend) else 1e-5) + 1e-6
            close(got, want, atol, f"reduce_cols({op}) on {backend}")
    log = data.draw(st.booleans())
    results = run(worker, "softmax_rows", [x], {"log": log})
    if results:
        X = as64(x)
        Z = X - X.max(axis=1, keepdims=True) if X.size else X
        want = (
            Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            if log
            else np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        )
        for backend, _, _, _, got in results:
            close(got, want, 1e-5, f"softmax_rows(log={log}) on {backend}")


@FUZZ
@given(st.data())
def test_fuzz_elementwise(worker, data):
    m, n = data.draw(st.sampled_from(DIMS)), data.draw(st.sampled_from(DIMS))
    hostile = hostile_or_none(data.draw)
    x, y = data.draw(operand(m, n, hostile)), data.draw(operand(m, n))
    v, w = data.draw(operand(n, 1)), data.draw(operand(m, 1))
    v, w = (r[:7] + ("C",) for r in (v, w))
    fn = data.draw(
        st.sampled_from(["exp", "sigmoid", "tanh", "square", "abs", "relu", "log1pexp", "bogus"])
    )
    X, Y = (as64(x), as64(y)) if hostile is None else (None, None)
    refs = {
        "exp": lambda u: np.exp(u),
        "sigmoid": lambda u: 1 / (1 + np.exp(-u)),
        "tanh": np.tanh,
        "square": np.square,
        "abs": np.abs,
        "relu": lambda u: np.maximum(u, 0),
        "log1pexp": lambda u: np.logaddexp(0, u),
    }
    for name, args, kwargs, ref in [
        ("axpby", [("raw", 2.0), x, ("raw", -0.5), y], {}, lambda: 2 * X - 0.5 * Y),
        ("multiply", [x, y], {}, lambda: X * Y),
        ("add_row_vector", [x, v], {"alpha": 3.0}, lambda: X + 3 * as64(v).ravel()),
        ("scale_rows", [x, w], {}, lambda: X * as64(w).ravel()[:, None]),
        ("map", [("raw", fn), x], {"scale": 0.5, "shift": 0.25}, lambda: refs[fn](0.5 * X + 0.25)),
    ]:
        results = run(worker, name, args, kwargs)
        if results and X is not None:
            want = ref()
            for backend, _, _, _, got in results:
                close(got, want, 1e-5 * (1 + np.abs(want).max(initial=0)), f"{name} on {backend}")


@FUZZ
@given(st.data())
def test_fuzz_scatter_and_gather(worker, data):
    m, n = data.draw(st.sampled_from(DIMS)), data.draw(st.sampled_from(DIMS))
    x = data.draw(operand(m, n, hostile_or_none(data.draw)))
    n_out = data.draw(st.sampled_from([0, 1, 3, 40]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    low = data.draw(st.sampled_from([-1, 0]))  # -1: skipped entries (index < 0)
    index = rng.integers(low, max(n_out, 1) + data.draw(st.sampled_from([0, 0, 0, 2])), size=m)
    results = run(worker, "scatter_add", [("raw", index), x, ("raw", n_out)], {})
    if results:
        X = as64(x)
        want = np.zeros((n_out, n))
        for i, t in enumerate(index):
            if t >= 0:
                want[t] += X[i]
        for backend, _, _, _, got in results:
            close(got, want, 1e-5 * (1 + np.abs(X).sum()), f"scatter_add on {backend}")
    gather = rng.integers(-1 if data.draw(st.booleans()) else 0, max(m, 1) + 1, size=5)
    results = run(worker, "gather_rows", [x, ("raw", gather)], {})
    if results:
        for backend, _, _, _, got in results:
            np.testing.assert_array_equal(
                np.asarray(got, np.float64),
                as64(x).astype(np.float32)[gather].astype(np.float64),
                err_msg=f"gather_rows on {backend}",
            )
