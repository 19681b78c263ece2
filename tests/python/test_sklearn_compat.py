"""scikit-learn compatibility: every mlcore estimator through scikit-learn's own estimator checks.

``parametrize_with_checks`` runs the ~60 checks scikit-learn applies to its own estimators
(input validation, fit idempotence, pickling, clone, n_features_in_, sample-weight semantics,
...) on every estimator. A check that cannot pass is listed, with the reason, in
``EXPECTED_FAILED_CHECKS`` below — the one place where mlcore says where it differs from
scikit-learn. Passed as ``expected_failed_checks``, each listed check runs as an xfail (strict
where scikit-learn supports it, so a check that starts passing must be taken off the list).
The list was drawn up on scikit-learn 1.9 and the file also passes on 1.6, the oldest release
mlcore supports.

The estimators run on the default backend (mlcore.default_backend(): the fastest f32 CPU
backend here, avx512 > avx2 > scalar), together
with variants that take other code paths (solvers, callable weights, random seeding, early
stopping, ...), and a second time on the int8 systolic simulator, whose quantization has its
own (listed) failures. They are built small (few trees, few boosting rounds), as scikit-learn
does for its own.

Below the checks: the claims the list rests on (weighted fits equal repeated rows to float32
precision), and the scikit-learn tools (clone, Pipeline, cross_val_score, GridSearchCV) on every
estimator.
"""

import inspect

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import shuffle
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlcore


class InverseDistance:
    """A callable ``weights`` for kNN: module level, so estimators using it pickle, and with a
    stable repr, so the test ids do not carry a memory address."""

    def __call__(self, dist):
        return 1.0 / (1.0 + dist)

    def __repr__(self):
        return "InverseDistance()"


def make_estimators(backend=None):
    """One instance of every estimator, small enough for the checks to run in seconds."""
    kw = {} if backend is None else {"backend": backend}
    return [
        mlcore.LinearRegression(**kw),
        mlcore.Ridge(**kw),
        mlcore.LogisticRegression(**kw),
        mlcore.LinearSVC(**kw),
        mlcore.SVC(**kw),
        mlcore.GaussianNB(**kw),
        mlcore.MultinomialNB(**kw),
        mlcore.KNeighborsClassifier(**kw),
        mlcore.KNeighborsRegressor(**kw),
        mlcore.KMeans(n_clusters=3, max_iter=50, **kw),
        mlcore.PCA(**kw),
        mlcore.DecisionTreeClassifier(**kw),
        mlcore.DecisionTreeRegressor(**kw),
        mlcore.RandomForestClassifier(n_estimators=5, **kw),
        mlcore.RandomForestRegressor(n_estimators=5, **kw),
        mlcore.GradientBoostingClassifier(max_iter=10, **kw),
        mlcore.GradientBoostingRegressor(max_iter=10, **kw),
    ]


def make_variants():
    """Other code paths of the same estimators (other solvers, weights, seeding, options)."""
    return [
        mlcore.LinearSVC(loss="hinge"),
        mlcore.LinearSVC(dual=False, class_weight="balanced"),
        mlcore.KNeighborsClassifier(weights="distance"),
        mlcore.KNeighborsClassifier(weights=InverseDistance()),
        mlcore.KNeighborsRegressor(weights=InverseDistance()),
        mlcore.KMeans(n_clusters=3, init="random", n_init=2, max_iter=50),
        mlcore.PCA(n_components=0.9, whiten=True),
        mlcore.DecisionTreeClassifier(criterion="entropy", max_features="sqrt"),
        mlcore.RandomForestClassifier(n_estimators=5, oob_score=True),
        mlcore.RandomForestRegressor(n_estimators=5, bootstrap=False, max_features=0.5),
        mlcore.GradientBoostingClassifier(max_iter=10, early_stopping=True),
        mlcore.GradientBoostingRegressor(max_iter=10, early_stopping=True, max_depth=3),
    ]


# ---- the checks that cannot pass, and why (the one list) -------------------------------------

_SW = "check_sample_weight_equivalence_on_dense_data"
_SW_SPARSE = "check_sample_weight_equivalence_on_sparse_data"  # the estimators that take sparse X
_F32 = (
    "float32 arithmetic: fitting with integer weights and fitting on the repeated rows give "
    "the same model to float32 precision (test_weights_equal_repeated_rows below), but the "
    "check demands rtol 1e-7"
)
_TOL = (
    "iterative solver stopped at `tol`: the weighted and the repeated problems are the same "
    "objective but take different paths to it; at a tight tol they agree to float32 "
    "precision (test_weights_equal_repeated_rows). scikit-learn lists this check for its "
    "own {}"
)

_CLASS_WEIGHT = (
    "the check's class_weight {0: 1000, 1: 0.0001, 2: 0.0001} is fractional: the trees "
    "keep exact integer histogram counts, so their weights (sample_weight times "
    "class_weight) must be whole numbers and this one is refused with a ValueError "
    "that says so (docs/COMPATIBILITY.md); integer class weights are tested in "
    "test_sklearn_behaviour.py"
)
_BOOTSTRAP = (
    "each tree's bootstrap sample draws rows by position, so repeating rows changes the "
    "draws, as in scikit-learn's forests (which list this check for themselves); without "
    "the bootstrap weighted and repeated fits agree"
)
_FEATURE_DRAWS = (
    "max_features < all: each node that may split draws its features from the "
    "tree's generator, and a row of weight 2 is one sample (a node of it alone cannot "
    "split) where its two repeated rows are two, so the draws of later nodes shift; "
    "scikit-learn's trees draw per node the same way"
)
_EARLY_STOP = (
    "early stopping holds out a validation split drawn by position, so repeating rows "
    "changes the split (scikit-learn lists this check for its HistGradientBoosting); "
    "without early stopping the fits agree"
)

EXPECTED_FAILED_CHECKS = {
    "LinearRegression": {_SW: _F32, _SW_SPARSE: _F32},
    "Ridge": {
        _SW: _F32,
        _SW_SPARSE: _F32,
        "check_non_transformer_estimators_n_iter": (
            "the direct (Cholesky) solver has no iterations: n_iter_ is None, as scikit-learn's "
            "Ridge with solver='cholesky', which lists this check for itself too"
        ),
    },
    "MultinomialNB": {_SW: _F32, _SW_SPARSE: _F32},
    "LogisticRegression": {
        _SW: _TOL.format("LogisticRegression"),
        _SW_SPARSE: _TOL.format("LogisticRegression"),
    },
    "LinearSVC": {_SW: _TOL.format("LinearSVC")},
    "SVC": {
        _SW: (
            "gamma='scale' is 1 / (n_features · X.var()) over the rows as given, unweighted, exactly "
            "as scikit-learn's SVC (which lists this check for itself): repeated rows change X.var() "
            "and so the kernel. With a fixed gamma (and a tight tol) the fits agree "
            "(test_weights_equal_repeated_rows)"
        )
    },
    "KMeans": {
        _SW: (
            "random seeding (k-means++ or 'random') draws rows at random by position, so repeating "
            "rows changes the draws and the local optimum found, as in scikit-learn's KMeans (which "
            "lists this check for itself). From the same initial centres the fits agree "
            "(test_weights_equal_repeated_rows)"
        ),
        _SW_SPARSE: "the same random seeding as on dense data (above)",
    },
}

# Entries that depend on an estimator's parameters: (class name, predicate, {check: reason}).
CONDITIONAL_FAILED_CHECKS = [
    ("DecisionTreeClassifier", lambda p: True, {"check_class_weight_classifiers": _CLASS_WEIGHT}),
    ("RandomForestClassifier", lambda p: True, {"check_class_weight_classifiers": _CLASS_WEIGHT}),
    # sparse X is fitted as its dense copy: the same reasons on sparse data
    ("RandomForestClassifier", lambda p: p["bootstrap"], {_SW: _BOOTSTRAP, _SW_SPARSE: _BOOTSTRAP}),
    ("RandomForestRegressor", lambda p: p["bootstrap"], {_SW: _BOOTSTRAP, _SW_SPARSE: _BOOTSTRAP}),
    (
        "RandomForestRegressor",
        lambda p: not p["bootstrap"] and p["max_features"] not in (None, 1.0),
        {_SW: _FEATURE_DRAWS, _SW_SPARSE: _FEATURE_DRAWS},
    ),
    ("GradientBoostingClassifier", lambda p: p["early_stopping"] is True, {_SW: _EARLY_STOP}),
    ("GradientBoostingRegressor", lambda p: p["early_stopping"] is True, {_SW: _EARLY_STOP}),
]

# On the systolic simulator every MAC is int8 with a per-tensor scale chosen from the data of
# the call. This list replaces the one above for backend="systolic" (a check may pass there
# that fails in float32: MultinomialNB's sample-weight check does).
_INT8_SW = (
    "int8 arithmetic: the weighted fit and the fit on repeated rows quantize different "
    "tensors (weighted rows against repeated rows) with different scales, so they agree "
    "to int8 resolution only, not to the check's rtol 1e-7"
)
_INT8_BATCH = (
    "int8 quantization is per call (the scale comes from the batch's largest |x|): a "
    "row's result depends on the other rows of the batch, so predicting on a subset "
    "or one row at a time differs at int8 resolution"
)
SYSTOLIC_EXPECTED_FAILED_CHECKS = {
    "LinearRegression": {_SW: _INT8_SW, _SW_SPARSE: _INT8_SW},
    "Ridge": {
        _SW: _INT8_SW,
        _SW_SPARSE: _INT8_SW,
        **{k: v for k, v in EXPECTED_FAILED_CHECKS["Ridge"].items() if k not in (_SW, _SW_SPARSE)},
    },
    "MultinomialNB": {_SW_SPARSE: _INT8_SW},
    "LogisticRegression": {_SW: _INT8_SW, _SW_SPARSE: _INT8_SW},
    "LinearSVC": {_SW: _INT8_SW},
    "SVC": {_SW: _INT8_SW, "check_methods_subset_invariance": _INT8_BATCH},
    "GaussianNB": {_SW: _INT8_SW},
    "KMeans": {
        _SW: EXPECTED_FAILED_CHECKS["KMeans"][_SW],
        _SW_SPARSE: EXPECTED_FAILED_CHECKS["KMeans"][_SW_SPARSE],
        "check_methods_subset_invariance": _INT8_BATCH,
    },
}


def expected_failed_checks(estimator):
    """{check name: reason} for this estimator on its backend."""
    name = type(estimator).__name__
    params = estimator.get_params()
    if params.get("backend") == "systolic":
        checks = dict(SYSTOLIC_EXPECTED_FAILED_CHECKS.get(name, {}))
    else:
        checks = dict(EXPECTED_FAILED_CHECKS.get(name, {}))
    for cls, applies, entries in CONDITIONAL_FAILED_CHECKS:
        if cls == name and applies(params):
            checks.update(entries)
    return checks


def _checks(estimators, strict):
    kwargs = {"expected_failed_checks": expected_failed_checks}
    if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters:
        kwargs["xfail_strict"] = strict  # newer scikit-learn (1.9 has it, 1.6 does not)
    return parametrize_with_checks(estimators, **kwargs)


# Strict: a listed check that passes fails the test, so the list stays exactly true.
@_checks(make_estimators() + make_variants(), strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# Not strict: which tolerance checks int8 rounding happens to pass moves with the simulator's
# quantization choices; the list says what may fail there and why.
@_checks(
    make_estimators("systolic") if "systolic" in mlcore.available_backends() else [], strict=False
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # int8 L-BFGS
def test_sklearn_estimator_checks_systolic(estimator, check):
    check(estimator)


# ---- the claims the list rests on ------------------------------------------------------------


def _weights_problem(n=15, d=30):
    """The data of scikit-learn's check: n rows of d uniform features, 3 classes, integer
    weights 0..4 (zeros included), and the same rows repeated by their weights."""
    rng = np.random.RandomState(42)
    X = rng.rand(n, d)
    y = rng.randint(0, 3, size=n)
    sw = rng.randint(0, 5, size=n)
    return X, y, sw


_RTOL = _ATOL = 1e-5  # float32 (eps 6e-8) through a d = 30 Gram matrix or solver: ~100 ulp


@pytest.mark.parametrize(
    "make",
    [
        lambda X: mlcore.LinearRegression(),
        lambda X: mlcore.Ridge(),
        lambda X: mlcore.GaussianNB(),
        lambda X: mlcore.MultinomialNB(),
        lambda X: mlcore.LogisticRegression(tol=1e-8, max_iter=1000),
        lambda X: mlcore.LogisticRegression(class_weight="balanced", tol=1e-8, max_iter=1000),
        lambda X: mlcore.LinearSVC(dual=False, tol=1e-12),
        lambda X: mlcore.LinearSVC(dual=True, tol=1e-10, max_iter=100_000),
        lambda X: mlcore.LinearSVC(dual=False, tol=1e-12, class_weight="balanced"),
        lambda X: mlcore.LinearSVC(loss="hinge", dual=True, tol=1e-10, max_iter=100_000),
        lambda X: mlcore.SVC(kernel="linear", tol=1e-8),
        lambda X: mlcore.SVC(kernel="rbf", gamma=0.05, tol=1e-8),
        lambda X: mlcore.KMeans(n_clusters=3, init=X[[0, 1, 2]]),  # rows 0-2 have weight > 0
    ],
    ids=[
        "LinearRegression",
        "Ridge",
        "GaussianNB",
        "MultinomialNB",
        "LogisticRegression",
        "LogisticRegression-balanced",
        "LinearSVC-primal",
        "LinearSVC-dual",
        "LinearSVC-primal-balanced",
        "LinearSVC-hinge",
        "SVC-linear",
        "SVC-rbf",
        "KMeans-fixed-init",
    ],
)
def test_weights_equal_repeated_rows(make):
    """Integer sample weights are the same as repeating rows, to float32 precision: the
    estimators' weighted fits are right, and the listed sample-weight checks fail only on
    scikit-learn's float64 tolerance or on a solver's stopping point (see the list above)."""
    X, y, sw = _weights_problem()
    est = make(X)
    assert sw[:3].min() > 0
    if is_regressor(est):
        y = y.astype(np.float64) + X[:, 0]
    repeated = clone(est).fit(X.repeat(sw, axis=0), y.repeat(sw))
    Xs, ys, sws = shuffle(X, y, sw, random_state=0)
    weighted = clone(est).fit(Xs, ys, sample_weight=sws)
    compared = 0
    for method in ("predict_proba", "decision_function", "predict", "transform"):
        if hasattr(est, method):
            a = getattr(repeated, method)(X)
            b = getattr(weighted, method)(X)
            np.testing.assert_allclose(b, a, rtol=_RTOL, atol=_ATOL, err_msg=method)
            compared += 1
    assert compared >= 1


def test_weights_of_zero_remove_rows():
    """A weight of 0 removes a row: the fit equals the fit without it (float32 precision)."""
    X, y, sw = _weights_problem()
    keep = sw > 0
    for est in (
        mlcore.LinearRegression(),
        mlcore.GaussianNB(),
        mlcore.LogisticRegression(tol=1e-8, max_iter=1000),
    ):
        target = y.astype(np.float64) if is_regressor(est) else y
        a = clone(est).fit(X[keep], target[keep])
        b = clone(est).fit(X, target, sample_weight=keep.astype(np.float64))
        method = "predict_proba" if is_classifier(est) else "predict"
        np.testing.assert_allclose(
            getattr(b, method)(X), getattr(a, method)(X), rtol=_RTOL, atol=_ATOL
        )


# ---- scikit-learn's tools on every estimator -------------------------------------------------

# A parameter each estimator is tuned over in GridSearchCV, with two values.
_GRID = {
    "LinearRegression": ("fit_intercept", [True, False]),
    "Ridge": ("alpha", [0.1, 10.0]),
    "LogisticRegression": ("C", [0.1, 1.0]),
    "LinearSVC": ("C", [0.1, 1.0]),
    "SVC": ("C", [0.5, 2.0]),
    "GaussianNB": ("var_smoothing", [1e-9, 1e-3]),
    "MultinomialNB": ("alpha", [0.1, 1.0]),
    "KNeighborsClassifier": ("n_neighbors", [3, 7]),
    "KNeighborsRegressor": ("n_neighbors", [3, 7]),
    "KMeans": ("n_clusters", [2, 3]),
    "PCA": ("n_components", [1, 3]),
    "DecisionTreeClassifier": ("max_depth", [2, 4]),
    "DecisionTreeRegressor": ("max_depth", [2, 4]),
    "RandomForestClassifier": ("max_depth", [2, 4]),
    "RandomForestRegressor": ("max_depth", [2, 4]),
    "GradientBoostingClassifier": ("learning_rate", [0.1, 0.3]),
    "GradientBoostingRegressor": ("learning_rate", [0.1, 0.3]),
}


def test_every_estimator_has_a_grid():
    assert sorted(_GRID) == sorted(type(e).__name__ for e in make_estimators())


def _tool_data(est):
    if is_regressor(est):
        X, y = make_regression(n_samples=150, n_features=5, noise=5.0, random_state=0)
        return X, y
    X, y = load_iris(return_X_y=True)
    return X, (y if is_classifier(est) else None)


@pytest.mark.parametrize("est", make_estimators(), ids=lambda e: type(e).__name__)
def test_clone_pipeline_cross_val_score_grid_search(est):
    name = type(est).__name__
    X, y = _tool_data(est)
    # clone: the same parameters, no fitted state (and the original is left unfitted).
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    assert not hasattr(copy, "_model")

    # MultinomialNB takes counts (X >= 0, also when predicting): clip the scaled test folds.
    scaler = MinMaxScaler(clip=True) if name == "MultinomialNB" else StandardScaler()
    pipe = make_pipeline(scaler, clone(est))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    if is_classifier(est):
        assert scores.mean() > (0.6 if name == "MultinomialNB" else 0.8), scores
    elif is_regressor(est):
        # R² of a linear target on 100 training rows: trees and 10 boosting rounds of
        # learning rate 0.1 reach about 0.45, linear models and kNN more.
        assert scores.mean() > 0.3, scores

    param, values = _GRID[name]
    step = pipe.steps[-1][0]
    grid = GridSearchCV(pipe, {f"{step}__{param}": values}, cv=3).fit(X, y)
    assert grid.best_params_[f"{step}__{param}"] in values
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    best = grid.best_estimator_
    if hasattr(best, "predict"):
        assert best.predict(X[:5]).shape[0] == 5
    else:
        assert best.transform(X[:5]).shape[0] == 5


def test_pca_score_is_sklearns_log_likelihood():
    """PCA.score (used by cross_val_score / GridSearchCV above) is scikit-learn's formula."""
    from sklearn.decomposition import PCA as SkPCA

    X, _ = load_iris(return_X_y=True)
    for k in (1, 3):
        ours, ref = mlcore.PCA(n_components=k).fit(X), SkPCA(n_components=k).fit(X)
        np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-4)
        assert abs(ours.score(X) - ref.score(X)) <= 1e-4 * abs(ref.score(X))
