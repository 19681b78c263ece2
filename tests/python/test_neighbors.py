"""KNeighborsClassifier / KNeighborsRegressor against scikit-learn on its bundled datasets, on
every backend; kneighbors(), determinism, scikit-learn tooling, pickling and bad input."""

import functools
import pickle

import numpy as np
import pytest
from sklearn import neighbors as skn
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
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


def tolerance(backend):
    """Allowed accuracy gap to scikit-learn: 1 point on f32 backends, 3 on the int8 array."""
    return 0.03 if quantized(backend) else 0.01


@functools.lru_cache(maxsize=None)
def split(name):
    """The fixed split, standardised with the training set's statistics (float32)."""
    X, y = (load_diabetes if name == "diabetes" else LOADERS[name])(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return (
        scaler.transform(Xtr).astype(np.float32),
        scaler.transform(Xte).astype(np.float32),
        ytr,
        yte,
    )


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_classifier_accuracy_matches_sklearn(backend, dataset, weights):
    Xtr, Xte, ytr, yte = split(dataset)
    ours = mlcore.KNeighborsClassifier(n_neighbors=5, weights=weights, backend=backend)
    ref = skn.KNeighborsClassifier(n_neighbors=5, weights=weights, algorithm="brute")
    acc = ours.fit(Xtr, ytr).score(Xte, yte)
    acc_ref = ref.fit(Xtr, ytr).score(Xte, yte)
    assert abs(acc - acc_ref) <= tolerance(backend) + 1e-12, (acc, acc_ref)
    proba = ours.predict_proba(Xte)
    assert proba.shape == (len(yte), len(np.unique(ytr)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    if not quantized(backend):
        # Same neighbours, almost everywhere, so nearly identical probabilities.
        assert np.mean(np.abs(proba - ref.predict_proba(Xte)).max(axis=1) < 1e-4) > 0.97


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_kneighbors_matches_sklearn(backend):
    Xtr, Xte, ytr, _ = split("wine")
    ours = mlcore.KNeighborsClassifier(n_neighbors=4, backend=backend).fit(Xtr, ytr)
    ref = skn.NearestNeighbors(n_neighbors=4, algorithm="brute").fit(Xtr)
    dist, ind = ours.kneighbors(Xte)
    dref, iref = ref.kneighbors(Xte)
    assert dist.shape == ind.shape == (len(Xte), 4)
    np.testing.assert_allclose(dist, dref, rtol=1e-4, atol=1e-3)
    assert np.mean(ind == iref) > 0.99
    assert np.all(np.diff(dist, axis=1) >= 0)
    # Other k, indices only, and the training set itself (each sample excluded from its list).
    assert ours.kneighbors(Xte, n_neighbors=2, return_distance=False).shape == (len(Xte), 2)
    d_self, i_self = ours.kneighbors(n_neighbors=3)
    d_ref, i_ref = ref.kneighbors(n_neighbors=3)
    assert not np.any(i_self == np.arange(len(Xtr))[:, None])
    assert np.mean(i_self == i_ref) > 0.99
    graph = ours.kneighbors_graph(Xte[:5], mode="distance")
    assert graph.shape == (5, len(Xtr)) and graph.nnz == 20


def assert_same_neighbours(found, reference, Xq, Xfit, p):
    """A valid k-nearest set: scikit-learn's distances rank by rank, and each returned index
    really at its distance (float64, from the data). Where scikit-learn's neighbour differs the
    two are tied — common in the bundled datasets under Chebyshev (two rows' largest difference
    on the same repeated feature value): scikit-learn's brute force leaves tied rows in no set
    order, mlcore puts the lower index first."""
    (dist, ind), (dref, iref) = found, reference
    np.testing.assert_allclose(dist, dref, rtol=1e-5)
    diff = np.abs(Xq[:, None, :].astype(np.float64) - Xfit[ind].astype(np.float64))
    true = diff.max(axis=2) if np.isinf(p) else (diff**p).sum(axis=2) ** (1 / p)
    np.testing.assert_allclose(dist, true, rtol=1e-5)
    assert np.mean(ind == iref) > 0.97


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize(
    "metric, p, effective",
    [
        ("manhattan", 2, "manhattan"),
        ("cityblock", 2, "manhattan"),
        ("chebyshev", 2, "chebyshev"),
        ("minkowski", 1, "manhattan"),
        ("minkowski", 3, "minkowski"),
        ("minkowski", 1.5, "minkowski"),
        ("minkowski", 0.5, "minkowski"),
        ("minkowski", np.inf, "chebyshev"),
    ],
)
@pytest.mark.filterwarnings("ignore:Mind that for 0 < p < 1")
def test_minkowski_metrics_match_sklearn(backend, metric, p, effective):
    """Other Minkowski metrics: scikit-learn's neighbours, distances, votes and regression, on
    every backend (minkowski_dist is exact f32 arithmetic everywhere, the int8 array included:
    it runs on the vector unit), with the metric's record in the profile."""
    Xtr, Xte, ytr, _ = split("wine")
    kw = dict(n_neighbors=4, metric=metric, p=p, weights="distance")
    ours = mlcore.KNeighborsClassifier(backend=backend, **kw).fit(Xtr, ytr)
    ref = skn.KNeighborsClassifier(algorithm="brute", **kw).fit(Xtr, ytr)
    exponent = {"manhattan": 1, "cityblock": 1, "chebyshev": np.inf}.get(metric, p)
    assert_same_neighbours(ours.kneighbors(Xte), ref.kneighbors(Xte), Xte, Xtr, exponent)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-5)
    assert ours.effective_metric_ == effective
    ops = ours.profile_.by_op()  # predict_proba's: the metric's search, not the GEMM's
    assert "minkowski_dist" in ops and "sqdist" not in ops
    yreg = Xtr[:, 0].astype(np.float64)
    got = mlcore.KNeighborsRegressor(backend=backend, **kw).fit(Xtr[:, 1:], yreg)
    want = skn.KNeighborsRegressor(algorithm="brute", **kw).fit(Xtr[:, 1:], yreg)
    np.testing.assert_allclose(got.predict(Xte[:, 1:]), want.predict(Xte[:, 1:]), rtol=1e-5)


def test_distance_metric_objects():
    from sklearn.metrics import DistanceMetric

    Xtr, Xte, ytr, _ = split("wine")
    for name in ("euclidean", "manhattan", "chebyshev"):
        metric = DistanceMetric.get_metric(name)
        ours = mlcore.KNeighborsClassifier(n_neighbors=3, metric=metric).fit(Xtr, ytr)
        ref = skn.KNeighborsClassifier(n_neighbors=3, metric=name).fit(Xtr, ytr)
        exponent = {"euclidean": 2, "manhattan": 1, "chebyshev": np.inf}[name]
        assert_same_neighbours(ours.kneighbors(Xte), ref.kneighbors(Xte), Xte, Xtr, exponent)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_r2_matches_sklearn(backend, weights):
    Xtr, Xte, ytr, yte = split("diabetes")
    r2 = (
        mlcore.KNeighborsRegressor(n_neighbors=7, weights=weights, backend=backend)
        .fit(Xtr, ytr)
        .score(Xte, yte)
    )
    r2_ref = skn.KNeighborsRegressor(n_neighbors=7, weights=weights).fit(Xtr, ytr).score(Xte, yte)
    assert abs(r2 - r2_ref) <= (0.03 if quantized(backend) else 0.01), (r2, r2_ref)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_regressor_two_outputs_and_callable_weights(backend):
    Xtr, Xte, ytr, _ = split("diabetes")
    Y = np.column_stack([ytr, -2 * ytr])
    pred = mlcore.KNeighborsRegressor(backend=backend).fit(Xtr, Y).predict(Xte)
    ref = skn.KNeighborsRegressor().fit(Xtr, Y).predict(Xte)
    assert pred.shape == (len(Xte), 2)
    np.testing.assert_allclose(pred, ref, rtol=1e-4, atol=1e-2)

    def inverse_square(d):
        return 1.0 / (d**2 + 1e-3)

    p = (
        mlcore.KNeighborsRegressor(weights=inverse_square, backend=backend)
        .fit(Xtr, ytr)
        .predict(Xte)
    )
    p_ref = skn.KNeighborsRegressor(weights=inverse_square).fit(Xtr, ytr).predict(Xte)
    np.testing.assert_allclose(p, p_ref, rtol=1e-3)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_weights_none_is_uniform_and_all_zero_weights_raise(backend):
    Xtr, Xte, ytr, _ = split("digits")
    none = mlcore.KNeighborsClassifier(weights=None, backend=backend).fit(Xtr, ytr)
    uniform = mlcore.KNeighborsClassifier(backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(none.predict_proba(Xte), uniform.predict_proba(Xte))
    reg = mlcore.KNeighborsRegressor(weights=None, backend=backend).fit(Xtr, ytr)
    ref = skn.KNeighborsRegressor(weights=None).fit(Xtr, ytr).predict(Xte)
    np.testing.assert_allclose(reg.predict(Xte), ref, rtol=1e-5)

    # A weight function that leaves a query no vote at all: scikit-learn raises (and mlcore
    # with its words) rather than return zero probabilities that argmax reads as class 0.
    X = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    y = np.array([0, 0, 1, 1])

    def near_only(dist):
        return (dist <= 0.5).astype(float)

    model = mlcore.KNeighborsClassifier(n_neighbors=3, weights=near_only, backend=backend)
    model.fit(X, y)
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match="All neighbors of some sample is getting zero"):
            method(np.array([[1.1, 1.1]]))
    with pytest.raises(ValueError, match="All neighbors"):
        skn.KNeighborsClassifier(n_neighbors=3, weights=near_only).fit(X, y).predict([[1.1, 1.1]])
    # Where some neighbour is near, the vote stands.
    assert model.predict(np.array([[1.0, 2.0]]))[0] == 0


@pytest.mark.parametrize("backend", AVAILABLE)
def test_deterministic_and_batch_size_independent(backend):
    Xtr, Xte, ytr, _ = split("digits")
    a = mlcore.KNeighborsClassifier(backend=backend).fit(Xtr, ytr).predict_proba(Xte)
    b = mlcore.KNeighborsClassifier(backend=backend).fit(Xtr, ytr).predict_proba(Xte)
    np.testing.assert_array_equal(a, b)
    if not quantized(backend):  # int8 quantization scales depend on the batch
        c = mlcore.KNeighborsClassifier(batch_size=7, backend=backend).fit(Xtr, ytr)
        np.testing.assert_array_equal(c.predict_proba(Xte), a)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("k", [1, 5, 40])
def test_tiled_search_of_a_large_training_set_is_exact(backend, k):
    # 9001 training rows are searched in 5 tiles of ~1800 rows (in cache), the 300 queries in
    # batches of 256 + 44; small integer coordinates make the float32 distances exact and
    # full of ties, so the result must equal a float64 reference sorted by (distance, index).
    rng = np.random.default_rng(3)
    Xtr = rng.integers(0, 6, size=(9001, 3)).astype(np.float32)
    Xq = rng.integers(0, 6, size=(300, 3)).astype(np.float32)
    ytr = rng.integers(0, 3, size=9001)
    d = ((Xq[:, None, :].astype(np.float64) - Xtr[None, :, :]) ** 2).sum(-1)
    ref = np.stack([np.lexsort((np.arange(len(Xtr)), row))[:k] for row in d])
    est = mlcore.KNeighborsClassifier(n_neighbors=k, backend=backend).fit(Xtr, ytr)
    dist, ind = est.kneighbors(Xq)
    ops = [r["op"] for r in est.profile_]
    if "sqdist_topk" in ops:  # a fused search (avx512, amx): no distance block, no tiles
        assert "sqdist" not in ops and "topk_rows" not in ops
    else:
        assert ops.count("sqdist") > 2, "the training set was searched in tiles (2 query batches)"
    np.testing.assert_array_equal(ind, ref)
    np.testing.assert_array_equal(dist, np.sqrt(np.take_along_axis(d, ref, 1)).astype(np.float32))
    # The vote sees the same neighbours.
    votes = np.stack([np.bincount(ytr[r], minlength=3) for r in ref]) / k
    np.testing.assert_allclose(est.predict_proba(Xq), votes, rtol=1e-6)


def test_labels_profile_and_backend_switch():
    Xtr, Xte, ytr, yte = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[ytr]
    clf = mlcore.KNeighborsClassifier(backend="scalar").fit(Xtr, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    pred = clf.predict(Xte)
    assert pred.dtype == names.dtype and set(pred) <= set(names)
    assert {"sqdist", "topk_rows", "scatter_add", "gather_rows"} <= set(clf.profile_.by_op())
    clf.set_params(backend="avx2" if "avx2" in AVAILABLE else "scalar")
    np.testing.assert_array_equal(clf.predict(Xte), pred)


def test_sklearn_tools_and_pickle():
    Xtr, Xte, ytr, yte = split("wine")
    pipe = make_pipeline(StandardScaler(), mlcore.KNeighborsClassifier())
    assert cross_val_score(pipe, Xtr, ytr, cv=3).mean() > 0.9
    grid = GridSearchCV(mlcore.KNeighborsClassifier(), {"n_neighbors": [1, 3, 5]}, cv=3)
    grid.fit(Xtr, ytr)
    assert grid.best_params_["n_neighbors"] in (1, 3, 5)
    clf = clone(mlcore.KNeighborsClassifier(n_neighbors=3, weights="distance")).fit(Xtr, ytr)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict(Xte), clf.predict(Xte))
    reg = mlcore.KNeighborsRegressor().fit(Xtr, ytr.astype(float))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(Xte), reg.predict(Xte))


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((10, 3))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="n_neighbors"):
        mlcore.KNeighborsClassifier(n_neighbors=11).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors"):
        mlcore.KNeighborsClassifier(n_neighbors=0).fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        mlcore.KNeighborsClassifier(weights="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="Minkowski distances only"):
        mlcore.KNeighborsClassifier(metric="cosine").fit(X, y)
    with pytest.raises(ValueError, match="does not support 0 < p < 1"):
        mlcore.KNeighborsClassifier(p=0.5, algorithm="kd_tree").fit(X, y)
    with pytest.warns(UserWarning, match="not distance metrics"):
        mlcore.KNeighborsClassifier(p=0.5).fit(X, y)  # a semi-metric: brute force still works
    with pytest.raises(ValueError, match="p"):
        mlcore.KNeighborsClassifier(p=-1).fit(X, y)
    with pytest.raises(ValueError, match="metric_params"):
        mlcore.KNeighborsClassifier(metric_params={"w": 1}).fit(X, y)
    with pytest.raises(ValueError):
        mlcore.KNeighborsClassifier().fit(X, y[:5])  # mismatched lengths
    with pytest.raises(ValueError):
        mlcore.KNeighborsClassifier().fit(np.empty((0, 3)), [])
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(ValueError):
        mlcore.KNeighborsClassifier(n_neighbors=3).fit(Xn, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        mlcore.KNeighborsClassifier(n_neighbors=3).fit(X, X[:, 0])
    clf = mlcore.KNeighborsClassifier(n_neighbors=3)
    with pytest.raises(Exception, match="not fitted"):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="n_neighbors"):
        clf.kneighbors(X, n_neighbors=11)
    with pytest.raises(ValueError, match="unknown backend"):
        mlcore.KNeighborsClassifier(n_neighbors=3, backend="tpu9").fit(X, y)
