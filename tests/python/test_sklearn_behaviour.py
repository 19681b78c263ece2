"""Behaviour scikit-learn's own tests rely on (issue 19, item 1), each checked against
scikit-learn itself on every backend:

* the public fitted arrays are the model: an edit (in place or by assignment) is what the next
  predict / transform uses — compared with scikit-learn's estimator holding the same arrays;
* kNN distances of near neighbours are exact differences, not the GEMM expansion's cancellation;
* a tree sends NaN to the larger child, and to the right one on a tie; boosting follows
  HistGradientBoosting's per-feature rule; equal split gains are resolved in scikit-learn's order;
  boosting's bin edges ignore rows of weight 0.

Fitted attributes keeping float32 where scikit-learn's do: tests/python/test_output_dtypes.py.
"""

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
from conftest import AVAILABLE, F32_BACKENDS

import mlcore


def _classification(n=57, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, n)
    X[np.arange(n), y % d] += 2.0  # separable enough that every class has support vectors
    return X, y


def _regression(n=43, d=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)


# name, mlcore factory, scikit-learn factory, data, edited attributes, compared method
CASES = [
    (
        "LinearRegression",
        mlcore.LinearRegression,
        sklearn.linear_model.LinearRegression,
        _regression,
        ("coef_", "intercept_"),
        "predict",
    ),
    (
        "Ridge",
        mlcore.Ridge,
        sklearn.linear_model.Ridge,
        _regression,
        ("coef_", "intercept_"),
        "predict",
    ),
    (
        "LogisticRegression-binary",
        mlcore.LogisticRegression,
        sklearn.linear_model.LogisticRegression,
        lambda: _classification(k=2),
        ("coef_", "intercept_"),
        "decision_function",
    ),
    (
        "LogisticRegression",
        mlcore.LogisticRegression,
        sklearn.linear_model.LogisticRegression,
        _classification,
        ("coef_", "intercept_"),
        "predict_proba",
    ),
    (
        "LinearSVC",
        mlcore.LinearSVC,
        sklearn.svm.LinearSVC,
        _classification,
        ("coef_", "intercept_"),
        "decision_function",
    ),
    (
        "GaussianNB",
        mlcore.GaussianNB,
        sklearn.naive_bayes.GaussianNB,
        _classification,
        ("theta_", "var_", "class_prior_"),
        "predict_log_proba",
    ),
    (
        "MultinomialNB",
        mlcore.MultinomialNB,
        sklearn.naive_bayes.MultinomialNB,
        lambda: (lambda X, y: (np.abs(X), y))(*_classification()),
        ("feature_log_prob_", "class_log_prior_"),
        "predict_log_proba",
    ),
    (
        "PCA",
        lambda **kw: mlcore.PCA(3, **kw),
        lambda: sklearn.decomposition.PCA(3),
        lambda: (_regression()[0], None),
        ("components_", "mean_"),
        "transform",
    ),
    (
        "PCA-whiten",
        lambda **kw: mlcore.PCA(3, whiten=True, **kw),
        lambda: sklearn.decomposition.PCA(3, whiten=True),
        lambda: (_regression()[0], None),
        ("components_", "mean_", "explained_variance_"),
        "transform",
    ),
    (
        "KMeans",
        lambda **kw: mlcore.KMeans(3, n_init=1, random_state=0, **kw),
        lambda: sklearn.cluster.KMeans(3, n_init=1, random_state=0),
        lambda: (_regression()[0], None),
        ("cluster_centers_",),
        "transform",
    ),
]


def _edit(model, names, rng, in_place):
    """New values for the named attributes: perturbed copies, written in place or assigned."""
    edits = {}
    for name in names:
        old = np.asarray(getattr(model, name), dtype=np.float64)
        new = old * rng.uniform(0.5, 1.5, size=old.shape) + rng.normal(0.0, 0.1, size=old.shape)
        if name in ("var_", "explained_variance_"):
            new = np.abs(new) + 0.1
        if name == "class_prior_":
            new = np.abs(new) / np.abs(new).sum()
        if in_place and isinstance(getattr(model, name), np.ndarray):
            getattr(model, name)[...] = new
        else:
            setattr(model, name, new.reshape(np.shape(getattr(model, name))))
        edits[name] = new
    return edits


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("in_place", [True, False], ids=["in-place", "assigned"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_edited_fitted_arrays_are_what_predict_uses(case, in_place, backend):
    _, ours_factory, theirs_factory, data, names, method = case
    X, y = data()
    ours = ours_factory(backend=backend).fit(X, y)
    theirs = theirs_factory().fit(X, y)
    edits = _edit(ours, names, np.random.default_rng(5), in_place)
    for name, value in edits.items():  # scikit-learn holding the same arrays is the reference
        setattr(theirs, name, value.reshape(np.shape(getattr(theirs, name))))
    got = getattr(ours, method)(X)
    want = getattr(theirs, method)(X)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4 * np.abs(want).max())
    # And back: restoring the fit's values restores the fit's predictions.
    refit = ours_factory(backend=backend).fit(X, y)
    for name in names:
        setattr(ours, name, getattr(refit, name))
    np.testing.assert_array_equal(getattr(ours, method)(X), getattr(refit, method)(X))


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("k", [2, 3])
def test_zeroed_coefficients_give_zero_scores(backend, k):
    """The issue's report, on every backend (the systolic array too: zero weights are exact)."""
    X, y = _classification(k=k)
    for model in (mlcore.LogisticRegression(backend=backend), mlcore.LinearSVC(backend=backend)):
        model.fit(X, y)
        model.coef_[:] = 0
        model.intercept_[:] = 0
        np.testing.assert_array_equal(model.decision_function(X), 0.0)
    svc = mlcore.SVC(decision_function_shape="ovo", backend=backend).fit(X, y)
    svc.dual_coef_[:] = 0
    svc.intercept_[:] = 0
    np.testing.assert_array_equal(svc.decision_function(X), 0.0)


def _rbf(A, B, gamma):
    return np.exp(-gamma * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))


def _libsvm_ovo_decision(svc, X, gamma):
    """scikit-learn's documented layout, in float64: for classes i < j, the pair's decision is
    Σ_{s of class i} dual_coef_[j−1, s]·K(x, sv_s) + Σ_{s of class j} dual_coef_[i, s]·K(x, sv_s)
    + intercept_[pair] (for two classes scikit-learn negates the coefficients and intercept)."""
    K = _rbf(np.asarray(X, np.float64), np.asarray(svc.support_vectors_, np.float64), gamma)
    start = np.concatenate([[0], np.cumsum(svc.n_support_)])
    n_classes = len(svc.n_support_)
    out, p = [], 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            dec = (
                K[:, si] @ svc.dual_coef_[j - 1, si]
                + K[:, sj] @ svc.dual_coef_[i, sj]
                + svc.intercept_[p]
            )
            out.append(dec)
            p += 1
    out = np.stack(out, axis=1)
    return out.ravel() if n_classes == 2 else out


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("k", [2, 4])
def test_svc_edited_dual_coef_follows_libsvm_layout(backend, k):
    X, y = _classification(n=61, k=k, seed=3)
    svc = mlcore.SVC(gamma=0.2, decision_function_shape="ovo", backend=backend).fit(X, y)
    rng = np.random.default_rng(7)
    svc.dual_coef_[:] = rng.normal(size=svc.dual_coef_.shape)
    svc.intercept_ = rng.normal(size=svc.intercept_.shape)
    svc.support_vectors_[0] += 0.5
    np.testing.assert_allclose(
        svc.decision_function(X), _libsvm_ovo_decision(svc, X, 0.2), rtol=1e-4, atol=1e-4
    )


def test_edited_array_of_another_shape_is_refused():
    X, y = _classification()
    model = mlcore.LogisticRegression().fit(X, y)
    model.coef_ = np.zeros((2, X.shape[1]))
    with pytest.raises(ValueError, match=r"coef_ has shape \(2, 5\).*15 values"):
        model.predict(X)


# ---- kNN: near neighbours' distances ---------------------------------------------------------


def _near_queries(seed=0, n=203, d=7):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) + 3.0).astype(np.float32)  # norms ~8: cancellation matters
    Q = X[::10] + np.float32(1e-5) * rng.normal(size=(len(X[::10]), d)).astype(np.float32)
    return X, Q


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("k", [1, 4])
def test_kneighbors_distances_are_exact_differences(backend, k):
    X, Q = _near_queries()
    model = mlcore.KNeighborsRegressor(n_neighbors=k, backend=backend).fit(X, np.zeros(len(X)))
    dist, ind = model.kneighbors(Q)
    # Reference: float64 distances of the same float32 points, sorted, ties by lower index.
    ref = np.sqrt(((Q[:, None, :].astype(np.float64) - X[None].astype(np.float64)) ** 2).sum(-1))
    order = np.argsort(ref, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ind, order)
    np.testing.assert_allclose(dist, np.take_along_axis(ref, order, 1), rtol=1e-5)
    assert (dist[:, 0] > 0).all()


def _boundary_ties(seed=0, n_queries=40, k=3, d=8):
    """Per query: k − 1 training rows 0.1 away, then two at 1.0 and 1.0001 (the true k-th and
    the (k+1)-th), all near a centre of norm ~1000, where sqdist's error in ‖q − x‖² (~u·10⁶ ≈
    0.1) swamps the two rows' gap (2·10⁻⁴): the GEMM trick orders them at random. The queries'
    groups lie 50 apart."""
    rng = np.random.default_rng(seed)
    centre = np.full(d, 1000.0 / np.sqrt(d))
    Q, X = [], []
    for i in range(n_queries):
        q = centre + 50.0 * rng.normal(size=d)
        Q.append(q)
        for radius in [0.1] * (k - 1) + [1.0, 1.0001]:
            u = rng.normal(size=d)
            X.append(q + radius * u / np.linalg.norm(u))
    return np.asarray(X, np.float32), np.asarray(Q, np.float32)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("k", [1, 3])
def test_kneighbors_finds_the_true_kth_neighbour_past_rounding(backend, k):
    # Selecting only k candidates by sqdist and re-ranking those could not recover a k-th
    # neighbour that rounding had put behind the (k+1)-th: the search keeps a margin of extra
    # candidates and re-ranks them all by exact distances.
    X, Q = _boundary_ties(k=k)
    model = mlcore.KNeighborsRegressor(n_neighbors=k, backend=backend).fit(X, np.zeros(len(X)))
    _, ind = model.kneighbors(Q)
    ref = ((Q[:, None, :].astype(np.float64) - X[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(ind, np.argsort(ref, axis=1, kind="stable")[:, :k])


@pytest.mark.parametrize("backend", AVAILABLE)
def test_knn_regressor_inverse_square_weights_are_finite(backend):
    """The issue's report: weights=1/d² with a query 1e-5 from a training point was NaN."""
    X, Q = _near_queries(d=2)
    y = np.arange(len(X), dtype=np.float64)
    ours = mlcore.KNeighborsRegressor(3, weights=lambda d: 1 / d**2, backend=backend).fit(X, y)
    got = ours.predict(Q)
    assert np.isfinite(got).all()
    if backend in F32_BACKENDS:
        theirs = sklearn.neighbors.KNeighborsRegressor(3, weights=lambda d: 1 / d**2).fit(X, y)
        np.testing.assert_allclose(got, theirs.predict(Q), rtol=1e-4)


# ---- trees: where NaN goes when training saw none ---------------------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("drop_last", [False, True], ids=["larger-right", "tie"])
def test_tree_sends_nan_to_larger_child_right_on_tie(backend, drop_last):
    """scikit-learn's test_missing_values_on_equal_nodes_no_missing."""
    X = np.array([[0, 1, 2, 3, 8, 9, 11, 12, 15]], dtype=np.float64).T
    y = np.array([0.1, 0.2, 0.3, 0.2, 1.4, 1.4, 1.5, 1.6, 2.6])
    if drop_last:
        X, y = X[:-1], y[:-1]
    theirs = sklearn.tree.DecisionTreeRegressor(max_depth=1, random_state=42).fit(X, y)
    ours = mlcore.DecisionTreeRegressor(max_depth=1, backend=backend).fit(X, y)
    want = theirs.predict([[np.nan]])
    np.testing.assert_allclose(want, [np.mean(y[-5:] if not drop_last else y[-4:])])
    np.testing.assert_allclose(ours.predict([[np.nan]]), want, rtol=1e-6)


# ---- trees: which of equal gains wins, where NaN goes, bin edges -------------------------------

_BOOSTING_STUMP = dict(
    max_iter=1, max_depth=1, learning_rate=1.0, min_samples_leaf=1, early_stopping=False
)
_ON_THE_GRID = np.array([[np.nan], [-1.0], [0.0], [0.5], [1.0], [1.5], [2.0], [2.5], [3.0], [4.0]])


def _stump_pairs(backend):
    """(mlcore, scikit-learn) depth-1 regressors: the tree, and boosting against HistGB."""
    return [
        (
            mlcore.DecisionTreeRegressor(max_depth=1, backend=backend),
            sklearn.tree.DecisionTreeRegressor(max_depth=1, random_state=0),
        ),
        (
            mlcore.GradientBoostingRegressor(**_BOOSTING_STUMP, backend=backend),
            sklearn.ensemble.HistGradientBoostingRegressor(**_BOOSTING_STUMP),
        ),
    ]


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize(
    "x, y",
    [
        # "x ≤ 2, NaN right" and "x ≤ 0, NaN left" gain alike: NaN-right candidates come first.
        ([2, np.nan, 3, 1, 3, 0, 1, 0], [1, 2, 2, 2, 2, 2, 1, 2]),
        # "NaN left" at x ≤ 0 and at x ≤ 1 gain alike: the trees keep the lower boundary,
        # HistGradientBoosting (scanning right to left) the higher one.
        ([3, np.nan, 0, 3, 0, 1, 2], [2, 0, 1, 2, -1, 1, 2]),
    ],
    ids=["nan-right-first", "nan-left-ascending-or-descending"],
)
def test_equal_gains_resolved_in_scikit_learns_order(backend, x, y):
    X, y = np.array(x, dtype=np.float64)[:, None], np.array(y, dtype=np.float64)
    for ours, theirs in _stump_pairs(backend):
        want = theirs.fit(X, y).predict(_ON_THE_GRID)
        np.testing.assert_allclose(ours.fit(X, y).predict(_ON_THE_GRID), want, rtol=1e-5)


def _nan_in_other_branch_data(feature_had_missing):
    """x1 splits the root; in the x1 = 0 branch, x0 splits 3 rows left / 1 right and that branch
    holds no NaN of x0. With feature_had_missing, the x1 = 1 branch holds x0's NaNs."""
    gap = np.nan if feature_had_missing else 0
    x0 = [0, 0, 0, 1, gap, 0, gap, 1]
    X = np.column_stack([x0, [0, 0, 0, 0, 1, 1, 1, 1]]).astype(np.float64)
    return X, np.array([0, 0, 0, 1, 8, 8, 8, 8], dtype=np.float64)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("feature_had_missing", [False, True], ids=["no-nan", "nan-elsewhere"])
def test_boosting_nan_rule_follows_the_training_features_missing_values(
    backend, feature_had_missing
):
    """HistGradientBoosting: NaN at a split on a feature that had none in training goes to the
    larger child; on a feature that had some (elsewhere in the tree), to the right child. The
    trees decide per node: the larger child either way."""
    X, y = _nan_in_other_branch_data(feature_had_missing)
    Q = np.array([[np.nan, 0.0], [0.0, 0.0], [1.0, 0.0], [np.nan, 1.0]])
    kw = dict(_BOOSTING_STUMP, max_depth=2)
    pairs = [
        (
            mlcore.GradientBoostingRegressor(**kw, backend=backend),
            sklearn.ensemble.HistGradientBoostingRegressor(**kw),
        ),
        (
            mlcore.DecisionTreeRegressor(max_depth=2, backend=backend),
            sklearn.tree.DecisionTreeRegressor(max_depth=2, random_state=0),
        ),
    ]
    for ours, theirs in pairs:
        want = theirs.fit(X, y).predict(Q)
        np.testing.assert_allclose(ours.fit(X, y).predict(Q), want, rtol=1e-5, atol=1e-6)
    # The case that tells the rules apart: boosting sends [NaN, 0] right (to y = 1) only when
    # x0 had NaNs in training.
    assert (pairs[0][1].predict(Q[:1])[0] > 0.5) == feature_had_missing


@pytest.mark.parametrize("backend", AVAILABLE)
def test_boosting_bin_edges_ignore_rows_of_weight_zero(backend):
    """A row of weight 0 is no training sample: its value must not place a bin edge (scikit-
    learn's _find_binning_thresholds drops such rows), so the fit equals the fit without it."""
    rng = np.random.default_rng(3)
    X = np.arange(10, dtype=np.float64)[:, None]
    y = np.where(X[:, 0] > 2, 1.0, 0.0) + 0.1 * rng.normal(size=10)
    # Zero-weight rows between 2 and 3: with them, the midpoint edges would move below 2.5.
    X_all = np.vstack([X, [[2.1], [2.2]]])
    y_all = np.concatenate([y, [5.0, 5.0]])
    w = np.concatenate([np.ones(10), [0.0, 0.0]])
    Q = np.array([[2.2], [2.4], [2.6], [np.nan]])
    kw = dict(max_iter=3, max_depth=2, min_samples_leaf=1, early_stopping=False)
    ours = mlcore.GradientBoostingRegressor(**kw, backend=backend).fit(X_all, y_all, w)
    without = mlcore.GradientBoostingRegressor(**kw, backend=backend).fit(X, y)
    np.testing.assert_allclose(ours.predict(Q), without.predict(Q), rtol=1e-6)
    theirs = sklearn.ensemble.HistGradientBoostingRegressor(**kw).fit(X_all, y_all, w)
    np.testing.assert_allclose(ours.predict(Q), theirs.predict(Q), rtol=1e-4, atol=1e-5)


# ---- weights: scikit-learn's equivalence (weight k is the row k times) -----------------------


def _weighted_data(classifier, seed=11):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(61, 4))
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values take part too
    y = rng.integers(0, 3, 61) if classifier else rng.normal(size=61)
    # Weight 0 included: such a row is absent from the repeated data, and must be from the fit
    # (its value places no bin edge either).
    w = rng.integers(0, 4, 61)
    return X, y, w


WEIGHT_CASES = [
    (
        "DecisionTreeClassifier",
        lambda b: mlcore.DecisionTreeClassifier(random_state=0, backend=b),
        True,
    ),
    (
        "DecisionTreeRegressor",
        lambda b: mlcore.DecisionTreeRegressor(random_state=0, backend=b),
        False,
    ),
    (
        "RandomForestClassifier",
        lambda b: mlcore.RandomForestClassifier(
            5, bootstrap=False, max_features=None, random_state=0, backend=b
        ),
        True,
    ),
    (
        "RandomForestRegressor",
        lambda b: mlcore.RandomForestRegressor(5, bootstrap=False, random_state=0, backend=b),
        False,
    ),
]


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("case", WEIGHT_CASES, ids=[c[0] for c in WEIGHT_CASES])
def test_tree_sample_weight_equals_repeated_rows(case, backend):
    _, factory, classifier = case
    X, y, w = _weighted_data(classifier)
    weighted = factory(backend).fit(X, y, sample_weight=w)
    repeated = factory(backend).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    Q = np.random.default_rng(2).normal(size=(40, 4))
    method = "predict_proba" if classifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, method)(Q), getattr(repeated, method)(Q), rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("backend", AVAILABLE)
def test_tree_class_weight_is_sample_weight_per_class(backend):
    X, y, _ = _weighted_data(True)
    cw = {0: 1, 1: 3, 2: 2}
    a = mlcore.DecisionTreeClassifier(class_weight=cw, random_state=0, backend=backend).fit(X, y)
    b = mlcore.DecisionTreeClassifier(random_state=0, backend=backend).fit(
        X, y, sample_weight=np.array([cw[c] for c in y])
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    forest = mlcore.RandomForestClassifier(5, class_weight=cw, random_state=0, backend=backend)
    forest2 = mlcore.RandomForestClassifier(5, random_state=0, backend=backend)
    np.testing.assert_array_equal(
        forest.fit(X, y).predict_proba(X),
        forest2.fit(X, y, sample_weight=np.array([cw[c] for c in y])).predict_proba(X),
    )


def test_tree_fractional_weights_are_refused_with_the_reason():
    X, y, _ = _weighted_data(True)
    with pytest.raises(
        ValueError, match=r"sample_weight must be whole numbers.*sample_weight\[0\] = 0.5"
    ):
        mlcore.DecisionTreeClassifier().fit(X, y, sample_weight=np.full(len(y), 0.5))
    with pytest.raises(ValueError, match="whole numbers"):
        mlcore.RandomForestClassifier(3, class_weight="balanced").fit(X, y)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("classifier", [True, False], ids=["classifier", "regressor"])
def test_boosting_sample_weight_matches_repeated_rows(backend, classifier):
    """Gradients and hessians scaled by the weights: the same sums as the repeated rows up to
    the histograms' quantization of g (one quantum, ~2^-23 of the largest |g|, per sum)."""
    X, y, w = _weighted_data(classifier)
    cls = mlcore.GradientBoostingClassifier if classifier else mlcore.GradientBoostingRegressor
    kw = dict(max_iter=10, early_stopping=False, min_samples_leaf=1, backend=backend)
    weighted = cls(**kw).fit(X, y, sample_weight=w)
    repeated = cls(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    Q = np.random.default_rng(2).normal(size=(40, 4))
    method = "predict_proba" if classifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, method)(Q), getattr(repeated, method)(Q), rtol=1e-4, atol=1e-4
    )
    # Real-valued weights are accepted (and weight 0).
    half = cls(**kw).fit(X, y, sample_weight=np.where(w > 1, 0.5 * w, 0.0))
    assert np.isfinite(getattr(half, method)(Q)).all()


# ---- the API surface: predict_log_proba, kNN predict(X=None) ------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
def test_predict_log_proba_is_log_of_predict_proba(backend):
    X, y = _classification()
    for model in (
        mlcore.DecisionTreeClassifier(max_depth=3, backend=backend),
        mlcore.RandomForestClassifier(5, random_state=0, backend=backend),
        mlcore.KNeighborsClassifier(5, backend=backend),
    ):
        model.fit(X, y)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(
                model.predict_log_proba(X), np.log(model.predict_proba(X))
            )
    assert not hasattr(mlcore.DecisionTreeRegressor(), "predict_log_proba")


def _leave_one_out(make, X, y, method):
    """scikit-learn's estimator fitted without row i, asked about row i, for every i."""
    rows = []
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        rows.append(getattr(make().fit(X[keep], y[keep]), method)(X[i : i + 1])[0])
    return np.array(rows)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_predict_without_X_leaves_each_sample_out(backend, weights):
    """X=None: each training sample predicted from the others (scikit-learn's kneighbors(None)
    rule); the reference refits scikit-learn without the sample."""
    X, y = _classification(n=40)
    ours = mlcore.KNeighborsClassifier(5, weights=weights, backend=backend).fit(X, y)
    make = lambda: sklearn.neighbors.KNeighborsClassifier(5, weights=weights)  # noqa: E731
    np.testing.assert_allclose(
        ours.predict_proba(), _leave_one_out(make, X, y, "predict_proba"), atol=1e-6
    )
    np.testing.assert_array_equal(ours.predict(), _leave_one_out(make, X, y, "predict"))
    Xr, yr = _regression(n=40)
    ours_r = mlcore.KNeighborsRegressor(5, weights=weights, backend=backend).fit(Xr, yr)
    make_r = lambda: sklearn.neighbors.KNeighborsRegressor(5, weights=weights)  # noqa: E731
    np.testing.assert_allclose(
        ours_r.predict(), _leave_one_out(make_r, Xr, yr, "predict"), rtol=1e-5
    )
