"""Saved-model compatibility: model files written by earlier builds still load.

tests/python/data/saved_models.npz holds, for every estimator, the bytes of a fitted C++ model
as ``save_bytes()`` wrote them when the file was made, of an unfitted model (six models from
the start, the others from the version that gave every model a fitted flag), a query X, and
the model's outputs on X. Each must still load, predict the
same (to float32 rounding: the arithmetic may be reorganised, the model may not change), and,
while the model's format version is unchanged, save back to the very same bytes. A change of a
model's fields bumps its version in the header; the old files keep loading.

Regenerate (only when adding an estimator; never to paper over a failure):
    PYTHONPATH=build/dev/python python tests/python/test_saved_formats.py --write
"""

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import mlcore
from mlcore import _core

DATA = Path(__file__).with_name("data") / "saved_models.npz"
_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "apply",
)


def _estimators():
    return [
        mlcore.LinearRegression(),
        mlcore.Ridge(alpha=0.5),
        mlcore.LogisticRegression(max_iter=50, class_weight="balanced"),
        mlcore.LinearSVC(),
        mlcore.SVC(kernel="poly", degree=2),
        mlcore.GaussianNB(),
        mlcore.MultinomialNB(),
        mlcore.KNeighborsClassifier(n_neighbors=3, weights="distance"),
        mlcore.KNeighborsRegressor(n_neighbors=3),
        mlcore.KMeans(n_clusters=3, random_state=0),
        mlcore.PCA(n_components=3, whiten=True),
        mlcore.DecisionTreeClassifier(max_depth=4, random_state=0),
        mlcore.DecisionTreeRegressor(max_depth=4, random_state=0),
        mlcore.RandomForestClassifier(n_estimators=3, max_depth=4, oob_score=True, random_state=0),
        mlcore.RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0),
        mlcore.GradientBoostingClassifier(max_iter=4, random_state=0),
        mlcore.GradientBoostingRegressor(max_iter=4, random_state=0),
    ]


def _data(name):
    from sklearn.datasets import make_classification, make_regression

    if name.endswith("Regressor") or name in ("LinearRegression", "Ridge"):
        X, y = make_regression(n_samples=60, n_features=5, noise=3.0, random_state=1)
    else:
        X, y = make_classification(
            n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=1
        )
    if name == "MultinomialNB":
        X = np.abs(X)
    return X[:45], y[:45], np.ascontiguousarray(X[45:], dtype=np.float32)


def _outputs(model, X):
    return {m: np.asarray(getattr(model, m)(X)) for m in _METHODS if _has_method(model, m)}


def _has_method(model, method):
    # An SVC has predict_proba only when fitted with probability=True (Platt scaling).
    if method == "predict_proba" and getattr(model, "options_probability", True) is False:
        return False
    return hasattr(model, method)


def _model_version(saved: bytes) -> int:
    """The model version field of the header (serialize.hpp: magic 8, format u32, type as
    u64 length + bytes, model version u32)."""
    (type_len,) = struct.unpack_from("<Q", saved, 12)
    (version,) = struct.unpack_from("<I", saved, 20 + type_len)
    return version


def _write():
    blobs = {}
    for est in _estimators():
        name = type(est).__name__
        est.set_params(backend="scalar")
        X, y, Xq = _data(name)
        est.fit(X, y)
        blobs[f"{name}/bytes"] = np.frombuffer(est._model.save_bytes(), dtype=np.uint8)
        blobs[f"{name}/X"] = Xq
        for method, out in _outputs(est._model, Xq).items():
            blobs[f"{name}/{method}"] = out
    for name in UNFITTED:
        blobs[f"{name}/unfitted"] = np.frombuffer(_unfitted(name).save_bytes(), dtype=np.uint8)
    np.savez_compressed(DATA, **blobs)


# The options the tree families' bound constructors take beside the published defaults.
_TREE_EXTRA = {"max_depth": None, "max_features": None, "random_state": 0}
_EXTRA = {
    "DecisionTreeClassifier": _TREE_EXTRA,
    "DecisionTreeRegressor": _TREE_EXTRA,
    "RandomForestClassifier": {**_TREE_EXTRA, "n_jobs": -1},
    "RandomForestRegressor": {**_TREE_EXTRA, "n_jobs": -1},
    "GradientBoostingClassifier": {"loss": "", "max_depth": None, "random_state": 0},
    "GradientBoostingRegressor": {"loss": "", "max_depth": None, "random_state": 0},
}


def _unfitted(name):
    """An unfitted C++ model with the default options."""
    core = getattr(_core, name)
    options = {**core.defaults, **_EXTRA[name]} if name in _EXTRA else {}
    return core(**options, backend=mlcore._backends.resolve("scalar"))


# Every model saves unfitted: the first six since the file was made, the others since their
# format gained the fitted flag (their unfitted files were added then, fitted ones kept).
UNFITTED = tuple(type(e).__name__ for e in _estimators())


def _saved():
    with np.load(DATA) as f:
        return {k: f[k] for k in f.files}


NAMES = [type(e).__name__ for e in _estimators()]


@pytest.mark.parametrize("name", NAMES)
def test_a_saved_model_of_an_earlier_build_loads_and_predicts_the_same(name):
    saved = _saved()
    data = saved[f"{name}/bytes"].tobytes()
    Xq = saved[f"{name}/X"]
    model = getattr(_core, name).load_bytes(data, mlcore._backends.resolve("scalar"))
    outputs = _outputs(model, Xq)
    expected = {
        k.split("/", 1)[1]: v
        for k, v in saved.items()
        if k.startswith(name + "/") and k.split("/", 1)[1] in _METHODS
    }
    # A method added since the file was written (a forest's apply) has nothing to compare with.
    assert expected.keys() <= outputs.keys()
    for method, want in expected.items():
        got = outputs[method]
        assert got.shape == want.shape, method
        if want.dtype.kind in "iu":
            np.testing.assert_array_equal(got, want, err_msg=method)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=method)
    resaved = model.save_bytes()
    if _model_version(resaved) == _model_version(data):
        assert resaved == data, f"{name}: same version, different bytes"
    else:
        assert _model_version(resaved) > _model_version(data)


@pytest.mark.parametrize("name", UNFITTED)
def test_a_saved_unfitted_model_of_an_earlier_build_loads_unfitted(name):
    data = _saved()[f"{name}/unfitted"].tobytes()
    model = getattr(_core, name).load_bytes(data, mlcore._backends.resolve("scalar"))
    assert not model.fitted
    query = model.predict if hasattr(model, "predict") else model.transform
    with pytest.raises(ValueError, match="not fitted"):
        query(np.ones((2, 5), np.float32))
    resaved = model.save_bytes()
    if _model_version(resaved) == _model_version(data):
        assert resaved == data


if __name__ == "__main__" and "--write" in sys.argv:
    _write()
