"""Runs fuzz examples in a separate process, so that a crash or a hang of the library fails the
example that caused it instead of killing or stalling pytest.

The worker is a *spawned* process (a fresh interpreter, not a fork): it starts without pytest's
state and threads, and a crash in it cannot corrupt the test process. It serves calls over a pipe; `Isolated.call` waits a bounded
time for the answer, and when the worker has died (a crash) or not answered (a hang) it starts a
new one and raises `Crashed` / `Hung`.

Inputs travel as *recipes* (plain tuples), built into arrays inside the worker: a pickled array
loses its flags (read-only) and its layout (Fortran order, strides), which are what is fuzzed.
The worker also checks that the call left its inputs unmodified.
"""

from __future__ import annotations

import multiprocessing
import traceback


class Crashed(AssertionError):
    pass


class Hung(AssertionError):
    pass


class Isolated:
    def __init__(self):
        self._ctx = multiprocessing.get_context("spawn")
        self._proc = None
        self._conn = None

    def _start(self):
        self._conn, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child,), daemon=True)
        self._proc.start()
        child.close()

    def _stop(self):
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
        self._proc = self._conn = None

    def close(self):
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(5)
            except (BrokenPipeError, OSError):
                pass
        self._stop()

    def call(self, function: str, payload, timeout: float):
        """Runs fuzz_isolation.<function>(payload) in the worker; returns its result."""
        if self._proc is None or not self._proc.is_alive():
            self._stop()
            self._start()
        self._conn.send((function, payload))
        if not self._conn.poll(timeout):
            self._stop()
            raise Hung(f"{function} did not finish within {timeout} s: {payload!r}")
        try:
            status, value = self._conn.recv()
        except (EOFError, ConnectionResetError):
            self._proc.join(5)
            code = self._proc.exitcode
            self._stop()
            raise Crashed(f"the worker died (exit code {code}) in {function}: {payload!r}")
        if status == "error":  # a bug in the harness itself, not an outcome of the library
            raise RuntimeError(f"fuzz worker failed in {function}:\n{value}")
        return value


def _serve(conn):
    # Imported here, in the worker: the parent needs neither numpy work nor mlcore loaded.
    import warnings

    warnings.simplefilter("ignore")
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        function, payload = request
        try:
            conn.send(("ok", globals()[function](payload)))
        except Exception:  # noqa: BLE001 — reported to the parent as a harness failure
            conn.send(("error", traceback.format_exc()))


# ---- recipes ---------------------------------------------------------------------------------


def build(recipe):
    """The array-like a recipe describes:
    ("matrix", seed, rows, cols, values, special, dtype, layout) or
    ("labels", seed, n, kind, layout) or ("none",)."""
    import numpy as np

    if recipe[0] == "none":
        return None
    if recipe[0] == "labels":
        return _labels(*recipe[1:])
    _, seed, rows, cols, values, special, dtype, layout = recipe
    rng = np.random.default_rng(seed)
    if values == "normal":
        X = rng.normal(size=(rows, cols))
    elif values == "counts":
        X = rng.integers(0, 5, size=(rows, cols)).astype(float)
    elif values == "constant":
        X = np.full((rows, cols), 3.0)
    elif values == "duplicates":
        X = np.repeat(rng.normal(size=(1, cols)), rows, axis=0)
    elif values == "subnormal":
        X = rng.normal(size=(rows, cols)) * 1e-40
    elif values == "huge":
        X = rng.normal(size=(rows, cols)) * 1e30
    elif values == "mixed_scale":
        X = rng.normal(size=(rows, cols)) * np.logspace(-20, 20, max(cols, 1))[:cols]
    elif values == "offset":
        X = rng.normal(size=(rows, cols)) + 1e6
    else:
        raise ValueError(values)
    if special and X.size:
        X.flat[int(rng.integers(X.size))] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[special]
    return _layout(_dtype(X, dtype), layout)


def _dtype(X, dtype):
    import numpy as np

    if dtype == "str":
        return X.astype(str).astype(object)
    if dtype == "complex128":
        return X.astype(np.complex128)
    if dtype in ("int64", "int8", "uint8", "bool"):
        with np.errstate(invalid="ignore", over="ignore"):
            finite = np.where(np.isfinite(X), X, 0)
            return np.clip(finite, -100, 100).astype(dtype)
    return X.astype(dtype)


def _layout(X, layout):
    import numpy as np

    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "strided":  # every other column of a wider array: not contiguous
        wide = np.repeat(X, 2, axis=1) if X.ndim == 2 else X
        return wide[:, ::2]
    if layout == "readonly":
        X = np.array(X)
        X.setflags(write=False)
        return X
    if layout == "list":
        return X.tolist()
    if layout == "pandas":
        import pandas as pd

        return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    if layout == "sparse":
        import scipy.sparse as sp

        return sp.csr_matrix(X) if X.dtype.kind in "biufc" and X.dtype != np.float16 else X
    if layout == "1d":  # a user passing one sample or one feature as a vector
        return X.ravel()
    if layout == "3d":
        return X[:, :, None]
    raise ValueError(layout)


def _labels(seed, n, kind, layout):
    import numpy as np

    rng = np.random.default_rng(seed)
    if kind == "binary":
        y = rng.integers(0, 2, size=n)
    elif kind == "multiclass":
        y = rng.integers(0, 4, size=n)
    elif kind == "one_class":
        y = np.zeros(n, dtype=int)
    elif kind == "every_sample_a_class":
        y = np.arange(n)
    elif kind == "a_thousand_classes":
        y = np.arange(n) % 1000
    elif kind == "strings":
        y = np.array(["cat", "dog", "émeu"], dtype=object)[rng.integers(0, 3, size=n)]
    elif kind == "float":
        y = rng.normal(size=n)
    elif kind == "float_nan":
        y = rng.normal(size=n)
        if n:
            y[0] = np.nan
    elif kind == "huge":
        y = rng.normal(size=n) * 1e30
    elif kind == "wrong_length":
        y = rng.integers(0, 2, size=n + 1)
    elif kind == "column":  # (n, 1), as a DataFrame column would be
        y = rng.integers(0, 2, size=(n, 1))
    else:
        raise ValueError(kind)
    if layout == "list":
        return y.tolist()
    if layout == "pandas":
        import pandas as pd

        return pd.Series(y.ravel()) if y.ndim == 1 else pd.DataFrame(y)
    if layout == "readonly":
        y = np.array(y)
        y.setflags(write=False)
    return y


def _snapshot(obj):
    """A deep copy of an input, to check afterwards that the call left it as it was."""
    import copy

    return copy.deepcopy(obj)


def _same(a, b):
    import numpy as np

    if a is None:
        return b is None
    if hasattr(a, "tocsr"):  # scipy.sparse: the same stored entries
        a, b = a.tocsr(), b.tocsr()
        return a.shape == b.shape and all(
            _same(x, y) for x, y in ((a.data, b.data), (a.indices, b.indices), (a.indptr, b.indptr))
        )
    if hasattr(a, "equals"):  # pandas
        return a.equals(b)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    if a.dtype == object:
        return all(x == y or (x != x and y != y) for x, y in zip(a.ravel(), b.ravel()))
    return np.array_equal(a, b)


def _outcome(exc):
    """The kind of an exception: ValueError and TypeError are a caller's mistake, reported;
    anything else is a bug (an internal error leaking)."""
    if isinstance(exc, ValueError):
        kind = "ValueError"
    elif isinstance(exc, TypeError):
        kind = "TypeError"
    else:
        kind = "other:" + type(exc).__name__
    return kind, f"{type(exc).__name__}: {exc}"


# ---- the calls -------------------------------------------------------------------------------


def estimator_calls(payload):
    """Fits estimator `name` with `params` on each backend and calls its prediction methods on
    the same X. Returns one (backend, kind, message, inputs_unmodified, summary) per backend."""
    import numpy as np
    import mlcore

    name, params, X_recipe, y_recipe, methods, backends = payload
    results = []
    for backend in backends:
        X, y = build(X_recipe), build(y_recipe)
        X0, y0 = _snapshot(X), _snapshot(y)
        summary = []
        try:
            est = getattr(mlcore, name)(backend=backend, **params)
            est.fit(X) if y is None else est.fit(X, y)
            for m in methods:
                out = getattr(est, m)(X) if m != "score" or y is None else est.score(X, y)
                summary.append((m, np.shape(out)))
            kind, message = "ok", ""
        except Exception as e:  # noqa: BLE001 — the kind of outcome is what is checked
            kind, message = _outcome(e)
        results.append((backend, kind, message, _same(X, X0) and _same(y, y0), summary))
    return results


def primitive_call(payload):
    """Runs mlcore.<name>(*args, **kwargs, backend=b) for each backend, args built from recipes
    (("raw", value) passes a value as it is). Returns (backend, kind, message, unmodified,
    result) per backend; result is the output (arrays) when the call succeeded."""
    import mlcore

    name, arg_recipes, kwargs, backends = payload
    results = []
    for backend in backends:
        args = [r[1] if r[0] == "raw" else build(r) for r in arg_recipes]
        before = [_snapshot(a) for a in args]
        try:
            out = getattr(mlcore, name)(*args, backend=backend, **kwargs)
            kind, message = "ok", ""
        except Exception as e:  # noqa: BLE001
            out = None
            kind, message = _outcome(e)
        unmodified = all(_same(a, b) for a, b in zip(args, before))
        results.append((backend, kind, message, unmodified, out))
    return results


def fitted_state(payload):
    """Fits estimator `name` on a fixed data set with mlcore.set_num_threads(threads) and returns
    its fitted state: every array-valued fitted attribute (name ending in "_", except profile_)
    and the outputs of its prediction methods on held-out rows — for bit-for-bit comparison
    across runs and thread counts (tests/python/test_determinism.py)."""
    import numpy as np
    import mlcore

    name, params, backend, threads, kind, n, d = payload
    rng = np.random.default_rng(42)
    X = rng.normal(size=(n, d))
    X[:, 0] += 3 * (np.arange(n) % 3)  # three groups, so every estimator has something to find
    Xq = rng.normal(size=(257, d))
    if kind == "classifier":
        y = np.arange(n) % 3
    elif kind == "regressor":
        y = X @ rng.normal(size=d) + rng.normal(size=n) * 0.1
    else:
        y = None
    if name == "MultinomialNB":
        X, Xq = np.abs(X), np.abs(Xq)
    mlcore.set_num_threads(threads)
    try:
        est = getattr(mlcore, name)(backend=backend, **params)
        est.fit(X) if y is None else est.fit(X, y)
        state = {}
        for attr in sorted(vars(est)):
            value = getattr(est, attr)
            if (
                attr.endswith("_")
                and not attr.startswith("_")
                and attr != "profile_"
                and isinstance(value, (np.ndarray, float, int, np.floating, np.integer))
            ):
                state[attr] = np.asarray(value)
        for m in ("predict", "predict_proba", "decision_function", "transform", "score_samples"):
            if hasattr(est, m):
                try:
                    state[m] = np.asarray(getattr(est, m)(Xq))
                except (ValueError, AttributeError):  # e.g. score_samples of a singular PCA
                    pass
        return state
    finally:
        mlcore.set_num_threads(0)
