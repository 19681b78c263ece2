"""Matrix decomposition: :class:`PCA`.

A scikit-learn-style PCA whose work is done in C++ (``mlcore._core``): the backend computes the
column means and the covariance ``XcᵀXc / (n − 1)`` with one GEMM; the host diagonalises that
d × d matrix (Eigen's symmetric eigensolver, in double). This is scikit-learn's
``svd_solver="covariance_eigh"`` — its own choice for n_samples ≫ n_features — whatever
``svd_solver`` says. Components follow scikit-learn's sign convention (the entry of largest
absolute value of each component is positive), so ``components_`` compare equal to
scikit-learn's up to rounding. ``transform`` and ``inverse_transform`` are one GEMM each.

>>> from sklearn.datasets import load_iris
>>> from mlcore import PCA
>>> X, _ = load_iris(return_X_y=True)
>>> PCA(n_components=2).fit(X).explained_variance_ratio_.round(3)
array([0.925, 0.053])
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._sparse import ACCEPT_SPARSE, as_core_X
from ._estimator import MLCoreEstimatorMixin
from ._validation import check_bool, float_dtype_of, result_dtype

__all__ = ["PCA"]

_SOLVERS = ("auto", "full", "covariance_eigh", "arpack", "randomized")


_PCA_DEFAULTS = _core.PCA.defaults


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, MLCoreEstimatorMixin, BaseEstimator):
    """Principal component analysis through the covariance matrix, on an mlcore backend.

    Parameters
    ----------
    n_components : int, float, "mle" or None, default=None
        int k >= 1: keep k components; float in (0, 1): keep the fewest components whose
        explained variance ratios sum to more than it; "mle": as many as Minka's maximum-
        likelihood estimate of the data's dimension picks (needs n_samples >= n_features; not
        with svd_solver "arpack" or "randomized", as in scikit-learn); None: keep
        min(n_samples, n_features).
    copy : bool, default=True
        Accepted for compatibility (X is never modified).
    whiten : bool, default=False
        Scale the projections to unit variance.
    svd_solver : {"auto", "full", "covariance_eigh", "arpack", "randomized"}, default="auto"
        Accepted for compatibility; mlcore always uses the covariance eigen-decomposition.
    tol, iterated_power, n_oversamples, power_iteration_normalizer, random_state :
        Accepted for compatibility; unused (the method is exact and deterministic).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, n_features)
    explained_variance_, explained_variance_ratio_, singular_values_ :
        ndarray of shape (n_components_,)
    mean_ : ndarray of shape (n_features,)
    n_components_ : int
    n_samples_ : int
    noise_variance_ : float
    n_features_in_ : int
    profile_ : mlcore.Profile
    """

    _core_class = _core.PCA
    _accept_sparse = True  # covariance from the raw Gram by spmm (covariance_eigh on sparse X)
    _dtype_follows_X = (
        "components_",
        "mean_",
        "explained_variance_",
        "explained_variance_ratio_",
        "singular_values_",
        "noise_variance_",
    )

    def __init__(
        self,
        n_components=_PCA_DEFAULTS["n_components"],
        *,
        copy=True,
        whiten=_PCA_DEFAULTS["whiten"],
        svd_solver="auto",
        tol=0.0,
        iterated_power="auto",
        n_oversamples=10,
        power_iteration_normalizer="auto",
        random_state=None,
        backend=None,
    ):
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state
        self.backend = backend

    def _core_options(self, n_samples, n_features):
        if self.svd_solver not in _SOLVERS:
            raise ValueError(
                f"svd_solver must be one of {', '.join(map(repr, _SOLVERS))}; got "
                f"{self.svd_solver!r}"
            )
        nc = self.n_components
        limit = min(n_samples, n_features)
        if nc is None:
            return {"n_components": None, "variance_fraction": 0.0}
        if isinstance(nc, str):
            if nc != "mle":
                raise ValueError(
                    f"n_components={nc!r} is not supported; give an int, a float in (0, 1), "
                    "'mle' or None"
                )
            # Minka's choice needs the whole spectrum (scikit-learn: the full solvers only)
            # and at least as many samples as features; scikit-learn's words for both.
            if self.svd_solver in ("arpack", "randomized"):
                raise ValueError(
                    f"n_components={nc!r} cannot be a string with svd_solver='{self.svd_solver}'"
                )
            if n_samples < n_features:
                raise ValueError("n_components='mle' is only supported if n_samples >= n_features")
            return {"n_components": _core.PCA.mle_components, "variance_fraction": 0.0}
        if isinstance(nc, (bool, np.bool_)) or not isinstance(nc, numbers.Real):
            raise TypeError(f"n_components must be an int, a float in (0, 1) or None, got {nc!r}")
        if isinstance(nc, numbers.Integral):
            if not 1 <= nc <= limit:
                raise ValueError(
                    f"n_components={nc} must be between 1 and min(n_samples, n_features)={limit}"
                )
            return {"n_components": int(nc), "variance_fraction": 0.0}
        if not 0.0 < nc < 1.0:
            raise ValueError(
                f"n_components={nc} must be an int >= 1 or a float strictly between 0 and 1"
            )
        return {"n_components": None, "variance_fraction": float(nc)}

    def _fit_model(self, X):
        # Sparse X: scikit-learn's rule, only with the solvers that need no centred copy of X.
        # mlcore's covariance_eigh (the only solver it implements) is one of them; "auto" and
        # "arpack" on sparse X keep at most min(n_samples, n_features) − 1 components (arpack's
        # limit) when n_components is None, as scikit-learn's.
        if sp.issparse(X) and self.svd_solver not in ("auto", "arpack", "covariance_eigh"):
            raise TypeError(
                'PCA only support sparse inputs with the "arpack" and'
                f' "covariance_eigh" solvers, while "{self.svd_solver}" was passed. See'
                " TruncatedSVD for a possible alternative."
            )
        X = validate_data(
            self,
            X,
            accept_sparse=ACCEPT_SPARSE[0],
            dtype=np.float32,
            order="C",
            ensure_min_samples=2,
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        options = self._core_options(*X.shape)
        if sp.issparse(X) and self.svd_solver in ("auto", "arpack") and self.n_components is None:
            options["n_components"] = min(X.shape) - 1
        self._model = _core.PCA(
            **options, whiten=check_bool("whiten", self.whiten), backend=self._core_backend()
        )
        return X

    def _set_attributes(self, dt):
        """The fitted arrays, in dtype ``dt``: float32 for float32 X, as scikit-learn's."""
        m = self._model
        self.components_ = m.components.astype(dt)
        self.explained_variance_ = m.explained_variance.astype(dt).reshape(-1)
        self.explained_variance_ratio_ = m.explained_variance_ratio.astype(dt).reshape(-1)
        self.singular_values_ = m.singular_values.astype(dt).reshape(-1)
        self.mean_ = m.mean.astype(dt).reshape(-1)
        self.n_components_ = int(m.n_components)
        self.n_samples_ = int(m.n_samples)
        self.noise_variance_ = float(m.noise_variance)

    def fit(self, X, y=None):
        """Fit the model on X (n_samples, n_features)."""
        dtype = float_dtype_of(X)
        X = self._fit_model(X)
        self._model.fit(as_core_X(X))
        self._set_attributes(dtype)
        return self

    def fit_transform(self, X, y=None):
        """Fit on X and return its projection (n_samples, n_components_)."""
        dtype = float_dtype_of(X)
        X = self._fit_model(X)
        out = self._model.fit_transform(as_core_X(X))
        self._set_attributes(dtype)
        return out.astype(self.components_.dtype, copy=False)

    def transform(self, X):
        """Project X onto the components: (X − mean_)·components_ᵀ (whitened if asked)."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, self.components_)
        out = self._model_for_call().transform(as_core_X(Xq))
        return out.astype(dtype, copy=False)

    def inverse_transform(self, X):
        """Map projections (n_samples, n_components_) back to feature space."""
        check_is_fitted(self, "_model")
        Z = np.asarray(X)
        dtype = result_dtype(Z, self.components_)
        if Z.ndim != 2 or Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_components_}) (one column "
                f"per component), got {Z.shape}"
            )
        if Z.shape[0] == 0:
            raise ValueError("X is empty (0 samples)")
        Z = np.ascontiguousarray(Z, dtype=np.float32)
        if not np.isfinite(Z).all():
            raise ValueError("X contains NaN or infinity")
        out = self._model_for_call().inverse_transform(Z)
        return out.astype(dtype, copy=False)

    def get_covariance(self):
        """The model's covariance (scikit-learn's formula):
        components_ᵀ·diag(explained_variance_ − noise_variance_)·components_ + noise_variance_·I."""
        check_is_fitted(self, "_model")
        comp = self.components_
        ev = self.explained_variance_
        if self.whiten:
            comp = comp * np.sqrt(ev)[:, None]
        diff = np.where(ev > self.noise_variance_, ev - self.noise_variance_, 0.0)
        cov = (comp.T * diff) @ comp
        cov.flat[:: cov.shape[0] + 1] += self.noise_variance_
        return cov

    def get_precision(self):
        """The inverse of get_covariance(). Raises ValueError when the covariance is singular
        (training data confined to a subspace, with no noise variance left to fill the rest)."""
        cov = self.get_covariance()
        try:
            return np.linalg.inv(cov)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"PCA: the model's covariance ({cov.shape[0]} x {cov.shape[0]}) is singular, so it "
                "has no precision matrix and the log-likelihood (score, score_samples) is not "
                "defined: the training data lie in a subspace of fewer than n_features dimensions "
                f"and noise_variance_ is {self.noise_variance_:g}. Remove the linearly dependent "
                "features, or fit with n_components below the data's rank so that the discarded "
                "directions give a positive noise_variance_."
            ) from None

    def score_samples(self, X):
        """Log-likelihood of each sample under the model's Gaussian (scikit-learn's formula):
        −½·((x − mean_)ᵀ·P·(x − mean_) + n_features·log 2π − log det P), P = get_precision().

        Computed on the host in float64 (NumPy): the d × d precision is host work by the
        library's rule, and this keeps scores comparable with scikit-learn's; returned in
        scikit-learn's dtype (float32 when X and the fit's X are)."""
        check_is_fitted(self, "_model")
        dtype = result_dtype(X, self.mean_)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xc = X - self.mean_
        precision = self.get_precision()
        _, logdet = np.linalg.slogdet(precision)
        log_like = -0.5 * np.einsum("ij,ij->i", Xc, Xc @ precision)
        return (log_like - 0.5 * (X.shape[1] * np.log(2.0 * np.pi) - logdet)).astype(dtype)

    def score(self, X, y=None):
        """Mean log-likelihood of the samples (what cross_val_score / GridSearchCV maximise
        when PCA is the last step and no scoring is given)."""
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.n_components_
