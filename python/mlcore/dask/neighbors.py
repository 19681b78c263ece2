"""Distributed k-nearest neighbours: the training set sharded over the workers, exact.

``fit`` leaves each row partition of the training set (with its labels or targets) on its
worker. A query batch is broadcast to every shard; each shard runs the single-machine search on
its rows — ``sqdist`` of the queries against its rows, then ``topk_rows`` — and returns, per
query, its k best squared distances, their global row indices and their labels / targets
(3·k numbers per query and shard). The client merges the p·k candidates by (distance, index),
which is the single-machine order (``topk_rows`` breaks ties by the lower index), so the
neighbours are exactly those of one machine; then it votes (or averages) with the
single-machine weights. What travels grows with the queries, not with the training set; what
does not scale is a query's latency (every shard takes part in every query).
"""

from __future__ import annotations

import numpy as np
import dask.array as da
from sklearn.utils.multiclass import check_classification_targets

from .. import neighbors as _local
from .._validation import check_int
from ._base import DaskEstimatorMixin, check_fit_inputs, get_client, init_with_client
from ._base import DistributedFit

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor"]


def _shard(xb, yb, offset):
    yb = np.asarray(yb)
    return np.ascontiguousarray(xb, dtype=np.float32), yb, int(np.asarray(offset).reshape(-1)[0])


def _labels_task(rec, part):
    return np.unique(part[1])


def _codes_task(rec, part, classes):
    """Kept: the shard with its labels as class codes (what the votes add up)."""
    X, y, offset = part
    return (X, np.searchsorted(classes, y), offset), None


def _shard_topk_task(rec, part, queries, k):
    """This shard's k nearest rows of each query: squared distances, global indices, targets."""
    X, y, offset = part
    k = min(k, X.shape[0])
    index, value = rec.topk_rows(rec.sqdist(queries, X), k)
    return value, index.astype(np.int64) + offset, y[index]


def _distance_weights(sq_dist):
    """scikit-learn's 'distance' weights (1/dist; a query with an exact match gives weight 1 to
    its zero-distance neighbours and 0 to the others), as the single-machine vote."""
    exact = np.any(sq_dist == 0, axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.sqrt(sq_dist.astype(np.float32))
    return np.where(exact, (sq_dist == 0).astype(np.float32), inv).astype(np.float64)


class _DaskKNeighbors(DaskEstimatorMixin):
    """Shared: fit (the shards stay on the workers), the exact sharded search, to_local()."""

    def _fit_shards(self, X, y):
        _, _, p = self._check_params(X.shape[0])
        if p != 2:
            raise ValueError(
                f"{type(self).__name__} on Dask searches with Euclidean distances only "
                f"(metric='minkowski' with p=2, 'euclidean' or 'l2'); got metric="
                f"{self.metric!r}, p={self.p}. Use mlcore.{type(self).__name__} on one machine."
            )
        offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]])
        off = da.from_array(offsets, chunks=1)
        self._shards = DistributedFit(get_client(self.client), self.backend, [X, y, off], _shard)
        self.n_samples_fit_ = int(X.shape[0])
        self.effective_metric_ = "euclidean"
        self.effective_metric_params_ = {}

    @property
    def profile_(self):
        shards = self.__dict__.get("_shards")
        if shards is None:
            raise AttributeError(f"{type(self).__name__} has no profile_ before fit")
        return shards.profile()

    def _search(self, X, k):
        """(squared distances, global indices, targets) of the k nearest rows, merged."""
        shards = self._shards
        shards.records = []  # profile_: the records of this call
        parts = self._parts
        queries = np.ascontiguousarray(X, dtype=np.float32)
        found = shards.round("k nearest per shard", _shard_topk_task, queries, k, parts=parts)
        values = np.concatenate([f[0] for f in found], axis=1)
        index = np.concatenate([f[1] for f in found], axis=1)
        targets = np.concatenate([f[2] for f in found], axis=1)
        order = np.lexsort((index, values), axis=1)[:, :k]  # by distance, then index
        pick = (np.arange(len(values))[:, None], order)
        return values[pick], index[pick], targets[pick]

    def _queries(self, X):
        if X is None:
            raise ValueError(
                f"{type(self).__name__}: pass the queries X; X=None (every "
                "training sample as a query) would send the training set to every "
                "worker. Use to_local().kneighbors() for that."
            )
        if hasattr(X, "compute"):  # a dask query set is brought here, chunk by chunk
            X = X.compute()
        self._require_fitted()
        return _local_check(self, X)

    def _require_fitted(self):
        if "_shards" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is not fitted: call fit first")

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The ``n_neighbors`` nearest training samples of each query row: (distances,
        indices) as the single-machine estimator returns them (indices into the training
        rows, in dask order)."""
        X = self._queries(X)
        k = check_int("n_neighbors", self.n_neighbors if n_neighbors is None else n_neighbors, 1)
        if k > self.n_samples_fit_:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {X.shape[0]}"
            )
        sq, index, _ = self._search(X, k)
        dist = np.sqrt(sq.astype(np.float32)).astype(np.float64)
        return (dist, index.astype(np.intp)) if return_distance else index.astype(np.intp)

    def _neighbour_weights(self, X):
        """Queries' neighbour targets and their weights (n_queries × k)."""
        X = self._queries(X)
        sq, _, targets = self._search(X, self.n_neighbors)
        if callable(self.weights):
            w = np.asarray(
                self.weights(np.sqrt(sq.astype(np.float32)).astype(np.float64)), dtype=np.float64
            )
        elif self.weights == "distance":
            w = _distance_weights(sq)
        else:
            w = np.ones(sq.shape)
        return targets, w

    def to_local(self):
        """The single-machine estimator, fitted on the training set brought to this machine
        (n_samples × n_features values travel: use it when they fit in memory)."""
        self._require_fitted()
        parts = self._shards.client.gather(self._shards.parts)
        X = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        params = {k: v for k, v in self.get_params().items() if k != "client"}
        return self._local_class(**params).fit(X, y)

    def __getstate__(self):
        raise TypeError(
            f"a fitted mlcore.dask.{type(self).__name__} keeps its training set on "
            "the workers and cannot be pickled: pickle est.to_local()"
        )


def _local_check(est, X):
    """Queries as float32 with the training feature count (the single-machine check)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has shape {X.shape}, but {type(est).__name__} was fitted with "
            f"{est.n_features_in_} features"
        )
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity")
    return X


class KNeighborsClassifier(_DaskKNeighbors, _local.KNeighborsClassifier):
    """mlcore.KNeighborsClassifier with the training set sharded across a dask cluster.
    Same neighbours as one machine (exact merge); same parameters, plus ``client``."""

    _local_class = _local.KNeighborsClassifier
    __init__ = init_with_client(_local.KNeighborsClassifier)

    def fit(self, X, y):
        """Shard a dask X (n_samples, n_features) and its labels y over the workers."""
        X, y = check_fit_inputs(self, X, y)
        self._fit_shards(X, y)
        labels = self._shards.round("labels", _labels_task)
        self.classes_ = np.unique(np.concatenate(labels))
        check_classification_targets(self.classes_)
        self.outputs_2d_ = False
        _, self._parts = self._shards.round(
            "labels to class codes", _codes_task, self.classes_, keep=True
        )
        return self

    def predict_proba(self, X):
        """Each class's share of the (weighted) votes: (n_samples, n_classes)."""
        codes, w = self._neighbour_weights(X)
        return _local.vote_shares(codes, w, len(self.classes_))

    def predict(self, X):
        """The most voted class of each query (ties: the smallest class)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class KNeighborsRegressor(_DaskKNeighbors, _local.KNeighborsRegressor):
    """mlcore.KNeighborsRegressor with the training set sharded across a dask cluster.
    Same neighbours as one machine (exact merge); same parameters, plus ``client``."""

    _local_class = _local.KNeighborsRegressor
    __init__ = init_with_client(_local.KNeighborsRegressor)

    def fit(self, X, y):
        """Shard a dask X and its targets y (n_samples,) or (n_samples, n_outputs)."""
        X, y = check_fit_inputs(self, X, y, y_ndim=(1, 2))
        self._y_1d = y.ndim == 1
        self._fit_shards(X, y.astype(np.float64))
        self._parts = self._shards.parts
        return self

    def predict(self, X):
        """The (weighted) mean target of each query's k nearest neighbours."""
        targets, w = self._neighbour_weights(X)
        t = targets.reshape(targets.shape[0], targets.shape[1], -1)
        pred = np.einsum("qk,qko->qo", w, t) / w.sum(axis=1, keepdims=True)
        return pred.ravel() if self._y_1d else pred
