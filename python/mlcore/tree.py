"""Decision trees on binned features: :class:`DecisionTreeClassifier`, :class:`DecisionTreeRegressor`.

scikit-learn-style estimators whose work is done in C++ (``mlcore._core``): the features are
binned once (at most ``max_bins`` bins per feature, plus a bin for missing values), and every
node's histogram is one ``histogram`` primitive call on the chosen backend. Histogram sums are
exact integers, so the same ``random_state`` grows the same tree on every backend.

Missing values (NaN) in ``X`` are supported: each split learns which side they go to.

A fitted tree has scikit-learn's ``tree_`` (mlcore/_tree_view.py: node arrays in its
conventions), ``decision_path``, ``cost_complexity_pruning_path`` and ``ccp_alpha`` (minimal
cost-complexity pruning of the grown tree, O(nodes) per collapse on the host). A scipy.sparse
``X`` is fitted as its dense copy (made n × d float32 first: 4·n·d bytes during the call).

>>> from sklearn.datasets import load_iris
>>> from mlcore import DecisionTreeClassifier
>>> X, y = load_iris(return_X_y=True)
>>> DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y).score(X, y) > 0.9
True
"""

from __future__ import annotations

import math
import weakref

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._estimator import MissingValuesTags, MLCoreEstimatorMixin
from ._tree_view import TreeView
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


def check_splitter(splitter):
    """scikit-learn's splitter: "best" (mlcore's search over every bin edge) is the one there is."""
    if splitter == "best":
        return
    if splitter == "random":
        raise ValueError(
            "splitter='random' is not supported by mlcore (its trees search every bin edge "
            "of the features drawn: splitter='best')"
        )
    raise ValueError(f"splitter must be 'best' or 'random', got {splitter!r}")


def check_monotonic_cst(monotonic_cst):
    if monotonic_cst is not None:
        raise ValueError("monotonic_cst is not supported by mlcore's trees and forests (None only)")


def min_samples_leaf_with_fraction(est, n, sample_weight, fraction_of_draws=1.0):
    """scikit-learn's min_samples_leaf and min_weight_fraction_leaf as the one minimum weight
    of a leaf mlcore's grower applies (min_samples_leaf is already on a child's weight there):
    max(min_samples_leaf, ⌈fraction · total weight⌉), the total being Σ sample_weight (n when
    None) times ``fraction_of_draws`` (a forest's bootstrap draws / n). The weights are whole
    numbers, so a leaf's weight is ≥ the fraction of the total exactly when it is ≥ its ceiling."""
    leaf = min_samples("min_samples_leaf", est.min_samples_leaf, n, 1)
    fraction = check_real("min_weight_fraction_leaf", est.min_weight_fraction_leaf, 0.0, 0.5)
    if fraction > 0:
        total = (float(np.sum(sample_weight)) if sample_weight is not None else n) * (
            fraction_of_draws
        )
        leaf = max(leaf, int(math.ceil(fraction * total - 1e-9 * total)))
    return leaf


def resolved_max_features(max_features, n_features):
    """scikit-learn's max_features_: the number of features examined at each split."""
    if max_features is None:
        return n_features
    if max_features == "sqrt":
        return max(1, int(math.sqrt(n_features)))
    if max_features == "log2":
        return max(1, int(math.log2(n_features)))
    if isinstance(max_features, (int, np.integer)) and not isinstance(max_features, bool):
        return int(max_features)
    return max(1, int(max_features * n_features))


# Each fitted estimator's tree_ (and a forest's estimators_), built on first use from its C++
# model and kept beside the estimator, not in its __dict__: derived state, so pickling, clone
# and the estimator's state stay what fit made them. A cache entry is valid while it was built
# from the estimator's current model.
DERIVED = weakref.WeakKeyDictionary()


def derived(est, build):
    entry = DERIVED.get(est)
    if entry is None or entry[0] is not est._model:
        entry = (est._model, build())
        DERIVED[est] = entry
    return entry[1]


class _BaseDecisionTree(MissingValuesTags, MLCoreEstimatorMixin, BaseEstimator):
    _classifier = False
    _accept_sparse = True  # made dense (tree_fit_data): scikit-learn's sparse tag

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Grow the tree on X (n_samples, n_features; dense with NaN meaning missing, or
        scipy.sparse) and targets y. sample_weight (and a classifier's class_weight) must give
        whole-number weights: the histograms keep exact integer counts (weight 2 is the row
        twice). ``check_input`` is accepted for scikit-learn's signature; X is always checked."""
        check_splitter(self.splitter)
        check_monotonic_cst(self.monotonic_cst)
        X, y_codes, sw = tree_fit_data(
            self, X, y, self._classifier, sample_weight, accept_sparse=True
        )
        n = X.shape[0]
        self._model = self._core_class(
            criterion=self.criterion,
            max_depth=check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_split=min_samples("min_samples_split", self.min_samples_split, n, 2),
            min_samples_leaf=min_samples_leaf_with_fraction(self, n, sw),
            max_features=check_max_features(self.max_features),
            min_impurity_decrease=check_real(
                "min_impurity_decrease", self.min_impurity_decrease, 0.0, allow_inf=True
            ),
            random_state=seed_of(self.random_state),
            max_bins=check_int("max_bins", self.max_bins, 2),
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True),
            ccp_alpha=check_real("ccp_alpha", self.ccp_alpha, 0.0),
            backend=self._core_backend(),
        )
        self._model.fit(X, y_codes, sample_weight=sw)
        self._set_fitted_attributes(X.shape[1])
        return self

    def _set_fitted_attributes(self, n_features):
        self.n_outputs_ = 1
        self.max_features_ = resolved_max_features(self.max_features, n_features)

    @property
    def feature_importances_(self):
        """Normalized total impurity decrease per feature (NotFittedError before fit, as
        scikit-learn's)."""
        check_is_fitted(self, "_model")
        return np.asarray(self._model.feature_importances_, dtype=np.float64)

    @property
    def tree_(self):
        """The fitted tree in scikit-learn's form (mlcore/_tree_view.py), built once per fit."""
        check_is_fitted(self, "_model")
        return derived(
            self,
            lambda: TreeView(
                self._model.tree_arrays(),
                self._model,
                self.n_features_in_,
                getattr(self, "n_classes_", None),
                depth_first=self.max_leaf_nodes is None,
            ),
        )

    def apply(self, X, check_input=True):
        """The id (in ``tree_``'s numbering) of the leaf each sample ends in."""
        X = tree_query_X(self, X, accept_sparse=True)
        leaves = np.asarray(self._model_for_call().apply(X)).reshape(-1)
        return self.tree_._new_id[leaves].astype(np.intp)

    def decision_path(self, X, check_input=True):
        """CSR indicator (n_samples, node_count): the nodes each sample's path passes through
        (the leaves from ``apply`` on the backend; the paths gathered on the host)."""
        return self.tree_.decision_path_from_leaves(self.apply(X))

    def cost_complexity_pruning_path(self, X, y, sample_weight=None):
        """scikit-learn's minimal cost-complexity pruning path of the tree grown on (X, y):
        a Bunch of ``ccp_alphas`` (increasing) and ``impurities`` (the pruned trees' total leaf
        impurity, weighted by the leaves' weight fractions)."""
        from sklearn.base import clone
        from sklearn.utils import Bunch

        est = clone(self).set_params(ccp_alpha=0.0)
        est.fit(X, y, sample_weight=sample_weight)
        alphas, impurities = est._model.pruning_path()
        return Bunch(ccp_alphas=np.asarray(alphas), impurities=np.asarray(impurities))

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
    splitter : {"best"}, default="best"
        "random" is refused (mlcore searches every bin edge of the features drawn).
    min_weight_fraction_leaf : float in [0, 0.5], default=0.0
        Each leaf weighs at least this fraction of the total sample weight (one minimum with
        ``min_samples_leaf``, which mlcore applies to a child's weight).
    ccp_alpha : float >= 0, default=0.0
        Minimal cost-complexity pruning after growth (scikit-learn's rule: collapse the
        weakest link while its effective alpha is <= ccp_alpha).
    monotonic_cst : None
        Monotonicity constraints are not supported (anything but None is refused).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_, n_classes_, n_features_in_, n_outputs_ (1), max_features_, feature_importances_,
    tree_ (scikit-learn's node arrays), profile_
    """

    _core_class = _core.DecisionTreeClassifier
    _classifier = True

    def __init__(
        self,
        *,
        criterion=_DECISION_TREE_CLASSIFIER_DEFAULTS["criterion"],
        splitter="best",
        max_depth=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_depth"],
        min_samples_split=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_samples_split"],
        min_samples_leaf=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_samples_leaf"],
        min_weight_fraction_leaf=0.0,
        max_features=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_features"],
        random_state=None,
        max_leaf_nodes=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_leaf_nodes"],
        min_impurity_decrease=_DECISION_TREE_CLASSIFIER_DEFAULTS["min_impurity_decrease"],
        class_weight=None,
        ccp_alpha=_DECISION_TREE_CLASSIFIER_DEFAULTS["ccp_alpha"],
        monotonic_cst=None,
        max_bins=_DECISION_TREE_CLASSIFIER_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.criterion = criterion
        self.splitter = splitter
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst
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

    def predict_proba(self, X, check_input=True):
        """Class probabilities (n_samples, n_classes): the class fractions of each leaf."""
        X = tree_query_X(self, X, accept_sparse=True)
        proba = self._model_for_call().predict_proba(X)
        return proba.astype(np.float64)

    def predict(self, X, check_input=True):
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
        splitter="best",
        max_depth=_DECISION_TREE_REGRESSOR_DEFAULTS["max_depth"],
        min_samples_split=_DECISION_TREE_REGRESSOR_DEFAULTS["min_samples_split"],
        min_samples_leaf=_DECISION_TREE_REGRESSOR_DEFAULTS["min_samples_leaf"],
        min_weight_fraction_leaf=0.0,
        max_features=_DECISION_TREE_REGRESSOR_DEFAULTS["max_features"],
        random_state=None,
        max_leaf_nodes=_DECISION_TREE_REGRESSOR_DEFAULTS["max_leaf_nodes"],
        min_impurity_decrease=_DECISION_TREE_REGRESSOR_DEFAULTS["min_impurity_decrease"],
        ccp_alpha=_DECISION_TREE_REGRESSOR_DEFAULTS["ccp_alpha"],
        monotonic_cst=None,
        max_bins=_DECISION_TREE_REGRESSOR_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.criterion = warn_criterion_alias(criterion)
        self.splitter = splitter
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.min_impurity_decrease = min_impurity_decrease
        self.max_leaf_nodes = max_leaf_nodes
        self.max_bins = max_bins
        self.backend = backend

    def predict(self, X, check_input=True):
        """The mean target of each sample's leaf."""
        X = tree_query_X(self, X, accept_sparse=True)
        pred = self._model_for_call().predict(X)
        return pred.reshape(-1).astype(np.float64)
