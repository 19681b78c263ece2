"""Linear models: :class:`LinearRegression`, :class:`Ridge`, :class:`LogisticRegression`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``) against the backend
primitives:

* **LinearRegression / Ridge** solve the normal equations. The backend forms the Gram matrix
  ``XcᵀXc`` and ``Xcᵀy`` with one GEMM each (``Xc``: X centred, and scaled per column unless
  the features are already alike); the host solves the small d × d system in double with a
  Cholesky factorisation, falling back to a symmetric eigen-decomposition (the minimum-norm
  solution, as scikit-learn's ``lstsq``) when the features are collinear. This is
  scikit-learn's ``Ridge(solver="cholesky")`` and a normal-equations version of
  ``LinearRegression`` (which uses an SVD-based ``lstsq``): the same solution, at one pass of
  MACs over X. Ridge also has scikit-learn's other solvers: ``"svd"`` (the eigen-decomposition
  of the same Gram matrix) and the matrix-free iterative ``"sparse_cg"`` (conjugate gradients)
  and ``"lsqr"`` (Paige & Saunders' LSQR), whose every iteration is one product with X and one
  with Xᵀ on the backend; ``"sag"`` / ``"saga"`` run LSQR (see :class:`Ridge`).
  ``positive=True`` (both estimators) solves the same Gram system by projected coordinate
  descent on the host.
* **LogisticRegression** minimises scikit-learn's objective (``C·Σ loss + ½‖w‖²``, intercept not
  penalised, binary or multinomial) with an L-BFGS written for mlcore: the optimiser runs on the
  host, every loss and gradient evaluation on the backend (``X·W`` and ``Xᵀ(P − Y)`` as GEMMs,
  ``softmax_rows`` / ``sigmoid`` / ``log1pexp`` maps, reductions). ``tol`` is scikit-learn's:
  stop when the largest gradient entry of the mean loss is at most ``tol``.

Precision: the backend computes in f32 (int8 MACs on ``"systolic"``). Least squares squares the
condition number of X; see ``include/mlcore/algorithms/linear/linear_regression.hpp`` for what that
costs and why X is centred (and scaled) before its Gram matrix is formed.

>>> from sklearn.datasets import load_diabetes
>>> from mlcore import LinearRegression
>>> X, y = load_diabetes(return_X_y=True)
>>> round(LinearRegression().fit(X, y).score(X, y), 3)
0.518
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data

from . import _core
from ._sparse import ACCEPT_SPARSE, as_core_X
from ._estimator import MLCoreEstimatorMixin
from ._validation import (
    check_bool,
    check_int,
    check_real,
    class_weights,
    encode_classes,
    float32_sample_weight,
    float_dtype_of,
    result_dtype,
)

__all__ = ["LinearRegression", "LogisticRegression", "Ridge"]


# ---- least squares ----------------------------------------------------------------------------


class _LeastSquares(MultiOutputMixin, RegressorMixin, MLCoreEstimatorMixin, BaseEstimator):
    """fit / predict shared by LinearRegression and Ridge (the C++ normal-equations solver).

    MultiOutputMixin: y may be (n_samples, n_targets), so a column y is not converted (and not
    warned about) but fitted as one target, as scikit-learn's linear models do."""

    _dtype_follows_X = ("coef_", "intercept_")
    # XᵀWX and XᵀWY by the transposed spmm, centred on the host (linear_regression.cpp).
    _accept_sparse = True

    def _make_model(self):
        raise NotImplementedError

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets).
        X may be a scipy.sparse matrix (CSR, CSC or COO; converted once to CSR)."""
        dtype = float_dtype_of(X)  # coef_'s dtype: float32 for float32 X, as scikit-learn's
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE[0],
            dtype=np.float32,
            order="C",
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        y = np.ascontiguousarray(y, dtype=np.float32)
        sw = float32_sample_weight(sample_weight, X)
        self._model = self._make_model()
        self._model.fit(as_core_X(X), y, sample_weight=sw)
        coef = self._model.coef.astype(dtype)  # (n_targets, n_features)
        intercept = self._model.intercept.astype(dtype).reshape(-1)
        if y.ndim == 1:
            self.coef_ = coef.reshape(-1)
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

    def predict(self, X):
        """Predictions X·coef_ᵀ + intercept_: (n_samples,) or (n_samples, n_targets)."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, np.asarray(self.coef_))
        out = self._model_for_call().predict(as_core_X(Xq))
        out = out.astype(dtype, copy=False)
        return out.reshape(-1) if np.ndim(self.coef_) == 1 else out


_LINEAR_REGRESSION_DEFAULTS = _core.LinearRegression.defaults


class LinearRegression(_LeastSquares):
    """Ordinary least squares, fitted through the normal equations on an mlcore backend.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an intercept (X and y are then centred).
    copy_X, tol, n_jobs :
        Accepted for scikit-learn compatibility; they do not change anything (X is never
        modified; the solver is direct; threads belong to the backend).
    positive : bool, default=False
        True: coefficients >= 0 (scikit-learn uses scipy's nnls), by projected coordinate
        descent on the same Gram matrix (see :class:`Ridge`'s solver "lbfgs").
    backend : str, mlcore.Backend or None, default=None
        Where the work runs: "scalar", "avx2", "avx512", "cuda" or "systolic"; None is
        :func:`mlcore.default_backend`, the fastest f32 CPU backend here.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    rank_ : int
        Numerical rank of the centred X as the solver saw it.
    singular_ : ndarray of shape (n_features,)
        Singular values of the centred X.
    n_features_in_ : int
    profile_ : mlcore.Profile
        Hardware records of the last fit / predict.
    """

    _core_class = _core.LinearRegression
    _dtype_follows_X = ("coef_", "intercept_", "singular_")

    def __init__(
        self,
        *,
        fit_intercept=_LINEAR_REGRESSION_DEFAULTS["fit_intercept"],
        copy_X=True,
        tol=1e-6,
        n_jobs=None,
        positive=False,
        backend=None,
    ):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.tol = tol
        self.n_jobs = n_jobs
        self.positive = positive
        self.backend = backend

    def _make_model(self):
        return _core.LinearRegression(
            fit_intercept=check_bool("fit_intercept", self.fit_intercept),
            positive=check_bool("positive", self.positive),
            backend=self._core_backend(),
        )

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.rank_ = int(self._model.rank)
        self.singular_ = self._model.singular.astype(np.float64).reshape(-1)
        return self


_RIDGE_DEFAULTS = _core.Ridge.defaults


# scikit-learn's solver names → the solver mlcore runs (see Ridge's docstring).
_RIDGE_SOLVERS = {
    "auto": "cholesky",
    "cholesky": "cholesky",
    "svd": "svd",
    "sparse_cg": "sparse_cg",
    "lsqr": "lsqr",
    "sag": "lsqr",
    "saga": "lsqr",
    "lbfgs": "projected_cd",  # positive=True only
}
# Solvers whose n_iter_ scikit-learn reports (it returns None for sparse_cg's).
_RIDGE_REPORTS_N_ITER = ("lsqr", "sag", "saga")


class Ridge(_LeastSquares):
    """Least squares with an L2 penalty ``alpha·‖w‖²``: direct or iterative solvers on an
    mlcore backend.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, >= 0 (one value for every target).
    fit_intercept : bool, default=True
    solver : {"auto", "cholesky", "svd", "sparse_cg", "lsqr", "sag", "saga"}, default="auto"
        How the centred (and weighted) problem is solved:

        - "cholesky" ("auto"): the Gram matrix ``XcᵀXc`` by one GEMM on the backend, then a
          Cholesky solve of the d × d system on the host (eigen-decomposition fallback when
          it is singular).
        - "svd": the same Gram matrix, then its eigen-decomposition ``V·diag(s²)·Vᵀ`` gives
          scikit-learn's SVD solution ``V·diag(s/(s²+α))·Uᵀy``, dropping the singular
          directions that are rounding noise (rank-deficient X). Forming ``XcᵀXc`` squares the
          condition number: singular values below ~1e-3 of the largest are lost in f32 (an
          SVD of X itself would keep them, at O(n·d²) host work).
        - "sparse_cg": conjugate gradients on ``(XcᵀXc + αI)·w = Xcᵀy``, matrix-free: each
          iteration is one product with X and one with Xᵀ on the backend (GEMV, or SpMM for
          sparse X, centred implicitly).
        - "lsqr": Paige & Saunders' LSQR on ``min ‖Xc·w − y‖² + α‖w‖²`` (damp = √α),
          matrix-free likewise.
        - "sag", "saga": mlcore does not implement stochastic average gradient: it updates
          the weights after every single sample, a sequential loop that cannot be expressed
          as the backend's batched products. mlcore solves the same problem (the same
          minimiser) with "lsqr" instead, with the same ``tol`` and ``max_iter`` taken as
          LSQR's; ``solver_`` then says "lsqr".

        - "lbfgs" (scikit-learn's solver for ``positive=True``, the only one it allows then,
          with "auto"): mlcore runs projected coordinate descent on the same Gram matrix
          instead of L-BFGS-B (O(d²) host work per sweep, no pass over X), to the same ``tol``
          meaning (the largest projected gradient of ``½‖Xc·w − y‖² + ½α‖w‖²``) and
          ``max_iter`` sweeps (None: 15000, scikit-learn's default); ``solver_`` then says
          "projected_cd" and a ConvergenceWarning says when max_iter stopped it.
    tol : float, default=1e-4
        Iterative solvers only, per target. "sparse_cg": stop when the residual
        ``‖Xcᵀy − (XcᵀXc + αI)w‖ ≤ tol·‖Xcᵀy‖``; "lsqr" (and "sag"/"saga"): LSQR's
        ``atol = btol = tol`` (scipy's meaning).
    max_iter : int or None, default=None
        Iterative solvers only: the most iterations per target; None is scipy's default
        (10·n_features for "sparse_cg", 2·n_features for "lsqr").
    copy_X, random_state :
        Accepted for scikit-learn compatibility; unused (X is never modified; no solver is
        random).
    positive : bool, default=False
        True: coefficients >= 0, with solver "auto" or "lbfgs" (as scikit-learn).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    coef_, intercept_, n_features_in_, profile_ : as :class:`LinearRegression`.
    n_iter_ : None or ndarray of shape (n_targets,)
        Iterations run per target by "lsqr" (and "sag"/"saga"); None for the other solvers,
        as scikit-learn reports it.
    solver_ : str
        The solver that ran: "cholesky", "svd", "sparse_cg", "lsqr" or "projected_cd".
    """

    _core_class = _core.Ridge

    def __init__(
        self,
        alpha=_RIDGE_DEFAULTS["alpha"],
        *,
        fit_intercept=_RIDGE_DEFAULTS["fit_intercept"],
        copy_X=True,
        max_iter=_RIDGE_DEFAULTS["max_iter"],
        tol=_RIDGE_DEFAULTS["tol"],
        solver="auto",
        positive=False,
        random_state=None,
        backend=None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state
        self.backend = backend

    def _make_model(self):
        if np.ndim(self.alpha) != 0:
            raise ValueError(
                "mlcore's Ridge takes one alpha for all targets (a float); got an "
                f"array of shape {np.shape(self.alpha)}"
            )
        alpha = check_real("alpha", self.alpha, 0.0)
        solver = self._solver_to_run()
        return _core.Ridge(
            alpha=alpha,
            fit_intercept=check_bool("fit_intercept", self.fit_intercept),
            solver=solver,
            positive=check_bool("positive", self.positive),
            tol=check_real("tol", self.tol, 0.0),
            max_iter=check_int("max_iter", self.max_iter, 1, allow_none=True),
            backend=self._core_backend(),
        )

    def _solver_to_run(self):
        """The C++ solver for (solver, positive), with scikit-learn's rules and wording."""
        if not isinstance(self.solver, str) or self.solver not in _RIDGE_SOLVERS:
            raise ValueError(f"solver must be one of {sorted(_RIDGE_SOLVERS)}, got {self.solver!r}")
        positive = check_bool("positive", self.positive)
        if positive and self.solver not in ("auto", "lbfgs"):
            raise ValueError(
                f"solver={self.solver!r} does not support positive fitting. Please set the "
                "solver to 'auto' or 'lbfgs', or set `positive=False`"
            )
        if not positive and self.solver == "lbfgs":
            raise ValueError(
                "'lbfgs' solver can be used only when positive=True. Please use another solver."
            )
        return "projected_cd" if positive else _RIDGE_SOLVERS[self.solver]

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.solver_ = self._solver_to_run()
        if not self._model.converged:
            warnings.warn(
                "projected coordinate descent (mlcore's solver for positive=True) did not "
                f"converge to tol={self.tol} in max_iter={self.max_iter} sweeps. Increase "
                "max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.n_iter_ = None
        if self.solver in _RIDGE_REPORTS_N_ITER:
            self.n_iter_ = np.asarray(self._model.n_iter, dtype=np.int32)
        return self


# ---- logistic regression -------------------------------------------------------------------------


_LOGISTIC_REGRESSION_DEFAULTS = _core.LogisticRegression.defaults


class LogisticRegression(ClassifierMixin, MLCoreEstimatorMixin, BaseEstimator):
    """L2-regularised logistic regression (binary or multinomial) by L-BFGS on an mlcore backend.

    The objective is scikit-learn's: ``C·Σᵢ sᵢ·loss(yᵢ, xᵢ·W + b) + ½‖W‖²`` (sᵢ: sample weight
    times class weight; the intercept is not penalised), with the binomial loss for two classes
    (``coef_`` of shape (1, n_features)) and the multinomial (softmax) loss otherwise
    (``coef_`` of shape (n_classes, n_features)).

    Parameters
    ----------
    penalty : {"deprecated", "l2", None}, default="deprecated"
        As scikit-learn ≥ 1.8: leave it; ``None`` means no penalty (same as ``C=np.inf``).
        "l1" and "elasticnet" are not supported.
    C : float, default=1.0
        Inverse penalty strength, > 0; ``np.inf`` for no penalty.
    l1_ratio : float, default=0.0
        Only 0 (pure L2) is supported.
    dual : bool, default=False
        Only False is supported.
    tol : float, default=1e-4
        Stop when max |gradient of the mean loss| <= tol.
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        Unused (a liblinear parameter), accepted for compatibility.
    class_weight : None, "balanced" or dict, default=None
        Per-class weights multiplying each sample's loss (scikit-learn's semantics).
    random_state : None, int or RandomState
        Unused (the solver is deterministic), accepted for compatibility.
    solver : {"lbfgs"}, default="lbfgs"
    max_iter : int, default=100
        L-BFGS iterations.
    verbose, n_jobs :
        Accepted for compatibility; unused.
    warm_start : bool, default=False
        Only False is supported.
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
        L-BFGS iterations run.
    n_features_in_ : int
    profile_ : mlcore.Profile
    """

    _core_class = _core.LogisticRegression
    _accept_sparse = True  # each L-BFGS step: spmm for the scores, transposed spmm for ∇
    _dtype_follows_X = ("coef_", "intercept_")

    def __init__(
        self,
        penalty="deprecated",
        *,
        C=_LOGISTIC_REGRESSION_DEFAULTS["C"],
        l1_ratio=0.0,
        dual=False,
        tol=_LOGISTIC_REGRESSION_DEFAULTS["tol"],
        fit_intercept=_LOGISTIC_REGRESSION_DEFAULTS["fit_intercept"],
        intercept_scaling=1,
        class_weight=None,
        random_state=None,
        solver="lbfgs",
        max_iter=_LOGISTIC_REGRESSION_DEFAULTS["max_iter"],
        verbose=0,
        warm_start=False,
        n_jobs=None,
        backend=None,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.backend = backend

    def _effective_C(self):
        if self.penalty not in ("deprecated", "l2", None):
            raise ValueError(
                "mlcore's LogisticRegression supports the L2 penalty only (penalty "
                f"'l2' or None); got penalty={self.penalty!r}"
            )
        if self.l1_ratio not in (None, 0, 0.0):
            raise ValueError(
                "mlcore's LogisticRegression supports the L2 penalty only: l1_ratio "
                f"must be 0, got {self.l1_ratio!r}"
            )
        if check_bool("dual", self.dual):
            raise ValueError(
                "dual=True is a liblinear formulation; mlcore solves the primal (dual=False)"
            )
        if self.solver != "lbfgs":
            raise ValueError(
                f"mlcore's LogisticRegression has the 'lbfgs' solver only; got "
                f"solver={self.solver!r}"
            )
        if check_bool("warm_start", self.warm_start):
            raise ValueError("warm_start=True is not supported by mlcore's LogisticRegression")
        C = check_real("C", self.C, 0.0, low_open=True, allow_inf=True)
        # scikit-learn's warnings about the parameter it deprecated (1.8) and what it ignores.
        if self.penalty != "deprecated":
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid "
                "this warning, leave 'penalty' set to its default value and use 'l1_ratio' or "
                "'C' instead. Use l1_ratio=0 instead of penalty='l2', and C=np.inf instead of "
                "penalty=None.",
                FutureWarning,
                stacklevel=3,
            )
        if self.penalty is None and C != 1.0:
            warnings.warn(
                "Setting penalty=None will ignore the C and l1_ratio parameters", stacklevel=3
            )
        return np.inf if self.penalty is None else C

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and class labels y (n_samples,)."""
        C = self._effective_C()
        tol = check_real("tol", self.tol, 0.0)
        max_iter = check_int("max_iter", self.max_iter, 0)
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        dtype = float_dtype_of(X)  # coef_'s dtype: float32 for float32 X, as scikit-learn's
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE[0],
            dtype=np.float32,
            order="C",
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        classes, codes = encode_classes(y)
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}"
            )
        sw = float32_sample_weight(sample_weight, X)
        weights = {}
        if self.class_weight is not None:
            if not (self.class_weight == "balanced" or isinstance(self.class_weight, dict)):
                raise ValueError(
                    f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}"
                )
            cw = class_weights(self.class_weight, classes, y, codes, sw)
            weights = {float(code): float(w) for code, w in enumerate(cw)}
        self.classes_ = classes
        self._model = _core.LogisticRegression(
            C=C,
            tol=tol,
            max_iter=max_iter,
            fit_intercept=fit_intercept,
            class_weight=weights,
            backend=self._core_backend(),
        )
        self._model.fit(as_core_X(X), codes, sample_weight=sw)
        self.coef_ = self._model.coef.astype(dtype)
        self.intercept_ = self._model.intercept.astype(dtype).reshape(-1)
        self.n_iter_ = np.array([self._model.n_iter], dtype=np.int32)
        if not self._model.converged:
            warnings.warn(
                f"lbfgs failed to converge after {self._model.n_iter} iteration(s): "
                f"{self._model.solver_message}. Increase max_iter or scale the data "
                "(e.g. with sklearn.preprocessing.StandardScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def decision_function(self, X):
        """Scores X·coef_ᵀ + intercept_: (n_samples,) for two classes (the score of
        classes_[1]), else (n_samples, n_classes)."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, self.coef_)
        out = self._model_for_call().decision_function(as_core_X(Xq)).astype(dtype, copy=False)
        return out.reshape(-1) if out.shape[1] == 1 else out

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in classes_ order."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, self.coef_)
        out = self._model_for_call().predict_proba(as_core_X(Xq)).astype(dtype, copy=False)
        return out

    def predict_log_proba(self, X):
        """Log of predict_proba, computed stably (log_softmax)."""
        Xq = self._query_X(X)  # raises NotFittedError first
        dtype = result_dtype(X, self.coef_)
        out = self._model_for_call().predict_log_proba(as_core_X(Xq)).astype(dtype, copy=False)
        return out

    def predict(self, X):
        """The most probable class of each sample."""
        X = self._query_X(X)
        codes = self._model_for_call().predict(as_core_X(X)).reshape(-1)
        return self.classes_[codes.astype(np.intp)]
