"""LinearRegression, Ridge and LogisticRegression against scikit-learn on its bundled datasets, on
every backend; rank-deficient and weighted problems, determinism, scikit-learn tooling,
pickling and bad input."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlcore
from conftest import AVAILABLE, F32_BACKENDS, quantized

CLASSIFICATION = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


def accuracy_tolerance(backend):
    """Allowed accuracy gap to scikit-learn: 1 point on f32 backends, 3 on the int8 array."""
    return 0.03 if quantized(backend) else 0.01


def r2_tolerance(backend):
    return 0.03 if quantized(backend) else 0.01


@functools.lru_cache(maxsize=None)
def split(name, scale=True):
    """The fixed split (train_test_split(random_state=0)), standardised with the training
    statistics when `scale`."""
    loader = load_diabetes if name == "diabetes" else CLASSIFICATION[name]
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    if scale:
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    return Xtr, Xte, ytr, yte


def quiet_fit(model, *args, **kwargs):
    """fit, ignoring ConvergenceWarning (the tests that check the warning itself, or its
    absence, do not use this)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


# ---- least squares ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("scale", [True, False])
def test_linear_regression_r2_matches_sklearn(backend, scale):
    Xtr, Xte, ytr, yte = split("diabetes", scale)
    ours = mlcore.LinearRegression(backend=backend).fit(Xtr, ytr)
    ref = skl.LinearRegression().fit(Xtr, ytr)
    r2, r2_ref = r2_score(yte, ours.predict(Xte)), r2_score(yte, ref.predict(Xte))
    assert abs(r2 - r2_ref) <= r2_tolerance(backend), (r2, r2_ref)
    assert ours.coef_.shape == ref.coef_.shape and np.isscalar(ours.intercept_)
    assert ours.score(Xte, yte) == pytest.approx(r2)
    if not quantized(backend):
        # κ(XcᵀXc) ≈ 470 on diabetes: f32 leaves ~κ·1e-7 relative error in the coefficients.
        scale_ = np.abs(ref.coef_).max()
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * scale_)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4)
        np.testing.assert_allclose(
            ours.singular_, ref.singular_, rtol=1e-3, atol=1e-4 * ref.singular_.max()
        )
        assert ours.rank_ == ref.rank_


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("alpha", [0.1, 1.0, 10.0])
def test_ridge_r2_matches_sklearn(backend, alpha):
    Xtr, Xte, ytr, yte = split("diabetes", False)
    ours = mlcore.Ridge(alpha=alpha, backend=backend).fit(Xtr, ytr)
    ref = skl.Ridge(alpha=alpha, solver="cholesky").fit(Xtr, ytr)
    r2, r2_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(r2 - r2_ref) <= r2_tolerance(backend), (r2, r2_ref)
    if not quantized(backend):
        np.testing.assert_allclose(
            ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4 * np.abs(ref.coef_).max()
        )
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4)
    assert ours.solver_ == "cholesky" and ours.n_iter_ is None


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize(
    "Model,kwargs", [(mlcore.LinearRegression, {}), (mlcore.Ridge, {"alpha": 3.0})]
)
def test_multi_output_matches_sklearn(backend, Model, kwargs, rng):
    X = rng.normal(size=(300, 6)) * [1, 10, 0.1, 5, 1, 2] + [0, 50, 0, -3, 1, 0]
    W = rng.normal(size=(6, 3))
    Y = X @ W + rng.normal(scale=0.1, size=(300, 3)) + [1, -2, 3]
    ours = Model(**kwargs, backend=backend).fit(X, Y)
    ref = getattr(skl, Model.__name__)(**kwargs).fit(X, Y)
    assert ours.coef_.shape == (3, 6) and ours.intercept_.shape == (3,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-4, atol=1e-3)
    # A 2-D y with one column keeps sklearn's 2-D shapes.
    one = Model(**kwargs, backend=backend).fit(X, Y[:, :1])
    assert one.coef_.shape == (1, 6) and one.intercept_.shape == (1,)
    assert one.predict(X).shape == (300, 1)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_rank_deficient_gives_minimum_norm_solution(backend, rng):
    # A duplicated column and a constant one: XᵀX is singular, the Cholesky pivot vanishes and
    # the eigen fallback returns the minimum-norm solution, like sklearn's lstsq.
    X = rng.normal(size=(200, 4))
    X = np.column_stack([X, X[:, 1], np.full(200, 3.0)])
    y = X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 3] + rng.normal(scale=0.01, size=200)
    ours = mlcore.LinearRegression(backend=backend).fit(X, y)
    ref = skl.LinearRegression().fit(X, y)
    assert ours.rank_ == 4
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3)
    assert ours.coef_[1] == pytest.approx(ours.coef_[4], abs=1e-4)  # shared equally
    assert ours.coef_[5] == pytest.approx(0.0, abs=1e-6)  # the constant column
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-3)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize(
    "Model,kwargs", [(mlcore.LinearRegression, {}), (mlcore.Ridge, {"alpha": 0.5})]
)
def test_sample_weight_matches_sklearn(backend, Model, kwargs):
    Xtr, Xte, ytr, yte = split("diabetes", True)
    w = np.random.default_rng(0).integers(0, 4, size=len(ytr)).astype(float)
    ours = Model(**kwargs, backend=backend).fit(Xtr, ytr, sample_weight=w)
    ref = getattr(skl, Model.__name__)(**kwargs).fit(Xtr, ytr, sample_weight=w)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= r2_tolerance(backend)
    if not quantized(backend):
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * np.abs(ref.coef_).max())
        # Integer weights are the same as repeating the samples.
        rep = Model(**kwargs, backend=backend).fit(
            np.repeat(Xtr, w.astype(int), axis=0), np.repeat(ytr, w.astype(int))
        )
        np.testing.assert_allclose(ours.coef_, rep.coef_, atol=1e-3 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("Model", [mlcore.LinearRegression, mlcore.Ridge])
def test_no_intercept_matches_sklearn(backend, Model):
    Xtr, _, ytr, _ = split("diabetes", False)
    ours = Model(fit_intercept=False, backend=backend).fit(Xtr, ytr)
    ref = getattr(skl, Model.__name__)(fit_intercept=False).fit(Xtr, ytr)
    assert ours.intercept_ == 0.0
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=2e-3, atol=1e-3)


def test_large_offsets_keep_f32_precision():
    # Features around 1e4 with unit spread: uncentred XᵀX in f32 would lose ~8 digits to
    # cancellation. mlcore centres (and scales) on the backend first.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 3)) + [1e4, -2e4, 5e3]
    y = X @ [1.5, -0.5, 2.0] + rng.normal(scale=0.1, size=5000)
    ours = mlcore.LinearRegression(backend="scalar").fit(X, y)
    ref = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3)
    assert r2_score(y, ours.predict(X)) == pytest.approx(r2_score(y, ref.predict(X)), abs=1e-4)


# ---- logistic regression ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(CLASSIFICATION))
def test_logistic_accuracy_matches_sklearn(backend, dataset):
    Xtr, Xte, ytr, yte = split(dataset)
    # No ConvergenceWarning on any backend: f32 reaches tol; the int8 array's gradient has a
    # noise floor above tol, which L-BFGS recognises and reports as convergence to it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = mlcore.LogisticRegression(max_iter=500, backend=backend).fit(Xtr, ytr)
    assert 0 < ours.n_iter_[0] < 500
    if quantized(backend):
        assert ours._model.solver_message.startswith("converged")
    ref = skl.LogisticRegression(max_iter=500).fit(Xtr, ytr)
    acc, acc_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(acc - acc_ref) <= accuracy_tolerance(backend) + 1e-12, (acc, acc_ref)
    k = len(ref.classes_)
    assert ours.coef_.shape == ref.coef_.shape == ((1 if k == 2 else k), Xtr.shape[1])
    assert ours.intercept_.shape == ref.intercept_.shape
    proba = ours.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    if not quantized(backend):
        # The same optimum (up to tol) → nearly the same probabilities.
        assert np.abs(proba - ref.predict_proba(Xte)).max() < 0.02
        assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99
        assert ours.n_iter_.shape == (1,) and 0 < ours.n_iter_[0] <= 500


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
def test_logistic_converges_to_sklearns_optimum(backend, dataset):
    Xtr, Xte, ytr, _ = split(dataset)
    ours = mlcore.LogisticRegression(C=0.5, tol=1e-6, max_iter=2000, backend=backend)
    ref = skl.LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit(Xtr, ytr)
    ours.fit(Xtr, ytr)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)
    np.testing.assert_allclose(ours.decision_function(Xte), ref.decision_function(Xte), atol=1e-2)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_logistic_unscaled_data(backend):
    # Raw breast_cancer: features from 1e-3 to 1e3, nearly collinear ones (radius, perimeter,
    # area) and a penalty that barely touches the large-unit ones: a long narrow valley that
    # takes thousands of L-BFGS iterations (scikit-learn: ~3000). mlcore's f32 objective still
    # gets there: its line search reads the slope once f stops moving in f32.
    Xtr, Xte, ytr, yte = split("breast_cancer", scale=False)
    ours = mlcore.LogisticRegression(max_iter=20000, backend=backend).fit(Xtr, ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = skl.LogisticRegression(max_iter=20000, tol=1e-6).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.01
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=0.02)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
def test_class_weight_matches_sklearn(backend, class_weight):
    Xtr, Xte, ytr, yte = split("wine")
    ours = quiet_fit(
        mlcore.LogisticRegression(class_weight=class_weight, backend=backend), Xtr, ytr
    )
    ref = skl.LogisticRegression(class_weight=class_weight).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= accuracy_tolerance(backend)
    if not quantized(backend):
        np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=0.02)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_sample_weight_logistic_matches_sklearn(backend):
    Xtr, Xte, ytr, _ = split("breast_cancer")
    w = np.random.default_rng(1).uniform(0.1, 3.0, size=len(ytr))
    ours = mlcore.LogisticRegression(tol=1e-6, backend=backend).fit(Xtr, ytr, sample_weight=w)
    ref = skl.LogisticRegression(tol=1e-8).fit(Xtr, ytr, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-2)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_no_penalty_and_no_intercept(backend, rng):
    X = rng.normal(size=(400, 3))
    y = (X @ [1.0, -1.0, 0.5] + rng.logistic(size=400) > 0).astype(int)
    for kwargs in ({"C": np.inf}, {"penalty": None}, {"fit_intercept": False}):
        ours = mlcore.LogisticRegression(**kwargs, tol=1e-8, backend=backend).fit(X, y)
        ref_kwargs = {"C": np.inf} if "penalty" in kwargs else kwargs  # sklearn ≥ 1.8's spelling
        ref = skl.LogisticRegression(**ref_kwargs, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)


def test_logistic_penalty_warnings_follow_scikit_learn(rng):
    # scikit-learn 1.8 deprecated `penalty`: setting it warns (FutureWarning), and
    # penalty=None with a C of its own warns that C is ignored. Same warnings, same models.
    import warnings

    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    for kwargs, expected in (
        ({}, set()),
        ({"C": 4.0}, set()),
        ({"penalty": "l2"}, {FutureWarning}),
        ({"penalty": None}, {FutureWarning}),
        ({"penalty": None, "C": 4.0}, {FutureWarning, UserWarning}),
    ):
        seen = {}
        for name, cls in (
            ("mlcore", mlcore.LogisticRegression),
            ("sklearn", skl.LogisticRegression),
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cls(**kwargs).fit(X, y)
            seen[name] = {w.category for w in caught if w.category in (FutureWarning, UserWarning)}
        assert seen["mlcore"] == seen["sklearn"] == expected, (kwargs, seen)
    with pytest.warns(UserWarning, match="Setting penalty=None will ignore the C"):
        mlcore.LogisticRegression(penalty=None, C=4).fit(X, y)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_logistic_outputs_are_consistent(backend):
    Xtr, Xte, ytr, _ = split("breast_cancer")
    # f32: the same numbers to rounding. systolic: decision_function (a gemv) and predict /
    # predict_proba (a gemm of [0, z]) quantize differently, to ~1% of the largest score.
    f32 = not quantized(backend)
    m = quiet_fit(mlcore.LogisticRegression(backend=backend), Xtr, ytr)
    z = m.decision_function(Xte)
    assert z.shape == (len(Xte),)
    atol = 1e-3 if f32 else 0.03 * np.abs(z).max()
    np.testing.assert_allclose(z, Xte @ m.coef_[0] + m.intercept_[0], rtol=1e-3, atol=atol)
    agree = np.mean(m.predict(Xte) == m.classes_[(z > 0).astype(int)])
    assert agree == 1.0 if f32 else agree >= 0.97
    p = m.predict_proba(Xte)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-z)), atol=1e-5 if f32 else 0.05)
    np.testing.assert_allclose(m.predict_log_proba(Xte), np.log(p), atol=1e-4)
    Xtr, Xte, ytr, _ = split("iris")
    m = quiet_fit(mlcore.LogisticRegression(backend=backend), Xtr, ytr)
    z = m.decision_function(Xte)
    assert z.shape == (len(Xte), 3)
    agree = np.mean(m.predict(Xte) == m.classes_[z.argmax(axis=1)])
    assert agree == 1.0 if f32 else agree >= 0.97


def test_string_labels_and_convergence_warning():
    Xtr, Xte, ytr, _ = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[ytr]
    m = mlcore.LogisticRegression().fit(Xtr, names)
    assert list(m.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(m.predict(Xte)) <= set(m.classes_)
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        mlcore.LogisticRegression(max_iter=1).fit(Xtr, names)


# ---- every estimator: determinism, profiles, tooling, pickling ---------------------------------

ESTIMATORS = [
    (lambda b: mlcore.LinearRegression(backend=b), "diabetes"),
    (lambda b: mlcore.Ridge(alpha=2.0, backend=b), "diabetes"),
    (lambda b: mlcore.LogisticRegression(backend=b), "wine"),
]


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("make,dataset", ESTIMATORS)
def test_deterministic_and_profiled(backend, make, dataset):
    Xtr, Xte, ytr, _ = split(dataset)
    a = quiet_fit(make(backend), Xtr, ytr)
    b = quiet_fit(make(backend), Xtr, ytr)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.predict(Xte), b.predict(Xte))
    ops = {r["op"] for r in a.profile_}  # the last call: predict
    assert "gemm" in ops or "gemv" in ops
    quiet_fit(a, Xtr, ytr)
    assert a.profile_.total()["macs"] >= Xtr.shape[0] * Xtr.shape[1]


@pytest.mark.parametrize("make,dataset", ESTIMATORS)
def test_sklearn_tooling_and_pickle(make, dataset):
    Xtr, Xte, ytr, yte = split(dataset, scale=False)
    est = make("avx2")
    pipe = make_pipeline(StandardScaler(), est)
    scores = cross_val_score(pipe, Xtr, ytr, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid_key = "alpha" if hasattr(est, "alpha") else ("C" if hasattr(est, "C") else "fit_intercept")
    values = {"alpha": [0.1, 1.0], "C": [0.1, 1.0], "fit_intercept": [True, False]}[grid_key]
    name = type(est).__name__.lower()
    grid = GridSearchCV(pipe, {f"{name}__{grid_key}": values}, cv=3).fit(Xtr, ytr)
    assert grid.best_score_ > 0
    fitted = pipe.fit(Xtr, ytr)
    clone(est)  # an unfitted copy with the same parameters
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(Xte), fitted.predict(Xte))
    # Switching backend after fit keeps the model.
    model = fitted[-1]
    model.set_params(backend="scalar")
    np.testing.assert_allclose(
        fitted.predict(Xte).astype(float), restored.predict(Xte).astype(float), rtol=1e-4, atol=1e-4
    )


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Model", [mlcore.LinearRegression, mlcore.Ridge, mlcore.LogisticRegression]
)
def test_bad_input(Model):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(NotFittedError):
        Model().predict(X)
    with pytest.raises(ValueError):
        Model().fit(np.empty((0, 3)), np.empty(0))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity"):
        Model().fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        Model().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight|negative"):
        Model().fit(X, y, sample_weight=-np.ones(20))
    m = Model().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])


def test_bad_hyperparameters():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    for bad in [
        {"alpha": -1.0},
        {"alpha": np.nan},
        {"solver": "lbfgs"},
        {"solver": "qr"},
        {"positive": True, "solver": "svd"},
        {"solver": "lbfgs"},  # positive=False
        {"alpha": [1.0, 2.0]},
    ]:
        with pytest.raises((ValueError, TypeError)):
            mlcore.Ridge(**bad).fit(X, y)
    for bad in [
        {"C": 0.0},
        {"C": -1.0},
        {"tol": -1.0},
        {"max_iter": -1},
        {"penalty": "l1"},  # lbfgs takes L2 or none, as scikit-learn's
        {"l1_ratio": 0.5},
        {"l1_ratio": 1.5},
        {"solver": "liblinear", "C": np.inf},
        {"solver": "sgd"},
        {"dual": True},
        {"class_weight": "heavy"},
        {"class_weight": {0: 1.0, 7: 2.0}},
        {"max_iter": 1.5},
        {"backend": "tpu"},
    ]:
        with pytest.raises((ValueError, TypeError)):
            mlcore.LogisticRegression(**bad).fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        mlcore.LogisticRegression().fit(X, np.zeros(20))
    with pytest.raises(ValueError):
        mlcore.LinearRegression(backend="nope").fit(X, y)
