"""Tree ensembles: random forests and histogram gradient boosting.

* :class:`RandomForestClassifier`, :class:`RandomForestRegressor` — scikit-learn's parameters;
  the trees are grown in parallel over the cores (``n_jobs``; ``None`` means
  ``mlcore.num_threads()``, i.e. every core unless ``mlcore.set_num_threads`` or
  ``MLCORE_NUM_THREADS`` / ``OMP_NUM_THREADS`` say fewer).
* :class:`GradientBoostingClassifier`, :class:`GradientBoostingRegressor` — the histogram
  method of LightGBM / XGBoost-hist with the parameters of scikit-learn's
  ``HistGradientBoostingClassifier`` / ``HistGradientBoostingRegressor`` (``max_iter``,
  ``learning_rate``, ``max_leaf_nodes``, ``l2_regularization``, ``early_stopping``, ...).

All of them bin the features once and build every node histogram with the ``histogram`` primitive on the
chosen backend; NaN in ``X`` is a missing value whose side each split learns.
"""

from __future__ import annotations

import itertools
import time
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_consistent_length, column_or_1d, validate_data

from . import _core
from ._estimator import MissingValuesTags, MLCoreEstimatorMixin
from .tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    check_monotonic_cst,
    derived,
    min_samples_leaf_with_fraction,
)
from ._validation import (
    check_bool,
    float32_sample_weight,
    check_int,
    check_max_features,
    check_max_samples,
    check_real,
    min_samples,
    seed_of,
    tree_fit_data,
    tree_query_X,
    warn_criterion_alias,
)

__all__ = [
    "RandomForestClassifier",
    "RandomForestRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
]


# ---- random forests ------------------------------------------------------------------------


# scikit-learn's words (its tests match them), then why.
OOB_NEEDS_BOOTSTRAP = (
    "Out of bag estimation only available if bootstrap=True (with bootstrap=False no sample "
    "is out of bag)"
)


def set_oob_attributes(forest):
    """oob_score_ and oob_decision_function_ / oob_prediction_ from the fitted model; with
    scikit-learn's UserWarning when some training rows were in every tree's bootstrap (their
    rows are NaN: no out-of-bag estimate)."""
    model = forest._model
    forest.oob_score_ = float(model.oob_score_)
    if forest._classifier:
        forest.oob_decision_function_ = model.oob_decision_function_.astype(np.float64)
        rows = forest.oob_decision_function_
    else:
        forest.oob_prediction_ = model.oob_prediction_.astype(np.float64)
        rows = forest.oob_prediction_
    if np.isnan(rows).any():
        warnings.warn(
            "Some inputs do not have OOB scores. This probably means too few trees were used "
            "to compute any reliable OOB estimates.",
            UserWarning,
            stacklevel=3,
        )


class _BaseForest(MissingValuesTags, MLCoreEstimatorMixin, BaseEstimator):
    _classifier = False
    _accept_sparse = True  # made dense (tree_fit_data): scikit-learn's sparse tag

    def fit(self, X, y, sample_weight=None):
        """Grow n_estimators trees on bootstrap samples of (X, y); NaN in X means missing.
        sample_weight (times class_weight) must be whole numbers, as for a tree; they multiply
        each tree's bootstrap counts. With warm_start, a fitted forest keeps its trees and grows
        only the ones n_estimators adds (tree t is the same as in a forest grown at once)."""
        warm_start = check_bool("warm_start", self.warm_start)
        previous = getattr(self, "_model", None) if warm_start else None
        check_monotonic_cst(self.monotonic_cst)
        if check_real("ccp_alpha", self.ccp_alpha, 0.0) != 0.0:
            raise ValueError(
                "ccp_alpha > 0 is not supported by mlcore's forests (each tree unpruned); "
                "DecisionTreeClassifier / DecisionTreeRegressor take it"
            )
        X, y_codes, sw = tree_fit_data(
            self, X, y, self._classifier, sample_weight, accept_sparse=True
        )
        n = X.shape[0]
        bootstrap = bool(self.bootstrap)
        draws = (
            _core.forest_bootstrap_draws(
                type(self).__name__, check_max_samples(self.max_samples), True, n
            )
            if bootstrap
            else n
        )
        if self.oob_score and not bootstrap:
            raise ValueError(OOB_NEEDS_BOOTSTRAP)
        n_jobs = check_int("n_jobs", self.n_jobs, -1, allow_none=True)
        n_estimators = check_int("n_estimators", self.n_estimators, 1)
        tree_options = dict(
            criterion=self.criterion,
            max_depth=check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_split=min_samples("min_samples_split", self.min_samples_split, n, 2),
            # a bootstrap's total weight is Σ sample_weight · draws / n on average
            min_samples_leaf=min_samples_leaf_with_fraction(self, n, sw, draws / n),
            max_features=check_max_features(self.max_features),
            min_impurity_decrease=check_real(
                "min_impurity_decrease", self.min_impurity_decrease, 0.0, allow_inf=True
            ),
            max_bins=check_int("max_bins", self.max_bins, 2),
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True),
        )
        model = self._core_class(
            n_estimators=n_estimators,
            **tree_options,
            bootstrap=bootstrap,
            oob_score=bool(self.oob_score),
            n_jobs=-1 if n_jobs in (None, 0) else n_jobs,
            random_state=seed_of(self.random_state),
            max_samples=check_max_samples(self.max_samples),
            warm_start=warm_start,
            backend=self._core_backend(),
        )
        if previous is not None and previous.fitted:
            if n_estimators == previous.n_estimators_:
                warnings.warn(
                    "Warm-start fitting without increasing n_estimators does not fit new trees.",
                    UserWarning,
                    stacklevel=2,
                )
            model.warm_start_from(previous)  # the C++ fit refuses fewer trees than it holds
        model.fit(X, y_codes, sample_weight=sw)
        self._model = model
        self._tree_options = tree_options
        self.n_outputs_ = 1
        # scikit-learn's private attribute, read by its tests: the draws of each bootstrap
        self._n_samples_bootstrap = (
            _core.forest_bootstrap_draws(type(self).__name__, self.max_samples, True, n)
            if bootstrap
            else None
        )
        if self.oob_score:
            set_oob_attributes(self)
        return self

    def apply(self, X):
        """The leaf each sample ends in, in every tree: (n_samples, n_estimators), ids in each
        tree's ``tree_`` numbering (the walks on the backend)."""
        X = tree_query_X(self, X, accept_sparse=True)
        leaves = np.asarray(self._model_for_call().apply(X))
        out = np.empty(leaves.shape, dtype=np.intp)
        for t, est in enumerate(self.estimators_):
            out[:, t] = est.tree_._new_id[leaves[:, t]]
        return out

    @property
    def feature_importances_(self):
        """The trees' mean normalized importances (NotFittedError before fit, as
        scikit-learn's)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "_model")
        return np.asarray(self._model.feature_importances_, dtype=np.float64)

    def decision_path(self, X):
        """(indicator, n_nodes_ptr), scikit-learn's: the CSR indicator (n_samples, Σ nodes) of
        the nodes each sample passes through in every tree, tree t's columns starting at
        n_nodes_ptr[t]."""
        import scipy.sparse as sp

        leaves = self.apply(X)
        paths = [
            est.tree_.decision_path_from_leaves(leaves[:, t])
            for t, est in enumerate(self.estimators_)
        ]
        n_nodes_ptr = np.cumsum([0] + [p.shape[1] for p in paths]).astype(np.intp)
        return sp.hstack(paths).tocsr(), n_nodes_ptr

    @property
    def estimators_(self):
        """The fitted trees, as mlcore DecisionTreeClassifier / DecisionTreeRegressor estimators
        (each with ``tree_``, predict, apply) holding a copy of the forest's tree t."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "_model")
        return derived(self, self._build_estimators)

    def _build_estimators(self):
        tree_class = DecisionTreeClassifier if self._classifier else DecisionTreeRegressor
        opts = self._tree_options
        trees = []
        for t in range(int(self._model.n_estimators_)):
            est = tree_class(
                criterion=opts["criterion"],
                max_depth=opts["max_depth"],
                min_samples_split=opts["min_samples_split"],
                min_samples_leaf=opts["min_samples_leaf"],
                max_features=self.max_features,
                min_impurity_decrease=opts["min_impurity_decrease"],
                max_leaf_nodes=opts["max_leaf_nodes"],
                max_bins=opts["max_bins"],
                backend=self.backend,
            )
            core = tree_class._core_class(
                **{k: v for k, v in opts.items()},
                random_state=0,
                backend=self._core_backend(),
            )
            core.set_from_forest(self._model, t)
            est._model = core
            est.n_features_in_ = self.n_features_in_
            if hasattr(self, "feature_names_in_"):
                est.feature_names_in_ = self.feature_names_in_
            if self._classifier:
                est.classes_ = self.classes_
                est.n_classes_ = self.n_classes_
            est._set_fitted_attributes(self.n_features_in_)
            trees.append(est)
        return trees

    def __len__(self):
        """The number of trees in the fitted forest."""
        return int(self._model_for_call().n_estimators_)

    def __iter__(self):
        return iter(self.estimators_)

    def __getitem__(self, index):
        return self.estimators_[index]


_RANDOM_FOREST_CLASSIFIER_DEFAULTS = _core.RandomForestClassifier.defaults


class RandomForestClassifier(ClassifierMixin, _BaseForest):
    """A random forest of histogram classification trees (scikit-learn's parameters).

    Parameters
    ----------
    n_estimators : int, default=100
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
    max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease : as scikit-learn's
    max_features : {"sqrt", "log2"}, int, float or None, default="sqrt"
    max_leaf_nodes : int or None, default=None
        Each tree grown best-first up to this many leaves (as :class:`DecisionTreeClassifier`).
    bootstrap : bool, default=True
    oob_score : bool, default=False
        Accuracy of out-of-bag predictions, in ``oob_score_``.
    max_samples : int, float or None, default=None
        Draws per bootstrap sample: None, n; an int, that many; a float, that fraction of n
        (at least 1). Only with ``bootstrap=True``.
    warm_start : bool, default=False
        Refitting a fitted forest keeps its trees and adds ``n_estimators - len(self)`` more
        (tree t is grown as in a forest of the same ``random_state`` fitted at once).
    n_jobs : int or None, default=None
        Threads growing trees; None or -1: ``mlcore.num_threads()``.
    random_state : int, RandomState or None, default=None
    max_bins : int, default=255
    backend : str, mlcore.Backend or None, default=None
    """

    _core_class = _core.RandomForestClassifier
    _classifier = True

    def __init__(
        self,
        n_estimators=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["n_estimators"],
        *,
        criterion=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["criterion"],
        max_depth=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["max_depth"],
        min_samples_split=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["min_samples_split"],
        min_samples_leaf=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["min_samples_leaf"],
        min_weight_fraction_leaf=0.0,
        max_features=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["max_features"],
        min_impurity_decrease=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["min_impurity_decrease"],
        max_leaf_nodes=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["max_leaf_nodes"],
        bootstrap=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["bootstrap"],
        oob_score=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["oob_score"],
        n_jobs=None,
        random_state=None,
        warm_start=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["warm_start"],
        class_weight=None,
        max_samples=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["max_samples"],
        ccp_alpha=0.0,
        monotonic_cst=None,
        max_bins=_RANDOM_FOREST_CLASSIFIER_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst
        self.class_weight = class_weight
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.max_leaf_nodes = max_leaf_nodes
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.warm_start = warm_start
        self.max_samples = max_samples
        self.max_bins = max_bins
        self.backend = backend

    def predict_proba(self, X):
        """The trees' mean class probabilities (n_samples, n_classes)."""
        X = tree_query_X(self, X, accept_sparse=True)
        proba = self._model_for_call().predict_proba(X)
        return proba.astype(np.float64)

    def predict(self, X):
        """The class with the largest mean probability."""
        proba = self.predict_proba(X)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


_RANDOM_FOREST_REGRESSOR_DEFAULTS = _core.RandomForestRegressor.defaults


class RandomForestRegressor(RegressorMixin, _BaseForest):
    """A random forest of histogram regression trees (scikit-learn's parameters, as
    :class:`RandomForestClassifier`'s; criterion "squared_error" or "friedman_mse",
    max_features default 1.0)."""

    _core_class = _core.RandomForestRegressor

    def __init__(
        self,
        n_estimators=_RANDOM_FOREST_REGRESSOR_DEFAULTS["n_estimators"],
        *,
        criterion=_RANDOM_FOREST_REGRESSOR_DEFAULTS["criterion"],
        max_depth=_RANDOM_FOREST_REGRESSOR_DEFAULTS["max_depth"],
        min_samples_split=_RANDOM_FOREST_REGRESSOR_DEFAULTS["min_samples_split"],
        min_samples_leaf=_RANDOM_FOREST_REGRESSOR_DEFAULTS["min_samples_leaf"],
        min_weight_fraction_leaf=0.0,
        max_features=_RANDOM_FOREST_REGRESSOR_DEFAULTS["max_features"],
        min_impurity_decrease=_RANDOM_FOREST_REGRESSOR_DEFAULTS["min_impurity_decrease"],
        max_leaf_nodes=_RANDOM_FOREST_REGRESSOR_DEFAULTS["max_leaf_nodes"],
        bootstrap=_RANDOM_FOREST_REGRESSOR_DEFAULTS["bootstrap"],
        oob_score=_RANDOM_FOREST_REGRESSOR_DEFAULTS["oob_score"],
        n_jobs=None,
        random_state=None,
        warm_start=_RANDOM_FOREST_REGRESSOR_DEFAULTS["warm_start"],
        max_samples=_RANDOM_FOREST_REGRESSOR_DEFAULTS["max_samples"],
        ccp_alpha=0.0,
        monotonic_cst=None,
        max_bins=_RANDOM_FOREST_REGRESSOR_DEFAULTS["max_bins"],
        backend=None,
    ):
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.ccp_alpha = ccp_alpha
        self.monotonic_cst = monotonic_cst
        self.n_estimators = n_estimators
        self.criterion = warn_criterion_alias(criterion)
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.max_leaf_nodes = max_leaf_nodes
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.warm_start = warm_start
        self.max_samples = max_samples
        self.max_bins = max_bins
        self.backend = backend

    def predict(self, X):
        """The trees' mean prediction."""
        X = tree_query_X(self, X, accept_sparse=True)
        pred = self._model_for_call().predict(X)
        return pred.reshape(-1).astype(np.float64)


# ---- gradient boosting ---------------------------------------------------------------------


def _categorical_mask(X, categorical_features):
    """scikit-learn's reading of ``categorical_features`` for X (before X is converted, so
    that a DataFrame's dtypes and column names are seen): a bool mask over the features, or
    None when no feature is categorical. Raises scikit-learn's ValueErrors for a bad spec."""
    columns = getattr(X, "columns", None)
    is_frame = hasattr(X, "dtypes") and columns is not None
    if categorical_features is None:
        return None
    if isinstance(categorical_features, str) and categorical_features == "from_dtype":
        if not is_frame:
            return None
        spec = np.asarray([str(dt) in ("category", "Categorical", "Enum") for dt in X.dtypes])
    else:
        spec = np.asarray(categorical_features)
    if spec.size == 0:
        return None
    kind = spec.dtype.kind
    if kind not in ("i", "u", "b", "U", "O"):
        raise ValueError(
            f"categorical_features must be an array-like of bool, int or str, got: "
            f"{spec.dtype.name}."
        )
    if kind == "O" and {type(v) for v in spec} != {str}:
        names = sorted({type(v).__name__ for v in spec})
        raise ValueError(
            f"categorical_features must be an array-like of bool, int or str, got: "
            f"{', '.join(names)}."
        )
    n_features = X.shape[1] if hasattr(X, "shape") else np.asarray(X, dtype=object).shape[1]
    mask = np.zeros(n_features, dtype=bool)
    if kind in ("U", "O"):
        if columns is None:
            raise ValueError(
                "categorical_features should be passed as an array of integers or as a "
                "boolean mask when the model is fitted on data without feature names."
            )
        names = [str(c) for c in columns]
        for name in spec:
            if name not in names:
                raise ValueError(
                    f"categorical_features has an item value '{name}' which is not a valid "
                    f"feature name of the training data. Observed feature names: {names}"
                )
            mask[names.index(name)] = True
    elif kind in ("i", "u"):
        if spec.max() >= n_features or spec.min() < 0:
            raise ValueError(
                "categorical_features set as integer indices must be in [0, n_features - 1]"
            )
        mask[spec] = True
    else:
        if spec.shape != (n_features,):
            raise ValueError(
                "categorical_features set as a boolean mask must have shape (n_features,), "
                f"got: {spec.shape}"
            )
        mask = spec.astype(bool)
    return mask if mask.any() else None


def _categorical_cardinality(X, f):
    """The number of distinct non-missing values of feature f in the raw X."""
    if hasattr(X, "iloc"):
        return int(X.iloc[:, f].dropna().nunique())
    column = np.asarray(X, dtype=object)[:, f]
    kept = [v for v in column if not (isinstance(v, float) and np.isnan(v))]
    return len(set(kept))


class _BaseBoosting(MissingValuesTags, MLCoreEstimatorMixin, BaseEstimator):
    _classifier = False

    def _check_interaction_cst(self, n_features):
        """interaction_cst as a list of sets of feature indices, with the features no group
        names as one more group (scikit-learn's private method, its rules and messages);
        None without constraints."""
        cst = self.interaction_cst
        if cst is None:
            return None
        if isinstance(cst, str) and cst == "no_interactions":
            cst = [[f] for f in range(n_features)]
        elif isinstance(cst, str) and cst == "pairwise":
            cst = itertools.combinations(range(n_features), 2)
        elif isinstance(cst, str):
            raise ValueError(
                "interaction_cst must be 'pairwise', 'no_interactions', None or a sequence "
                f"of groups of feature indices, got {cst!r}"
            )
        try:
            groups = [set(group) for group in cst]
        except TypeError:
            raise ValueError(
                "Interaction constraints must be a sequence of tuples or lists, got: "
                f"{self.interaction_cst!r}."
            ) from None
        for group in groups:
            for f in group:
                if isinstance(f, (bool, np.bool_)) or not (
                    isinstance(f, Integral) and 0 <= f < n_features
                ):
                    raise ValueError(
                        "Interaction constraints must consist of integer indices in [0, "
                        f"n_features - 1] = [0, {n_features - 1}], specifying the position of "
                        f"features, got invalid indices: {group!r}"
                    )
        rest = set(range(n_features)) - set().union(*groups)
        if rest:
            groups.append(rest)
        return groups

    def _should_stop(self, scores):
        """Whether early stopping ends the fit after these scores (higher is better): none
        of the last n_iter_no_change beats the one before them by more than tol. The C++
        fit's rule (scikit-learn's private method, read by its tests)."""
        return bool(
            _core.boosting_should_stop(
                [float(s) for s in scores],
                check_int("n_iter_no_change", self.n_iter_no_change, 1),
                check_real("tol", self.tol, 0.0, allow_inf=True),
            )
        )

    def _check_categorical(self, X):
        """is_categorical_ (scikit-learn's reading of categorical_features; None when no
        feature is categorical) and the checks scikit-learn makes before binning; refuses a
        categorical feature, which mlcore's boosting cannot split on."""
        mask = _categorical_mask(X, self.categorical_features)
        self.is_categorical_ = mask
        if mask is None:
            return
        if self.monotonic_cst is not None:
            cst = np.asarray(self.monotonic_cst)
            if cst.shape == mask.shape and np.any(cst[mask] != 0):
                raise ValueError("Categorical features cannot have monotonic constraints.")
        max_bins = check_int("max_bins", self.max_bins, 2)
        columns = getattr(X, "columns", None)
        for f in np.flatnonzero(mask):
            cardinality = _categorical_cardinality(X, f)
            if cardinality > max_bins:
                name = repr(str(columns[f])) if columns is not None else f"at index {f}"
                raise ValueError(
                    f"Categorical feature {name} is expected to have a cardinality <= "
                    f"{max_bins} but actually has a cardinality of {cardinality}."
                )
        raise ValueError(
            "categorical_features: categorical splits are not supported by mlcore's "
            f"{type(self).__name__} (features {np.flatnonzero(mask).tolist()} are "
            "categorical); encode them as numbers and pass categorical_features=None"
        )

    def _given_validation(self, X_val, y_val, sample_weight_val):
        """X_val, y_val (class codes for a classifier), sample_weight_val as the C++ fit
        takes them, checked as scikit-learn checks them."""
        X_val = validate_data(
            self, X_val, dtype=np.float32, ensure_all_finite="allow-nan", order="C", reset=False
        )
        X_val = np.ascontiguousarray(X_val, dtype=np.float32)
        y_val = column_or_1d(y_val, warn=True)
        check_consistent_length(X_val, y_val)
        if self._classifier:
            codes = np.searchsorted(self.classes_, y_val)
            codes = np.minimum(codes, len(self.classes_) - 1)
            unseen = self.classes_[codes] != y_val
            if np.any(unseen):
                raise ValueError(
                    f"y_val contains labels not in y: {np.unique(y_val[unseen]).tolist()}"
                )
            y_val = codes
        elif not np.all(np.isfinite(np.asarray(y_val, dtype=np.float64))):
            raise ValueError("y_val contains NaN or infinity")
        y_val = np.ascontiguousarray(y_val, dtype=np.float32)
        return X_val, y_val, float32_sample_weight(sample_weight_val, X_val)

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Boost max_iter rounds of trees on (X, y); NaN in X means missing. sample_weight
        scales each sample's gradient and hessian (any finite weights >= 0). interaction_cst
        restricts the features each branch may combine. X_val, y_val (and
        sample_weight_val): the rows early stopping scores, instead of a validation_fraction
        split of (X, y), all of which then train (scikit-learn's rules)."""
        if X_val is not None and y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if y_val is not None and X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        self._check_categorical(X)
        if self.monotonic_cst is not None:
            raise ValueError(
                "monotonic_cst is not supported by mlcore's boosting (its split finder has no "
                f"monotonic constraints); pass monotonic_cst=None, got {self.monotonic_cst!r}"
            )
        X, y_codes, sw = tree_fit_data(self, X, y, self._classifier, sample_weight)
        groups = self._check_interaction_cst(X.shape[1])
        if self._classifier and self.n_classes_ < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got "
                f"{self.n_classes_} class{'es' if self.n_classes_ != 1 else ''}"
            )
        if self.early_stopping not in ("auto", True, False):
            raise ValueError(
                f"early_stopping must be 'auto', True or False, got {self.early_stopping!r}"
            )
        if self.scoring is not None and not isinstance(self.scoring, str):
            raise ValueError(
                "scoring must be 'loss', None or a scorer's name (callables are not "
                f"implemented by mlcore), got {self.scoring!r}"
            )
        vf = self.validation_fraction
        if vf is not None:
            vf = check_real("validation_fraction", vf, 0.0, 1.0, low_open=True, high_open=True)
        self._model = self._core_class(
            loss=self.loss,
            learning_rate=check_real(
                "learning_rate", self.learning_rate, 0.0, low_open=True, allow_inf=True
            ),
            max_iter=check_int("max_iter", self.max_iter, 1),
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True),
            max_depth=check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_leaf=check_int("min_samples_leaf", self.min_samples_leaf, 1),
            l2_regularization=check_real(
                "l2_regularization", self.l2_regularization, 0.0, allow_inf=True
            ),
            max_bins=check_int("max_bins", self.max_bins, 2),
            early_stopping={"auto": "auto", True: "true", False: "false"}[self.early_stopping],
            scoring="default" if self.scoring is None else self.scoring,  # C++ checks the name
            validation_fraction=vf,
            n_iter_no_change=check_int("n_iter_no_change", self.n_iter_no_change, 1),
            tol=check_real("tol", self.tol, 0.0, allow_inf=True),
            random_state=seed_of(self.random_state),
            interaction_cst=[] if groups is None else [sorted(g) for g in groups],
            backend=self._core_backend(),
        )
        verbose = check_int("verbose", self.verbose, 0)
        start = time.perf_counter()
        if X_val is None:
            self._model.fit(X, y_codes, sample_weight=sw)
        else:
            self._model.fit_with_validation(
                X, y_codes, sw, *self._given_validation(X_val, y_val, sample_weight_val)
            )
        seconds = time.perf_counter() - start
        self.n_iter_ = int(self._model.n_iter_)
        self.do_early_stopping_ = self.early_stopping is True or (
            self.early_stopping == "auto" and X.shape[0] > 10000
        )
        self.train_score_ = np.asarray(self._model.train_score_, dtype=np.float64)
        self.validation_score_ = np.asarray(self._model.validation_score_, dtype=np.float64)
        self.feature_importances_ = np.asarray(self._model.feature_importances_, dtype=np.float64)
        if verbose:
            self._report_fit(seconds)
        return self

    def _report_fit(self, seconds):
        """What verbose > 0 prints, as scikit-learn's HistGradientBoosting does: one line per
        iteration with the losses early stopping saw, then the total. Printed after the fit,
        which runs in C++ without a callback, so the lines carry no per-iteration times."""
        # scoring="loss": the scores are −loss; None: accuracy or R², printed as they are
        sign, what = (-1, "loss") if self.scoring == "loss" else (1, "score")
        train, val = sign * self.train_score_, sign * self.validation_score_
        print("Fitting gradient boosted rounds:")
        for it in range(self.n_iter_):
            line = f"[{it + 1}/{self.max_iter}]"
            if it + 1 < len(train):  # entry 0 is the baseline's
                line += f" train {what}: {train[it + 1]:.5f},"
            if it + 1 < len(val):
                line += f" val {what}: {val[it + 1]:.5f},"
            print(line.rstrip(","))
        if self.do_early_stopping_ and self.n_iter_ < self.max_iter:
            print(f"Stopped early after {self.n_iter_} iterations (n_iter_no_change reached)")
        print(f"Fit {self.n_iter_} iterations of trees in {seconds:.3f} s")

    def _raw_predict(self, X):
        """The raw scores (n_samples, n_trees_per_iteration) in float64: baseline + trees,
        before the link's inverse (scikit-learn's private method, read by its tests)."""
        if self._classifier:
            raw = self.decision_function(X)
            return raw.reshape(raw.shape[0], -1)
        if self.loss in ("poisson", "gamma"):  # predict returns e^raw: sum the trees instead
            raw = None
            for raw in self._staged_raw(X):
                pass
            return np.asarray(raw, dtype=np.float64).copy()
        return self.predict(X).reshape(-1, 1)

    def _staged_raw(self, X):
        """Raw scores (n_samples, n_trees_per_iteration) after each iteration."""
        X = tree_query_X(self, X)
        model = self._model_for_call()
        raw = model.baseline_raw(X.shape[0])
        for it in range(self.n_iter_):
            model.add_iteration(X, it, raw)
            yield raw


_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS = _core.GradientBoostingClassifier.defaults


class GradientBoostingClassifier(ClassifierMixin, _BaseBoosting):
    """Histogram gradient boosting for classification (log-loss; binary or multiclass, one
    tree per class and iteration), with scikit-learn's ``HistGradientBoostingClassifier``
    parameters.

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
    learning_rate : float, default=0.1
    max_iter : int, default=100
    max_leaf_nodes : int or None, default=31
        Trees grow best-first (largest gain first) up to this many leaves.
    max_depth : int or None, default=None
    min_samples_leaf : int, default=20
    l2_regularization : float, default=0.0
    max_bins : int, default=255
    categorical_features : "from_dtype", array-like of bool, int or str, or None
        Read as scikit-learn reads it (``is_categorical_``); a categorical feature is refused
        with a ValueError (mlcore has no categorical splits): encode it as numbers and pass
        None. "from_dtype" (the default) finds none in an array.
    monotonic_cst : None
        Monotonic constraints are not implemented: anything but None is a ValueError.
    interaction_cst : {"pairwise", "no_interactions"}, sequence of groups of ints, or None
        Interaction constraints, as scikit-learn's: a branch of a tree splits only on
        features of the groups that hold every feature split on above it; features in no
        group form one more group.
    early_stopping : "auto" or bool, default="auto"
        "auto": on when n_samples > 10000.
    scoring : "loss", None or a scorer's name, default="loss"
        What early stopping watches: the loss, or (None) the estimator's default score,
        accuracy or R² (on all training rows where scikit-learn takes a 10 000-row subsample);
        by name "accuracy" (classifier), "r2", "neg_mean_squared_error" or
        "neg_mean_absolute_error" (regressor). Other scorers and callables are refused.
    validation_fraction : float or None, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-7
    verbose : int, default=0
        > 0: print each iteration's train and validation losses and the fit's time (after the
        fit, which runs in C++).
    random_state : int, RandomState or None, default=None
    class_weight : dict, "balanced" or None, default=None
        Multiplies sample_weight by the weight of each sample's class (scikit-learn's rule).
    backend : str, mlcore.Backend or None, default=None

    Attributes
    ----------
    classes_, n_iter_, n_trees_per_iteration_, train_score_, validation_score_,
    feature_importances_ (gain-based; an mlcore extra), profile_
    """

    _core_class = _core.GradientBoostingClassifier
    _classifier = True

    def __init__(
        self,
        loss=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["loss"],
        *,
        learning_rate=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["learning_rate"],
        max_iter=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["max_iter"],
        max_leaf_nodes=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["max_leaf_nodes"],
        max_depth=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["max_depth"],
        min_samples_leaf=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["min_samples_leaf"],
        l2_regularization=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["l2_regularization"],
        max_bins=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["max_bins"],
        categorical_features="from_dtype",
        monotonic_cst=None,
        interaction_cst=None,
        early_stopping=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["early_stopping"],
        scoring=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["scoring"],
        validation_fraction=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["validation_fraction"],
        n_iter_no_change=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["n_iter_no_change"],
        tol=_GRADIENT_BOOSTING_CLASSIFIER_DEFAULTS["tol"],
        verbose=0,
        random_state=None,
        class_weight=None,
        backend=None,
    ):
        self.class_weight = class_weight
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.monotonic_cst = monotonic_cst
        self.interaction_cst = interaction_cst
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.backend = backend

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        super().fit(
            X, y, sample_weight, X_val=X_val, y_val=y_val, sample_weight_val=sample_weight_val
        )
        self.n_trees_per_iteration_ = 1 if self.n_classes_ == 2 else self.n_classes_
        return self

    def _raw_to_proba(self, raw):
        raw = np.asarray(raw, dtype=np.float64)
        if raw.shape[1] == 1:
            p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def decision_function(self, X):
        """Raw scores: (n_samples,) for two classes, else (n_samples, n_classes)."""
        X = tree_query_X(self, X)
        raw = self._model_for_call().decision_function(X).astype(np.float64)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes)."""
        X = tree_query_X(self, X)
        raw = self._model_for_call().decision_function(X)
        return self._raw_to_proba(raw)

    def _raw_to_codes(self, raw):
        """The predicted class codes from raw scores: the sign for two classes, else the
        largest score. The same as the most probable class, but taken before the sigmoid /
        softmax, whose rounding can tie: a raw score of 1e-16 is a probability of exactly 0.5,
        and the argmax of [0.5, 0.5] would contradict decision_function's sign."""
        raw = np.asarray(raw)
        if raw.ndim == 1 or raw.shape[1] == 1:
            return (raw.reshape(-1) > 0).astype(np.intp)
        return np.argmax(raw, axis=1)

    def predict(self, X):
        """The most probable class (from the raw scores, consistent with decision_function)."""
        codes = self._raw_to_codes(self.decision_function(X))  # checks fitted first
        return self.classes_[codes]

    def staged_predict_proba(self, X):
        """Class probabilities after each iteration (a generator)."""
        for raw in self._staged_raw(X):
            yield self._raw_to_proba(raw)

    def staged_predict(self, X):
        """Predicted classes after each iteration (a generator)."""
        for raw in self._staged_raw(X):
            yield self.classes_[self._raw_to_codes(raw)]

    def staged_decision_function(self, X):
        """Raw scores after each iteration (a generator)."""
        for raw in self._staged_raw(X):
            out = np.asarray(raw, dtype=np.float64)
            yield out[:, 0].copy() if out.shape[1] == 1 else out.copy()


_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS = _core.GradientBoostingRegressor.defaults


class GradientBoostingRegressor(RegressorMixin, _BaseBoosting):
    """Histogram gradient boosting for regression, with scikit-learn's
    ``HistGradientBoostingRegressor`` parameters (see :class:`GradientBoostingClassifier`).

    loss : {"squared_error", "poisson", "gamma"}, default="squared_error"
        Half squared error; or the half Poisson (y >= 0, sum(y) > 0) or half gamma (y > 0)
        deviance with the log link: the trees add up to the log of the predicted mean, and
        predict returns its exponential. ("absolute_error" and "quantile" are not
        implemented.)"""

    _core_class = _core.GradientBoostingRegressor

    def __init__(
        self,
        loss=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["loss"],
        *,
        learning_rate=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["learning_rate"],
        max_iter=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["max_iter"],
        max_leaf_nodes=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["max_leaf_nodes"],
        max_depth=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["max_depth"],
        min_samples_leaf=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["min_samples_leaf"],
        l2_regularization=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["l2_regularization"],
        max_bins=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["max_bins"],
        categorical_features="from_dtype",
        monotonic_cst=None,
        interaction_cst=None,
        early_stopping=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["early_stopping"],
        scoring=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["scoring"],
        validation_fraction=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["validation_fraction"],
        n_iter_no_change=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["n_iter_no_change"],
        tol=_GRADIENT_BOOSTING_REGRESSOR_DEFAULTS["tol"],
        verbose=0,
        random_state=None,
        backend=None,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.monotonic_cst = monotonic_cst
        self.interaction_cst = interaction_cst
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.backend = backend

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        super().fit(
            X, y, sample_weight, X_val=X_val, y_val=y_val, sample_weight_val=sample_weight_val
        )
        self.n_trees_per_iteration_ = 1
        return self

    def predict(self, X):
        X = tree_query_X(self, X)
        pred = self._model_for_call().predict(X)
        return pred.reshape(-1).astype(np.float64)

    def staged_predict(self, X):
        """Predictions after each iteration (a generator)."""
        # poisson and gamma have the log link: the prediction is e^raw (as predict's, in C++)
        log_link = self.loss in ("poisson", "gamma")
        for raw in self._staged_raw(X):
            out = np.asarray(raw[:, 0], dtype=np.float64).copy()
            yield np.exp(out) if log_link else out
