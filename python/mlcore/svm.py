"""Support vector machines: :class:`LinearSVC` and :class:`SVC`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``):

* :class:`LinearSVC` — hinge or squared-hinge loss with an L2 penalty; one-vs-rest for several
  classes. ``dual=True``: dual coordinate descent (Hsieh et al. 2008, liblinear's method) with
  shrinking — sequential host code, the squared norms on the backend. ``dual=False``
  (squared hinge): a primal Newton method whose gradients and Hessians (XᵀDX) are GEMV/GEMMs
  on the backend. ``dual="auto"`` chooses as scikit-learn does (primal when n_samples ≥
  n_features and the loss allows it). ``decision_function`` is a GEMM.
* :class:`SVC` — kernel SVM ('linear', 'poly', 'rbf', 'sigmoid'; or 'precomputed': X is the
  Gram matrix, n_samples × n_samples at fit and n_queries × n_samples at predict; or a
  callable k(A, B) whose Gram matrix is computed at fit and predict) trained by SMO with libsvm's
  second-order working-set selection and shrinking; kernel rows come from the backend
  (``gemm`` or ``sqdist`` then an element-wise ``map``) and are cached within ``cache_size``
  MB; one-vs-one for several classes, with scikit-learn's layout of ``support_``,
  ``dual_coef_``, ``intercept_``. ``probability=True`` fits libsvm's Platt scaling (each
  pair's sigmoid fitted to the decision values of an internal 5-fold cross-validation, the
  pairs coupled as Wu, Lin & Weng) for ``predict_proba``; ``predict`` stays the vote.

>>> from sklearn.datasets import load_iris
>>> from mlcore import SVC
>>> X, y = load_iris(return_X_y=True)
>>> SVC().fit(X, y).score(X, y) > 0.9
True
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core
from ._estimator import MLCoreEstimatorMixin
from ._validation import check_choice, check_int, check_real, class_weights, seed_of

__all__ = ["LinearSVC", "SVC"]


class _SVMBase(MLCoreEstimatorMixin, ClassifierMixin, BaseEstimator):
    """What both classifiers share: label handling, class weights, decision and predict."""

    # class_weight="balanced" counts classes by their total sample weight (LinearSVC, as
    # scikit-learn's liblinear path) or by their number of rows (SVC, as libsvm's).
    _balance_by_sample_weight = False
    # What a sample weight <= 0 means. LinearSVC (liblinear): an error. SVC (libsvm): the sample
    # takes no part in the fit (C·w <= 0 leaves its dual variable nothing to move in), which
    # _prepare_fit gives by weighting it 0, with libsvm's errors when no sample, or only one
    # class, keeps a positive weight.
    _drops_nonpositive_weights = False

    def _prepare_fit(self, X, y, sample_weight):
        X, y = validate_data(
            self, X, y, dtype=np.float32, order="C", ensure_all_finite=False
        )  # NaN/inf: the C++ fit checks X
        X = np.ascontiguousarray(X, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {len(self.classes_)} class"
            )
        cw = self.class_weight
        if isinstance(cw, str) and cw != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}")
        if sample_weight is not None:
            if self._drops_nonpositive_weights and not np.any(np.asarray(sample_weight) > 0):
                # Before _check_sample_weight, whose all-zero error is not libsvm's.
                raise ValueError("Invalid input - all samples have zero or negative weights.")
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
            if self._drops_nonpositive_weights:
                keep = sample_weight > 0
                if np.unique(codes[keep]).size < 2:
                    raise ValueError(
                        "Invalid input - all samples with positive weights belong to the same "
                        "class."
                    )
                sample_weight = np.where(keep, sample_weight, np.float32(0))
            elif np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative")
            sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float32)
        if self._balance_by_sample_weight:
            self.class_weight_ = class_weights(cw, self.classes_, y, codes, sample_weight)
        else:
            self.class_weight_ = compute_class_weight(cw, classes=self.classes_, y=y)
        return X, np.ascontiguousarray(codes, dtype=np.float32), sample_weight

    def decision_function(self, X):
        """Signed distances to the decision boundaries; (n_samples,) for two classes."""
        X = self._query_X(X)
        dec = self._model_for_call().decision_function(X).astype(np.float64)
        return dec.ravel() if len(self.classes_) == 2 else dec

    def predict(self, X):
        """The predicted class of each row of X."""
        X = self._query_X(X)
        codes = self._model_for_call().predict(X).ravel()
        return self.classes_[codes.astype(np.intp)]


_LINEAR_SVC_DEFAULTS = _core.LinearSVC.defaults


class LinearSVC(_SVMBase):
    """Linear support vector classifier (dual coordinate descent, as liblinear).

    Parameters follow :class:`sklearn.svm.LinearSVC`: ``penalty`` ('l2' only), ``loss``
    ('squared_hinge' or 'hinge'), ``dual`` (True: coordinate descent on the dual; False: primal
    Newton; 'auto': scikit-learn's rule), ``tol``,
    ``C``, ``multi_class`` ('ovr' only), ``fit_intercept``, ``intercept_scaling``,
    ``class_weight``, ``random_state``, ``max_iter``; plus ``shrinking`` (skip variables stuck
    at a bound) and ``backend``.

    Attributes: ``coef_``, ``intercept_``, ``classes_``, ``n_iter_``, ``n_features_in_``,
    ``profile_``.
    """

    _core_class = _core.LinearSVC
    _balance_by_sample_weight = True

    def __init__(
        self,
        penalty="l2",
        loss=_LINEAR_SVC_DEFAULTS["loss"],
        *,
        dual="auto",
        tol=_LINEAR_SVC_DEFAULTS["tol"],
        C=_LINEAR_SVC_DEFAULTS["C"],
        multi_class="ovr",
        fit_intercept=_LINEAR_SVC_DEFAULTS["fit_intercept"],
        intercept_scaling=_LINEAR_SVC_DEFAULTS["intercept_scaling"],
        class_weight=None,
        verbose=0,
        random_state=None,
        max_iter=_LINEAR_SVC_DEFAULTS["max_iter"],
        shrinking=_LINEAR_SVC_DEFAULTS["shrinking"],
        backend=None,
    ):
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.C = C
        self.multi_class = multi_class
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.verbose = verbose
        self.random_state = random_state
        self.max_iter = max_iter
        self.shrinking = shrinking
        self.backend = backend

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and labels y; ``sample_weight`` optional."""
        if self.penalty != "l2":
            raise ValueError(
                f"mlcore's LinearSVC supports penalty='l2' only, got penalty={self.penalty!r}"
            )
        check_choice("loss", self.loss, ("hinge", "squared_hinge"))
        if not (self.dual == "auto" or isinstance(self.dual, (bool, np.bool_))):
            raise ValueError(f"dual must be 'auto', True or False, got {self.dual!r}")
        if self.loss == "hinge" and self.dual is False:
            raise ValueError(
                "Unsupported set of arguments: loss='hinge' is not supported with "
                "dual=False (the hinge loss is solved in the dual only)"
            )
        if self.multi_class != "ovr":
            raise ValueError(
                f"mlcore's LinearSVC supports multi_class='ovr' only, got {self.multi_class!r}"
            )
        C = check_real("C", self.C, 0.0, low_open=True)
        tol = check_real("tol", self.tol, 0.0, low_open=True)
        max_iter = check_int("max_iter", self.max_iter, 1)
        scaling = check_real("intercept_scaling", self.intercept_scaling, 0.0, low_open=True)
        X, codes, sample_weight = self._prepare_fit(X, y, sample_weight)
        solver = "auto" if self.dual == "auto" else ("dual_cd" if self.dual else "primal_newton")
        self._model = self._core_class(
            loss=self.loss,
            solver=solver,
            C=C,
            tol=tol,
            max_iter=max_iter,
            fit_intercept=bool(self.fit_intercept),
            intercept_scaling=scaling,
            shrinking=bool(self.shrinking),
            class_weight=[float(w) for w in self.class_weight_],
            random_state=seed_of(self.random_state),
            backend=self._core_backend(),
        )
        self._model.fit(X, codes, sample_weight)
        self.coef_ = np.asarray(self._model.coef, dtype=np.float64)
        self.intercept_ = np.asarray(self._model.intercept, dtype=np.float64).ravel()
        self.n_iter_ = int(self._model.n_iter)
        if self.n_iter_ >= max_iter:
            warnings.warn(
                "LinearSVC failed to converge, increase the number of iterations.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self


_SVC_DEFAULTS = _core.SVC.defaults


class SVC(_SVMBase):
    """Kernel support vector classifier (SMO, as libsvm), one-vs-one for several classes.

    Parameters follow :class:`sklearn.svm.SVC`: ``C``, ``kernel`` ('linear', 'poly', 'rbf',
    'sigmoid', 'precomputed' or a callable), ``degree``, ``gamma`` ('scale', 'auto' or a float), ``coef0``, ``shrinking``,
    ``probability`` (Platt scaling: about 5 more fits; ``predict_proba``, ``probA_``,
    ``probB_``; ``random_state`` orders the cross-validation's folds), ``tol``, ``cache_size`` (MB of kernel rows), ``class_weight``,
    ``max_iter`` (-1: no limit), ``decision_function_shape`` ('ovr' or 'ovo'), ``break_ties``;
    plus ``backend``.

    Attributes: ``support_``, ``support_vectors_``, ``n_support_``, ``dual_coef_``,
    ``intercept_``, ``classes_``, ``class_weight_``, ``n_iter_``, ``fit_status_``,
    ``shape_fit_``, ``coef_`` (linear kernel), ``n_features_in_``, ``profile_``.
    """

    _core_class = _core.SVC
    _drops_nonpositive_weights = True

    def __init__(
        self,
        *,
        C=_SVC_DEFAULTS["C"],
        kernel=_SVC_DEFAULTS["kernel"],
        degree=_SVC_DEFAULTS["degree"],
        gamma=_SVC_DEFAULTS["gamma"],
        coef0=_SVC_DEFAULTS["coef0"],
        shrinking=_SVC_DEFAULTS["shrinking"],
        probability="deprecated",
        tol=_SVC_DEFAULTS["tol"],
        cache_size=_SVC_DEFAULTS["cache_size"],
        class_weight=None,
        verbose=False,
        max_iter=_SVC_DEFAULTS["max_iter"],
        decision_function_shape=_SVC_DEFAULTS["decision_function_shape"],
        break_ties=_SVC_DEFAULTS["break_ties"],
        random_state=None,
        backend=None,
    ):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.probability = probability
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.verbose = verbose
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.backend = backend

    def _check_params(self):
        if not callable(self.kernel):
            check_choice("kernel", self.kernel, ("linear", "poly", "rbf", "sigmoid", "precomputed"))
        gamma = self.gamma
        if isinstance(gamma, str):
            check_choice("gamma", gamma, ("scale", "auto"))
            gamma_mode, gamma_value = gamma, 0.0
        else:
            gamma_mode, gamma_value = "value", check_real("gamma", gamma, 0.0)
        check_choice("decision_function_shape", self.decision_function_shape, ("ovr", "ovo"))
        if isinstance(self.max_iter, (bool, np.bool_)) or not isinstance(
            self.max_iter, numbers.Integral
        ):
            raise TypeError(f"max_iter must be an int, got {self.max_iter!r}")
        if self.max_iter != -1 and self.max_iter < 1:
            raise ValueError(f"max_iter must be -1 (no limit) or >= 1, got {self.max_iter}")
        return dict(
            C=check_real("C", self.C, 0.0, low_open=True, allow_inf=True),  # inf: hard margin
            # A callable's Gram matrix is computed here and handed over as precomputed.
            kernel="precomputed" if callable(self.kernel) else self.kernel,
            degree=check_int("degree", self.degree, 0),
            gamma=gamma_mode,
            gamma_value=gamma_value,
            coef0=check_real("coef0", self.coef0, -np.inf),
            shrinking=bool(self.shrinking),
            tol=check_real("tol", self.tol, 0.0, low_open=True),
            cache_size=check_real("cache_size", self.cache_size, 0.0, low_open=True),
            max_iter=int(self.max_iter),
            decision_function_shape=self.decision_function_shape,
            break_ties=bool(self.break_ties),
            probability=self._wants_probability(),
            random_state=seed_of(self.random_state),
        )

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and labels y; ``sample_weight`` optional (a
        sample of weight <= 0 takes no part in the fit, as in libsvm)."""
        params = self._check_params()
        if self.probability != "deprecated":
            warnings.warn(
                "The `probability` parameter was deprecated in 1.9 and will be removed in "
                "version 1.11. Use `CalibratedClassifierCV(SVC(), ensemble=False)` instead of "
                "`SVC(probability=True)`",
                FutureWarning,
                stacklevel=2,
            )
        if self.kernel == "precomputed" and issparse(X):
            raise TypeError("Sparse precomputed kernels are not supported.")
        X, codes, sample_weight = self._prepare_fit(X, y, sample_weight)
        if callable(self.kernel):
            self._X_fit_kernel = X  # the callable's second argument at predict
            X = self._gram(X)
        elif self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                "Precomputed matrix must be a square matrix. Input is a "
                f"{X.shape[0]}x{X.shape[1]} matrix."
            )
        self._model = self._core_class(
            class_weight=[float(w) for w in self.class_weight_],
            backend=self._core_backend(),
            **params,
        )
        self._model.fit(X, codes, sample_weight)
        m = self._model
        self.support_ = m.support.ravel().astype(np.int32)
        self.support_vectors_ = np.asarray(m.support_vectors, dtype=np.float64)
        if callable(self.kernel) or self.kernel == "precomputed":
            self.support_vectors_ = np.empty((0, 0))  # no rows kept, as scikit-learn's
        self.n_support_ = np.asarray(m.n_support, dtype=np.int32)
        self.dual_coef_ = np.asarray(m.dual_coef, dtype=np.float64)
        self.intercept_ = np.asarray(m.intercept, dtype=np.float64).ravel()
        self.n_iter_ = np.asarray(m.n_iter, dtype=np.int32)
        self._gamma = float(m.gamma)
        # libsvm's sigmoids per pair (empty without probability=True, as scikit-learn's).
        self._probA = np.asarray(m.prob_a, dtype=np.float64).ravel()
        self._probB = np.asarray(m.prob_b, dtype=np.float64).ravel()
        self.fit_status_ = 0
        self.shape_fit_ = X.shape
        if not m.converged:
            warnings.warn(
                f"Solver terminated early (max_iter={self.max_iter}).  Consider "
                "pre-processing your data with StandardScaler or MinMaxScaler.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _gram(self, X):
        """The user's kernel of X against the training rows (at fit, against themselves)."""
        fit_rows = self.__dict__.get("_X_fit_kernel", X)
        K = np.asarray(self.kernel(X, fit_rows), dtype=np.float32)
        if K.shape != (X.shape[0], fit_rows.shape[0]):
            raise ValueError(
                f"The kernel callable must return an array of shape ({X.shape[0]}, "
                f"{fit_rows.shape[0]}) for inputs of {X.shape[0]} and {fit_rows.shape[0]} rows, "
                f"got {K.shape}"
            )
        return np.ascontiguousarray(K)

    def _query_X(self, X):
        X = super()._query_X(X)
        return self._gram(X) if callable(self.kernel) else X

    def _deprecated_attribute(self, name):
        warnings.warn(
            f"Attribute `{name}` was deprecated in version 1.9 and will be removed in 1.11 as "
            "the `probability=True` option for SVC and NuSVC was deprecated and will be removed "
            "in 1.11.",
            FutureWarning,
            stacklevel=3,
        )
        check_is_fitted(self, "_model")
        return self.__dict__["_" + name[:-1]]

    @property
    def probA_(self):
        """The pairs' sigmoid slopes A (Platt scaling; empty without probability=True).
        Deprecated with ``probability`` in scikit-learn 1.9, and warns as there."""
        return self._deprecated_attribute("probA_")

    @property
    def probB_(self):
        """The pairs' sigmoid offsets B (see ``probA_``)."""
        return self._deprecated_attribute("probB_")

    def _wants_probability(self):
        # scikit-learn 1.9 deprecated the parameter (default "deprecated", i.e. False) in favour
        # of CalibratedClassifierCV; mlcore keeps Platt scaling and warns as scikit-learn does.
        return self.probability != "deprecated" and bool(self.probability)

    def _check_proba(self):
        if not self._wants_probability():
            raise AttributeError("predict_proba is not available when probability=False")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes): the pairs' Platt sigmoids of the
        one-vs-one decision values, coupled. They come from a cross-validation, so their argmax
        can disagree with ``predict`` (the vote) near the boundaries, as in scikit-learn."""
        check_is_fitted(self, "_model")
        if not self._model.options_probability:
            raise NotFittedError(
                "predict_proba is not available when fitted with probability=False"
            )
        X = self._query_X(X)
        return self._model_for_call().predict_proba(X).astype(np.float64)

    def predict(self, X):
        """The predicted class of each row of X (the one-vs-one vote; with ``break_ties`` and
        more than two classes, the largest "ovr" decision value)."""
        if self.break_ties and self.decision_function_shape == "ovo":
            # scikit-learn checks this here, at predict, not at fit.
            raise ValueError("break_ties must be False when decision_function_shape is 'ovo'")
        return super().predict(X)

    @property
    def coef_(self):
        """Primal weights, for the linear kernel only: (1, n_features) for two classes, else
        one row per pair of classes (n_classes·(n_classes−1)/2, n_features)."""
        check_is_fitted(self, "_model")
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        if len(self.classes_) == 2:
            return self.dual_coef_ @ self.support_vectors_
        # Pair (a, b): the class-a SVs' coefficients sit in row b−1, the class-b SVs' in row a.
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        rows = []
        k = len(self.classes_)
        for a in range(k):
            for b in range(a + 1, k):
                sa, sb = slice(start[a], start[a + 1]), slice(start[b], start[b + 1])
                rows.append(
                    self.dual_coef_[b - 1, sa] @ self.support_vectors_[sa]
                    + self.dual_coef_[a, sb] @ self.support_vectors_[sb]
                )
        return np.vstack(rows)
