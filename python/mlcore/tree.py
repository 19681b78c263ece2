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

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._estimator import MissingValuesTags, MLCoreEstimatorMixin
from ._validation import (
    check_int,
    check_max_features,
    check_real,
    min_samples,
    seed_of,
    tree_fit_data,
    tree_query_X,
    warn_criterion_alias,
)

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]


class _BaseDecisionTree(MissingValuesTags, MLCoreEstimatorMixin, BaseEstimator):
    _classifier = False

    def fit(self, X, y, sample_weight=None):
        """Grow the tree on X (n_samples, n_features), NaN meaning missing, and targets y.
        sample_weight (and a classifier's class_weight) must give whole-number weights: the
        histograms keep exact integer counts (weight 2 is the row twice)."""
        X, y_codes, sw = tree_fit_data(self, X, y, self._classifier, sample_weight)
        n = X.shape[0]
        self._model = self._core_class(
            criterion=self.criterion,
            max_depth=check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_split=min_samples("min_samples_split", self.min_samples_split, n, 2),
            min_samples_leaf=min_samples("min_samples_leaf", self.min_samples_leaf, n, 1),
            max_features=check_max_features(self.max_features),
            min_impurity_decrease=check_real(
                "min_impurity_decrease", self.min_impurity_decrease, 0.0, allow_inf=True
            ),
            random_state=seed_of(self.random_state),
            max_bins=check_int("max_bins", self.max_bins, 2),
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True),
            backend=self._core_backend(),
        )
        self._model.fit(X, y_codes, sample_weight=sw)
        self.feature_importances_ = np.asarray(self._model.feature_importances_, dtype=np.float64)
        return self

    def apply(self, X):
        """The id of the leaf each sample ends in."""
        X = tree_query_X(self, X)
        leaves = self._model_for_call().apply(X)
        return leaves.astype(np.intp)

    def get_depth(self):
        """The depth of the tree (the root alone has depth 0)."""
        check_is_fitted(self, "_model")
        return int(self._model.get_depth())

    def get_n_leaves(self):
        """The number of leaves of the tree."""
        check_is_fitted(self, "_model")
        return int(self._model.get_n_leaves())


_DECISION_TREE_CLASSIFIER_DEFAULTS = _core.DecisionTreeClassifier.defaults


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
    max_leaf_nodes : int or None, default=None
        Grow best-first (the split of largest weighted impurity decrease next) up to this many
        leaves, as scikit-learn does; None: depth-first, no limit.
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

    def __init__(
        self,
        *,
        criterion=_DECISION_TREE_CLASSIFIER_DEFAULTS["criterion"],
        max_depth=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_depth"],
        min_samples_split=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_samples_split"],
        min_samples_leaf=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_samples_leaf"],
        max_features=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_features"],
        random_state=None,
        min_impurity_decrease=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_impurity_decrease"],
        class_weight=None,
        max_leaf_nodes=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_leaf_nodes"],
        max_bins=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.min_impurity_decrease = min_impurity_decrease
        self.class_weight = class_weight
        self.max_leaf_nodes = max_leaf_nodes
        self.max_bins = max_bins
        self.backend = backend

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes): the class fractions of each leaf."""
        X = tree_query_X(self, X)
        proba = self._model_for_call().predict_proba(X)
        return proba.astype(np.float64)

    def predict(self, X):
        """The most frequent class of each sample's leaf."""
        proba = self.predict_proba(X)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


_DECISION_TREE_REGRESSOR_DEFAULTS = _core.DecisionTreeRegressor.defaults


class DecisionTreeRegressor(RegressorMixin, _BaseDecisionTree):
    """A CART regression tree (squared error) on binned features (scikit-learn's parameters).

    Parameters are those of :class:`DecisionTreeClassifier`, with ``criterion="squared_error"``
    (``"friedman_mse"`` is the same criterion: Friedman's improvement score is the node's
    squared-error decrease; scikit-learn 1.9 deprecated the name, and mlcore warns as it does).
    ``"absolute_error"`` and ``"poisson"`` are not implemented.
    """

    _core_class = _core.DecisionTreeRegressor

    def __init__(
        self,
        *,
        criterion=_DECISION_TREE_REGRESSOR_DEFAULTS["criterion"],
        max_depth=_DECISION_TREE_REGRESSOR_DEFAULTS["max_depth"],
        min_samples_split=_DECISION_TREE_REGRESSOR_DEFAULTS["min_samples_split"],
        min_samples_leaf=_DECISION_TREE_REGRESSOR_DEFAULTS["min_samples_leaf"],
        max_features=_DECISION_TREE_REGRESSOR_DEFAULTS["max_features"],
        random_state=None,
        min_impurity_decrease=_DECISION_TREE_REGRESSOR_DEFAULTS["min_impurity_decrease"],
        max_leaf_nodes=_DECISION_TREE_REGRESSOR_DEFAULTS["max_leaf_nodes"],
        max_bins=_DECISION_TREE_REGRESSOR_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.criterion = warn_criterion_alias(criterion)
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.min_impurity_decrease = min_impurity_decrease
        self.max_leaf_nodes = max_leaf_nodes
        self.max_bins = max_bins
        self.backend = backend

    def predict(self, X):
        """The mean target of each sample's leaf."""
        X = tree_query_X(self, X)
        pred = self._model_for_call().predict(X)
        return pred.reshape(-1).astype(np.float64)
