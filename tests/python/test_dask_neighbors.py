"""mlcore.dask k-nearest neighbours: the sharded search gives the single-machine neighbours
exactly — same indices, distances equal to the last bit — even with many exact ties (integer
grid data), because the shards' candidates are merged by (distance, index) as topk_rows orders
them on one machine."""

import numpy as np
import pytest

import dask.array as da

import mlcore
import mlcore.dask as md


@pytest.mark.parametrize(
    "weights", ["uniform", None, "distance", lambda d: 1.0 / (1.0 + d)], ids=str
)
def test_classifier_equals_one_machine_with_ties(dask_client, rng, weights):
    X = rng.integers(0, 4, size=(1501, 4)).astype(np.float32)  # many equal distances
    y = np.array(["x", "y", "z"])[rng.integers(0, 3, len(X))]
    Q = np.vstack([rng.integers(0, 4, size=(97, 4)), X[:3]]).astype(np.float32)  # exact hits
    dist = md.KNeighborsClassifier(7, weights=weights).fit(
        da.from_array(X, chunks=(400, 4)), da.from_array(y, chunks=400)
    )
    one = mlcore.KNeighborsClassifier(7, weights=weights).fit(X, y)
    d_dist, i_dist = dist.kneighbors(Q)
    d_one, i_one = one.kneighbors(Q)
    np.testing.assert_array_equal(i_dist, i_one)
    np.testing.assert_array_equal(d_dist, d_one)
    np.testing.assert_array_equal(dist.predict(Q), one.predict(Q))
    np.testing.assert_allclose(dist.predict_proba(Q), one.predict_proba(Q), atol=1e-6)


def test_all_zero_weights_raise_as_on_one_machine(dask_client, rng):
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = rng.integers(0, 2, len(X))
    dist = md.KNeighborsClassifier(5, weights=lambda d: np.zeros_like(d)).fit(
        da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100)
    )
    with pytest.raises(ValueError, match="All neighbors of some sample is getting zero"):
        dist.predict(X[:4])


def test_regressor_equals_one_machine(dask_client, rng):
    X = rng.normal(size=(1203, 5)).astype(np.float32)
    y = np.stack([X.sum(axis=1), X[:, 0] ** 2], axis=1)
    Q = rng.normal(size=(50, 5)).astype(np.float32)
    dist = md.KNeighborsRegressor(4, weights="distance").fit(
        da.from_array(X, chunks=(500, 5)), da.from_array(y, chunks=(500, 2))
    )
    one = mlcore.KNeighborsRegressor(4, weights="distance").fit(X, y)
    np.testing.assert_allclose(dist.predict(Q), one.predict(Q), rtol=1e-6, atol=1e-6)
    assert dist.kneighbors(da.from_array(Q, chunks=(25, 5)), 3, return_distance=False).shape == (
        50,
        3,
    )
    local = dist.to_local()
    assert type(local) is mlcore.KNeighborsRegressor
    np.testing.assert_allclose(local.predict(Q), one.predict(Q), rtol=1e-6)


def test_queries_travel_not_the_training_set(dask_client, rng):
    """Per query batch: the queries go to every shard; each returns k candidates per query."""
    X = rng.normal(size=(2000, 8)).astype(np.float32)
    dist = md.KNeighborsClassifier(5).fit(
        da.from_array(X, chunks=(1000, 8)), da.from_array(X[:, 0] > 0, chunks=1000)
    )
    Q = X[:10]
    dist.kneighbors(Q)
    comm = {r["op"]: r for r in dist.profile_ if r["op"] in ("broadcast", "reduce")}
    assert comm["broadcast"]["comm_bytes"] < 2 * (Q.nbytes + 1000)
    assert comm["reduce"]["comm_bytes"] < 2 * 10 * 5 * (4 + 8 + 8) + 2000
    ops = {r["op"] for r in dist.profile_}
    assert {"sqdist", "topk_rows"} <= ops


def test_knn_errors(dask_client, rng):
    X = rng.normal(size=(100, 3)).astype(np.float32)
    est = md.KNeighborsClassifier(3).fit(
        da.from_array(X, chunks=(50, 3)), da.from_array(X[:, 0] > 0, chunks=50)
    )
    with pytest.raises(ValueError, match="pass the queries"):
        est.kneighbors()
    with pytest.raises(ValueError, match="3 features"):
        est.predict(X[:, :2])
    with pytest.raises(TypeError, match="pickle est.to_local"):
        import pickle

        pickle.dumps(est)


def test_other_metrics_are_refused_on_dask(dask_client, rng):
    """The sharded search is Euclidean (sqdist per shard): another Minkowski metric is refused
    with what to use instead, before anything is sent to the workers."""
    X = da.from_array(rng.normal(size=(40, 3)).astype(np.float32), chunks=(20, 3))
    y = da.from_array(np.arange(40) % 2, chunks=20)
    for kw in (dict(metric="manhattan"), dict(p=1), dict(metric="chebyshev")):
        with pytest.raises(ValueError, match="Euclidean distances only.*one machine"):
            md.KNeighborsClassifier(3, **kw).fit(X, y)
