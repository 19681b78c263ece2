"""GaussianNB and MultinomialNB against scikit-learn on its bundled datasets, on every backend;
priors, smoothing and sample weights, determinism, scikit-learn tooling, pickling and bad
input."""

import functools
import pickle

import numpy as np
import pytest
from sklearn import naive_bayes as sknb
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

import mlcore
from conftest import AVAILABLE, F32_BACKENDS, quantized

LOADERS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


def tolerance(backend):
    """Allowed accuracy gap to scikit-learn: 1 point on f32 backends, 3 on the int8 array."""
    return 0.03 if quantized(backend) else 0.01


@functools.lru_cache(maxsize=None)
def split(name):
    """The fixed split of the raw data (naive Bayes needs no scaling; MultinomialNB needs the
    raw non-negative values)."""
    X, y = LOADERS[name](return_X_y=True)
    return tuple(train_test_split(X, y, random_state=0))


def gaussian_cases():
    for backend in AVAILABLE:
        for dataset in LOADERS:
            yield pytest.param(backend, dataset, id=f"{dataset}-{backend}")


@pytest.mark.parametrize("backend,dataset", list(gaussian_cases()))
def test_gaussian_accuracy_matches_sklearn(backend, dataset):
    Xtr, Xte, ytr, yte = split(dataset)
    ours = mlcore.GaussianNB(backend=backend).fit(Xtr, ytr)
    ref = sknb.GaussianNB().fit(Xtr, ytr)
    acc, acc_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(acc - acc_ref) <= tolerance(backend) + 1e-12, (acc, acc_ref)
    proba = ours.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # The class statistics are scatter_adds (the systolic array's vector unit: f32 there too);
    # so is epsilon, from the class moments pooled (law of total variance), on every backend.
    np.testing.assert_allclose(ours.theta_, ref.theta_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-4, atol=1e-6 * ref.var_.max())
    np.testing.assert_allclose(ours.class_prior_, ref.class_prior_, rtol=1e-6)
    np.testing.assert_allclose(ours.class_count_, ref.class_count_)
    assert ours.epsilon_ == pytest.approx(ref.epsilon_, rel=1e-5)
    if not quantized(backend):
        assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99
        # Probabilities where both are not saturated agree closely.
        np.testing.assert_allclose(proba, ref.predict_proba(Xte), atol=0.02)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_gaussian_standardized_digits_matches_sklearn(backend):
    # Standardized digits: a pixel blank in every training image of a class is constant at a
    # *nonzero* value there, with a precision near 1/var_smoothing. The expansion is centred
    # per feature on its tightest class's mean (so those terms vanish instead of cancelling)
    # and the int8 backend cuts each class's weights into magnitude bands (GemmHints::
    # wide_range_b; so the per-class scale does not round the ordinary weights to 0). Was 31
    # points below scikit-learn on the systolic backend before both.
    Xtr, Xte, ytr, yte = split("digits")
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    ours = mlcore.GaussianNB(backend=backend).fit(Xtr, ytr)
    ref = sknb.GaussianNB().fit(Xtr, ytr)
    gap = ours.score(Xte, yte) - ref.score(Xte, yte)
    assert abs(gap) <= tolerance(backend) + 1e-12, gap
    if not quantized(backend):
        assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer"])
def test_gaussian_joint_log_likelihood_matches_sklearn(backend, dataset):
    Xtr, Xte, ytr, _ = split(dataset)
    ours = mlcore.GaussianNB(backend=backend).fit(Xtr, ytr)
    ref = sknb.GaussianNB().fit(Xtr, ytr)
    jll, jll_ref = ours.predict_joint_log_proba(Xte), ref.predict_joint_log_proba(Xte)
    np.testing.assert_allclose(jll, jll_ref, rtol=1e-4, atol=1e-2)
    lp = ours.predict_log_proba(Xte)
    np.testing.assert_allclose(np.exp(lp), ours.predict_proba(Xte), atol=1e-6)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_gaussian_hard_pixels_predict_like_sklearn(backend):
    # digits: many (class, pixel) pairs have variance var_smoothing·max var (a pixel that is
    # blank in every training image of a class). The GEMM expansion is centred on those
    # classes' values so that their enormous terms cancel exactly.
    Xtr, Xte, ytr, _ = split("digits")
    ours = mlcore.GaussianNB(backend=backend).fit(Xtr, ytr)
    ref = sknb.GaussianNB().fit(Xtr, ytr)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
def test_multinomial_accuracy_matches_sklearn(backend, dataset):
    Xtr, Xte, ytr, yte = split(dataset)
    ours = mlcore.MultinomialNB(backend=backend).fit(Xtr, ytr)
    ref = sknb.MultinomialNB().fit(Xtr, ytr)
    acc, acc_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(acc - acc_ref) <= tolerance(backend) + 1e-12, (acc, acc_ref)
    np.testing.assert_allclose(ours.feature_count_, ref.feature_count_, rtol=1e-5)
    np.testing.assert_allclose(ours.feature_log_prob_, ref.feature_log_prob_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.class_log_prior_, ref.class_log_prior_, rtol=1e-6)
    if not quantized(backend):
        assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99
        np.testing.assert_allclose(
            ours.predict_joint_log_proba(Xte),
            ref.predict_joint_log_proba(Xte),
            rtol=1e-5,
            atol=1e-2,
        )
        np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-3)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_priors_smoothing_and_weights_match_sklearn(backend):
    Xtr, Xte, ytr, _ = split("wine")
    w = np.random.default_rng(0).uniform(0.2, 2.0, size=len(ytr))
    cases = [
        (
            mlcore.GaussianNB(priors=[0.2, 0.5, 0.3], backend=backend),
            sknb.GaussianNB(priors=[0.2, 0.5, 0.3]),
            None,
        ),
        (
            mlcore.GaussianNB(var_smoothing=1e-3, backend=backend),
            sknb.GaussianNB(var_smoothing=1e-3),
            None,
        ),
        (mlcore.GaussianNB(backend=backend), sknb.GaussianNB(), w),
        (mlcore.MultinomialNB(alpha=0.1, backend=backend), sknb.MultinomialNB(alpha=0.1), None),
        (
            mlcore.MultinomialNB(fit_prior=False, backend=backend),
            sknb.MultinomialNB(fit_prior=False),
            None,
        ),
        (
            mlcore.MultinomialNB(class_prior=[0.5, 0.25, 0.25], backend=backend),
            sknb.MultinomialNB(class_prior=[0.5, 0.25, 0.25]),
            None,
        ),
        (mlcore.MultinomialNB(backend=backend), sknb.MultinomialNB(), w),
    ]
    for ours, ref, sw in cases:
        ours.fit(Xtr, ytr, sample_weight=sw)
        ref.fit(Xtr, ytr, sample_weight=sw)
        np.testing.assert_allclose(
            ours.predict_proba(Xte), ref.predict_proba(Xte), atol=2e-3, err_msg=repr(ours)
        )
        np.testing.assert_allclose(ours.class_count_, ref.class_count_, rtol=1e-5)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("Model", [mlcore.GaussianNB, mlcore.MultinomialNB])
def test_deterministic_and_profiled(backend, Model):
    Xtr, Xte, ytr, _ = split("digits")
    a = Model(backend=backend).fit(Xtr, ytr)
    fit_ops = {r["op"] for r in a.profile_}
    assert "scatter_add" in fit_ops
    b = Model(backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert "gemm" in {r["op"] for r in a.profile_}
    # predict_proba: the softmax of the scores (or the log-softmax, exponentiated on the host)
    assert {"softmax_rows", "log_softmax_rows"} & {r["op"] for r in a.profile_}


def test_string_labels_and_sample_weight_equivalence():
    Xtr, Xte, ytr, _ = split("iris")
    names = np.array(["a", "b", "c"])[ytr]
    for Model in (mlcore.GaussianNB, mlcore.MultinomialNB):
        m = Model().fit(Xtr, names)
        assert list(m.classes_) == ["a", "b", "c"]
        assert set(m.predict(Xte)) <= {"a", "b", "c"}
        # Integer weights are the same as repeated samples.
        w = np.random.default_rng(2).integers(1, 4, size=len(ytr))
        a = Model().fit(Xtr, ytr, sample_weight=w)
        b = Model().fit(np.repeat(Xtr, w, axis=0), np.repeat(ytr, w))
        np.testing.assert_allclose(a.predict_proba(Xte), b.predict_proba(Xte), atol=1e-4)


@pytest.mark.parametrize(
    "Model,scaler", [(mlcore.GaussianNB, StandardScaler), (mlcore.MultinomialNB, MaxAbsScaler)]
)
def test_sklearn_tooling_and_pickle(Model, scaler):
    Xtr, Xte, ytr, _ = split("wine")
    pipe = make_pipeline(scaler(), Model())
    scores = cross_val_score(pipe, Xtr, ytr, cv=3)
    assert np.all(scores > 0.7)
    key = "var_smoothing" if Model is mlcore.GaussianNB else "alpha"
    name = Model.__name__.lower()
    grid = GridSearchCV(pipe, {f"{name}__{key}": [1e-3, 1e-1]}, cv=3).fit(Xtr, ytr)
    assert grid.best_score_ > 0.7
    fitted = pipe.fit(Xtr, ytr)
    clone(fitted)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(Xte), fitted.predict_proba(Xte))
    fitted[-1].set_params(backend="scalar")
    np.testing.assert_allclose(fitted.predict_proba(Xte), restored.predict_proba(Xte), atol=1e-5)


@pytest.mark.parametrize("Model", [mlcore.GaussianNB, mlcore.MultinomialNB])
def test_bad_input(Model):
    X = np.abs(np.random.default_rng(0).normal(size=(20, 3)))
    y = np.arange(20) % 2
    with pytest.raises(NotFittedError):
        Model().predict(X)
    with pytest.raises(ValueError):
        Model().fit(np.empty((0, 3)), np.empty(0))
    Xn = X.copy()
    Xn[2, 2] = np.inf
    with pytest.raises(ValueError, match="NaN|infinity"):
        Model().fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        Model().fit(X, y[:-1])
    with pytest.raises(ValueError):
        Model().fit(X, y, sample_weight=np.full(20, -1.0))
    m = Model().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])


def test_bad_hyperparameters():
    X = np.abs(np.random.default_rng(0).normal(size=(20, 3)))
    y = np.arange(20) % 2
    for bad in [
        {"var_smoothing": -1.0},
        {"var_smoothing": "x"},
        {"priors": [0.5, 0.6]},
        {"priors": [1.0]},
        {"priors": [-0.5, 1.5]},
        {"backend": "tpu"},
    ]:
        with pytest.raises((ValueError, TypeError)):
            mlcore.GaussianNB(**bad).fit(X, y)
    for bad in [
        {"alpha": -1.0},
        {"alpha": [1.0, 1.0, 1.0]},
        {"class_prior": [0.3, 0.3]},
        {"fit_prior": "yes"},
    ]:
        with pytest.raises((ValueError, TypeError)):
            mlcore.MultinomialNB(**bad).fit(X, y)
    with pytest.raises(ValueError, match="Negative values"):
        mlcore.MultinomialNB().fit(-X, y)
    m = mlcore.MultinomialNB().fit(X, y)
    with pytest.raises(ValueError, match="Negative values"):
        m.predict(-X)
    with pytest.warns(UserWarning, match="alpha too small"):
        mlcore.MultinomialNB(alpha=0.0, force_alpha=False).fit(X, y)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("name", ["GaussianNB", "MultinomialNB"])
def test_single_class_y_predicts_it_with_probability_one(name, backend):
    """scikit-learn fits naive Bayes on one class: every prediction is that class, P = 1."""
    X = np.abs(np.random.default_rng(0).normal(size=(20, 3)))
    y = np.full(20, 7)
    ours = getattr(mlcore, name)(backend=backend).fit(X, y)
    theirs = getattr(sknb, name)().fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_array_equal(ours.classes_, [7])


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_partial_fit_matches_sklearn_and_fit(backend, sparse):
    """Batches of 1, 13 (prime) and the rest, weighted, string labels, the third class first
    seen in the last batch: scikit-learn's partial_fit gives the same counts and model, and so
    does one fit on all the rows."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    X = rng.poisson(2.0, size=(60, 9)).astype(np.float64)
    y = np.array(["spam", "ham"])[rng.integers(0, 2, 60)].astype(object)
    y[45:] = rng.choice(["spam", "ham", "eggs"], 15)
    y[-1] = "eggs"
    w = 0.5 + rng.integers(0, 3, 60)
    prep = sp.csr_matrix if sparse else np.asarray
    ours = mlcore.MultinomialNB(backend=backend)
    theirs = sknb.MultinomialNB()
    # The sparse counts are an spmm: int8 products on the systolic array.
    rtol = 0.03 if sparse and quantized(backend) else 1e-5
    for lo, hi in [(0, 1), (1, 14), (14, 45), (45, 60)]:
        classes = ["eggs", "ham", "spam"] if lo == 0 else None
        ours.partial_fit(prep(X[lo:hi]), y[lo:hi], classes=classes, sample_weight=w[lo:hi])
        theirs.partial_fit(X[lo:hi], y[lo:hi], classes=classes, sample_weight=w[lo:hi])
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_allclose(ours.class_count_, theirs.class_count_)
        np.testing.assert_allclose(ours.feature_count_, theirs.feature_count_, rtol=rtol)
        with np.errstate(divide="ignore"):  # before "eggs" is seen its log prior is −inf
            np.testing.assert_allclose(ours.class_log_prior_, theirs.class_log_prior_, rtol=1e-6)
    np.testing.assert_allclose(ours.feature_log_prob_, theirs.feature_log_prob_, rtol=rtol)
    whole = mlcore.MultinomialNB(backend=backend).fit(prep(X), y, sample_weight=w)
    np.testing.assert_allclose(ours.feature_log_prob_, whole.feature_log_prob_, rtol=rtol)
    tol = 0 if not quantized(backend) else 0.1
    agree = np.mean(ours.predict(prep(X)) == theirs.predict(X))
    assert agree >= 1 - tol, agree


def test_multinomial_partial_fit_errors_and_continuation():
    X = np.random.default_rng(0).poisson(1.0, size=(10, 4)).astype(float)
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        mlcore.MultinomialNB().partial_fit(X, y)
    m = mlcore.MultinomialNB().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="is not the same as on last call"):
        m.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="do not exist in the initial classes"):
        m.partial_fit(X, np.array([0, 1, 2, 0, 1, 0, 1, 0, 1, 0]))
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="Negative"):
        m.partial_fit(-X, y)
    np.testing.assert_array_equal(m.class_count_, [5, 5])  # the refused batches left no trace
    # After fit, partial_fit goes on from fit's counts (scikit-learn's behaviour).
    f = mlcore.MultinomialNB().fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(f.class_count_, [10, 10])
    np.testing.assert_allclose(
        f.feature_count_, 2 * mlcore.MultinomialNB().fit(X, y).feature_count_
    )


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_gaussian_partial_fit_matches_sklearn_and_fit(backend):
    """Batches of 1, 13 (prime) and the rest, weighted, the third class first seen in the last
    batch, one column offset far from 0: scikit-learn's partial_fit gives the same means,
    variances, counts and epsilon, and one fit on all the rows the same statistics."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 6)) * [1, 2, 0.5, 1, 3, 1] + [0, 0, 0, 1000, 0, -5]
    y = rng.integers(0, 2, 80)
    y[50:] = rng.integers(0, 3, 30)
    y[-1] = 2
    X[y == 1] += 1.5
    w = 0.5 + rng.integers(0, 3, 80)
    ours = mlcore.GaussianNB(backend=backend)
    theirs = sknb.GaussianNB()
    for lo, hi in [(0, 1), (1, 14), (14, 50), (50, 80)]:
        classes = [0, 1, 2] if lo == 0 else None
        ours.partial_fit(X[lo:hi], y[lo:hi], classes=classes, sample_weight=w[lo:hi])
        theirs.partial_fit(X[lo:hi], y[lo:hi], classes=classes, sample_weight=w[lo:hi])
        np.testing.assert_allclose(ours.class_count_, theirs.class_count_)
        np.testing.assert_allclose(ours.theta_, theirs.theta_, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(ours.epsilon_, theirs.epsilon_, rtol=1e-5)
        np.testing.assert_allclose(ours.class_prior_, theirs.class_prior_, rtol=1e-6)
    whole = mlcore.GaussianNB(backend=backend).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.theta_, whole.theta_, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        ours.var_ - ours.epsilon_, whole.var_ - whole.epsilon_, rtol=1e-4, atol=1e-6
    )
    assert np.mean(ours.predict(X) == theirs.predict(X)) == 1.0
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-4)


def test_gaussian_partial_fit_refuses_sparse_and_unknown_labels():
    import scipy.sparse as sp

    X = np.random.default_rng(1).normal(size=(6, 2))
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(TypeError):
        mlcore.GaussianNB().partial_fit(sp.csr_matrix(X), y, classes=[0, 1])
    m = mlcore.GaussianNB().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="do not exist in the initial classes"):
        m.partial_fit(X, y + 1)
    np.testing.assert_array_equal(m.class_count_, [3, 3])


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_gaussian_class_of_zero_weight_is_kept_as_sklearn_keeps_it(backend):
    """A class whose samples all weigh 0: mean 0, variance epsilon, count and prior 0, never
    predicted; the other classes as without it."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 4)) + [0, 0, 50, 0]
    y = np.repeat([0, 1, 2], 30)
    X[y == 1] += 2.0
    w = np.where(y == 1, 0.0, 1.0 + rng.random(90))
    ours = mlcore.GaussianNB(backend=backend).fit(X, y, sample_weight=w)
    theirs = sknb.GaussianNB().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.class_count_, theirs.class_count_, rtol=1e-6)
    np.testing.assert_allclose(ours.class_prior_, theirs.class_prior_, atol=1e-7)
    np.testing.assert_allclose(ours.theta_, theirs.theta_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-4)
    assert not np.any(ours.predict(X) == 1)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
