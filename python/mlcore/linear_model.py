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
* **LogisticRegression** minimises scikit-learn's objective (``C·Σ loss + r(w)``, r the L2, L1
  or elastic-net penalty, intercept not penalised except for liblinear; binary or multinomial)
  with an L-BFGS written for mlcore, or its orthant-wise variant OWL-QN when the penalty has an
  L1 part: the optimiser runs on the host, every loss and gradient evaluation on the backend
  (``X·W`` and ``Xᵀ(P − Y)`` as GEMMs, ``softmax_rows`` / ``sigmoid`` / ``log1pexp`` maps,
  reductions). ``tol`` is scikit-learn's lbfgs one: stop when the largest (pseudo-)gradient
  entry of the mean loss is at most ``tol``. scikit-learn's solver names are accepted with
  its rules; the penalty chooses the optimiser.

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
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted, validate_data

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

# scikit-learn's solver names, and the optimiser mlcore runs for each. Every name solves the same
# problem as scikit-learn's solver of that name (same objective, same minimiser); mlcore solves it
# with L-BFGS when the penalty is smooth (L2 or none) and with OWL-QN when it has an L1 part.
# "liblinear" is the one whose problem differs: its intercept is a penalised weight
# (intercept_scaling), and mlcore penalises it the same way.
_LOGISTIC_SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")

# The ConvergenceWarning of each scikit-learn solver name (scikit-learn's opening words, then
# what mlcore's optimiser reported).
_NOT_CONVERGED = {
    "lbfgs": "lbfgs failed to converge after {n} iteration(s): {why}. Increase max_iter or "
    "scale the data (e.g. with sklearn.preprocessing.StandardScaler).",
    "newton-cg": "newton-cg failed to converge (mlcore ran {opt}: {why}). Increase the number "
    "of iterations.",
    "newton-cholesky": "Newton solver did not converge after {n} iterations (mlcore ran {opt}: "
    "{why}).",
    "sag": "The max_iter was reached which means the coef_ did not converge (mlcore ran {opt}: "
    "{why})",
    "saga": "The max_iter was reached which means the coef_ did not converge (mlcore ran {opt}: "
    "{why})",
    "liblinear": "Liblinear failed to converge, increase the number of iterations. (mlcore ran "
    "{opt}: {why})",
}


class LogisticRegression(ClassifierMixin, MLCoreEstimatorMixin, BaseEstimator):
    """Logistic regression (binary or multinomial) with an L2, L1 or elastic-net penalty, on an
    mlcore backend.

    The objective is scikit-learn's: ``C·Σᵢ sᵢ·loss(yᵢ, xᵢ·W + b) + r(W)`` with
    ``r(W) = l1_ratio·‖W‖₁ + (1 − l1_ratio)·½‖W‖²`` (sᵢ: sample weight times class weight; the
    intercept is not penalised except with ``solver="liblinear"``), with the binomial loss for
    two classes (``coef_`` of shape (1, n_features)) and the multinomial (softmax) loss otherwise
    (``coef_`` of shape (n_classes, n_features)).

    mlcore minimises it with L-BFGS when the penalty is L2 or none, and with OWL-QN (L-BFGS with
    orthant-wise steps, ``src/algorithms/common/owlqn.hpp``) when it has an L1 part: weights the
    L1 term pins at 0 are exactly 0, as with scikit-learn's saga and liblinear. Every loss and
    gradient evaluation runs on the backend (two GEMMs with X). ``solver_`` says which ran.

    Parameters
    ----------
    penalty : {"deprecated", "l1", "l2", "elasticnet", None}, default="deprecated"
        As scikit-learn ≥ 1.8: leave it and use ``l1_ratio`` and ``C``.
    C : float, default=1.0
        Inverse penalty strength, > 0; ``np.inf`` for no penalty.
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing: 0 is the L2 penalty, 1 the L1 penalty.
    dual : bool, default=False
        ``True`` only with ``solver="liblinear"`` and the L2 penalty, as scikit-learn; the dual
        problem has the same solution, which mlcore computes in the primal.
    tol : float, default=1e-4
        Stop when max |gradient of the mean loss| <= tol (for an L1 part: of its
        pseudo-gradient).
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        With ``solver="liblinear"``: the value of the constant feature whose (penalised) weight
        is the intercept. Unused by the other solvers, as in scikit-learn.
    class_weight : None, "balanced" or dict, default=None
        Per-class weights multiplying each sample's loss (scikit-learn's semantics).
    random_state : None, int or RandomState
        Unused (the solvers are deterministic), accepted for compatibility.
    solver : {"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"}, default="lbfgs"
        scikit-learn's names, with its rules for which penalties each accepts: "lbfgs",
        "newton-cg", "newton-cholesky" and "sag" take L2 or none (mlcore runs L-BFGS), "saga"
        also L1 and elastic-net (OWL-QN for those), "liblinear" L1 or L2 on two classes with a
        penalised intercept. They differ in mlcore only in the penalty they allow and, for
        liblinear, the intercept: the optimiser is chosen by the penalty.
    max_iter : int, default=100
        Optimiser iterations.
    verbose, n_jobs :
        Accepted for compatibility; unused (``n_jobs`` warns, as in scikit-learn ≥ 1.8).
    warm_start : bool, default=False
        Start the next fit from the current ``coef_`` / ``intercept_`` (not with liblinear,
        as in scikit-learn).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
        Optimiser iterations run.
    solver_ : {"lbfgs", "owlqn"}
        The optimiser mlcore ran.
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
        l1_ratio=_LOGISTIC_REGRESSION_DEFAULTS["l1_ratio"],
        dual=False,
        tol=_LOGISTIC_REGRESSION_DEFAULTS["tol"],
        fit_intercept=_LOGISTIC_REGRESSION_DEFAULTS["fit_intercept"],
        intercept_scaling=_LOGISTIC_REGRESSION_DEFAULTS["intercept_scaling"],
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

    def _problem(self):
        """(C, l1_ratio) of the problem to solve, with scikit-learn 1.9's rules, errors and
        warnings for penalty / l1_ratio / C / solver / dual."""
        if self.penalty not in ("deprecated", "l1", "l2", "elasticnet", None):
            raise ValueError(
                "penalty must be 'deprecated', 'l1', 'l2', 'elasticnet' or None, got "
                f"{self.penalty!r}"
            )
        if not isinstance(self.solver, str) or self.solver not in _LOGISTIC_SOLVERS:
            raise ValueError(
                f"solver must be one of {list(_LOGISTIC_SOLVERS)}, got {self.solver!r}"
            )
        l1_ratio = self.l1_ratio
        if l1_ratio is not None:
            l1_ratio = check_real("l1_ratio", l1_ratio, 0.0, 1.0)
        C = check_real("C", self.C, 0.0, low_open=True, allow_inf=True)
        dual = check_bool("dual", self.dual)
        if self.penalty == "deprecated":
            if l1_ratio is None or l1_ratio == 0:
                penalty = "l2"
                if l1_ratio is None:
                    warnings.warn(
                        "'l1_ratio=None' was deprecated in version 1.8 and will trigger an "
                        "error in 1.10. Use 0<=l1_ratio<=1 instead.",
                        FutureWarning,
                        stacklevel=3,
                    )
            elif l1_ratio == 1:
                penalty = "l1"
            else:
                penalty = "elasticnet"
            if C == np.inf:
                penalty = None
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid "
                "this warning, leave 'penalty' set to its default value and use 'l1_ratio' or "
                "'C' instead. Use l1_ratio=0 instead of penalty='l2', l1_ratio=1 instead of "
                "penalty='l1', l1_ratio set to a float between 0 and 1 instead of "
                "penalty='elasticnet', and C=np.inf instead of penalty=None.",
                FutureWarning,
                stacklevel=3,
            )
        solver = self.solver
        if solver not in ("liblinear", "saga") and penalty not in ("l2", None):
            raise ValueError(
                f"Solver {solver} supports only 'l2' or None penalties, got {penalty} penalty."
            )
        if solver != "liblinear" and dual:
            raise ValueError(f"Solver {solver} supports only dual=False, got dual={dual}")
        if penalty == "elasticnet" and solver != "saga":
            raise ValueError(
                f"Only 'saga' solver supports elasticnet penalty, got solver={solver}."
            )
        if solver == "liblinear" and penalty is None:
            raise ValueError(
                "C=np.inf as well as penalty=None is not supported for the liblinear solver"
            )
        if solver == "liblinear" and penalty == "l1" and dual:
            # liblinear has no dual formulation of the L1-penalised logistic loss.
            raise ValueError(
                "Unsupported set of arguments: The combination of penalty='l1' and "
                "loss='logistic_regression' are not supported when dual=True, Parameters: "
                "penalty='l1', loss='logistic_regression', dual=True"
            )
        if penalty != "elasticnet" and l1_ratio is not None and 0 < l1_ratio < 1:
            warnings.warn(
                f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={penalty})",
                stacklevel=3,
            )
        if (self.penalty == "l2" and l1_ratio != 0) or (self.penalty == "l1" and l1_ratio != 1):
            warnings.warn(
                f"Inconsistent values: penalty={self.penalty} with l1_ratio={self.l1_ratio}. "
                "penalty is deprecated. Please use l1_ratio only.",
                stacklevel=3,
            )
        if penalty == "elasticnet" and l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if self.n_jobs is not None:
            warnings.warn(
                "'n_jobs' has no effect since 1.8 and will be removed in 1.10. You provided "
                f"'n_jobs={self.n_jobs}', please leave it unspecified.",
                FutureWarning,
                stacklevel=3,
            )
        if self.penalty is None:
            if C != 1.0:
                warnings.warn(
                    "Setting penalty=None will ignore the C and l1_ratio parameters", stacklevel=3
                )
            return np.inf, 0.0
        # The penalty the (possibly deprecated) spelling asked for, as an l1_ratio.
        return C, {"l1": 1.0, "elasticnet": l1_ratio, "l2": 0.0, None: 0.0}[penalty]

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and class labels y (n_samples,)."""
        C, l1_ratio = self._problem()
        tol = check_real("tol", self.tol, 0.0)
        max_iter = check_int("max_iter", self.max_iter, 0)
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        warm_start = check_bool("warm_start", self.warm_start)
        liblinear = self.solver == "liblinear"
        intercept_scaling = 1.0
        if liblinear:
            intercept_scaling = check_real(
                "intercept_scaling", self.intercept_scaling, 0.0, low_open=True
            )
        dtype = float_dtype_of(X)  # coef_'s dtype: float32 for float32 X, as scikit-learn's
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE[0],
            dtype=np.float32,
            order="C",
            ensure_all_finite=False,
            # scikit-learn's liblinear, sag and saga refuse int64 sparse indices; so do these
            # names here, with its error.
            accept_large_sparse=self.solver not in ("liblinear", "sag", "saga"),
        )
        classes, codes = encode_classes(y)
        if liblinear:
            if len(classes) > 2:
                raise ValueError(
                    "The 'liblinear' solver does not support multiclass classification "
                    "(n_classes >= 3). Either use another solver or wrap the estimator in a "
                    "OneVsRestClassifier to keep applying a one-versus-rest scheme."
                )
            if X.shape[0] and X.max() > 1e30:
                raise ValueError(
                    "Using the 'liblinear' solver while X contains a maximum value > 1e30 "
                    "results in a frozen fit. Please choose another solver or rescale the "
                    "input X."
                )
        assert_all_finite(
            X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X, input_name="X"
        )
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
        start = self._warm_start_arrays(X.shape[1], len(classes)) if warm_start else None
        if liblinear:
            start = None  # scikit-learn's liblinear starts from 0 whatever warm_start says
        self.classes_ = classes
        model = _core.LogisticRegression(
            C=C,
            tol=tol,
            max_iter=max_iter,
            fit_intercept=fit_intercept,
            class_weight=weights,
            l1_ratio=l1_ratio if np.isfinite(C) else 0.0,
            penalize_intercept=liblinear,
            intercept_scaling=intercept_scaling,
            backend=self._core_backend(),
        )
        if start is not None:
            model.set_start(*start)
        model.fit(as_core_X(X), codes, sample_weight=sw)
        self._model = model
        self.solver_ = "owlqn" if l1_ratio > 0 and np.isfinite(C) else "lbfgs"
        self.coef_ = model.coef.astype(dtype)
        self.intercept_ = model.intercept.astype(dtype).reshape(-1)
        if len(classes) > 2 and self.solver_ == "lbfgs":
            # The C++ fit removed the class mean (Σ_k coef_k = 0, the L2 optimum's own
            # constraint) in double before rounding to float32; removing it again in coef_'s
            # dtype makes the sums 0 to that dtype's rounding (scikit-learn's convention,
            # tested to 1e-10 in float64), and the model keeps the same numbers.
            self.coef_ -= self.coef_.mean(axis=0)
            self.intercept_ -= self.intercept_.mean()
            model.set_fitted_array("coef", np.ascontiguousarray(self.coef_, dtype=np.float32))
            model.set_fitted_array(
                "intercept", np.ascontiguousarray(self.intercept_.reshape(1, -1), np.float32)
            )
        self.n_iter_ = np.array([model.n_iter], dtype=np.int32)
        if not model.converged:
            warnings.warn(
                _NOT_CONVERGED[self.solver].format(
                    n=model.n_iter,
                    why=model.solver_message,
                    opt="OWL-QN" if self.solver_ == "owlqn" else "L-BFGS",
                ),
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _warm_start_arrays(self, n_features, n_classes):
        """The current coef_ and intercept_ as the C++ model's start (float32, K' × d and
        1 × K'), or None before the first fit; scikit-learn's error when their shape does not
        fit the new data."""
        coef = getattr(self, "coef_", None)
        if coef is None:
            return None
        coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=np.float32)
        rows = 1 if n_classes == 2 else n_classes
        if coef.shape != (rows, n_features):
            raise ValueError(
                f"Initialization coef is of shape {coef.shape}, expected shape {(rows, n_features)}"
            )
        intercept = np.zeros((1, rows), dtype=np.float32)
        if check_bool("fit_intercept", self.fit_intercept):
            intercept[0] = np.asarray(self.intercept_, dtype=np.float32).reshape(-1)
        return np.ascontiguousarray(coef), intercept

    def sparsify(self):
        """Store coef_ as a scipy.sparse CSR matrix (useful after an L1 fit); predictions are
        unchanged. Returns self."""
        from scipy import sparse

        check_is_fitted(self)
        self.coef_ = sparse.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store coef_ as a numpy array again (the inverse of sparsify). Returns self."""
        check_is_fitted(self)
        if hasattr(self.coef_, "toarray"):
            self.coef_ = self.coef_.toarray()
        return self

    def _predict_proba_lr(self, X):
        """One-vs-rest probabilities: each class's sigmoid(score), normalised per row (for two
        classes [1 − σ(z), σ(z)]), as scikit-learn's linear classifiers compute them."""
        scores = self.decision_function(X)
        p = 1.0 / (1.0 + np.exp(-scores))
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)

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
