"""Clustering: :class:`KMeans`.

A scikit-learn-style estimator whose work is done in C++ (``mlcore._core``): k-means++ seeding
(scikit-learn's greedy variant, candidates scored with one ``sqdist`` each round), then Lloyd
iterations of ``sqdist`` + ``argmin_rows`` + ``scatter_add`` on the chosen backend. ``tol`` has
scikit-learn's meaning (relative to the mean feature variance, on the total squared centre
shift); empty clusters are re-seeded with the farthest points.

Results are float32 arithmetic; from the same initial centres the inertia matches
scikit-learn's to a fraction of a percent. ``verbose`` > 0 prints scikit-learn's progress
lines (each run's start, every iteration's inertia, why it stopped) after the fit: the C++
fit keeps them (``fit_log``) and prints nothing itself. ``algorithm`` and ``copy_x`` are
accepted for compatibility (Lloyd's algorithm is always used; X is never modified).

>>> import numpy as np
>>> from mlcore import KMeans
>>> X = np.array([[0, 0], [0, 1], [10, 10], [10, 11]], dtype=np.float32)
>>> km = KMeans(n_clusters=2, random_state=0).fit(X)
>>> sorted(np.bincount(km.labels_).tolist())
[2, 2]
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, validate_data

from . import _core
from ._sparse import ACCEPT_SPARSE, as_core_X
from ._estimator import MLCoreEstimatorMixin
from ._validation import check_choice, check_int, check_real, float_dtype_of, result_dtype, seed_of

__all__ = ["KMeans"]


_K_MEANS_DEFAULTS = _core.KMeans.defaults


class KMeans(
    MLCoreEstimatorMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ClusterMixin,
    BaseEstimator,
):
    """K-means clustering (Lloyd's algorithm, k-means++ seeding).

    Parameters follow :class:`sklearn.cluster.KMeans`: ``n_clusters``, ``init`` ('k-means++',
    'random', an array (n_clusters, n_features) or a callable ``init(X, n_clusters,
    random_state)``), ``n_init`` ('auto': 1 for k-means++ and arrays, 10 for 'random'),
    ``max_iter``, ``tol``, ``random_state``; plus ``backend``.

    Attributes: ``cluster_centers_``, ``labels_``, ``inertia_``, ``n_iter_``,
    ``n_features_in_``, ``profile_``.
    """

    _core_class = _core.KMeans
    # Sparse X: distances ‖x‖² − 2·x·c + ‖c‖² in one spmm, cluster sums by the transposed spmm.
    _accept_sparse = True
    _dtype_follows_X = ("cluster_centers_",)

    def __init__(
        self,
        n_clusters=_K_MEANS_DEFAULTS["n_clusters"],
        *,
        init=_K_MEANS_DEFAULTS["init"],
        n_init=_K_MEANS_DEFAULTS["n_init"],
        max_iter=_K_MEANS_DEFAULTS["max_iter"],
        tol=_K_MEANS_DEFAULTS["tol"],
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="lloyd",
        backend=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.backend = backend

    def _init_and_runs(self, X, n_clusters):
        """(init name, centres or None, n_init for C++) from the init / n_init parameters."""
        init = self.init
        centers = None
        if isinstance(init, str):
            check_choice("init", init, ("k-means++", "random"))
        elif callable(init):
            centers = init(X, n_clusters, random_state=check_random_state(self.random_state))
        else:
            centers = init
        if centers is not None:
            centers = np.asarray(centers)
            if centers.dtype.kind not in "fiub" or centers.ndim != 2:
                raise ValueError(
                    f"init must be 'k-means++', 'random', a callable or an array "
                    f"of shape (n_clusters, n_features); got {init!r}"
                )
            if centers.shape != (n_clusters, X.shape[1]):
                raise ValueError(
                    f"The shape of the initial centers {centers.shape} does not "
                    f"match the number of clusters {n_clusters} and features "
                    f"{X.shape[1]}: expected {(n_clusters, X.shape[1])}"
                )
            centers = np.ascontiguousarray(centers, dtype=np.float32)
            if not np.all(np.isfinite(centers)):
                raise ValueError("init contains NaN or infinity")
        n_init = self.n_init if self.n_init == "auto" else check_int("n_init", self.n_init, 1)
        if centers is not None and n_init not in ("auto", 1):
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"KMeans instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
        init = "array" if centers is not None else init
        return init, centers, self._core_class.runs(init, n_init)

    def fit(self, X, y=None, sample_weight=None):
        """Cluster X (n_samples, n_features); ``sample_weight`` optional, non-negative."""
        dtype = float_dtype_of(X)  # cluster_centers_'s dtype, as scikit-learn's
        X = validate_data(
            self,
            X,
            accept_sparse=ACCEPT_SPARSE[0],
            dtype=np.float32,
            order="C",
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        n_clusters = check_int("n_clusters", self.n_clusters, 1)
        if X.shape[0] < n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")
        max_iter = check_int("max_iter", self.max_iter, 1)
        tol = check_real("tol", self.tol, 0.0)
        check_choice("algorithm", self.algorithm, ("lloyd", "elkan"))
        seed = seed_of(self.random_state)
        init, centers, n_init = self._init_and_runs(X, n_clusters)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
            if np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative")
            sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float32)
        self._model = self._core_class(
            n_clusters=n_clusters,
            init=init,
            init_centers=centers,
            n_init=n_init,
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
            verbose=bool(self.verbose),
            backend=self._core_backend(),
        )
        self._model.fit(as_core_X(X), sample_weight)
        for line in self._model.fit_log:
            print(line)
        self.cluster_centers_ = np.asarray(self._model.cluster_centers, dtype=dtype)
        self.labels_ = self._model.labels.ravel().astype(np.int32)
        self.inertia_ = float(self._model.inertia)
        self.n_iter_ = int(self._model.n_iter)
        self._n_features_out = n_clusters
        return self

    def predict(self, X):
        """The index of the nearest centre for each row of X (int32)."""
        X = self._query_X(X)
        labels = self._model_for_call().predict(as_core_X(X)).ravel().astype(np.int32)
        return labels

    def fit_predict(self, X, y=None, sample_weight=None):
        """fit(X) and return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distance of each row of X to each centre: (n_samples, n_clusters)."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, self.cluster_centers_)
        distances = self._model_for_call().transform(as_core_X(Xq)).astype(dtype, copy=False)
        return distances

    def fit_transform(self, X, y=None, sample_weight=None):
        """fit(X) then transform(X)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Minus the (weighted) sum of squared distances of X to the nearest centres."""
        X = self._query_X(X)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(
                _check_sample_weight(sample_weight, X, dtype=np.float32), dtype=np.float32
            )
        value = self._model_for_call().score(as_core_X(X), sample_weight)
        return float(value)
