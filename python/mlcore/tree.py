"""Decision trees on binned features: :class:`DecisionTreeClassifier`, :class:`DecisionTreeRegressor`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``): the features are
binned once (at most ``max_bins`` bins per feature, plus a bin for missing values), and every
node's histogram is one ``histogram`` primitive call on the chosen backend. Histogram sums are
exact integers, so the same ``random_state`` grows the same tree on every backend.

Missing values (NaN) in ``X`` are supported: each split learns which side they go to.

>>> from sklearn.datasets import load_iris
>>> from mlcore import DecisionTreeClassifier
>>> X, y = load_iris(return_X_y=True)
>>> DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y).score(X, y) > 0.9
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core
from ._estimator import MLCoreEstimatorMixin
from .linear_model import _float32_sample_weight

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]


# ---- parameter checks shared by the tree estimators (also used by ensemble.py) --------------

def _check_int(name, value, low, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{' or None' if allow_none else ''}, "
                        f"got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_float(name, value, low, high=math.inf, *, low_open=False, high_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) and not (high == math.inf and value == math.inf):
        raise ValueError(f"{name} must be finite, got {value}")
    bad_low = value <= low if low_open else value < low
    bad_high = value >= high if high_open else value > high
    if bad_low or bad_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value}")
    return value


def _min_samples(name, value, n_samples, low):
    """scikit-learn's min_samples_split / min_samples_leaf: an int, or a fraction of n."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return _check_int(name, value, low)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        frac = _check_float(name, value, 0.0, 1.0, low_open=True)
        return max(low, int(math.ceil(frac * n_samples)))
    raise TypeError(f"{name} must be an int or a float, got {value!r}")


def _check_max_features(value):
    if value is None or value in ("sqrt", "log2"):
        return value
    if isinstance(value, str):
        raise ValueError(f"max_features must be None, 'sqrt', 'log2', an int or a float, "
                         f"got {value!r}")
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return _check_int("max_features", value, 1)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return _check_float("max_features", value, 0.0, 1.0, low_open=True)
    raise TypeError(f"max_features must be None, 'sqrt', 'log2', an int or a float, "
                    f"got {value!r}")


def _seed(random_state):
    """A non-negative int seed for C++ from scikit-learn's random_state (None, int, RandomState)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    raise TypeError(f"random_state must be None, an int or a numpy RandomState, "
                    f"got {random_state!r}")


def _validate_fit(est, X, y, classifier, sample_weight=None):
    """X as C-contiguous float32 (NaN allowed, inf refused), y (class codes for a classifier,
    whose classes_ are set), and the sample weights as float32 or None: ``sample_weight``
    times the estimator's ``class_weight`` where it has one (scikit-learn's rule:
    compute_sample_weight(class_weight, y) · sample_weight). The C++ fit checks what its
    statistics need (a tree's weights must be whole numbers)."""
    X, y = validate_data(est, X, y, dtype=np.float32, ensure_all_finite="allow-nan",
                         order="C", y_numeric=not classifier)
    X = np.ascontiguousarray(X, dtype=np.float32)
    sw = _float32_sample_weight(sample_weight, X)
    class_weight = getattr(est, "class_weight", None)
    if classifier:
        check_classification_targets(y)
        est.classes_, codes = np.unique(y, return_inverse=True)
        est.n_classes_ = len(est.classes_)
        if class_weight is not None:
            if isinstance(class_weight, str) and class_weight == "balanced_subsample":
                raise ValueError("class_weight='balanced_subsample' is not supported by mlcore "
                                 "(the bootstrap is drawn in C++); use 'balanced' or a dict")
            cw = compute_sample_weight(class_weight, y)
            sw = np.ascontiguousarray(cw if sw is None else cw * sw, dtype=np.float32)
        return X, np.ascontiguousarray(codes, dtype=np.float32), sw
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity")
    return X, np.ascontiguousarray(y, dtype=np.float32), sw


def _validate_predict(est, X):
    check_is_fitted(est, "_model")
    X = validate_data(est, X, dtype=np.float32, ensure_all_finite="allow-nan", order="C",
                      reset=False)
    return np.ascontiguousarray(X, dtype=np.float32)


class _TreeTags:
    """Tags shared by the tree estimators: NaN in X is a missing value, not an error."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class _BaseDecisionTree(_TreeTags, MLCoreEstimatorMixin, BaseEstimator):
    _classifier = False

    def fit(self, X, y, sample_weight=None):
        """Grow the tree on X (n_samples, n_features), NaN meaning missing, and targets y.
        sample_weight (and a classifier's class_weight) must give whole-number weights: the
        histograms keep exact integer counts (weight 2 is the row twice)."""
        X, y_codes, sw = _validate_fit(self, X, y, self._classifier, sample_weight)
        n = X.shape[0]
        self._model = self._core_class(
            criterion=self.criterion,
            max_depth=_check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_split=_min_samples("min_samples_split", self.min_samples_split, n, 2),
            min_samples_leaf=_min_samples("min_samples_leaf", self.min_samples_leaf, n, 1),
            max_features=_check_max_features(self.max_features),
            min_impurity_decrease=_check_float("min_impurity_decrease",
                                               self.min_impurity_decrease, 0.0),
            random_state=_seed(self.random_state),
            max_bins=_check_int("max_bins", self.max_bins, 2),
            backend=self._core_backend())
        self._model.fit(X, y_codes, sample_weight=sw)
        self._record_profile()
        self.feature_importances_ = np.asarray(self._model.feature_importances_, dtype=np.float64)
        return self

    def apply(self, X):
        """The id of the leaf each sample ends in."""
        X = _validate_predict(self, X)
        leaves = self._model_for_call().apply(X)
        self._record_profile()
        return leaves.astype(np.intp)

    def get_depth(self):
        """The depth of the tree (the root alone has depth 0)."""
        check_is_fitted(self, "_model")
        return int(self._model.get_depth())

    def get_n_leaves(self):
        """The number of leaves of the tree."""
        check_is_fitted(self, "_model")
        return int(self._model.get_n_leaves())


class DecisionTreeClassifier(ClassifierMixin, _BaseDecisionTree):
    """A CART classification tree on binned features (scikit-learn's parameters).

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
    max_depth : int or None, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    max_features : {"sqrt", "log2"}, int, float or None, default=None
        Features examined at each split (drawn at random when fewer than all).
    random_state : int, RandomState or None, default=None
    min_impurity_decrease : float, default=0.0
    max_bins : int, default=255
        Bins per feature (at most 255, plus one for missing values). A feature with at most
        ``max_bins`` distinct values is split exactly as scikit-learn would.
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_, n_classes_, n_features_in_, feature_importances_, profile_
    """

    _core_class = _core.DecisionTreeClassifier
    _classifier = True

    def __init__(self, *, criterion="gini", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, max_features=None, random_state=None,
                 min_impurity_decrease=0.0, class_weight=None, max_bins=255, backend=None):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.min_impurity_decrease = min_impurity_decrease
        self.class_weight = class_weight
        self.max_bins = max_bins
        self.backend = backend

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes): the class fractions of each leaf."""
        X = _validate_predict(self, X)
        proba = self._model_for_call().predict_proba(X)
        self._record_profile()
        return proba.astype(np.float64)

    def predict(self, X):
        """The most frequent class of each sample's leaf."""
        proba = self.predict_proba(X)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


class DecisionTreeRegressor(RegressorMixin, _BaseDecisionTree):
    """A CART regression tree (squared error) on binned features (scikit-learn's parameters).

    Parameters are those of :class:`DecisionTreeClassifier`, with ``criterion="squared_error"``
    (the only criterion implemented).
    """

    _core_class = _core.DecisionTreeRegressor

    def __init__(self, *, criterion="squared_error", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, max_features=None, random_state=None,
                 min_impurity_decrease=0.0, max_bins=255, backend=None):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.min_impurity_decrease = min_impurity_decrease
        self.max_bins = max_bins
        self.backend = backend

    def predict(self, X):
        """The mean target of each sample's leaf."""
        X = _validate_predict(self, X)
        pred = self._model_for_call().predict(X)
        self._record_profile()
        return pred.reshape(-1).astype(np.float64)
