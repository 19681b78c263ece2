"""PCA against scikit-learn on its bundled datasets, on every backend: explained variance,
components (sign convention included), transform / inverse_transform, whitening, n_components
as int / fraction / None, determinism, scikit-learn tooling, pickling and bad input."""

import functools
import pickle

import numpy as np
import pytest
from sklearn import decomposition as skd
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlcore
from conftest import AVAILABLE, F32_BACKENDS, quantized

LOADERS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


@functools.lru_cache(maxsize=None)
def split(name, scale):
    X, y = LOADERS[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    if scale:
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    return Xtr, Xte, ytr, yte


def n_kept(ratio, fraction=0.999):
    """How many leading components carry `fraction` of the variance (the ones worth comparing:
    the trailing, near-zero eigenvalues of f32 data are rounding noise for every solver)."""
    return int(np.searchsorted(np.cumsum(ratio), fraction) + 1)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
@pytest.mark.parametrize("scale", [True, False], ids=["standardized", "raw"])
def test_explained_variance_matches_sklearn(backend, dataset, scale):
    Xtr, Xte, _, _ = split(dataset, scale)
    ours = mlcore.PCA(backend=backend).fit(Xtr)
    ref = skd.PCA(svd_solver="full").fit(Xtr)
    assert ours.n_components_ == ref.n_components_ == min(Xtr.shape)
    assert ours.components_.shape == ref.components_.shape
    k = n_kept(ref.explained_variance_ratio_)
    ev, ev_ref = ours.explained_variance_[:k], ref.explained_variance_[:k]
    ratio, ratio_ref = ours.explained_variance_ratio_, ref.explained_variance_ratio_
    if not quantized(backend):
        # f32 covariance: each eigenvalue carries ~1e-7·λ_max of rounding; the 1e-4
        # relative holds for every component above 0.1% of the variance, and in absolute
        # terms (ratios) for all of them.
        np.testing.assert_allclose(ev, ev_ref, rtol=1e-4)
        np.testing.assert_allclose(ratio, ratio_ref, atol=1e-4)
        np.testing.assert_allclose(ours.singular_values_[:k], ref.singular_values_[:k], rtol=1e-4)
        np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-5, atol=1e-6 * np.abs(Xtr).max())
        # Components, with scikit-learn's sign convention, where their eigenvalues are distinct.
        top = min(k, 5)
        np.testing.assert_allclose(ours.components_[:top], ref.components_[:top], atol=2e-3)
        np.testing.assert_allclose(
            ours.transform(Xte)[:, :top],
            ref.transform(Xte)[:, :top],
            rtol=1e-3,
            atol=2e-3 * np.sqrt(ev_ref[0]),
        )
    else:
        # int8 covariance: ~1% of the largest eigenvalue (the columns are scaled per feature
        # first, so every feature keeps the int8 range).
        np.testing.assert_allclose(ratio[:k], ratio_ref[:k], atol=0.03)
        top = min(k, 2)
        assert np.all(np.abs(np.sum(ours.components_[:top] * ref.components_[:top], axis=1)) > 0.95)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_n_components_whiten_and_round_trip(backend):
    Xtr, Xte, _, _ = split("wine", False)
    tol = 1e-3 if not quantized(backend) else 5e-2
    for nc in (1, 5, 0.9, 0.99, None):
        ours = mlcore.PCA(n_components=nc, backend=backend).fit(Xtr)
        ref = skd.PCA(n_components=nc, svd_solver="full").fit(Xtr)
        if not quantized(backend):
            assert ours.n_components_ == ref.n_components_
            assert ours.noise_variance_ == pytest.approx(
                ref.noise_variance_, rel=1e-3, abs=1e-6 * ref.explained_variance_[0]
            )
        assert ours.transform(Xte).shape == (len(Xte), ours.n_components_)
    # All components: inverse_transform(transform(X)) gives X back.
    full = mlcore.PCA(backend=backend).fit(Xtr)
    back = full.inverse_transform(full.transform(Xte))
    np.testing.assert_allclose(back, Xte, atol=tol * np.abs(Xte).max())
    # Whitened projections of the training set have unit variance.
    white = mlcore.PCA(n_components=4, whiten=True, backend=backend)
    Z = white.fit_transform(Xtr)
    np.testing.assert_allclose(Z.var(axis=0, ddof=1), 1.0, rtol=5 * tol)
    np.testing.assert_allclose(
        white.inverse_transform(Z),
        skd.PCA(4, whiten=True)
        .fit(Xtr)
        .inverse_transform(skd.PCA(4, whiten=True).fit(Xtr).transform(Xtr)),
        atol=20 * tol * np.abs(Xtr).max(),
    )


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_fit_transform_equals_fit_then_transform(backend):
    Xtr, _, _, _ = split("digits", False)
    a = mlcore.PCA(n_components=10, backend=backend)
    Za = a.fit_transform(Xtr)
    Zb = mlcore.PCA(n_components=10, backend=backend).fit(Xtr).transform(Xtr)
    np.testing.assert_allclose(Za, Zb, rtol=1e-4, atol=1e-3)
    ref = skd.PCA(n_components=10).fit(Xtr)
    np.testing.assert_allclose(
        a.get_covariance(),
        ref.get_covariance(),
        rtol=1e-3,
        atol=1e-4 * np.abs(ref.get_covariance()).max(),
    )
    np.testing.assert_allclose(a.get_precision() @ a.get_covariance(), np.eye(64), atol=1e-6)
    assert list(a.get_feature_names_out()) == [f"pca{i}" for i in range(10)]


@pytest.mark.parametrize("backend", AVAILABLE)
def test_deterministic_and_profiled(backend):
    Xtr, Xte, _, _ = split("breast_cancer", False)
    a = mlcore.PCA(n_components=5, backend=backend).fit(Xtr)
    ops = [r["op"] for r in a.profile_]
    assert "gemm" in ops and any(op.startswith("reduce_cols") for op in ops)
    b = mlcore.PCA(n_components=5, backend=backend).fit(Xtr)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.transform(Xte), b.transform(Xte))


def test_sklearn_tooling_and_pickle():
    Xtr, Xte, ytr, yte = split("digits", False)
    pipe = make_pipeline(
        StandardScaler(), mlcore.PCA(n_components=20), LogisticRegression(max_iter=2000)
    )
    grid = GridSearchCV(pipe, {"pca__n_components": [10, 30]}, cv=3).fit(Xtr, ytr)
    assert grid.best_score_ > 0.9
    fitted = pipe.fit(Xtr, ytr)
    assert fitted.score(Xte, yte) > 0.9
    clone(fitted)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(Xte), fitted.predict(Xte))
    pca = fitted[1]
    pca.set_params(backend="scalar")
    np.testing.assert_allclose(
        pca.transform(Xte[:5]), restored[1].transform(Xte[:5]), rtol=1e-4, atol=1e-4
    )


def _low_rank_plus_noise(rank, n=400, d=12, seed=0):
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) * 5.0
    return signal + rng.normal(size=(n, d))


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_mle_picks_scikit_learns_dimension(backend):
    # Minka's MLE (n_components='mle') against scikit-learn's on data of known rank plus
    # noise, on real data sets (both standardised and raw), and on one feature.
    cases = [_low_rank_plus_noise(r, seed=r) for r in (1, 3, 7)]
    cases += [
        split(name, scale)[0] for name in ("iris", "wine", "digits") for scale in (True, False)
    ]
    for X in cases:
        ours = mlcore.PCA(n_components="mle", backend=backend).fit(X)
        ref = skd.PCA(n_components="mle", svd_solver="full").fit(X)
        assert ours.n_components_ == ref.n_components_, (X.shape, ours.n_components_)
        assert ours.components_.shape == (ref.n_components_, X.shape[1])
        assert ours.n_components == "mle"  # the parameter is left as given
    for rank in (1, 3, 7):
        assert (
            mlcore.PCA("mle", backend=backend).fit(_low_rank_plus_noise(rank)).n_components_ == rank
        )


def test_bad_input():
    X = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(NotFittedError):
        mlcore.PCA().transform(X)
    for bad in (5, 11, 0, -1, 1.5, 1.0, "two", True):
        with pytest.raises((ValueError, TypeError)):
            mlcore.PCA(n_components=bad).fit(X)
    with pytest.raises(ValueError, match="only supported if n_samples >= n_features"):
        mlcore.PCA(n_components="mle").fit(X[:3])
    with pytest.raises(ValueError, match="cannot be a string with svd_solver='arpack'"):
        mlcore.PCA(n_components="mle", svd_solver="arpack").fit(X)
    with pytest.raises(ValueError):
        mlcore.PCA(svd_solver="magic").fit(X)
    with pytest.raises(ValueError):
        mlcore.PCA().fit(X[:1])
    with pytest.raises(ValueError):
        mlcore.PCA().fit(np.empty((0, 4)))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity"):
        mlcore.PCA().fit(Xn)
    m = mlcore.PCA(n_components=2).fit(X)
    with pytest.raises(ValueError, match="features"):
        m.transform(X[:, :3])
    with pytest.raises(ValueError, match="components|shape"):
        m.inverse_transform(np.ones((3, 3)))
    with pytest.raises(ValueError):
        mlcore.PCA(backend="tpu").fit(X)
