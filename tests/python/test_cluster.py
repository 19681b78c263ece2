"""KMeans against scikit-learn on its bundled datasets, on every backend: the inertia from the
same initial centres, k-means++ quality, sample weights, determinism, scikit-learn tooling,
pickling and bad input."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from sklearn import cluster as skc
from sklearn.base import clone
from sklearn.cluster import kmeans_plusplus
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
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


def inertia_rtol(backend):
    """Allowed relative inertia gap: 1 % on f32 backends, 3 % on the int8 array."""
    return 0.03 if quantized(backend) else 0.01


@functools.lru_cache(maxsize=None)
def data(name):
    X, y = LOADERS[name](return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), len(np.unique(y))


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
def test_inertia_matches_sklearn_from_the_same_centres(backend, dataset):
    X, k = data(dataset)
    init, _ = kmeans_plusplus(X, k, random_state=0)
    ours = mlcore.KMeans(n_clusters=k, init=init, n_init=1, backend=backend).fit(X)
    ref = skc.KMeans(n_clusters=k, init=init, n_init=1).fit(X)
    assert abs(ours.inertia_ - ref.inertia_) <= inertia_rtol(backend) * ref.inertia_, (
        ours.inertia_,
        ref.inertia_,
    )
    assert ours.cluster_centers_.shape == (k, X.shape[1])
    assert ours.labels_.shape == (len(X),) and ours.labels_.dtype == np.int32
    if not quantized(backend):
        assert adjusted_rand_score(ours.labels_, ref.labels_) > 0.98
        assert abs(ours.n_iter_ - ref.n_iter_) <= max(2, ref.n_iter_ // 5)
    # predict / transform / score agree with the fitted state.
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    d = ours.transform(X)
    assert d.shape == (len(X), k)
    np.testing.assert_array_equal(np.argmin(d, axis=1), ours.labels_)
    assert ours.score(X) == pytest.approx(-ours.inertia_, rel=inertia_rtol(backend))


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seeding_quality_close_to_sklearn(backend, init):
    X, _ = data("digits")
    ours = [
        mlcore.KMeans(n_clusters=10, init=init, random_state=s, backend=backend).fit(X).inertia_
        for s in range(3)
    ]
    ref = [skc.KMeans(n_clusters=10, init=init, random_state=s).fit(X).inertia_ for s in range(3)]
    # Different random streams, same algorithm: the typical result is as good.
    assert np.median(ours) <= 1.03 * np.median(ref), (ours, ref)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_deterministic(backend):
    X, _ = data("wine")
    a = mlcore.KMeans(n_clusters=4, random_state=7, backend=backend).fit(X)
    b = mlcore.KMeans(n_clusters=4, random_state=7, backend=backend).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_sample_weight_matches_sklearn(backend):
    X, _ = data("iris")
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(X))
    init = X[[0, 60, 120]]
    ours = mlcore.KMeans(3, init=init, backend=backend).fit(X, sample_weight=w)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X, sample_weight=w)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-3)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-3)
    # Integer weights act like repeated samples.
    rep = np.repeat(X, 2, axis=0)
    a = mlcore.KMeans(3, init=init, backend=backend).fit(X, sample_weight=np.full(len(X), 2.0))
    b = mlcore.KMeans(3, init=init, backend=backend).fit(rep)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-4)


@pytest.mark.parametrize("tol, stop", [(0.0, "strict convergence"), (1e-2, "within tolerance")])
def test_verbose_prints_sklearns_progress_lines(capsys, tol, stop):
    X = np.random.RandomState(0).normal(size=(2000, 5))
    ours = mlcore.KMeans(n_clusters=4, init="random", n_init=1, tol=tol, random_state=0, verbose=1)
    ours.fit(X)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Initialization complete"
    inertias = [float(line.split("inertia ")[1].rstrip(".")) for line in out if "inertia" in line]
    assert len(inertias) == ours.n_iter_ and np.all(np.diff(inertias) <= 1e-3 * inertias[0])
    assert stop in out[-1]
    mlcore.KMeans(n_clusters=4, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


def test_empty_cluster_is_relocated():
    # Three tight groups and a start with one centre far from everything.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.1, (20, 2)) for c in (0, 5, 10)]).astype(np.float32)
    init = np.array([[0, 0], [7.5, 7.5], [100, 100]], dtype=np.float32)
    km = mlcore.KMeans(3, init=init, backend="scalar").fit(X)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X)
    assert len(np.unique(km.labels_)) == 3
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-3)


def test_sklearn_tools_pickle_and_feature_names():
    X, _ = data("iris")
    pipe = make_pipeline(StandardScaler(), mlcore.KMeans(3, random_state=0))
    labels = pipe.fit_predict(X)
    assert labels.shape == (len(X),)
    grid = GridSearchCV(mlcore.KMeans(random_state=0), {"n_clusters": [2, 3]}, cv=3).fit(X)
    assert grid.best_params_["n_clusters"] == 3  # score = −inertia prefers more clusters
    km = clone(mlcore.KMeans(3, random_state=0)).fit(X)
    back = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(back.predict(X), km.predict(X))
    np.testing.assert_allclose(back.transform(X), km.transform(X))
    assert list(km.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]
    assert km.fit_transform(X).shape == (len(X), 3)
    ops = set(km.fit(X).profile_.by_op())
    # Seeding's sqdist, then the assignments: sqdist + argmin_rows, or one fused sqdist_topk
    # (k = 1) on a backend that fuses the search (avx512, amx).
    assert {"sqdist", "scatter_add"} <= ops and ("argmin_rows" in ops or "sqdist_topk" in ops)


def test_callable_init_and_warnings():
    X, _ = data("iris")

    def first_rows(X, k, random_state):
        return X[:k]

    km = mlcore.KMeans(3, init=first_rows).fit(X)
    ref = skc.KMeans(3, init=X[:3], n_init=1).fit(X)
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlcore.KMeans(3, init=X[:3], n_init=5).fit(X)
    assert any("only one init" in str(w.message) for w in caught)


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="n_clusters"):
        mlcore.KMeans(n_clusters=11).fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        mlcore.KMeans(n_clusters=0).fit(X)
    with pytest.raises(ValueError, match="init"):
        mlcore.KMeans(n_clusters=2, init="kmeans").fit(X)
    with pytest.raises(ValueError, match="shape"):
        mlcore.KMeans(n_clusters=2, init=X[:3]).fit(X)
    with pytest.raises(ValueError, match="tol"):
        mlcore.KMeans(n_clusters=2, tol=-1.0).fit(X)
    with pytest.raises(ValueError):
        mlcore.KMeans(n_clusters=2).fit(np.empty((0, 3)))
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError):
        mlcore.KMeans(n_clusters=2).fit(Xn)
    with pytest.raises(ValueError, match="non-negative"):
        mlcore.KMeans(n_clusters=2).fit(X, sample_weight=-np.ones(10))
    km = mlcore.KMeans(n_clusters=2)
    with pytest.raises(Exception, match="not fitted"):
        km.predict(X)
    km.fit(X)
    with pytest.raises(ValueError, match="features"):
        km.predict(X[:, :2])
