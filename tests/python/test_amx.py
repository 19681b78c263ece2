"""The amx backend from Python: mlcore.amx(), its place in the registry, its f32 GEMM against the
systolic backend's functional result, and every estimator on it within the int8 accuracy bound
the systolic backend is held to (3 points of score below the f32 avx512 backend's).

Each test runs on the hardware tiles (where the registry lists amx; skipped with the reason
elsewhere, failed where MLCORE_REQUIRE lists amx) and on the plain-C++ model of the tiles
(``emulate_tiles=True``, wherever avx512 runs), which gives the same bits.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.model_selection import train_test_split

import mlcore

from conftest import REASONS, skip_unless_backend

VARIANTS = ["hardware", "tile_model"]


def amx_backend(variant, num_threads=0):
    """The amx backend on the hardware tiles or on their model, or a skip with the reason."""
    if variant == "hardware":
        skip_unless_backend("amx")
        return mlcore.amx(num_threads)
    skip_unless_backend("avx512")  # the tile model's other primitives are avx512's
    return mlcore.amx(num_threads, emulate_tiles=True)


def test_registry_lists_amx_with_its_reason_and_never_as_the_default():
    info = {b["name"]: b for b in mlcore.backend_info()}
    assert "amx" in info
    assert info["amx"]["available"] == ("amx" in mlcore.available_backends())
    assert not info["amx"]["default"]
    cpu = mlcore.cpu_info()
    if cpu["avx512"]:
        assert REASONS["amx"] == cpu["amx_reason"]
    if REASONS["amx"]:
        with pytest.raises(RuntimeError, match="amx"):
            mlcore.amx()._get()


def test_amx_factory_checks_its_arguments():
    with pytest.raises(ValueError, match="num_threads"):
        mlcore.amx(-1)
    with pytest.raises(ValueError, match="emulate_tiles"):
        mlcore.amx(emulate_tiles="yes")
    assert mlcore.amx() == mlcore.Backend("amx")
    assert mlcore.amx(2, emulate_tiles=True) == mlcore.Backend(
        "amx", num_threads=2, emulate_tiles=True
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_int8_gemm_is_exact(variant):
    be = amx_backend(variant, 2)
    rng = np.random.default_rng(2)
    for m, k, n in [(1, 1, 1), (17, 131, 33), (64, 64, 16), (5, 3, 97)]:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        b = rng.integers(-128, 128, (k, n), dtype=np.int8)
        got = mlcore.gemm(a, b, backend=be)
        np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))


@pytest.mark.parametrize("variant", VARIANTS)
def test_f32_gemm_is_the_systolic_result_bit_for_bit(variant):
    be = amx_backend(variant, 2)
    rng = np.random.default_rng(4)
    for m, k, n in [(1, 1, 1), (37, 53, 29), (64, 200, 31)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        got = mlcore.gemm(a, b, backend=be)
        (rec,) = mlcore.last_profile()
        want = mlcore.gemm(a, b, backend="systolic")
        (sim,) = mlcore.last_profile()
        np.testing.assert_array_equal(got, want)
        assert rec["backend"] == "amx" and not rec["seconds_simulated"]
        assert rec["quant_error"] == sim["quant_error"]
        # int8 error, not f32: a step of 1/127 of each row's / column's range (a 1 x 1 product
        # is exact: its one value is ±127 steps).
        err = np.abs(got - a.astype(np.float64) @ b).max()
        assert err < k * np.abs(a).max() * np.abs(b).max() / 127
        assert err > 1e-6 or k == 1


def _datasets():
    Xc, yc = make_classification(
        n_samples=400, n_features=10, n_informative=6, n_classes=3, random_state=0
    )
    Xr, yr = make_regression(n_samples=400, n_features=10, noise=5.0, random_state=0)
    digits = load_digits()
    return {
        "classification": train_test_split(Xc, yc, random_state=0),
        "regression": train_test_split(Xr, yr, random_state=0),
        "digits": train_test_split(digits.data[:600], digits.target[:600], random_state=0),
    }


DATA = _datasets()


def _estimators(backend):
    kw = {"backend": backend}
    return [
        mlcore.LinearRegression(**kw),
        mlcore.Ridge(alpha=0.5, **kw),
        mlcore.LogisticRegression(max_iter=200, **kw),
        mlcore.LinearSVC(**kw),
        mlcore.SVC(**kw),
        mlcore.GaussianNB(**kw),
        mlcore.MultinomialNB(**kw),
        mlcore.KNeighborsClassifier(n_neighbors=5, **kw),
        mlcore.KNeighborsRegressor(n_neighbors=5, **kw),
        mlcore.KMeans(n_clusters=3, random_state=0, **kw),
        mlcore.PCA(n_components=4, **kw),
        mlcore.DecisionTreeClassifier(max_depth=5, random_state=0, **kw),
        mlcore.RandomForestClassifier(n_estimators=5, random_state=0, **kw),
        mlcore.GradientBoostingRegressor(max_iter=10, random_state=0, **kw),
    ]


NAMES = [type(e).__name__ for e in _estimators("scalar")]


def _score(est, data):
    Xtr, Xte, ytr, yte = data
    if type(est).__name__ == "MultinomialNB":
        Xtr, Xte = np.abs(Xtr), np.abs(Xte)
    if type(est).__name__ == "PCA":  # the share of the variance the components keep
        return float(np.sum(est.fit(Xtr).explained_variance_ratio_))
    return est.fit(Xtr, ytr).score(Xte, yte)


def _agreement(labels, reference):
    """The fraction of points whose cluster, renamed to the reference cluster most of its points
    fall in, is their reference cluster: 1.0 for the same clustering under other names."""
    same = sum(np.bincount(reference[labels == c]).max() for c in np.unique(labels))
    return same / len(labels)


REGRESSORS = {"LinearRegression", "Ridge", "KNeighborsRegressor", "GradientBoostingRegressor"}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_every_estimator_is_within_the_int8_bound(name, variant):
    """Score on amx ≥ score of the f32 avx512 backend − 0.03 (3 points: the bound the systolic
    backend's int8 arithmetic is held to in the family tests); k-means: the same clusters for
    ≥ 97 % of the test points."""
    be = amx_backend(variant)
    skip_unless_backend("avx512")
    for key in ["regression"] if name in REGRESSORS else ["classification", "digits"]:
        ours = next(e for e in _estimators(be) if type(e).__name__ == name)
        ref = next(e for e in _estimators("avx512") if type(e).__name__ == name)
        if name == "KMeans":
            Xtr, Xte, _, _ = DATA[key]
            agree = _agreement(ours.fit(Xtr).predict(Xte), ref.fit(Xtr).predict(Xte))
            assert agree >= 0.97, (key, agree)
        else:
            got, want = _score(ours, DATA[key]), _score(ref, DATA[key])
            assert got >= want - 0.03, (key, got, want)
        assert {r["backend"] for r in ours.profile_} == {"amx"}
