"""The multiply-accumulate primitives, callable on numpy arrays.

Each function runs one primitive on the chosen backend and returns a new numpy array; its
hardware record is then in :func:`mlcore.last_profile`. Inputs that are C-contiguous float32
are used without a copy; other real dtypes and layouts are converted. Every function takes
``backend=`` as a name ("scalar", "avx2", "avx512", "cuda", "systolic"), an
:class:`mlcore.Backend`, or None (the default: :func:`mlcore.default_backend`, the fastest f32 CPU
backend here).
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._backends import resolve
from ._validation import as_float32_matrix, as_int_matrix, check_scalar
from .profile import set_last_profile

_MAP_FUNCTIONS = (
    "identity",
    "exp",
    "log",
    "sigmoid",
    "tanh",
    "sqrt",
    "square",
    "abs",
    "relu",
    "reciprocal",
    "pow",
    "log1pexp",
)


def _gemm_operand(x, name):
    # int8 operands stay int8 (the integer GEMM); everything else becomes float32.
    if isinstance(x, np.ndarray) and x.dtype == np.int8:
        if x.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array, got shape {x.shape}")
        return np.ascontiguousarray(x)
    return as_float32_matrix(x, name, allow_empty=True)


def gemm(
    a,
    b,
    *,
    trans_a=False,
    trans_b=False,
    alpha=1.0,
    c=None,
    beta=0.0,
    backend=None,
    wide_range_b=False,
    rows_up_to_constant=False,
):
    """``alpha * op(a) @ op(b) + beta * c``, where op transposes when ``trans_*`` is true.

    a, b: 2-D arrays. Both int8 gives the exact integer GEMM (int32 result, alpha = 1,
    beta in {0, 1}), the arithmetic of int8 tensor cores and systolic arrays.
    c: optional array of the result's shape (read when beta != 0; not modified).
    wide_range_b, rows_up_to_constant: what you know about real operands that an int8 backend
    needs (f32 backends give the same result either way). wide_range_b: each column of op(b)
    mixes magnitudes that all matter, so the systolic backend cuts it into magnitude bands, one
    int8 pass per band (the record's ``passes``). rows_up_to_constant: you use only the
    differences within each row of the result (a softmax or argmax follows), so each row may come
    back moved by a constant; the systolic backend subtracts each row of op(b)'s median first.
    """
    a = _gemm_operand(a, "a")
    b = _gemm_operand(b, "b")
    integer = a.dtype == np.int8 and b.dtype == np.int8
    if (a.dtype == np.int8) != (b.dtype == np.int8):
        raise TypeError(f"a and b must both be int8 or both be real; got {a.dtype} and {b.dtype}")
    alpha = check_scalar(alpha, "alpha")
    beta = check_scalar(beta, "beta")
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if k != kb:
        raise ValueError(f"inner dimensions differ: op(a) is {m}x{k} but op(b) is {kb}x{n}")
    out_dtype = np.int32 if integer else np.float32
    if c is None or beta == 0.0:
        out = np.zeros((m, n), dtype=out_dtype)
    else:
        if integer:
            out = as_int_matrix(c, "c", np.int32, allow_1d=False).copy()
        else:
            out = as_float32_matrix(c, "c", allow_empty=True).copy()
        if out.shape != (m, n):
            raise ValueError(f"c must have shape {(m, n)}, got {out.shape}")
    if integer and (wide_range_b or rows_up_to_constant):
        raise ValueError(
            "wide_range_b and rows_up_to_constant describe real operands; an int8 "
            "GEMM is exact and takes neither"
        )
    set_last_profile(
        _core.gemm(
            resolve(backend),
            bool(trans_a),
            bool(trans_b),
            alpha,
            a,
            b,
            beta,
            out,
            bool(wide_range_b),
            bool(rows_up_to_constant),
        )
    )
    return out


def spmm(a, b, *, trans_a=False, alpha=1.0, c=None, beta=0.0, backend=None):
    """``alpha * op(a) @ b + beta * c`` for a scipy.sparse ``a`` (CSR, CSC or COO) and a dense
    ``b``: only a's stored entries are multiplied (nnz·n MACs; the systolic backend, whose
    array multiplies dense tiles, also records the zeros it multiplied as ``wasted_macs``).
    op(a) is a, or aᵀ when ``trans_a``. a is converted once to CSR float32 (never modified).
    """
    import scipy.sparse as sp

    from ._sparse import as_core_X

    if not sp.issparse(a):
        raise TypeError(f"a must be a scipy.sparse matrix, got {type(a).__name__}")
    a = as_core_X(sp.csr_matrix(a, dtype=np.float32), "a")
    b = as_float32_matrix(b, "b", allow_empty=True)
    alpha = check_scalar(alpha, "alpha")
    beta = check_scalar(beta, "beta")
    rows, cols = a.shape
    m, k = (cols, rows) if trans_a else (rows, cols)
    if b.shape[0] != k:
        raise ValueError(
            f"inner dimensions differ: op(a) is {m}x{k} but b is {b.shape[0]}x{b.shape[1]}"
        )
    n = b.shape[1]
    if c is None or beta == 0.0:
        out = np.zeros((m, n), dtype=np.float32)
    else:
        out = as_float32_matrix(c, "c", allow_empty=True).copy()
        if out.shape != (m, n):
            raise ValueError(f"c must have shape {(m, n)}, got {out.shape}")
    set_last_profile(_core.spmm(resolve(backend), bool(trans_a), alpha, a, b, beta, out))
    return out


def gemv(a, x, *, trans_a=False, alpha=1.0, y=None, beta=0.0, backend=None):
    """``alpha * op(a) @ x + beta * y`` for a 2-D ``a`` and 1-D ``x``; returns a 1-D array."""
    a = as_float32_matrix(a, "a", allow_empty=True)
    x = as_float32_matrix(x, "x", allow_1d=True, allow_empty=True).reshape(-1)
    alpha = check_scalar(alpha, "alpha")
    beta = check_scalar(beta, "beta")
    n_in, n_out = (a.shape[0], a.shape[1]) if trans_a else (a.shape[1], a.shape[0])
    if x.shape[0] != n_in:
        raise ValueError(
            f"x must have length {n_in} for a of shape {a.shape}"
            f"{' (transposed)' if trans_a else ''}, got {x.shape[0]}"
        )
    if y is None or beta == 0.0:
        out = np.zeros(n_out, dtype=np.float32)
    else:
        out = as_float32_matrix(y, "y", allow_1d=True, allow_empty=True).reshape(-1).copy()
        if out.shape[0] != n_out:
            raise ValueError(f"y must have length {n_out}, got {out.shape[0]}")
    set_last_profile(_core.gemv(resolve(backend), bool(trans_a), alpha, a, x, beta, out))
    return out


def sqdist(a, b, *, backend=None):
    """Squared Euclidean distances: ``out[i, j] = ||a[i] - b[j]||^2`` (never negative)."""
    a = as_float32_matrix(a, "a")
    b = as_float32_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b need the same number of columns, got {a.shape} and {b.shape}")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float32)
    set_last_profile(_core.sqdist(resolve(backend), a, b, out))
    return out


def minkowski_dist(a, b, p, *, backend=None):
    """Minkowski distances to the p: ``out[i, j] = sum_k |a[i, k] - b[j, k]|**p`` for p > 0,
    ``max_k |a[i, k] - b[j, k]|`` for ``p = inf`` (take ``out ** (1 / p)`` for the distance).
    No GEMM inside: its profile record counts 0 MACs."""
    a = as_float32_matrix(a, "a")
    b = as_float32_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b need the same number of columns, got {a.shape} and {b.shape}")
    p = float(p)
    if not p > 0:
        raise ValueError(f"p must be > 0 (or inf), got {p}")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float32)
    set_last_profile(_core.minkowski_dist(resolve(backend), a, b, p, out))
    return out


def argmin_rows(d, *, backend=None):
    """(index, value) of each row's minimum (first on ties; NaN never chosen unless all NaN)."""
    d = as_float32_matrix(d, "d", allow_nan=True)
    index = np.empty(d.shape[0], dtype=np.int32)
    value = np.empty(d.shape[0], dtype=np.float32)
    set_last_profile(_core.argmin_rows(resolve(backend), d, index, value))
    return index, value


def topk_rows(d, k, *, backend=None):
    """(index, value) of the k smallest entries of each row, ascending; ties by lower index."""
    d = as_float32_matrix(d, "d", allow_nan=True)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= d.shape[1]:
        raise ValueError(f"k must be in [1, {d.shape[1]}] for d of shape {d.shape}, got {k}")
    index = np.empty((d.shape[0], k), dtype=np.int32)
    value = np.empty((d.shape[0], k), dtype=np.float32)
    set_last_profile(_core.topk_rows(resolve(backend), d, int(k), index, value))
    return index, value


def map(fn, x, *, scale=1.0, shift=0.0, exponent=1.0, backend=None):  # noqa: A001
    """Element-wise ``fn(scale * x + shift)``; fn is one of
    identity, exp, log, sigmoid, tanh, sqrt, square, abs, relu, reciprocal, pow (u**exponent),
    log1pexp (softplus)."""
    if fn not in _MAP_FUNCTIONS:
        raise ValueError(f"unknown map function {fn!r}; known: {', '.join(_MAP_FUNCTIONS)}")
    x = as_float32_matrix(x, "x", allow_nan=True, allow_empty=True)
    out = np.empty_like(x)
    set_last_profile(
        _core.map(
            resolve(backend),
            fn,
            x,
            out,
            check_scalar(scale, "scale"),
            check_scalar(shift, "shift"),
            check_scalar(exponent, "exponent"),
        )
    )
    return out


def softmax_rows(x, *, log=False, backend=None):
    """Softmax (or log-softmax) of each row, computed stably."""
    x = as_float32_matrix(x, "x", allow_nan=True)
    out = np.empty_like(x)
    set_last_profile(_core.softmax_rows(resolve(backend), x, out, bool(log)))
    return out


def axpby(alpha, x, beta, y, *, backend=None):
    """``alpha * x + beta * y`` (a new array; y is not modified)."""
    x = as_float32_matrix(x, "x", allow_empty=True)
    out = as_float32_matrix(y, "y", allow_empty=True).copy()
    if x.shape != out.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {out.shape}")
    set_last_profile(
        _core.axpby(
            resolve(backend), check_scalar(alpha, "alpha"), x, check_scalar(beta, "beta"), out
        )
    )
    return out


def multiply(x, y, *, backend=None):
    """Element-wise product ``x * y``."""
    x = as_float32_matrix(x, "x", allow_empty=True)
    out = as_float32_matrix(y, "y", allow_empty=True).copy()
    if x.shape != out.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {out.shape}")
    set_last_profile(_core.multiply(resolve(backend), x, out))
    return out


def add_row_vector(y, v, *, alpha=1.0, backend=None):
    """``y + alpha * v`` with the vector v (length y.shape[1]) added to every row."""
    out = as_float32_matrix(y, "y", allow_empty=True).copy()
    v = as_float32_matrix(v, "v", allow_1d=True).reshape(-1)
    if v.shape[0] != out.shape[1]:
        raise ValueError(f"v must have length {out.shape[1]}, got {v.shape[0]}")
    set_last_profile(_core.add_row_vector(resolve(backend), check_scalar(alpha, "alpha"), v, out))
    return out


def scale_rows(y, w, *, backend=None):
    """``y * w[:, None]``: row i scaled by w[i]."""
    out = as_float32_matrix(y, "y", allow_empty=True).copy()
    w = as_float32_matrix(w, "w", allow_1d=True, allow_empty=True).reshape(-1)
    if w.shape[0] != out.shape[0]:
        raise ValueError(f"w must have length {out.shape[0]}, got {w.shape[0]}")
    set_last_profile(_core.scale_rows(resolve(backend), w, out))
    return out


def scatter_add(index, x, n_out, *, backend=None):
    """Sum rows of x into ``n_out`` bins: ``out[index[i, p]] += x[i]`` for every p with
    ``index[i, p] >= 0``. index: 1-D (one bin per row) or 2-D (several)."""
    x = as_float32_matrix(x, "x")
    index = as_int_matrix(index, "index")
    if index.ndim == 1:
        index = index.reshape(-1, 1)
    if index.shape[0] != x.shape[0]:
        raise ValueError(f"index needs one row per row of x ({x.shape[0]}), got {index.shape[0]}")
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
        raise ValueError(f"n_out must be a positive int, got {n_out!r}")
    if index.size and index.max() >= n_out:
        raise ValueError(f"index has value {int(index.max())} but out has only {n_out} rows")
    out = np.zeros((int(n_out), x.shape[1]), dtype=np.float32)
    set_last_profile(_core.scatter_add(resolve(backend), index, x, out))
    return out


def histogram(codes, offsets, rows, x, n_out, *, backend=None):
    """Per-bin sums of the listed rows, a histogram tree's one hot loop:
    ``out[offsets[p] + codes[r, p]] += x[r]`` for every r in ``rows`` and feature p.

    codes: (n, P) uint8 (or int8 holding unsigned bytes) bin codes; offsets: (P,) first bin of
    each feature (a negative one skips the feature); rows: 1-D row ids in [0, n) (repeats
    allowed); x: (n, c) float32 or int64 statistics; returns (n_out, c) of x's dtype. int64
    sums are exact whatever the order; float32 sums of integers below 2^24 too."""
    codes = np.asarray(codes)
    if codes.dtype not in (np.uint8, np.int8) or codes.ndim != 2:
        raise TypeError(f"codes must be a 2-D uint8 array, got {codes.dtype} {codes.shape}")
    codes = np.ascontiguousarray(codes).view(np.int8)
    offsets = as_int_matrix(offsets, "offsets").reshape(1, -1)
    if offsets.shape[1] != codes.shape[1]:
        raise ValueError(
            f"offsets needs one entry per column of codes ({codes.shape[1]}), "
            f"got {offsets.shape[1]}"
        )
    rows = as_int_matrix(rows, "rows").reshape(-1)
    if rows.size and (rows.min() < 0 or rows.max() >= codes.shape[0]):
        raise ValueError(
            f"rows must be in [0, {codes.shape[0]}), got [{int(rows.min())}, {int(rows.max())}]"
        )
    x = np.asarray(x)
    if x.dtype == np.int64:
        x = np.ascontiguousarray(x).reshape(x.shape[0], -1)
    else:
        x = as_float32_matrix(x, "x", allow_1d=True, allow_empty=True).reshape(len(x), -1)
    if x.shape[0] != codes.shape[0]:
        raise ValueError(f"x needs one row per row of codes ({codes.shape[0]}), got {x.shape[0]}")
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
        raise ValueError(f"n_out must be a positive int, got {n_out!r}")
    out = np.zeros((int(n_out), x.shape[1]), dtype=x.dtype)
    set_last_profile(_core.histogram(resolve(backend), codes, offsets, rows, x, out))
    return out


_LOSSES = ("squared_error", "binary_log_loss", "softmax_log_loss", "half_poisson", "half_gamma")


def loss_gradients(loss, y, raw, *, sample_weight=None, backend=None):
    """Gradient boosting's per-sample gradients and hessians of ``loss`` at the raw scores
    (``raw``: (n, K), K = 1 but for ``softmax_log_loss``; ``y``: targets, or class codes),
    scaled by ``sample_weight`` when given, in float64 with one formula on every CPU backend.
    Returns (grad, hess, ranges): (n, K), (n, K) (ones for unweighted squared error), and
    (2, K) = each class's max |grad| and max hess."""
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim not in (1, 2):
        raise ValueError(f"raw must be 1-D or 2-D, got {raw.ndim} dimensions")
    raw = np.ascontiguousarray(raw.reshape(raw.shape[0], -1))
    y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != raw.shape[0]:
        raise ValueError(f"y needs one value per row of raw ({raw.shape[0]}), got {y.shape[0]}")
    w = (
        np.empty(0, np.float64)
        if sample_weight is None
        else np.ascontiguousarray(sample_weight, dtype=np.float64).reshape(-1)
    )
    unit = loss == "squared_error" and sample_weight is None
    grad = np.empty_like(raw)
    hess = np.empty((0, raw.shape[1]) if unit else raw.shape, np.float64)
    ranges = np.empty((2, raw.shape[1]), np.float64)
    set_last_profile(_core.loss_gradients(resolve(backend), loss, y, raw, w, grad, hess, ranges))
    return grad, (np.ones_like(raw) if unit else hess), ranges


def partition_rows(codes, rows, feature, bin, missing_code, *, missing_left=False, backend=None):
    """A tree node's rows split into its two children, stably: the rows r whose code
    ``c = codes[feature, r]`` goes left (``c == missing_code`` and ``missing_left``, or
    ``c != missing_code`` and ``c <= bin``) first, then the others, each side in its order.

    codes: (P, n) uint8 (or int8 holding unsigned bytes), one row per feature; rows: 1-D row
    ids in [0, n). Returns (the reordered rows as int32, the number going left)."""
    codes = np.asarray(codes)
    if codes.dtype not in (np.uint8, np.int8) or codes.ndim != 2:
        raise TypeError(f"codes must be a 2-D uint8 array, got {codes.dtype} {codes.shape}")
    codes = np.ascontiguousarray(codes).view(np.int8)
    out = np.array(as_int_matrix(rows, "rows").reshape(-1, 1), dtype=np.int32, copy=True)
    if out.size and (out.min() < 0 or out.max() >= codes.shape[1]):
        raise ValueError(
            f"rows must be in [0, {codes.shape[1]}), got [{int(out.min())}, {int(out.max())}]"
        )
    args = []
    for name, value, hi in (
        ("feature", feature, codes.shape[0] - 1),
        ("bin", bin, 255),
        ("missing_code", missing_code, 255),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if not 0 <= value <= hi:
            raise ValueError(f"{name} must be in [0, {hi}], got {value}")
        args.append(int(value))
    records, n_left = _core.partition_rows(resolve(backend), codes, out, *args, bool(missing_left))
    set_last_profile(records)
    return out.reshape(-1), int(n_left)


def gather_rows(x, index, *, backend=None):
    """``x[index]`` for a 2-D x and 1-D integer index."""
    x = as_float32_matrix(x, "x", allow_nan=True, allow_empty=True)
    index = as_int_matrix(index, "index").reshape(-1)
    if index.size and (index.min() < 0 or index.max() >= x.shape[0]):
        raise ValueError(
            f"index values must be in [0, {x.shape[0]}), got "
            f"[{int(index.min())}, {int(index.max())}]"
        )
    out = np.empty((index.shape[0], x.shape[1]), dtype=np.float32)
    set_last_profile(_core.gather_rows(resolve(backend), x, index, out))
    return out


def reduce_cols(x, op="sum", *, backend=None):
    """Column sums, means or (population) variances of x; returns a 1-D array."""
    if op not in ("sum", "mean", "var"):
        raise ValueError(f"op must be 'sum', 'mean' or 'var', got {op!r}")
    x = as_float32_matrix(x, "x")
    out = np.empty(x.shape[1], dtype=np.float32)
    set_last_profile(_core.reduce_cols(resolve(backend), op, x, out))
    return out


def tree_nodes(left, right, feature, threshold, missing_left=None):
    """The node table the tree walks read (``TreeWalkNode`` in backend.hpp), from one entry per
    node: children ``left``/``right`` (rows of the table; ``left < 0`` marks a leaf, and a
    child must come after its parent), the split's ``feature`` and ``threshold`` (a row goes
    left when ``x[feature] <= threshold``) and whether a NaN goes left. Returns (N, 4) int32,
    the threshold stored by its float32 bit pattern."""
    left = as_int_matrix(left, "left").reshape(-1)
    n = left.shape[0]
    right = as_int_matrix(right, "right").reshape(-1)
    feature = as_int_matrix(feature, "feature").reshape(-1)
    threshold = as_float32_matrix(threshold, "threshold", allow_1d=True).reshape(-1)
    missing = (
        np.zeros(n, dtype=bool)
        if missing_left is None
        else np.asarray(missing_left, dtype=bool).reshape(-1)
    )
    for name, arr in (
        ("right", right),
        ("feature", feature),
        ("threshold", threshold),
        ("missing_left", missing),
    ):
        if arr.shape[0] != n:
            raise ValueError(f"{name} needs one entry per node ({n}), got {arr.shape[0]}")
    if feature.size and feature.min() < 0:
        raise ValueError(f"feature must be >= 0, got {int(feature.min())}")
    table = np.empty((n, 4), dtype=np.int32)
    table[:, 0], table[:, 1] = left, right
    table[:, 2] = (feature.astype(np.uint32) | (missing.astype(np.uint32) << 31)).view(np.int32)
    table[:, 3] = threshold.view(np.int32)
    return table


def _tree_inputs(nodes, roots, x):
    nodes = as_int_matrix(nodes, "nodes", allow_1d=False)
    if nodes.shape[1] != 4 or nodes.shape[0] < 1:
        raise ValueError(f"nodes must be an (N, 4) table (see tree_nodes), got {nodes.shape}")
    roots = as_int_matrix(roots, "roots").reshape(-1, 1)
    x = as_float32_matrix(x, "x", allow_nan=True, allow_empty=True)
    return nodes, roots, x


def tree_walk(nodes, roots, x, *, backend=None):
    """The leaf each row of x reaches in each tree: ``out[i, t]`` is a row of ``nodes`` (a
    forest: several trees in one table, tree t rooted at ``roots[t]``). Returns (m, T) int32."""
    nodes, roots, x = _tree_inputs(nodes, roots, x)
    out = np.empty((x.shape[0], roots.shape[0]), dtype=np.int32)
    set_last_profile(_core.tree_walk(resolve(backend), nodes, roots, x, out))
    return out


def tree_walk_sum(nodes, roots, values, x, *, scale=1.0, backend=None):
    """``scale * sum over trees of values[leaf]`` for each row of x — a forest's mean (scale
    1/T) or a boosted model's raw score; summed in float64 in tree order, rounded once.
    values: (N, c), one row per node. Returns (m, c) float32."""
    nodes, roots, x = _tree_inputs(nodes, roots, x)
    values = as_float32_matrix(values, "values", allow_1d=True).reshape(nodes.shape[0], -1)
    out = np.empty((x.shape[0], values.shape[1]), dtype=np.float32)
    set_last_profile(
        _core.tree_walk_sum(
            resolve(backend), nodes, roots, values, x, check_scalar(scale, "scale"), out
        )
    )
    return out
