"""Persistence: every estimator on every backend survives pickle and joblib exactly, and a damaged
model is refused with a clear ValueError, never a crash or a silently wrong model.

Pickling an estimator stores its C++ model in mlcore's versioned binary format
(include/mlcore/serialize.hpp: magic, format version, model type, model version, payload,
FNV-1a checksum of the payload) and rebuilds it on the estimator's backend when loaded. So a
reloaded estimator must predict *identically* (np.array_equal, not allclose): the same numbers
go through the same code. The format's own edge cases are tested in C++
(tests/cpp/core/test_serialize.cpp); here every estimator's model goes through them once.
"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.datasets import make_classification, make_regression

import mlcore

from conftest import skip_unless_backend

# Every backend mlcore knows (asked, not listed): those absent here skip with the reason, or
# fail where MLCORE_REQUIRE lists them.
_INFO = {b["name"]: b for b in mlcore.backend_info()}
BACKENDS = list(_INFO)


def make_estimators(backend):
    """Every estimator, small and seeded (results are reproducible, fits are quick)."""
    kw = {"backend": backend}
    return [
        mlcore.LinearRegression(**kw),
        mlcore.Ridge(alpha=0.5, **kw),
        mlcore.LogisticRegression(max_iter=50, **kw),
        mlcore.LinearSVC(**kw),
        mlcore.SVC(**kw),
        mlcore.GaussianNB(**kw),
        mlcore.MultinomialNB(**kw),
        mlcore.KNeighborsClassifier(n_neighbors=3, weights="distance", **kw),
        mlcore.KNeighborsRegressor(n_neighbors=3, **kw),
        mlcore.KMeans(n_clusters=3, random_state=0, **kw),
        mlcore.PCA(n_components=3, whiten=True, **kw),
        mlcore.DecisionTreeClassifier(max_depth=4, random_state=0, **kw),
        mlcore.DecisionTreeRegressor(max_depth=4, random_state=0, **kw),
        mlcore.RandomForestClassifier(n_estimators=4, random_state=0, **kw),
        mlcore.RandomForestRegressor(n_estimators=4, random_state=0, **kw),
        mlcore.GradientBoostingClassifier(max_iter=5, random_state=0, **kw),
        mlcore.GradientBoostingRegressor(max_iter=5, random_state=0, **kw),
    ]


NAMES = [type(e).__name__ for e in make_estimators("scalar")]


def _estimator(name, backend):
    skip_unless_backend(backend)
    return next(e for e in make_estimators(backend) if type(e).__name__ == name)


def _data(est):
    """(X_train, y_train, X_query) for the estimator's kind; 3 classes for classifiers."""
    if is_regressor(est):
        X, y = make_regression(n_samples=90, n_features=6, noise=3.0, random_state=0)
    else:
        X, y = make_classification(
            n_samples=90, n_features=6, n_informative=4, n_classes=3, random_state=0
        )
        if not is_classifier(est):
            y = None
    if type(est).__name__ == "MultinomialNB":
        X = np.abs(X)  # counts or frequencies
    return X[:70], (None if y is None else y[:70]), X[70:]


_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "apply",
)


def _outputs(est, X):
    """Every prediction-like method's result on X (the methods the estimator has)."""
    return {m: getattr(est, m)(X) for m in _METHODS if hasattr(est, m)}


def _assert_same_state(a, b):
    """The two estimators' __dict__ are equal, arrays exactly; the C++ models' bytes too."""
    da, db = dict(vars(a)), dict(vars(b))
    ma, mb = da.pop("_model", None), db.pop("_model", None)
    assert sorted(da) == sorted(db)
    for key, va in da.items():
        vb = db[key]
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and np.array_equal(va, vb, equal_nan=True), key
        else:
            assert type(va) is type(vb), key
            assert va == vb or (va != va and vb != vb), key  # NaN equals NaN here
    assert (ma is None) == (mb is None)
    if ma is not None:
        assert ma.save_bytes() == mb.save_bytes()


def _assert_same_outputs(a, b, X):
    out_a, out_b = _outputs(a, X), _outputs(b, X)
    assert out_a.keys() == out_b.keys()
    assert "predict" in out_a or "transform" in out_a
    for method, va in out_a.items():
        vb = out_b[method]
        assert va.dtype == vb.dtype and va.shape == vb.shape, method
        assert np.array_equal(va, vb), f"{method} differs after reloading"


# ---- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_pickle_and_joblib_round_trip_exactly(name, backend, tmp_path):
    _check_round_trip(_estimator(name, backend), backend, tmp_path)


def gaussian(dist):
    """A callable kNN ``weights`` (a module-level function: it pickles by reference, so the
    reloaded estimator's parameter is the same object)."""
    return np.exp(-(dist**2))


@pytest.mark.parametrize(
    "est",
    [
        mlcore.LogisticRegression(class_weight="balanced", C=0.5),
        mlcore.LinearSVC(loss="hinge", dual=True),
        mlcore.SVC(kernel="linear", decision_function_shape="ovo"),
        mlcore.SVC(kernel="poly", degree=2, gamma=0.3),
        mlcore.KNeighborsClassifier(weights=gaussian),
        mlcore.KMeans(n_clusters=3, init="random", n_init=3, random_state=1),
        mlcore.PCA(n_components=0.8),
        mlcore.RandomForestClassifier(n_estimators=4, oob_score=True, random_state=0),
        mlcore.GradientBoostingClassifier(max_iter=30, early_stopping=True, random_state=0),
        mlcore.GradientBoostingRegressor(
            max_iter=30, max_depth=2, l2_regularization=1.0, random_state=0
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_variants_round_trip_exactly(est, tmp_path):
    """Options that change what the model stores (OvO pairs, OOB scores, early-stopping
    histories, a variance-fraction PCA, ...) survive the round trip as well."""
    _check_round_trip(est, "avx2" if _INFO["avx2"]["available"] else "scalar", tmp_path)


def _check_round_trip(est, backend, tmp_path):
    est.set_params(backend=backend)
    X, y, Xq = _data(est)
    est.fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    for loaded in (pickle.loads(pickle.dumps(est)), joblib.load(path)):
        assert type(loaded) is type(est) and loaded.get_params() == est.get_params()
        _assert_same_state(est, loaded)
        _assert_same_outputs(est, loaded, Xq)
        # Rebuilt on the estimator's backend: the last call made the same primitive calls there.
        ops = [(r["op"], r["backend"]) for r in est.profile_]
        assert [(r["op"], r["backend"]) for r in loaded.profile_] == ops
        assert {b for _, b in ops} <= {backend}


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_estimator_pickles_and_then_fits_the_same(name):
    est = _estimator(name, "scalar")
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params() and not hasattr(loaded, "_model")
    X, y, Xq = _data(est)
    _assert_same_outputs(est.fit(X, y), loaded.fit(X, y), Xq)


@pytest.mark.parametrize(
    "make_backend",
    [
        lambda: mlcore.systolic(rows=16, cols=8, dataflow="os"),
        lambda: mlcore.avx2(num_threads=1),
    ],
    ids=["systolic-16x8-os", "avx2-1-thread"],
)
def test_configured_backend_objects_survive_pickling(make_backend):
    """A configured Backend object is pickled with the estimator: the reloaded model runs on the
    same configuration (same outputs, same simulated cycles), not on the default instance."""
    be = make_backend()
    X, y, Xq = _data(mlcore.KMeans())
    est = mlcore.KMeans(n_clusters=3, random_state=0, backend=be).fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.backend == be
    _assert_same_outputs(est, loaded, Xq)
    cycles = [r["cycles"] for r in est.profile_]
    assert [r["cycles"] for r in loaded.profile_] == cycles
    if be.name == "systolic":  # and the default 256 x 256 array would have taken other cycles
        default = mlcore.KMeans(n_clusters=3, random_state=0, backend="systolic").fit(X)
        default.transform(Xq)
        assert [r["cycles"] for r in default.profile_] != cycles


def test_a_model_reloads_onto_another_backend():
    """The saved model holds no backend: changing `backend` after loading moves the work."""
    X, y, Xq = _data(mlcore.LogisticRegression())
    est = mlcore.LogisticRegression(backend="scalar").fit(X, y)
    moved = pickle.loads(pickle.dumps(est)).set_params(backend="avx2")
    np.testing.assert_allclose(moved.predict_proba(Xq), est.predict_proba(Xq), atol=1e-5)
    assert {r["backend"] for r in moved.profile_} == {"avx2"}


def test_a_model_from_a_machine_with_other_hardware_still_unpickles():
    """A model pickled where its backend runs (say cuda) opens where it does not: calls raise
    the RuntimeError naming the missing hardware, and moving it to a backend that runs here
    predicts as before. Simulated with a backend name no build has as available: the state of
    a scalar model is given backend "cuda" where cuda is missing (skipped where it is present,
    since there the model would simply run)."""
    if _INFO["cuda"]["available"]:
        pytest.skip("cuda is available here; the missing-hardware path cannot be simulated")
    X, y, Xq = _data(mlcore.GaussianNB())
    est = mlcore.GaussianNB(backend="scalar").fit(X, y)
    state = est.__getstate__()
    state["backend"] = "cuda"
    opened = mlcore.GaussianNB.__new__(mlcore.GaussianNB)
    opened.__setstate__(state)  # no error: nothing has to run yet
    with pytest.raises(RuntimeError, match="cuda"):
        opened.predict(Xq)
    opened.set_params(backend="scalar")
    _assert_same_outputs(est, opened, Xq)


# ---- refusal of damaged or foreign models --------------------------------------------------


def _layout(blob):
    """Offsets of the header fields (serialize.hpp): magic 8, format u32, type (u64 length +
    bytes), model version u32, payload length u64, payload, checksum u64."""
    type_len = int.from_bytes(blob[12:20], "little")
    version_at = 20 + type_len
    return {
        "magic": 0,
        "format": 8,
        "type": 20,
        "model_version": version_at,
        "payload_length": version_at + 4,
        "payload": version_at + 12,
        "checksum": len(blob) - 8,
    }


def _flip(blob, at):
    b = bytearray(blob)
    b[at] ^= 0x5A
    return bytes(b)


def _fitted(name):
    est = _estimator(name, "scalar")
    X, y, _ = _data(est)
    return est.fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_damaged_model_bytes_are_refused_with_a_clear_error(name):
    est = _fitted(name)
    core = type(est)._core_class
    backend = est._core_backend()  # the C++ backend object load_bytes takes
    blob = est._model.save_bytes()
    at = _layout(blob)
    payload_len = int.from_bytes(blob[at["payload_length"] : at["payload"]], "little")
    assert blob[:8] == b"MLCOREMD" and at["payload"] + payload_len + 8 == len(blob)

    def refused(bad, phrase):
        with pytest.raises(ValueError, match=phrase):
            core.load_bytes(bad, backend)

    for cut in (0, 5, 10, at["payload"] - 1, at["payload"] + payload_len // 2, len(blob) - 1):
        refused(blob[:cut], "truncated|bad magic")
    refused(_flip(blob, at["magic"] + 3), "not an mlcore model file")
    refused(_flip(blob, at["format"]), "format version")
    refused(_flip(blob, at["type"] + 1), f"not a {name}")
    refused(_flip(blob, at["model_version"] + 2), "version .* not supported")
    refused(_flip(blob, at["payload_length"]), "truncated|corrupted|trailing")
    for where in (at["payload"], at["payload"] + payload_len // 2, at["checksum"] - 1):
        refused(_flip(blob, where), "checksum mismatch")
    refused(_flip(blob, at["checksum"]), "checksum mismatch")
    refused(blob + b"\0", "trailing")
    # Another format version (a file from another mlcore release): refused by number.
    other = bytearray(blob)
    other[8:12] = (2).to_bytes(4, "little")
    refused(bytes(other), "format version 2; this build reads version 1")
    # The model of another estimator type.
    other_name = "KMeans" if name != "KMeans" else "PCA"
    refused(_fitted(other_name)._model.save_bytes(), f"holds a {other_name} model, not a {name}")
    # The undamaged bytes still load, to the same model.
    assert core.load_bytes(blob, backend).save_bytes() == blob


@pytest.mark.parametrize("name", NAMES)
def test_corrupted_pickle_is_refused(name):
    """A flipped byte inside the model bytes of a pickle: unpickling raises ValueError (the
    checksum), instead of returning an estimator with a silently wrong model."""
    est = _fitted(name)
    blob = est._model.save_bytes()
    data = pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL)
    start = data.find(blob)
    assert start >= 0  # the model's bytes are stored verbatim in the pickle
    with pytest.raises(ValueError, match="checksum mismatch"):
        pickle.loads(_flip(data, start + len(blob) // 2))
    state = est.__getstate__()
    state["_model_bytes"] = blob[: len(blob) // 2]
    with pytest.raises(ValueError, match="truncated"):
        type(est).__new__(type(est)).__setstate__(state)
