"""k-nearest neighbours: :class:`KNeighborsClassifier`, :class:`KNeighborsRegressor`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``) by batched brute
force: for each batch of queries one ``sqdist`` against the training set and one ``topk_rows``
pick the k nearest; the vote is a ``gather_rows`` of the neighbours' targets, a ``scale_rows``
by the weights and a ``scatter_add`` into one row per query. ``batch_size`` bounds the memory
of the distance block (``batch_size × n_samples_fit`` floats).

The metrics are the Minkowski family: ``metric="minkowski"`` with any ``p > 0`` (``p=2``,
scikit-learn's default, is Euclidean), ``"euclidean"``/``"l2"``, ``"manhattan"``/
``"cityblock"``/``"l1"`` and ``"chebyshev"``/``"infinity"``. The Euclidean search is a GEMM
(``sqdist``); the others are ``minkowski_dist``, which has no multiply-adds for a GEMM or a
matrix unit to take (the profile shows it). ``algorithm`` and ``leaf_size`` are accepted for
compatibility, and brute force is always used. Ties in distance go to the lower training index; ties in the
vote to the smallest class, as scikit-learn.

>>> from sklearn.datasets import load_iris
>>> from mlcore import KNeighborsClassifier
>>> X, y = load_iris(return_X_y=True)
>>> KNeighborsClassifier(n_neighbors=5).fit(X, y).score(X, y) > 0.9
True
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._estimator import MLCoreEstimatorMixin
from ._validation import check_choice, check_int, check_real

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor"]


def _as_float32(X):
    return np.ascontiguousarray(X, dtype=np.float32)


# ---- the metric ------------------------------------------------------------------------------

# scikit-learn's metric names for the Minkowski exponents mlcore computes.
_METRIC_EXPONENT = {
    "euclidean": 2.0,
    "l2": 2.0,
    "manhattan": 1.0,
    "cityblock": 1.0,
    "l1": 1.0,
    "chebyshev": np.inf,
    "infinity": np.inf,
}
_EFFECTIVE_METRIC = {2.0: "euclidean", 1.0: "manhattan", np.inf: "chebyshev"}
# sklearn.metrics.DistanceMetric objects of the same metrics (their class names).
_DISTANCE_METRIC_CLASSES = {
    f"{name}Distance{bits}": exponent
    for name, exponent in (("Euclidean", 2.0), ("Manhattan", 1.0), ("Chebyshev", np.inf))
    for bits in (32, 64)
}


def _minkowski_exponent(name, metric, p, algorithm):
    """The Minkowski exponent (1, 2, inf or any p > 0) that ``metric`` and ``p`` ask for; a
    clear ValueError for the metrics mlcore does not compute."""
    if isinstance(metric, str) and metric in _METRIC_EXPONENT:
        return _METRIC_EXPONENT[metric]
    if type(metric).__name__ in _DISTANCE_METRIC_CLASSES:
        return _DISTANCE_METRIC_CLASSES[type(metric).__name__]
    if isinstance(metric, str) and metric == "minkowski":
        if isinstance(p, (float, np.floating)) and p == np.inf:
            return np.inf  # Chebyshev, the limit p → ∞
        p = check_real("p", p, 0.0, low_open=True)
        if p < 1:
            # A semi-metric (no triangle inequality): tree searches need the metric, brute
            # force (mlcore's only search) does not. scikit-learn's rule and wording.
            if algorithm in ("kd_tree", "ball_tree"):
                raise ValueError(
                    f'algorithm="{algorithm}" does not support 0 < p < 1 for the Minkowski '
                    'metric. To resolve this problem either set p >= 1 or algorithm="brute".'
                )
            warnings.warn(
                "Mind that for 0 < p < 1, Minkowski metrics are not distance metrics. "
                "Continuing the execution with `algorithm='brute'`.",
                UserWarning,
                stacklevel=4,
            )
        return float(p)
    raise ValueError(
        f"{name} computes Minkowski distances only: metric='minkowski' with p >= 1, "
        f"{sorted(_METRIC_EXPONENT)}; got metric={metric!r}"
    )


# ---- the estimators ---------------------------------------------------------------------------


# Both estimators take KNeighborsOptions.
_K_NEIGHBORS_DEFAULTS = _core.KNeighborsClassifier.defaults


class _KNeighborsBase(MLCoreEstimatorMixin, BaseEstimator):
    """What both estimators share: parameters, fit of the samples, kneighbors()."""

    _classifier = False

    def __init__(
        self,
        n_neighbors=_K_NEIGHBORS_DEFAULTS["n_neighbors"],
        *,
        weights=_K_NEIGHBORS_DEFAULTS["weights"],
        algorithm="auto",
        leaf_size=30,
        p=_K_NEIGHBORS_DEFAULTS["p"],
        metric="minkowski",
        metric_params=None,
        n_jobs=None,
        batch_size=None,
        backend=None,
    ):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.backend = backend

    def _check_params(self, n_samples):
        name = type(self).__name__
        k = check_int("n_neighbors", self.n_neighbors, 1)
        if k > n_samples:
            raise ValueError(
                f"{name}: n_neighbors = {k} is larger than the number of training "
                f"samples (n_samples = {n_samples}); expected n_neighbors <= "
                "n_samples_fit"
            )
        if not callable(self.weights) and self.weights is not None:  # None: uniform
            check_choice("weights", self.weights, ("uniform", "distance"))
        check_choice("algorithm", self.algorithm, ("auto", "ball_tree", "kd_tree", "brute"))
        check_int("leaf_size", self.leaf_size, 1)
        if self.metric_params:
            raise ValueError(
                f"{name}: metric_params are not supported (the metrics are Minkowski's, "
                "chosen by metric and p)"
            )
        batch = check_int("batch_size", self.batch_size, 1, allow_none=True)
        return k, batch or 0, _minkowski_exponent(name, self.metric, self.p, self.algorithm)

    def _fit(self, X, y_for_core):
        k, batch, p = self._check_params(X.shape[0])
        # Callable weights are applied in Python to the neighbours found in C++: the C++ vote
        # runs with uniform weights only when they are not used.
        weights = "uniform" if callable(self.weights) or self.weights is None else self.weights
        self._model = self._core_class(
            n_neighbors=k, weights=weights, p=p, batch_size=batch, backend=self._core_backend()
        )
        self._model.fit(X, y_for_core)
        self.n_samples_fit_ = X.shape[0]
        self._fit_method = "brute"  # scikit-learn's attribute: the search actually used
        # scikit-learn's names for the metric actually computed.
        self.effective_metric_ = _EFFECTIVE_METRIC.get(p, "minkowski")
        self.effective_metric_params_ = {} if p in _EFFECTIVE_METRIC else {"p": p}
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The ``n_neighbors`` nearest training samples of each row of X.

        Returns ``(distances, indices)`` (each ``(n_queries, n_neighbors)``; distances in the
        estimator's metric, ascending) or only ``indices`` when ``return_distance`` is false. With
        ``X=None`` the queries are the training samples, each excluded from its own result.
        """
        check_is_fitted(self, "_model")
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_int("n_neighbors", k, 1)
        query_is_train = X is None
        if query_is_train:
            X = self._model.fit_X
            k += 1
        else:
            X = self._query_X(X)
        n_fit = self._model.n_samples_fit
        if k > n_fit:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {n_fit}, n_samples = {X.shape[0]}"
            )
        model = self._model_for_call()
        dist, ind = model.kneighbors(X, k)
        dist = dist.astype(np.float64)
        ind = ind.astype(np.intp)
        if query_is_train:
            # Drop each sample from its own list (scikit-learn's rule): where it appears, remove
            # it; where it does not (duplicates at distance 0), drop the last neighbour.
            n = ind.shape[0]
            is_self = ind == np.arange(n)[:, None]
            is_self[~is_self.any(axis=1), -1] = True
            ind = ind[~is_self].reshape(n, k - 1)
            dist = dist[~is_self].reshape(n, k - 1)
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """Sparse (n_queries, n_samples_fit) graph of the k nearest neighbours: 1 per edge
        (``mode="connectivity"``) or the distance (``mode="distance"``)."""
        from scipy.sparse import csr_matrix

        check_choice("mode", mode, ("connectivity", "distance"))
        dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
        n_queries, k = ind.shape
        data = np.ones(n_queries * k) if mode == "connectivity" else dist.ravel()
        indptr = np.arange(0, n_queries * k + 1, k)
        return csr_matrix((data, ind.ravel(), indptr), shape=(n_queries, self.n_samples_fit_))

    def _votes_here(self, X):
        """Whether the vote is taken here from kneighbors() rather than by the C++ model: for
        callable ``weights``, and for ``X=None`` (each training sample's neighbours without
        itself, which the C++ vote, given points, cannot leave out)."""
        return callable(self.weights) or X is None

    def _neighbour_weights(self, X):
        """Neighbour indices and weights (n_queries × k) for a vote taken here: the user's
        function, 1/distance (a query with neighbours at distance 0 gives weight 1 to those
        and 0 to the rest, scikit-learn's rule) or 1."""
        dist, ind = self.kneighbors(X)
        if callable(self.weights):
            w = np.asarray(self.weights(dist), dtype=np.float64)
            if w.shape != dist.shape:
                raise ValueError(
                    f"weights function must return an array of shape {dist.shape}, got {w.shape}"
                )
        elif self.weights == "distance":
            with np.errstate(divide="ignore"):
                w = 1.0 / dist
            zero = dist == 0
            exact = zero.any(axis=1)
            w[exact] = zero[exact]
        else:
            w = np.ones_like(dist)
        return ind, w


def vote_shares(codes, w, n_classes):
    """Each class's share of the weighted votes (n_queries × n_classes), from the neighbours'
    class codes and weights (n_queries × k): the vote taken in Python (callable weights, X=None,
    and mlcore.dask's merged neighbours)."""
    if (w == 0).all(axis=1).any():
        # No class would get a vote: scikit-learn's error (and its wording), not a row of zero
        # probabilities that argmax would read as the first class.
        raise ValueError(
            "All neighbors of some sample is getting zero weights. Please modify "
            "'weights' to avoid this case if you are using a user-defined function."
        )
    votes = np.zeros((codes.shape[0], n_classes))
    rows = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    np.add.at(votes, (rows, codes.ravel()), w.ravel())
    total = votes.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0  # weights that cancel (a user's signed weights)
    return votes / total


class KNeighborsClassifier(ClassifierMixin, _KNeighborsBase):
    """Classifier by a vote of the k nearest neighbours (Minkowski metrics, brute force).

    Parameters follow :class:`sklearn.neighbors.KNeighborsClassifier`; in addition
    ``batch_size`` (queries per batch, None: automatic, about 64 MiB of distances) and
    ``backend``.

    Attributes: ``classes_``, ``n_features_in_``, ``n_samples_fit_``, ``effective_metric_``,
    ``outputs_2d_``, ``profile_``.
    """

    _core_class = _core.KNeighborsClassifier
    _classifier = True

    def fit(self, X, y):
        """Remember the training samples X (n_samples, n_features) and their labels y."""
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", ensure_all_finite=False
        )  # NaN/inf: the C++ fit checks X
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.outputs_2d_ = False
        self._y_codes = codes
        return self._fit(_as_float32(X), np.ascontiguousarray(codes, dtype=np.float32))

    def predict_proba(self, X=None):
        """Each class's share of the (weighted) votes: (n_samples, n_classes). X=None: the
        training samples, each without itself among its neighbours."""
        if self._votes_here(X):
            ind, w = self._neighbour_weights(X)
            return vote_shares(self._y_codes[ind], w, len(self.classes_))
        X = self._query_X(X)
        proba = self._model_for_call().predict_proba(X)
        return proba.astype(np.float64)

    def predict(self, X=None):
        """The most voted class of each row of X (ties: the smallest class); X=None as in
        predict_proba."""
        if self._votes_here(X):
            proba = self.predict_proba(X)  # checks fitted first (classes_ is read after)
            return self.classes_[np.argmax(proba, axis=1)]
        X = self._query_X(X)
        codes = self._model_for_call().predict(X).ravel()
        return self.classes_[codes.astype(np.intp)]


class KNeighborsRegressor(MultiOutputMixin, RegressorMixin, _KNeighborsBase):
    """Regression by the (weighted) mean of the k nearest neighbours' targets.

    Parameters follow :class:`sklearn.neighbors.KNeighborsRegressor`; in addition
    ``batch_size`` and ``backend``. ``y`` may be 1-D or (n_samples, n_outputs).
    """

    _core_class = _core.KNeighborsRegressor

    def fit(self, X, y):
        """Remember the training samples X and their targets y (n_samples,) or
        (n_samples, n_outputs)."""
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float32,
            order="C",
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        # scikit-learn's uniform vote is np.mean of y's rows: float32 for a float32 y (float64
        # for any other y, and for every weighted vote).
        self._y_float32 = np.asarray(y).dtype == np.float32
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        self._y = y
        y2 = y.reshape(y.shape[0], -1)
        return self._fit(_as_float32(X), np.ascontiguousarray(y2, dtype=np.float32))

    def predict(self, X=None):
        """The (weighted) mean target of each row's k nearest neighbours. X=None: of the
        training samples, each without itself among its neighbours."""
        if self._votes_here(X):
            ind, w = self._neighbour_weights(X)
            y2 = self._y.reshape(self._y.shape[0], -1)
            pred = np.einsum("qk,qko->qo", w, y2[ind]) / w.sum(axis=1, keepdims=True)
        else:
            X = self._query_X(X)
            pred = self._model_for_call().predict(X)
        uniform = self.weights in (None, "uniform")
        pred = pred.astype(np.float32 if uniform and self._y_float32 else np.float64, copy=False)
        return pred.ravel() if self._y_1d else pred
