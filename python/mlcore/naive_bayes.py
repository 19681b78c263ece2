"""Naive Bayes: :class:`GaussianNB` and :class:`MultinomialNB`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``). Fitting is a couple
of passes over X: per-class sums are a ``scatter_add`` of each sample's row into the row of its
class (GaussianNB's variances take a second pass: ``gather_rows`` of the class means, subtract,
square, ``scatter_add``). Scoring is a GEMM: MultinomialNB's joint log-likelihood is
``X·log θᵀ + log prior``; GaussianNB's quadratic form is expanded,
``(x − μ)²/σ² = x²/σ² − 2xμ/σ² + μ²/σ²``, into two GEMMs against ``X²`` and ``X`` (X centred and
scaled per feature first, so the expansion does not lose f32 digits). ``predict_proba`` and
``predict_log_proba`` are ``softmax_rows`` of those scores.

>>> from sklearn.datasets import load_iris
>>> from mlcore import GaussianNB
>>> X, y = load_iris(return_X_y=True)
>>> GaussianNB().fit(X, y).score(X, y) > 0.9
True
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import validate_data

from . import _core
from ._estimator import MLCoreEstimatorMixin
from ._sparse import ACCEPT_SPARSE, any_negative, as_core_X
from ._validation import (
    check_bool,
    check_real,
    encode_classes,
    float32_sample_weight,
    result_dtype,
)

__all__ = ["GaussianNB", "MultinomialNB"]


def _prior(name, value, n_classes):
    """A user-given prior as a list of floats (checked: length, ≥ 0, sums to 1)."""
    p = np.asarray(value, dtype=np.float64).reshape(-1)
    if p.shape[0] != n_classes:
        raise ValueError(
            f"Number of priors must match number of classes: {name} has "
            f"{p.shape[0]} values, y has {n_classes} classes."
        )
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {p}")
    if not np.isclose(p.sum(), 1.0):
        raise ValueError(f"The sum of the {name} should be 1, got {p.sum()}")
    return [float(v) for v in p]


class _NaiveBayes(ClassifierMixin, MLCoreEstimatorMixin, BaseEstimator):
    """What both share: label handling, the fit call and the four predictions."""

    # The fitted array scikit-learn's joint log-likelihood combines with X: its outputs are
    # float32 only when both are (numpy's promotion).
    _parameters_of_output = None

    def _make_model(self, n_classes):
        raise NotImplementedError

    def _check_X_fit(self, X):
        return X

    def _fit_data(self, X, y, reset=True):
        """X (float32, C order; sparse where the model takes it) and y, checked for a fit."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE[0] if self._accept_sparse else False,
            dtype=np.float32,
            order="C",
            reset=reset,
            ensure_all_finite=False,
        )  # NaN/inf: the C++ fit checks X
        return self._check_X_fit(X), y

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and class labels y (n_samples,)."""
        X, y = self._fit_data(X, y)
        classes, codes = encode_classes(y)  # one class is allowed, as in scikit-learn
        sw = float32_sample_weight(sample_weight, X)
        self.classes_ = classes
        self._model = self._make_model(len(classes))
        self._model.fit(as_core_X(X), codes, sample_weight=sw)
        self.class_count_ = self._model.class_count.astype(np.float64).reshape(-1)
        self._read_model()
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One batch of an incremental fit, for data that come in pieces or do not fit in memory.

        The batch's sufficient statistics are merged with those of every batch before it (or of
        ``fit``): MultinomialNB adds the feature counts and class totals, GaussianNB merges each
        class's count, mean and variance (Chan, Golub & LeVeque's pairwise update). Any split of
        the rows into batches then gives ``fit``'s model (GaussianNB: up to rounding, and its
        epsilon_ comes from the latest batch, as scikit-learn's). ``classes``, every label there
        will ever be, is required on the first call, as in scikit-learn; a class with no samples
        yet has ``class_count_`` 0."""
        first = getattr(self, "classes_", None) is None
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            all_classes = unique_labels(classes)
        else:
            all_classes = self.classes_
            if classes is not None and not np.array_equal(all_classes, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                    f"was: {all_classes!r}"
                )
        X, y = self._fit_data(X, y, reset=first)
        check_classification_targets(y)
        codes = np.searchsorted(all_classes, y)
        known = codes < len(all_classes)
        known[known] = all_classes[codes[known]] == y[known]
        if not known.all():
            raise ValueError(
                f"The target label(s) {np.unique(y[~known])!r} in y do not exist in the "
                f"initial classes {all_classes!r}"
            )
        if first:
            self._model = self._make_model(len(all_classes))
        else:
            self._model.set_backend(self._core_backend())
        self._model.partial_fit(
            as_core_X(X),
            np.ascontiguousarray(codes, dtype=np.float32),
            n_classes=len(all_classes),
            sample_weight=float32_sample_weight(sample_weight, X),
        )
        self.classes_ = all_classes
        self.class_count_ = self._model.class_count.astype(np.float64).reshape(-1)
        self._read_model()
        return self

    def _read_model(self):
        """The fitted attributes of the estimator's own kind, read from the C++ model."""
        raise NotImplementedError

    def _call(self, method, X):
        X = self._query_X(X)
        out = getattr(self._model_for_call(), method)(as_core_X(X))
        return out

    def _output_dtype(self, X):
        return result_dtype(X, getattr(self, self._parameters_of_output))

    def predict_joint_log_proba(self, X):
        """log P(c) + log P(x | c) for every class: (n_samples, n_classes)."""
        out = self._call("predict_joint_log_proba", X)
        return out.astype(self._output_dtype(X))

    def predict_log_proba(self, X):
        """log P(c | x): (n_samples, n_classes), columns in classes_ order."""
        return self._call("predict_log_proba", X).astype(self._output_dtype(X))

    def predict_proba(self, X):
        """P(c | x): (n_samples, n_classes), columns in classes_ order.

        ``exp(predict_log_proba(X))``, as scikit-learn defines it, the exponential taken in
        float64: a probability within 6e-8 of 1 rounds to exactly 1 in float32, while its
        logarithm (about −1e-8) does not round to 0, so the two methods would disagree if the
        probabilities came from a float32 softmax. Then in scikit-learn's output dtype."""
        log_proba = self._call("predict_log_proba", X).astype(np.float64)
        return np.exp(log_proba).astype(self._output_dtype(X), copy=False)

    def predict(self, X):
        """The most probable class of each sample."""
        codes = self._call("predict", X).reshape(-1)
        return self.classes_[codes.astype(np.intp)]


_GAUSSIAN_NB_DEFAULTS = _core.GaussianNB.defaults


class GaussianNB(_NaiveBayes):
    """Gaussian naive Bayes on an mlcore backend.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), default=None
        Class prior probabilities; None: the class frequencies of the training data.
    var_smoothing : float, default=1e-9
        var_smoothing × the largest feature variance is added to every variance.
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_, class_count_, class_prior_ : ndarray of shape (n_classes,)
    theta_, var_ : ndarray of shape (n_classes, n_features)
        Per-class means and variances.
    epsilon_ : float
    n_features_in_ : int
    profile_ : mlcore.Profile
    """

    _core_class = _core.GaussianNB
    _dtype_follows_X = ("theta_", "var_", "class_count_", "class_prior_", "epsilon_")
    _parameters_of_output = "theta_"

    def __init__(
        self, *, priors=None, var_smoothing=_GAUSSIAN_NB_DEFAULTS["var_smoothing"], backend=None
    ):
        self.priors = priors
        self.var_smoothing = var_smoothing
        self.backend = backend

    def _make_model(self, n_classes):
        var_smoothing = check_real("var_smoothing", self.var_smoothing, 0.0)
        priors = [] if self.priors is None else _prior("priors", self.priors, n_classes)
        return _core.GaussianNB(
            var_smoothing=var_smoothing, priors=priors, backend=self._core_backend()
        )

    def _read_model(self):
        self.theta_ = self._model.theta.astype(np.float64)
        self.var_ = self._model.var.astype(np.float64)
        self.class_prior_ = self._model.class_prior.astype(np.float64).reshape(-1)
        self.epsilon_ = float(self._model.epsilon)


_MULTINOMIAL_NB_DEFAULTS = _core.MultinomialNB.defaults


class MultinomialNB(_NaiveBayes):
    """Multinomial naive Bayes for counts (or frequencies) on an mlcore backend.

    Parameters
    ----------
    alpha : float, default=1.0
        Additive (Laplace / Lidstone) smoothing, >= 0 (one value for every feature).
    force_alpha : bool, default=True
        False: an alpha below 1e-10 is raised to 1e-10 (with a warning), as scikit-learn.
    fit_prior : bool, default=True
        False: a uniform class prior.
    class_prior : array-like of shape (n_classes,), default=None
        Explicit class prior (overrides fit_prior).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_, class_count_, class_log_prior_ : ndarray of shape (n_classes,)
    feature_count_, feature_log_prob_ : ndarray of shape (n_classes, n_features)
    n_features_in_ : int
    profile_ : mlcore.Profile
    """

    _core_class = _core.MultinomialNB
    _accept_sparse = True  # counts are Xᵀ·onehot(y), scores X·log θᵀ: both spmm
    _parameters_of_output = "feature_log_prob_"  # float64 whatever X's dtype

    def __init__(
        self,
        *,
        alpha=_MULTINOMIAL_NB_DEFAULTS["alpha"],
        force_alpha=_MULTINOMIAL_NB_DEFAULTS["force_alpha"],
        fit_prior=_MULTINOMIAL_NB_DEFAULTS["fit_prior"],
        class_prior=None,
        backend=None,
    ):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior
        self.backend = backend

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # counts or frequencies: X >= 0
        # A multinomial model of dense Gaussian blobs fits them poorly (scikit-learn's
        # MultinomialNB scores the same 0.79 on its classifier check, and sets this tag too).
        tags.classifier_tags.poor_score = True
        return tags

    def _check_X_fit(self, X):
        if any_negative(X):
            raise ValueError("Negative values in data passed to MultinomialNB (input X)")
        return X

    def _make_model(self, n_classes):
        if np.ndim(self.alpha) != 0:
            raise ValueError(
                "mlcore's MultinomialNB takes one alpha for all features (a "
                f"float); got an array of shape {np.shape(self.alpha)}"
            )
        alpha = check_real("alpha", self.alpha, 0.0)
        force_alpha = check_bool("force_alpha", self.force_alpha)
        if not force_alpha and alpha < 1e-10:
            warnings.warn(
                "alpha too small will result in numeric errors, setting alpha = "
                "1.0e-10. Use `force_alpha=True` to keep alpha unchanged."
            )
        class_prior = (
            [] if self.class_prior is None else _prior("class_prior", self.class_prior, n_classes)
        )
        return _core.MultinomialNB(
            alpha=alpha,
            force_alpha=force_alpha,
            fit_prior=check_bool("fit_prior", self.fit_prior),
            class_prior=class_prior,
            backend=self._core_backend(),
        )

    def _read_model(self):
        self.feature_count_ = self._model.feature_count.astype(np.float64)
        self.feature_log_prob_ = self._model.feature_log_prob.astype(np.float64)
        self.class_log_prior_ = self._model.class_log_prior.astype(np.float64).reshape(-1)

    def _call(self, method, X):
        X = self._query_X(X)
        if any_negative(X):
            raise ValueError("Negative values in data passed to MultinomialNB (input X)")
        out = getattr(self._model_for_call(), method)(as_core_X(X))
        return out
