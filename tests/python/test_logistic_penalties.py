"""LogisticRegression's L1 / elastic-net penalties (OWL-QN), scikit-learn's solver names and
their rules, liblinear's penalised intercept, and warm_start, against scikit-learn.

Reference: scikit-learn's saga run to a tight tol (and liblinear for its own formulation),
compared on the objective (mlcore's f32 fit may not be above the reference's objective by more
than 1e-5 relative: both minimise the same convex function, and saga in float64 at tol 1e-10 is
close to its minimum), on the coefficients (5e-3 of the largest) and, on problems where the
L1 penalty clearly separates useful from useless features, on the exact set of zeros.
"""

import warnings

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import mlcore
from conftest import F32_BACKENDS


def objective(coef, intercept, X, y, C, l1_ratio, intercept_penalty=None):
    """scikit-learn's objective in float64: C·Σ loss + l1_ratio·‖W‖₁ + (1 − l1_ratio)·½‖W‖²
    (intercept_penalty: liblinear's weight on |b| or b², given as a function of b)."""
    Z = X @ coef.T + intercept
    if coef.shape[0] == 1:
        z = Z[:, 0]
        loss = np.sum(np.logaddexp(0.0, z) - y * z)
    else:
        Z = Z - Z.max(axis=1, keepdims=True)
        L = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        loss = -L[np.arange(len(y)), y].sum()
    pen = l1_ratio * np.abs(coef).sum() + (1 - l1_ratio) * 0.5 * np.square(coef).sum()
    if intercept_penalty is not None:
        pen += intercept_penalty(np.asarray(intercept, dtype=np.float64))
    return C * loss + pen


def problem(n_classes, seed, n=300, d=25):
    X, y = make_classification(
        n_samples=n,
        n_features=d,
        n_informative=min(5, d - 1),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def saga(X, y, C, l1_ratio):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skl.LogisticRegression(
            C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-10, max_iter=50000
        ).fit(X, y)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_l1_and_elastic_net_match_saga(backend, n_classes, l1_ratio, C):
    X, y = problem(n_classes, seed=n_classes)
    ours = mlcore.LogisticRegression(
        C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-6, max_iter=2000, backend=backend
    ).fit(X, y)
    ref = saga(X, y, C, l1_ratio)
    assert ours.solver_ == "owlqn"
    f_ours = objective(ours.coef_.astype(np.float64), ours.intercept_, X, y, C, l1_ratio)
    f_ref = objective(ref.coef_, ref.intercept_, X, y, C, l1_ratio)
    assert f_ours <= f_ref * (1 + 1e-5), (f_ours, f_ref)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=5e-3 * scale)
    # Multinomial intercepts are unpenalised and defined up to a common shift (the softmax
    # ignores it): compare them centred.
    b_ours, b_ref = ours.intercept_, ref.intercept_
    if n_classes > 2:
        b_ours, b_ref = b_ours - b_ours.mean(), b_ref - b_ref.mean()
    np.testing.assert_allclose(b_ours, b_ref, atol=5e-3 * max(scale, 1.0))
    if l1_ratio == 1.0:
        # Exact zeros, and the same ones as saga's where saga's coefficient is clearly 0 or not.
        assert np.any(ours.coef_ == 0.0)
        clear = (ref.coef_ == 0.0) | (np.abs(ref.coef_) > 1e-2 * scale)
        np.testing.assert_array_equal((ours.coef_ == 0.0)[clear], (ref.coef_ == 0.0)[clear])


def test_l1_zeros_the_noise_features():
    # y depends on 3 of 20 independent features; a strong L1 penalty keeps those 3 and gives the
    # 17 noise features exact zeros (an L2 penalty keeps every coefficient non-zero).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 20))
    y = (X[:, :3] @ [2.0, -2.0, 1.5] + rng.logistic(size=1000) > 0).astype(int)
    ours = mlcore.LogisticRegression(C=0.01, l1_ratio=1.0, solver="saga").fit(X, y)
    assert np.all(ours.coef_[0, :3] != 0.0)
    assert np.all(ours.coef_[0, 3:] == 0.0)
    assert np.all(mlcore.LogisticRegression(C=0.01).fit(X, y).coef_ != 0.0)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_liblinear_penalises_the_intercept_as_liblinear(backend, l1_ratio):
    X, y = problem(2, seed=3, n=200, d=8)
    X = X + 2.0  # a large intercept: the penalty on it matters
    C, s = 0.1, 2.0
    ours = mlcore.LogisticRegression(
        C=C,
        l1_ratio=l1_ratio,
        solver="liblinear",
        intercept_scaling=s,
        tol=1e-7,
        max_iter=2000,
        backend=backend,
    ).fit(X, y)
    ref = skl.LogisticRegression(
        C=C,
        l1_ratio=l1_ratio,
        solver="liblinear",
        intercept_scaling=s,
        tol=1e-10,
        max_iter=100000,
    ).fit(X, y)
    if l1_ratio == 1.0:
        pen_b = lambda b: np.abs(b).sum() / s  # noqa: E731
    else:
        pen_b = lambda b: 0.5 * np.square(b).sum() / s**2  # noqa: E731
    f_ours = objective(ours.coef_.astype(np.float64), ours.intercept_, X, y, C, l1_ratio, pen_b)
    f_ref = objective(ref.coef_, ref.intercept_, X, y, C, l1_ratio, pen_b)
    assert f_ours <= f_ref * (1 + 1e-5), (f_ours, f_ref)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-2 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-2)
    # dual=True with L2 is the same problem (liblinear solves its dual; mlcore the primal)
    if l1_ratio == 0.0:
        dual = mlcore.LogisticRegression(
            C=C,
            solver="liblinear",
            dual=True,
            intercept_scaling=s,
            tol=1e-7,
            max_iter=2000,
            backend=backend,
        ).fit(X, y)
        np.testing.assert_allclose(dual.coef_, ours.coef_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["newton-cg", "newton-cholesky", "sag", "saga", "liblinear"])
def test_l2_solver_names_solve_scikit_learns_problem(solver):
    X, y = problem(2 if solver == "liblinear" else 3, seed=5, n=250, d=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skl.LogisticRegression(solver=solver, tol=1e-10, max_iter=10000).fit(X, y)
    ours = mlcore.LogisticRegression(solver=solver, tol=1e-7).fit(X, y)
    assert ours.solver_ == "lbfgs"
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3 * np.abs(ref.coef_).max())


def _error(cls, kwargs, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cls(**kwargs).fit(X, y)
        except ValueError as e:
            return str(e)
    return None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"solver": "lbfgs", "l1_ratio": 1.0},
        {"solver": "newton-cg", "l1_ratio": 0.5},
        {"solver": "sag", "penalty": "l1"},
        {"solver": "saga", "dual": True},
        {"solver": "lbfgs", "dual": True},
        {"solver": "liblinear", "l1_ratio": 0.5},
        {"solver": "liblinear", "C": np.inf},
        {"solver": "liblinear", "penalty": None},
        {"solver": "liblinear", "multiclass": True},
        {"solver": "saga", "penalty": "elasticnet", "l1_ratio": None},
        {"solver": "saga", "l1_ratio": 0.5},  # allowed
        {"solver": "liblinear", "l1_ratio": 1.0},  # allowed
        {"solver": "liblinear", "dual": True},  # allowed
    ],
)
def test_solver_penalty_rules_and_errors_are_scikit_learns(kwargs):
    X, y = problem(2, seed=1, n=60, d=4)
    kwargs = dict(kwargs)
    if kwargs.pop("multiclass", False):
        y = np.arange(60) % 3
    theirs = _error(skl.LogisticRegression, kwargs, X, y)
    ours = _error(mlcore.LogisticRegression, kwargs, X, y)
    assert ours == theirs


@pytest.mark.parametrize(
    "kwargs, category, match",
    [
        ({"penalty": "l1", "solver": "saga", "l1_ratio": 0.5}, UserWarning, "only used when"),
        ({"penalty": "l2", "l1_ratio": 1.0, "solver": "saga"}, UserWarning, "Inconsistent"),
        ({"l1_ratio": None}, FutureWarning, "l1_ratio=None"),
        ({"n_jobs": 2}, FutureWarning, "n_jobs"),
    ],
)
def test_warnings_are_scikit_learns(kwargs, category, match):
    X, y = problem(2, seed=1, n=60, d=4)
    for cls in (skl.LogisticRegression, mlcore.LogisticRegression):
        with pytest.warns(category, match=match):
            cls(**kwargs).fit(X, y)


@pytest.mark.parametrize(
    "solver, message",
    [
        ("newton-cg", "newton-cg failed to converge"),
        ("sag", "The max_iter was reached"),
        ("liblinear", "Liblinear failed to converge"),
    ],
)
def test_convergence_warning_names_the_solver(solver, message):
    X, y = problem(2, seed=2, n=200, d=10)
    with pytest.warns(ConvergenceWarning, match=message):
        m = mlcore.LogisticRegression(solver=solver, max_iter=2, tol=1e-12).fit(X, y)
    assert m.n_iter_[0] == 2


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_warm_start_starts_from_the_previous_coefficients(backend, l1_ratio):
    X, y = problem(3, seed=4, n=300, d=10)
    kw = dict(C=0.5, l1_ratio=l1_ratio, solver="saga", tol=1e-6, max_iter=1000, backend=backend)
    cold = mlcore.LogisticRegression(**kw).fit(X, y)
    warm = mlcore.LogisticRegression(warm_start=True, **kw).fit(X, y)
    coef = warm.coef_.copy()
    warm.fit(X, y)  # from the optimum: converged at once
    # (f32 gradients: the first fit may have stopped at its noise floor, above tol, so the
    # second one can take a few steps; far fewer than from 0.)
    assert warm.n_iter_[0] <= cold.n_iter_[0] // 4
    np.testing.assert_allclose(warm.coef_, coef, atol=1e-4 * np.abs(coef).max())
    # A warm start from a poor point still reaches the same optimum, with fewer iterations
    # than from 0 when it starts close.
    warm.set_params(C=0.6).fit(X, y)
    again = mlcore.LogisticRegression(**{**kw, "C": 0.6}).fit(X, y)
    np.testing.assert_allclose(warm.coef_, again.coef_, atol=2e-3 * np.abs(again.coef_).max())
    # The shape must fit the new data (scikit-learn's error).
    with pytest.raises(ValueError, match="Initialization coef is of shape"):
        warm.fit(X[:, :5], y)


def test_sparsify_keeps_the_predictions():
    X, y = problem(3, seed=6, n=200, d=12)
    m = mlcore.LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga").fit(X, y)
    before = m.decision_function(X)
    m.sparsify()
    assert hasattr(m.coef_, "toarray")
    np.testing.assert_array_equal(m.decision_function(X), before)
    m.densify()
    assert isinstance(m.coef_, np.ndarray)


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multinomial_l2_coefficients_sum_to_zero_over_classes(backend, fit_intercept):
    # The L2 optimum has Σ_k coef_k = 0 (scikit-learn's identifiability convention); mlcore
    # removes the class mean exactly, which changes neither the loss nor the predictions.
    X, y = problem(3, seed=9, n=300, d=6)
    m = mlcore.LogisticRegression(
        C=10.0, fit_intercept=fit_intercept, tol=1e-7, backend=backend
    ).fit(X, y)
    np.testing.assert_allclose(m.coef_.sum(axis=0), 0.0, atol=1e-10)
    assert abs(m.intercept_.sum()) <= 1e-10
    ref = skl.LogisticRegression(C=10.0, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=5e-3 * np.abs(ref.coef_).max())
