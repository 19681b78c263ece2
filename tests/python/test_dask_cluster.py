"""mlcore.dask.KMeans against the single-machine KMeans, and a worker killed mid-fit.

From the same initial centres the distributed Lloyd iterations are the single-machine ones:
same number of iterations, the same labels exactly (the tests use clusters that are not
razor-thin ties), centres to f32 rounding of the per-cluster sums (1e-5 of the data's scale),
inertia to 1e-5 relative. k-means++ draws its seeds with another random stream than the C++
fit, so there the tests compare the quality (inertia) with the single-machine fit's.
"""

import logging
import os
import signal

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import dask.array as da

import mlcore
import mlcore.dask as md
from mlcore.dask._base import DistributedFit


def _blobs(n=6007, k=5, d=4, seed=0):
    X, _ = make_blobs(n_samples=n, centers=k, n_features=d, cluster_std=2.5, random_state=seed)
    return X.astype(np.float32)


def _assert_same_fit(dist, one, X):
    assert dist.n_iter_ == one.n_iter_
    np.testing.assert_array_equal(dist.labels_.compute(), one.labels_)
    np.testing.assert_allclose(
        dist.cluster_centers_, one.cluster_centers_, atol=1e-5 * np.abs(X).max()
    )
    assert dist.inertia_ == pytest.approx(one.inertia_, rel=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_from_the_same_centres_equals_one_machine(dask_client, rng, weighted):
    X = _blobs()
    init = X[rng.choice(len(X), 5, replace=False)]
    w = rng.random(len(X)) if weighted else None
    Xd = da.from_array(X, chunks=(2000, 4))
    dist = md.KMeans(5, init=init, tol=0.0).fit(
        Xd, sample_weight=None if w is None else da.from_array(w, chunks=1500)
    )
    one = mlcore.KMeans(5, init=init, tol=0.0).fit(X, sample_weight=w)
    _assert_same_fit(dist, one, X)
    np.testing.assert_array_equal(dist.predict(Xd).compute(), one.predict(X))
    np.testing.assert_allclose(dist.transform(X[:50]), one.transform(X[:50]), rtol=1e-5)
    local = dist.to_local()
    assert type(local) is mlcore.KMeans
    np.testing.assert_array_equal(local.labels_, one.labels_)


def test_kmeans_reseeds_an_empty_cluster_as_one_machine(dask_client):
    X = _blobs(n=3001, k=4)
    init = np.repeat(X[:1], 4, axis=0)  # every centre the same: three clusters start empty
    init[1:] += np.arange(1, 4, dtype=np.float32)[:, None] * 1e-3
    dist = md.KMeans(4, init=init).fit(da.from_array(X, chunks=(1000, 4)))
    one = mlcore.KMeans(4, init=init).fit(X)
    _assert_same_fit(dist, one, X)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_seeding_finds_the_clusters(dask_client, init):
    X = _blobs(n=4003, k=5, seed=3)
    dist = md.KMeans(5, init=init, n_init=3, random_state=0).fit(da.from_array(X, chunks=(1500, 4)))
    one = mlcore.KMeans(5, init=init, n_init=3, random_state=0).fit(X)
    assert dist.inertia_ == pytest.approx(one.inertia_, rel=0.02)
    assert sorted(np.bincount(dist.labels_.compute(), minlength=5).tolist()) == pytest.approx(
        sorted(np.bincount(one.labels_, minlength=5).tolist()), abs=40
    )


def test_kmeans_survives_a_killed_worker(dask_client, monkeypatch):
    """A worker process is killed (SIGKILL) in the middle of the Lloyd iterations. Its
    partitions and the iteration's tasks are lost; Dask recomputes them from the graph on the
    other worker (and the nanny restarts the killed one) and the fit ends as one machine's."""
    X = _blobs(n=8009, k=5, seed=1)
    init = X[:5].copy()
    one = mlcore.KMeans(5, init=init, tol=0.0).fit(X)
    client = dask_client
    pids = client.run(os.getpid)
    original = DistributedFit.round
    killed = []

    def round_that_kills(self, name, *args, **kwargs):
        if name.startswith("Lloyd") and self.n_rounds >= 5 and not killed:
            victim = sorted(pids)[0]
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(victim)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(DistributedFit, "round", round_that_kills)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    dist = md.KMeans(5, init=init, tol=0.0).fit(da.from_array(X, chunks=(2000, 4)))
    assert killed
    _assert_same_fit(dist, one, X)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next tests


def test_a_partition_that_cannot_be_recomputed_raises(dask_client):
    """Scattered data has no graph to rebuild it from: when its worker dies the fit must fail
    at once with an error that says why (never hang)."""
    import dask

    client = dask_client
    client.wait_for_workers(2, timeout=60)
    X = _blobs(n=2000, k=3)
    w0, w1 = sorted(client.scheduler_info()["workers"])
    futures = [client.scatter(X[:1000], workers=[w0]), client.scatter(X[1000:], workers=[w1])]
    Xd = da.concatenate(
        [da.from_delayed(dask.delayed(f), shape=(1000, 4), dtype=np.float32) for f in futures]
    )
    os.kill(client.run(os.getpid)[w0], signal.SIGKILL)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    with pytest.raises(RuntimeError, match="lost with its worker and cannot be recomputed"):
        md.KMeans(3, init=X[:3]).fit(Xd)
    client.wait_for_workers(2, timeout=60)
