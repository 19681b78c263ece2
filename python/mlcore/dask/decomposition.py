"""Distributed PCA: one reduction of the centred covariance.

Each worker returns its partition's row count, column means and centred scatter matrix
XcᵀXc (a d × d GEMM on its backend, ``_moments.py``); the client combines them exactly and
runs the single-machine fit's host step on the covariance: the symmetric eigensolver, the
component signs and the choice of how many to keep. d² + d + 1 numbers travel per partition.
PCA of a tall matrix is thus as data-parallel as least squares; what does not scale is d:
the d × d covariance and its O(d³) eigen-decomposition live on one machine.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .. import decomposition as _local
from .._validation import float_dtype_of
from .._validation import check_bool
from . import _local as write
from ._base import DaskEstimatorMixin, check_fit_inputs, init_with_client
from ._moments import combine_moments, partition_moments

__all__ = ["PCA"]


def _rows(xb):
    return np.ascontiguousarray(xb, dtype=np.float32)


def _moments_task(rec, X):
    return partition_moments(rec, X)


class PCA(DaskEstimatorMixin, _local.PCA):
    """mlcore.PCA fitted on a dask cluster (covariance reduced across workers). Same
    parameters, plus ``client``. Components equal the single-machine ones to f32 rounding
    (up to ~1e-5; more where two eigenvalues nearly coincide, as on one machine)."""

    _local_class = _local.PCA
    __init__ = init_with_client(_local.PCA)

    def fit(self, X, y=None):
        """Fit on a dask X (n_samples, n_features)."""
        dtype = float_dtype_of(X)  # the fitted arrays' dtype, as the local PCA's
        X, _ = check_fit_inputs(self, X)
        n, d = X.shape
        if n < 2:
            raise ValueError(f"PCA needs at least 2 samples to estimate a variance, got {n}")
        options = self._core_options(n, d)
        whiten = check_bool("whiten", self.whiten)
        fit = self._fit_context([X], _rows)
        n_w, mean, M = combine_moments(fit.round("mean and centred XᵀX", _moments_task))
        if not np.all(np.isfinite(M)):
            raise ValueError("X contains NaN or infinity")
        model = self._model_bytes(options, whiten, int(round(n_w)), mean, M)
        self._finish_fit(fit, model)
        self._set_attributes(dtype)
        return self

    @staticmethod
    def _model_bytes(options, whiten, n, mean, M):
        # What PCA::fit_impl (src/algorithms/decomposition/pca.cpp) does with the covariance.
        d = M.shape[0]
        r = min(n, d)
        values, vectors = _core.symmetric_eigen_descending(M / (n - 1))
        ev = np.maximum(values, 0.0)
        total = ev.sum()
        ratio = ev / total if total > 0 else np.zeros(d)
        n_components = options["n_components"]  # None: all (or by variance_fraction)
        if n_components is None:
            n_components = _core.PCA.all_components
        k = _core.pca_components_to_keep(ev, n, n_components, options["variance_fraction"])
        components = vectors[:, :k].T.copy()
        big = np.argmax(np.abs(components), axis=1)
        components *= np.where(components[np.arange(k), big] < 0, -1.0, 1.0)[:, None]
        noise = float(ev[k:r].mean()) if k < r else 0.0
        w = write.ModelWriter("PCA", 1)
        w.write_i64(n_components)
        w.write_f64(options["variance_fraction"])
        w.write_u8(1 if whiten else 0)
        w.write_u8(1)
        w.write_tensor(write.f32(components))
        w.write_tensor(write.f32_row(ev[:k]))
        w.write_tensor(write.f32_row(ratio[:k]))
        w.write_tensor(write.f32_row(np.sqrt(ev[:k] * (n - 1))))
        w.write_tensor(write.f32_row(mean))
        w.write_i64(n)
        w.write_f64(noise)
        write.write_input_transform(w, write.input_transform(mean, np.diag(M) / n, True))
        return w.finish()

    def fit_transform(self, X, y=None):
        """fit(X), then transform(X) (lazy on a dask X)."""
        return self.fit(X).transform(X)

    def transform(self, X):
        """(X − mean_)·components_ᵀ; a dask X gives a lazy dask array."""
        return self._map_rows("transform", X, self.n_components_)
