"""mlcore.dask linear models, naive Bayes and PCA against the single-machine fits.

Each distributed fit sums per-partition f32 products in float64 across partitions, so it
differs from the single-machine fit only by the order of its f32 sums. Tolerances (relative to
the largest coefficient unless said): least squares 1e-4 (the solve multiplies the Gram
matrix's ~1e-7 rounding by the condition number, ~1e2 here); logistic regression 1e-3 and ±2
L-BFGS iterations (the line search sees the rounding differences); naive Bayes means and
variances 1e-5 relative; PCA components 1e-4. Partitions have awkward, unequal sizes.
"""

import numpy as np
import pytest

import dask.array as da

import mlcore
import mlcore.dask as md


def _data(rng, n=2003, d=7):
    X = rng.normal(size=(n, d)).astype(np.float32)
    X *= np.array([1, 2, 3, 4, 5, 100, 0.1][:d], dtype=np.float32)  # unlike columns: scaled path
    X[:, 3] += 5.0
    return X


def _chunks(X, rows=(600, 450, 953)):
    return da.from_array(X, chunks=(rows, X.shape[1]))


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_least_squares_equals_one_machine(dask_client, rng, name, fit_intercept, weighted):
    X = _data(rng)
    y = np.stack([X @ rng.normal(size=7) + 3.0, X[:, 0] - X[:, 5]], axis=1)
    y += rng.normal(size=y.shape)
    w = rng.random(len(X)) if weighted else None
    dist = getattr(md, name)(fit_intercept=fit_intercept).fit(
        _chunks(X),
        da.from_array(y, chunks=(500, 2)),
        sample_weight=None if w is None else da.from_array(w, chunks=700),
    )
    one = getattr(mlcore, name)(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    scale = np.abs(one.coef_).max()
    np.testing.assert_allclose(dist.coef_, one.coef_, atol=1e-4 * scale)
    np.testing.assert_allclose(dist.intercept_, one.intercept_, atol=1e-4 * max(scale, 1.0))
    if name == "LinearRegression":
        assert dist.rank_ == one.rank_
        np.testing.assert_allclose(dist.singular_, one.singular_, rtol=1e-4)
    pred = dist.predict(_chunks(X))
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), one.predict(X), rtol=1e-4, atol=1e-3)


def test_least_squares_one_target_and_collinear_columns(dask_client, rng):
    X = _data(rng, n=1001, d=5)
    X[:, 4] = 2 * X[:, 1] - X[:, 0]  # rank 4: the minimum-norm solution on both sides
    y = X[:, 0] + rng.normal(size=len(X))
    dist = md.LinearRegression().fit(_chunks(X, (500, 501)), da.from_array(y, chunks=300))
    one = mlcore.LinearRegression().fit(X, y)
    assert dist.rank_ == one.rank_ == 4
    assert np.ndim(dist.coef_) == 1 and np.ndim(dist.intercept_) == 0
    # the single-machine dtypes: float32 attributes for float32 X
    assert dist.coef_.dtype == one.coef_.dtype and type(dist.intercept_) is type(one.intercept_)
    np.testing.assert_allclose(dist.coef_, one.coef_, atol=1e-4)


@pytest.mark.parametrize("solver", ["svd", "sparse_cg", "lsqr", "sag"])
def test_ridge_refuses_solvers_it_does_not_run(dask_client, rng, solver):
    # The distributed fit reduces the Gram matrix and solves it by Cholesky: asking for another
    # solver is refused rather than silently ignored.
    X = _data(rng, n=200, d=5)
    with pytest.raises(ValueError, match="solver"):
        md.Ridge(solver=solver).fit(_chunks(X, (100, 100)), da.from_array(X[:, 0], chunks=100))


def test_logistic_refuses_the_options_it_does_not_fit(dask_client, rng):
    # The distributed fit is L-BFGS on the L2 problem: an L1 part (OWL-QN), liblinear's
    # penalised intercept and warm_start are refused by name, after scikit-learn's own rules.
    X = _data(rng, n=200, d=4)
    y = (X[:, 0] > 0).astype(int)
    Xd, yd = _chunks(X, (100, 100)), da.from_array(y, chunks=100)
    for kwargs, match in (
        ({"solver": "saga", "l1_ratio": 1.0}, "l1_ratio"),
        ({"solver": "saga", "l1_ratio": 0.5}, "l1_ratio"),
        ({"solver": "liblinear"}, "liblinear"),
        ({"warm_start": True}, "warm_start"),
        ({"l1_ratio": 1.0}, "Solver lbfgs supports only 'l2' or None"),
    ):
        with pytest.raises(ValueError, match=match):
            md.LogisticRegression(**kwargs).fit(Xd, yd)
    # The other solver names are the same L2 problem: they run, and agree with one machine.
    dist = md.LogisticRegression(solver="newton-cg").fit(Xd, yd)
    one = mlcore.LogisticRegression(solver="newton-cg").fit(X, y)
    np.testing.assert_allclose(dist.coef_, one.coef_, rtol=1e-3, atol=1e-4)


def test_least_squares_runs_on_the_systolic_backend(dask_client, rng):
    """Every worker runs the int8 systolic backend on its partition; the profile says so."""
    X = _data(rng)
    y = X @ rng.normal(size=7) + rng.normal(size=len(X))
    dist = md.LinearRegression(backend="systolic").fit(_chunks(X), da.from_array(y, chunks=500))
    exact = mlcore.LinearRegression(backend="scalar").fit(X, y)
    gemms = [r for r in dist.profile_ if r["op"] == "gemm"]
    assert gemms and all(r["backend"] == "systolic" for r in gemms)
    assert all(r["cycles"] for r in gemms)
    # int8 products: the fit keeps its quality, not its f32 digits.
    assert dist.score(X, y) == pytest.approx(exact.score(X, y), abs=2e-3)


@pytest.mark.parametrize(
    "parallel, weights",
    [
        ("data", None),
        ("data", "sample"),
        ("data", "balanced"),
        ("model", None),
        ("model", "sample"),
    ],
)
def test_logistic_regression_equals_one_machine(dask_client, rng, parallel, weights):
    X = _data(rng, n=1503)
    y = np.array(["a", "b", "c", "d"])[(X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 1)]
    w = rng.random(len(X)) if weights == "sample" else None
    cw = "balanced" if weights == "balanced" else None
    dist = md.LogisticRegression(parallel=parallel, class_weight=cw).fit(
        _chunks(X, (500, 500, 503)),
        da.from_array(y, chunks=400),
        sample_weight=None if w is None else da.from_array(w, chunks=600),
    )
    one = mlcore.LogisticRegression(class_weight=cw).fit(X, y, sample_weight=w)
    assert abs(int(dist.n_iter_[0]) - int(one.n_iter_[0])) <= 2
    scale = np.abs(one.coef_).max()
    np.testing.assert_allclose(dist.coef_, one.coef_, atol=1e-3 * scale)
    np.testing.assert_allclose(dist.intercept_, one.intercept_, atol=1e-3 * scale)
    np.testing.assert_array_equal(dist.classes_, one.classes_)
    assert np.mean(dist.predict(_chunks(X, (500, 500, 503))).compute() == one.predict(X)) > 0.998
    np.testing.assert_allclose(dist.predict_proba(X), one.predict_proba(X), atol=1e-3)


def test_logistic_regression_binary_equals_one_machine(dask_client, rng):
    X = _data(rng, n=1200)
    y = X[:, 0] + 0.3 * X[:, 1] > 0.2
    dist = md.LogisticRegression(C=0.5).fit(_chunks(X, (700, 500)), da.from_array(y, chunks=500))
    one = mlcore.LogisticRegression(C=0.5).fit(X, y)
    assert dist.coef_.shape == (1, 7)
    assert abs(int(dist.n_iter_[0]) - int(one.n_iter_[0])) <= 2
    np.testing.assert_allclose(dist.coef_, one.coef_, atol=1e-3 * np.abs(one.coef_).max())


def test_model_parallel_needs_three_classes(dask_client, rng):
    X = _data(rng, n=300)
    with pytest.raises(ValueError, match="parallel='model'.*>= 3 classes"):
        md.LogisticRegression(parallel="model").fit(
            _chunks(X, (150, 150)), da.from_array(X[:, 0] > 0, chunks=150)
        )
    with pytest.raises(ValueError, match="parallel must be"):
        md.LogisticRegression(parallel="pipeline").fit(
            _chunks(X, (150, 150)), da.from_array(X[:, 0] > 0, chunks=150)
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=5
def test_model_parallel_moves_activations_not_weights(dask_client, rng):
    """Model parallel: each evaluation reduces n-long vectors (the softmax max and sum), data
    parallel K·(d+1) gradients per partition — the profile's bytes show the trade."""
    X = _data(rng, n=600)
    y = rng.integers(0, 5, len(X))
    data = md.LogisticRegression(parallel="data", max_iter=5).fit(
        _chunks(X, (300, 300)), da.from_array(y, chunks=300)
    )
    model = md.LogisticRegression(parallel="model", max_iter=5).fit(
        _chunks(X, (300, 300)), da.from_array(y, chunks=300)
    )
    names = {r["what"] for r in model.profile_ if r["op"] == "reduce"}
    assert {"softmax: row max", "softmax: row sum"} <= names
    row_max = [r for r in model.profile_ if r["op"] == "reduce" and r["what"] == "softmax: row max"]
    assert all(r["comm_bytes"] >= 2 * 600 * 4 for r in row_max)  # n floats from each shard
    grads = [r for r in data.profile_ if r["op"] == "reduce" and r["what"] == "loss and gradient"]
    assert all(r["comm_bytes"] >= 2 * 5 * 7 * 8 for r in grads)  # K·d doubles per partition


@pytest.mark.parametrize("weighted", [False, True, "class 2 weighs 0"])
def test_gaussian_nb_equals_one_machine(dask_client, rng, weighted):
    X = _data(rng, n=1701)
    y = rng.integers(0, 3, len(X))
    X[y == 1] += 1.5
    w = rng.random(len(X)) if weighted else None
    if weighted == "class 2 weighs 0":  # kept with mean 0, variance epsilon, prior 0
        w[y == 2] = 0.0
    dist = md.GaussianNB().fit(
        _chunks(X, (600, 600, 501)),
        da.from_array(y, chunks=800),
        sample_weight=None if w is None else da.from_array(w, chunks=500),
    )
    one = mlcore.GaussianNB().fit(X, y, sample_weight=w)
    for attr in ("theta_", "class_count_", "class_prior_"):
        np.testing.assert_allclose(getattr(dist, attr), getattr(one, attr), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dist.var_, one.var_, rtol=1e-5)
    assert dist.epsilon_ == pytest.approx(one.epsilon_, rel=1e-6)
    np.testing.assert_allclose(
        dist.predict_proba(_chunks(X, (600, 600, 501))).compute(), one.predict_proba(X), atol=1e-5
    )


def test_multinomial_nb_equals_one_machine(dask_client, rng):
    X = rng.poisson(3.0, size=(1501, 9)).astype(np.float32)
    X[:, 8] *= 50  # one feature far larger than the others: the scaled input path
    y = rng.integers(0, 4, len(X))
    dist = md.MultinomialNB(alpha=0.5).fit(
        _chunks(X, (500, 500, 501)), da.from_array(y, chunks=500)
    )
    one = mlcore.MultinomialNB(alpha=0.5).fit(X, y)
    np.testing.assert_allclose(dist.feature_count_, one.feature_count_, rtol=1e-6)
    np.testing.assert_allclose(dist.feature_log_prob_, one.feature_log_prob_, atol=1e-6)
    np.testing.assert_allclose(dist.predict_proba(X), one.predict_proba(X), atol=1e-5)


def test_multinomial_nb_refuses_negative_counts(dask_client, rng):
    X = rng.normal(size=(200, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="Negative values"):
        md.MultinomialNB().fit(_chunks(X, (100, 100)), da.from_array(X[:, 0] > 0, chunks=100))


@pytest.mark.parametrize("n_components", [3, 0.9, None, "mle"])
def test_pca_equals_one_machine(dask_client, rng, n_components):
    X = _data(rng, n=1203) @ rng.normal(size=(7, 7)).astype(np.float32)
    dist = md.PCA(n_components=n_components).fit(_chunks(X, (400, 400, 403)))
    one = mlcore.PCA(n_components=n_components).fit(X)
    assert dist.n_components_ == one.n_components_
    # A component moves by about ‖E‖ / gap (Davis–Kahan) for a perturbation E of the
    # covariance: f32 sums in another order give ‖E‖ ~ 1e-6·λ_max, so a component whose
    # eigenvalue is close to another's is only as exact as that gap allows.
    ev = mlcore.PCA().fit(X).explained_variance_
    gaps = np.array([np.min(np.abs(np.delete(ev, c) - ev[c])) for c in range(len(ev))])
    atol = 1e-4 + 1e-6 * ev[0] / gaps[: one.n_components_]
    assert np.all(np.abs(dist.components_ - one.components_) <= atol[:, None])
    np.testing.assert_allclose(
        dist.explained_variance_, one.explained_variance_, rtol=1e-5, atol=1e-6 * ev[0]
    )
    np.testing.assert_allclose(dist.mean_, one.mean_, rtol=1e-5, atol=1e-5)
    Z = dist.transform(_chunks(X, (400, 400, 403)))
    scale = np.abs(X).max() * np.sqrt(X.shape[1])
    np.testing.assert_allclose(Z.compute(), one.transform(X), atol=scale * atol.max())
