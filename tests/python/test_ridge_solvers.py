"""Ridge's solvers ("cholesky", "svd", "sparse_cg", "lsqr", and "sag"/"saga", which run LSQR)
against a float64 closed form and against scikit-learn, on every backend: awkward sizes (one
sample, one feature, primes, n < d), sample weights, intercept or not, several targets, dense
and sparse X; tol / max_iter / n_iter_ / solver_ as scikit-learn reports them; bad parameters."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as skl

import mlcore
from conftest import AVAILABLE, quantized

SOLVERS = ["auto", "cholesky", "svd", "sparse_cg", "lsqr", "sag", "saga"]


def closed_form(X, Y, alpha, sample_weight=None, fit_intercept=True):
    """Weighted ridge in float64: W = (XcᵀSXc + αI)⁻¹ XcᵀSYc, b = ȳ − x̄·W (lstsq, so that
    alpha = 0 with n < d gives the minimum-norm solution)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
    if fit_intercept:
        xm, ym = w @ X / w.sum(), w @ Y / w.sum()
    else:
        xm, ym = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    Xc, Yc = (X - xm) * np.sqrt(w)[:, None], (Y - ym) * np.sqrt(w)[:, None]
    G = Xc.T @ Xc + alpha * np.eye(X.shape[1])
    W = np.linalg.lstsq(G, Xc.T @ Yc, rcond=None)[0]
    return W.T, ym - xm @ W  # coef (t × d), intercept (t,)


def rtol(backend):
    # f32 products: the κ ≈ 1e2 of these problems times 1e-7, and the iterative solvers' own
    # stopping tolerance (1e-8 here); int8 MACs perturb every product by ~1e-3 of its scale.
    return 0.1 if quantized(backend) else 2e-3


def make(rng, n, d, t, offsets=True):
    X = rng.normal(size=(n, d)) * (1 + np.arange(d))
    if offsets:
        X += np.where(np.arange(d) % 3 == 0, 5.0, 0.0)
    W = rng.normal(size=(d, t))
    Y = X @ W + 0.1 * rng.normal(size=(n, t)) + np.arange(1, t + 1)
    return X, Y


def assert_close(model, coef, intercept, backend, y_was_1d):
    scale = max(np.abs(coef).max(), 1.0)
    got = np.atleast_2d(model.coef_)
    np.testing.assert_allclose(got, coef, rtol=0, atol=rtol(backend) * scale)
    np.testing.assert_allclose(
        np.atleast_1d(model.intercept_),
        intercept,
        rtol=0,
        atol=rtol(backend) * (scale + np.abs(intercept).max()),
    )
    assert np.ndim(model.coef_) == (1 if y_was_1d else 2)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "n,d,t,weighted,fit_intercept",
    [
        (37, 5, 1, False, True),
        (53, 7, 3, True, True),
        (11, 17, 2, True, True),  # n < d
        (29, 1, 1, False, False),  # one feature, no intercept
        (13, 4, 1, True, False),
    ],
)
def test_solver_matches_closed_form(backend, solver, n, d, t, weighted, fit_intercept, rng):
    X, Y = make(rng, n, d, t)
    y = Y[:, 0] if t == 1 else Y
    w = rng.uniform(0.5, 2.0, size=n) if weighted else None
    alpha = 0.7
    model = mlcore.Ridge(
        alpha=alpha, solver=solver, tol=1e-8, fit_intercept=fit_intercept, backend=backend
    ).fit(X, y, sample_weight=w)
    coef, intercept = closed_form(X, Y, alpha, w, fit_intercept)
    assert_close(model, coef, intercept, backend, t == 1)
    expected = {"auto": "cholesky", "sag": "lsqr", "saga": "lsqr"}.get(solver, solver)
    assert model.solver_ == expected
    if solver in ("lsqr", "sag", "saga"):
        assert model.n_iter_.shape == (t,) and (model.n_iter_ >= 1).all()
    else:
        assert model.n_iter_ is None


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("solver", SOLVERS)
def test_one_sample(backend, solver):
    # One sample with an intercept: the centred X is 0, so w = 0 and the intercept is y.
    model = mlcore.Ridge(solver=solver, backend=backend).fit([[1.0, 2.0, 3.0]], [4.0])
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == pytest.approx(4.0)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("solver", ["cholesky", "svd", "sparse_cg", "lsqr", "sag"])
def test_sparse_matches_dense_closed_form(backend, solver, rng):
    X, Y = make(rng, 61, 9, 2, offsets=False)
    X[rng.uniform(size=X.shape) < 0.6] = 0.0
    Y = X @ rng.normal(size=(9, 2)) + 1.0
    w = rng.uniform(0.5, 2.0, size=61)
    model = mlcore.Ridge(alpha=0.3, solver=solver, tol=1e-8, backend=backend)
    model.fit(sp.csr_matrix(X), Y, sample_weight=w)
    coef, intercept = closed_form(X, Y, 0.3, w)
    assert_close(model, coef, intercept, backend, False)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_svd_handles_rank_deficient_X(backend, rng):
    # A duplicated column and a constant one, alpha = 0: the SVD solution is the minimum-norm
    # least-squares solution (lstsq's, which scikit-learn's LinearRegression gives; its
    # Ridge(solver="svd") keeps singular values down to 1e-15 and returns ±5e12 here).
    X = rng.normal(size=(40, 3))
    X = np.column_stack([X, X[:, 1], np.full(40, 2.0)])
    y = X[:, 0] - 2 * X[:, 1] + rng.normal(scale=0.01, size=40)
    ours = mlcore.Ridge(alpha=0.0, solver="svd", backend=backend).fit(X, y)
    ref = skl.LinearRegression().fit(X, y)
    atol = 0.05 if quantized(backend) else 1e-3
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol)
    assert ours.coef_[1] == pytest.approx(ours.coef_[3], abs=atol)


@pytest.mark.parametrize("solver", ["lsqr", "sag", "saga"])
def test_n_iter_follows_max_iter(solver):
    # scikit-learn's test_n_iter: with tol tiny, every target runs exactly max_iter iterations.
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    Y = np.column_stack([y, y])
    for max_iter in (1, 2, 3):
        model = mlcore.Ridge(solver=solver, max_iter=max_iter, tol=1e-12).fit(X, Y)
        np.testing.assert_array_equal(model.n_iter_, [max_iter, max_iter])


def test_tol_and_max_iter_change_the_iterative_result(rng):
    X, Y = make(rng, 200, 30, 1)
    y = Y[:, 0]
    coef, _ = closed_form(X, y, 1e-3)
    exact = mlcore.Ridge(alpha=1e-3, solver="sparse_cg", tol=1e-10).fit(X, y)
    early = mlcore.Ridge(alpha=1e-3, solver="sparse_cg", max_iter=2).fit(X, y)
    err = lambda m: np.abs(m.coef_ - coef[0]).max()  # noqa: E731
    assert err(exact) < 1e-3 * np.abs(coef).max() < err(early)
    loose = mlcore.Ridge(alpha=1e-3, solver="lsqr", tol=1e-1).fit(X, y)
    tight = mlcore.Ridge(alpha=1e-3, solver="lsqr", tol=1e-10).fit(X, y)
    assert loose.n_iter_[0] < tight.n_iter_[0]


def test_solvers_agree_with_sklearn_on_diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    for solver in SOLVERS:
        ours = mlcore.Ridge(alpha=0.1, solver=solver, tol=1e-8).fit(X, y)
        ref = skl.Ridge(alpha=0.1, solver=solver, tol=1e-8, max_iter=100000).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=0.5)
        assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-4)


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"solver": "qr"}, "solver"),
        ({"solver": "lbfgs"}, "lbfgs"),
        ({"tol": -1.0}, "tol"),
        ({"tol": np.nan}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": -3}, "max_iter"),
    ],
)
def test_bad_parameters_name_the_argument(bad, match):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=match):
        mlcore.Ridge(**bad).fit(X, X[:, 0])


def test_max_iter_must_be_an_int():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(TypeError, match="max_iter"):
        mlcore.Ridge(solver="lsqr", max_iter=2.5).fit(X, X[:, 0])


@pytest.mark.parametrize("solver", ["svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga"])
def test_positive_needs_auto_or_lbfgs_as_in_scikit_learn(solver):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="does not support positive fitting"):
        mlcore.Ridge(solver=solver, positive=True).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="only when positive=True"):
        mlcore.Ridge(solver="lbfgs").fit(X, X[:, 0])


def assert_kkt(model, X, Y, alpha, sample_weight, atol):
    """The optimality conditions of min ½‖√s(Yc − Xc·w)‖² + ½α‖w‖² subject to w ≥ 0, in float64:
    the gradient g is 0 where w > 0 and g ≥ 0 where w = 0 (scaled by the gradient's size)."""
    coef = np.atleast_2d(model.coef_).astype(np.float64)
    assert (coef >= 0).all()
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).reshape(len(X), -1)
    s = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
    xm, ym = s @ X / s.sum(), s @ Y / s.sum()
    Xc, Yc = X - xm, Y - ym
    G = Xc.T @ (s[:, None] * Xc) + alpha * np.eye(X.shape[1])
    B = Xc.T @ (s[:, None] * Yc)
    scale = np.abs(B).max()
    for r in range(Y.shape[1]):
        g = G @ coef[r] - B[:, r]
        free = coef[r] > 1e-6 * max(coef[r].max(), 1e-12)
        assert np.abs(g[free]).max(initial=0) <= atol * scale
        assert g[~free].min(initial=0) >= -atol * scale
    np.testing.assert_allclose(
        np.atleast_1d(model.intercept_), ym - xm @ coef.T, atol=atol * max(np.abs(ym).max(), 1)
    )


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
@pytest.mark.parametrize("n,d,t,weighted", [(41, 6, 1, False), (23, 11, 2, True), (7, 13, 1, True)])
def test_positive_ridge_meets_the_optimality_conditions(backend, solver, n, d, t, weighted, rng):
    X, Y = make(rng, n, d, t)
    y = Y[:, 0] if t == 1 else Y
    w = rng.uniform(0.5, 2.0, size=n) if weighted else None
    model = mlcore.Ridge(alpha=0.5, solver=solver, positive=True, tol=1e-8, backend=backend)
    model.fit(X, y, sample_weight=w)
    assert model.solver_ == "projected_cd" and model.n_iter_ is None
    # f32: the Gram matrix's rounding (~1e-7·κ); int8: its quantization (~1e-3·κ).
    assert_kkt(model, X, Y, 0.5, w, 5e-2 if quantized(backend) else 1e-4)
    some_negative = (closed_form(X, Y, 0.5, w)[0] < 0).any()
    assert some_negative  # the constraint is active: the unconstrained solution differs


def test_positive_matches_scikit_learn():
    rng = np.random.RandomState(42)  # scikit-learn's test_ridge_ground_truth_positive_test data
    X = rng.randn(300, 100)
    y = X @ rng.uniform(-1.0, 1.0, size=100) + 1 + rng.normal(size=300) * 0.01
    ours = mlcore.Ridge(alpha=0.1, positive=True, tol=1e-10).fit(X, y)
    ref = skl.Ridge(alpha=0.1, positive=True, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-4)


def test_linear_regression_positive_matches_nnls(rng):
    from scipy.optimize import nnls

    X, Y = make(rng, 60, 8, 1)
    y = Y[:, 0]
    ours = mlcore.LinearRegression(positive=True).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    ref = nnls(Xc, yc)[0]
    assert (ref == 0).any()  # the constraint binds
    np.testing.assert_allclose(ours.coef_, ref, atol=1e-3 * np.abs(ref).max())
    no_intercept = mlcore.LinearRegression(positive=True, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(no_intercept.coef_, nnls(X, y)[0], atol=1e-3 * np.abs(ref).max())


def test_positive_max_iter_warns():
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 20))
    X[:, 1] = X[:, 0] + 1e-3 * rng.normal(size=50)  # nearly collinear: slow coordinate descent
    y = X @ rng.normal(size=20)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        mlcore.Ridge(alpha=1e-6, positive=True, max_iter=1, tol=1e-12).fit(X, y)
