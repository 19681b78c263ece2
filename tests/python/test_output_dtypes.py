"""Output dtypes follow scikit-learn (issue 18, item 4): for float32 and float64 input, every
output method of every estimator, and every float fitted attribute, has the dtype scikit-learn's
counterpart gives (GradientBoosting* against HistGradientBoosting*).

mlcore computes in float32 whatever the input; the dtype of what it returns is decided in the
Python layer, the same on every backend, so these run on the default one.
"""

import inspect

import numpy as np
import pytest
import sklearn.cluster
import sklearn.decomposition
import sklearn.ensemble
import sklearn.linear_model
import sklearn.naive_bayes
import sklearn.neighbors
import sklearn.svm
import sklearn.tree

import mlcore

# name, mlcore factory, scikit-learn factory, task ("classify", "counts", "regress", "none")
CASES = [
    ("LinearRegression", mlcore.LinearRegression, sklearn.linear_model.LinearRegression, "regress"),
    ("Ridge", mlcore.Ridge, sklearn.linear_model.Ridge, "regress"),
    (
        "LogisticRegression",
        mlcore.LogisticRegression,
        sklearn.linear_model.LogisticRegression,
        "classify",
    ),
    ("GaussianNB", mlcore.GaussianNB, sklearn.naive_bayes.GaussianNB, "classify"),
    ("MultinomialNB", mlcore.MultinomialNB, sklearn.naive_bayes.MultinomialNB, "counts"),
    (
        "KNeighborsClassifier",
        mlcore.KNeighborsClassifier,
        sklearn.neighbors.KNeighborsClassifier,
        "classify",
    ),
    (
        "KNeighborsRegressor",
        mlcore.KNeighborsRegressor,
        sklearn.neighbors.KNeighborsRegressor,
        "regress",
    ),
    (
        "KNeighborsRegressor-distance",
        lambda: mlcore.KNeighborsRegressor(weights="distance"),
        lambda: sklearn.neighbors.KNeighborsRegressor(weights="distance"),
        "regress",
    ),
    ("SVC", mlcore.SVC, sklearn.svm.SVC, "classify"),
    ("LinearSVC", mlcore.LinearSVC, sklearn.svm.LinearSVC, "classify"),
    (
        "DecisionTreeClassifier",
        mlcore.DecisionTreeClassifier,
        sklearn.tree.DecisionTreeClassifier,
        "classify",
    ),
    (
        "DecisionTreeRegressor",
        mlcore.DecisionTreeRegressor,
        sklearn.tree.DecisionTreeRegressor,
        "regress",
    ),
    (
        "RandomForestClassifier",
        lambda: mlcore.RandomForestClassifier(5, random_state=0),
        lambda: sklearn.ensemble.RandomForestClassifier(5, random_state=0),
        "classify",
    ),
    (
        "RandomForestRegressor",
        lambda: mlcore.RandomForestRegressor(5, random_state=0),
        lambda: sklearn.ensemble.RandomForestRegressor(5, random_state=0),
        "regress",
    ),
    (
        "GradientBoostingClassifier",
        lambda: mlcore.GradientBoostingClassifier(max_iter=5),
        lambda: sklearn.ensemble.HistGradientBoostingClassifier(max_iter=5),
        "classify",
    ),
    (
        "GradientBoostingRegressor",
        lambda: mlcore.GradientBoostingRegressor(max_iter=5),
        lambda: sklearn.ensemble.HistGradientBoostingRegressor(max_iter=5),
        "regress",
    ),
    (
        "PCA",
        lambda: mlcore.PCA(2),
        lambda: sklearn.decomposition.PCA(2),
        "none",
    ),
    (
        "PCA-whiten",
        lambda: mlcore.PCA(2, whiten=True),
        lambda: sklearn.decomposition.PCA(2, whiten=True),
        "none",
    ),
    (
        "KMeans",
        lambda: mlcore.KMeans(3, n_init=1, random_state=0),
        lambda: sklearn.cluster.KMeans(3, n_init=1, random_state=0),
        "none",
    ),
]

# Every output method scikit-learn's estimators have among these is compared.
METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "predict_joint_log_proba",
    "decision_function",
    "staged_predict",
    "staged_predict_proba",
    "staged_decision_function",
    "transform",
    "inverse_transform",
    "score_samples",
    "kneighbors",
    "fit_transform",
    "fit_predict",
)

# (X dtype, y dtype): integer X gives float64 as float64 does; a regression target's dtype
# counts too (kNN's uniform vote is np.mean of y's rows in scikit-learn); class labels are
# integers whatever X is. The first three pairs are run for every estimator.
DTYPES = [
    (np.float32, np.float32),
    (np.float64, np.float64),
    (np.int64, np.float64),
    (np.float32, np.float64),
    (np.float64, np.float32),
]


def _data(task, x_dtype, y_dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * 4  # integers after astype, for the integer case
    y = rng.integers(0, 3, 60)
    X[np.arange(60), y] += 8.0  # every class separable enough to have support vectors
    if task == "counts":
        X = np.abs(X)
    target = {
        "classify": y,
        "counts": y,
        "regress": (X @ rng.normal(size=4)).astype(y_dtype),
        "none": None,
    }[task]
    return X.astype(x_dtype), target


def _dtype(value):
    """The dtype of an output: an array's, each of a tuple's, a generator's last item's."""
    if inspect.isgenerator(value):
        *_, value = value
    if isinstance(value, tuple):
        return tuple(np.asarray(v).dtype for v in value)
    return np.asarray(value).dtype


def _call(estimator, m, X, y, Q):
    fn = getattr(estimator, m)
    if m in ("fit_transform", "fit_predict"):
        return fn(X, y) if y is not None else fn(X)
    if m == "inverse_transform":
        return fn(estimator.transform(Q))
    return fn(Q)


def _output_dtypes(estimator, methods, X, y, Q, *, skip_refused=False):
    """{method: output dtype}. skip_refused: leave out the methods that raise ValueError
    (scikit-learn's KMeans refuses a query in the other dtype than its fit's)."""
    out = {}
    for m in methods:
        try:
            out[m] = _dtype(_call(estimator, m, X, y, Q))
        except ValueError:
            if not skip_refused:
                raise
    return out


def _float_attributes(model):
    return {
        k: (v.dtype if isinstance(v, np.ndarray) else type(v))
        for k, v in vars(model).items()
        if k.endswith("_")
        and not k.startswith("_")
        and (isinstance(v, np.ndarray) and v.dtype.kind == "f" or isinstance(v, float))
    }


def _cases():
    for case in CASES:
        pairs = DTYPES if case[3] == "regress" else DTYPES[:3]
        for x_dtype, y_dtype in pairs:
            name = np.dtype(x_dtype).name
            if case[3] == "regress":
                name += "-y-" + np.dtype(y_dtype).name
            yield pytest.param(case, x_dtype, y_dtype, id=f"{case[0]}-{name}")


@pytest.mark.parametrize("case, x_dtype, y_dtype", list(_cases()))
@pytest.mark.parametrize("query", ["same", "other"], ids=["query-same", "query-other"])
def test_output_dtypes_follow_scikit_learn(case, x_dtype, y_dtype, query):
    """Each output method's dtype, for queries in the fit's dtype and in the other one."""
    _, ours_factory, theirs_factory, task = case
    X, y = _data(task, x_dtype, y_dtype)
    Q = X if query == "same" else X.astype(np.float64 if x_dtype == np.float32 else np.float32)
    theirs = theirs_factory().fit(X, y)
    want = _output_dtypes(
        theirs, [m for m in METHODS if hasattr(theirs, m)], X, y, Q, skip_refused=True
    )
    ours = ours_factory().fit(X, y)
    missing = [m for m in want if not hasattr(ours, m)]
    assert not missing, f"mlcore lacks {missing}"
    assert _output_dtypes(ours, list(want), X, y, Q) == want


@pytest.mark.parametrize("case, x_dtype, y_dtype", list(_cases()))
def test_fitted_attribute_dtypes_follow_scikit_learn(case, x_dtype, y_dtype):
    """The float fitted attributes both have (profile_ is mlcore's own)."""
    _, ours_factory, theirs_factory, task = case
    X, y = _data(task, x_dtype, y_dtype)
    want = _float_attributes(theirs_factory().fit(X, y))
    got = _float_attributes(ours_factory().fit(X, y))
    shared = sorted(set(want) & set(got))
    assert shared or task in ("classify", "regress")  # unsupervised ones all have some
    assert {k: got[k] for k in shared} == {k: want[k] for k in shared}
