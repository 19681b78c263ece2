"""Bad input: fit and every method that takes X after fit refuse NaN and infinity with a
ValueError that names the problem, on every backend.

The Python layer leaves this check to the C++ core (reading a large X twice costs more than a
linear model's whole predict), so this test is what guarantees that no query path of any
estimator lets a NaN through into a silently wrong answer. Trees accept NaN (missing values,
with a learned default direction) but not infinity.
"""

import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor

from test_persistence import BACKENDS, NAMES, _data, _estimator

QUERY_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "inverse_transform",
    "apply",
    "kneighbors",
    "score_samples",
    "fit_predict",
    "staged_predict",
)
TREES = {
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
}


def _call(est, method, X):
    out = getattr(est, method)(X)
    if method == "staged_predict":
        out = list(out)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_query_methods_refuse_non_finite_values(name, backend, bad):
    est = _estimator(name, backend)
    X, y, X_query = _data(est)
    est.fit(X, y) if (is_classifier(est) or is_regressor(est)) else est.fit(X)
    methods = [m for m in QUERY_METHODS if hasattr(est, m) and m != "fit_predict"]
    assert methods, "every estimator has at least one query method"
    if name in TREES and np.isnan(bad):
        # NaN is a missing value for trees: it must be accepted and give finite outputs.
        Xq = X_query.copy()
        Xq[1, 2] = bad
        for m in methods:
            out = np.asarray(_call(est, m, Xq), dtype=np.float64)
            if m == "predict_log_proba":  # log(0) = -inf for a class absent from the leaf
                out = np.where(np.isneginf(out), 0.0, out)
            assert np.isfinite(out).all(), f"{name}.{m} gave a non-finite output for a NaN input"
        return
    for m in methods:
        Xq = X_query.copy()
        Xq[1, 2] = bad
        if m == "inverse_transform":
            Xq = est.transform(X_query).copy()
            Xq[1, 0] = bad
        before = Xq.copy()
        # −∞ is also a negative count, which MultinomialNB names first; either names the problem.
        pattern = r"(?i)nan|inf|negative" if name == "MultinomialNB" else r"(?i)nan|inf"
        with pytest.raises(ValueError, match=pattern):
            _call(est, m, Xq)
        np.testing.assert_array_equal(Xq, before)  # the caller's array is not modified


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_fit_refuses_non_finite_values(name, bad):
    """fit's X is checked in C++ too (the Python layer checks y only); trees take NaN."""
    est = _estimator(name, "scalar")
    X, y, _ = _data(est)
    X = X.copy()
    X[3, 1] = bad
    if name in TREES and np.isnan(bad):
        est.fit(X, y)  # a missing value, learned around
        return
    with pytest.raises(ValueError, match=r"(?i)nan|inf"):
        est.fit(X, y) if y is not None else est.fit(X)
