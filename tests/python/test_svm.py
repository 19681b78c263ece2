"""LinearSVC and SVC against scikit-learn on its bundled datasets, on every backend: accuracy,
the fitted attributes' layout, determinism, scikit-learn tooling, pickling and bad input."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from sklearn import svm as sks
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    X, y = LOADERS[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return (
        scaler.transform(Xtr).astype(np.float32),
        scaler.transform(Xte).astype(np.float32),
        ytr,
        yte,
    )


# ---- SVC -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly"])
def test_svc_accuracy_matches_sklearn(backend, dataset, kernel):
    Xtr, Xte, ytr, yte = split(dataset)
    ours = mlcore.SVC(kernel=kernel, backend=backend).fit(Xtr, ytr)
    ref = sks.SVC(kernel=kernel).fit(Xtr, ytr)
    acc, acc_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(acc - acc_ref) <= tolerance(backend) + 1e-12, (acc, acc_ref)
    if not quantized(backend):
        # The same dual solution: same support vectors, coefficients and intercepts.
        np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
        np.testing.assert_array_equal(ours.support_, ref.support_)
        np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, atol=2e-2 * ref.C)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-2)
        # ("ovr" values hold votes: a pair whose value is near 0 may flip one vote.)
        close = np.abs(ours.decision_function(Xte) - ref.decision_function(Xte)) <= 2e-2
        assert close.mean() > 0.998


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_svc_options_match_sklearn(backend):
    Xtr, Xte, ytr, yte = split("wine")
    for params in [
        dict(kernel="sigmoid", gamma="auto", coef0=0.5),
        dict(kernel="poly", degree=2, gamma=0.05, coef0=1.0, C=3.0),
        dict(kernel="rbf", C=0.5, decision_function_shape="ovo"),
        dict(kernel="rbf", break_ties=True),
        dict(kernel="rbf", class_weight="balanced", shrinking=False),
        dict(kernel="linear", class_weight={0: 2.0, 1: 1.0, 2: 0.5}),
    ]:
        ours = mlcore.SVC(backend=backend, **params).fit(Xtr, ytr)
        ref = sks.SVC(**params).fit(Xtr, ytr)
        np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
        dec, dec_ref = ours.decision_function(Xte), ref.decision_function(Xte)
        assert dec.shape == dec_ref.shape
        np.testing.assert_allclose(dec, dec_ref, atol=3e-2, err_msg=str(params))
    lin = mlcore.SVC(kernel="linear", backend=backend).fit(Xtr, ytr)
    np.testing.assert_allclose(lin.coef_, sks.SVC(kernel="linear").fit(Xtr, ytr).coef_, atol=1e-2)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_svc_binary_signs_and_sample_weight(backend):
    Xtr, Xte, ytr, yte = split("breast_cancer")
    labels = np.where(ytr == 1, "benign", "malignant")
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(ytr))
    ours = mlcore.SVC(backend=backend).fit(Xtr, labels, sample_weight=w)
    ref = sks.SVC().fit(Xtr, labels, sample_weight=w)
    assert ours.decision_function(Xte).shape == (len(Xte),)
    np.testing.assert_allclose(ours.decision_function(Xte), ref.decision_function(Xte), atol=2e-2)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-2)
    assert np.mean(ours.predict(Xte) == ref.predict(Xte)) > 0.99
    np.testing.assert_allclose(ours._gamma, ref._gamma, rtol=1e-5)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_svc_nonpositive_sample_weights_drop_samples_as_libsvm(backend):
    # libsvm (scikit-learn's SVC) leaves a sample of weight <= 0 out of the fit: the model
    # equals the fit on the other samples, and the errors say when too little is left.
    Xtr, Xte, ytr, _ = split("breast_cancer")
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 2.0, len(ytr))
    w[rng.choice(len(ytr), 40, replace=False)] = rng.choice([0.0, -0.3, -2.0], 40)
    keep = w > 0
    ours = mlcore.SVC(kernel="linear", backend=backend).fit(Xtr, ytr, sample_weight=w)
    kept = mlcore.SVC(kernel="linear", backend=backend).fit(
        Xtr[keep], ytr[keep], sample_weight=w[keep]
    )
    ref = sks.SVC(kernel="linear").fit(Xtr, ytr, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, kept.coef_, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-2)
    np.testing.assert_allclose(ours.decision_function(Xte), ref.decision_function(Xte), atol=5e-2)
    assert set(ours.support_) <= set(np.flatnonzero(keep))  # indices into the full X
    for bad in (np.zeros(len(ytr)), np.full(len(ytr), -0.3)):
        with pytest.raises(ValueError, match="all samples have zero or negative weights"):
            mlcore.SVC(backend=backend).fit(Xtr, ytr, sample_weight=bad)
    one_class = np.where(ytr == ytr[0], 1.0, -1.0)
    with pytest.raises(ValueError, match="all samples with positive weights belong to the same"):
        mlcore.SVC(backend=backend).fit(Xtr, ytr, sample_weight=one_class)
    with pytest.raises(ValueError, match="non-negative"):  # liblinear's LinearSVC: an error
        mlcore.LinearSVC(backend=backend).fit(Xtr, ytr, sample_weight=np.full(len(ytr), -1.0))


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_svc_small_cache_gives_the_same_model(backend):
    # A cache of a few rows forces the LRU path (rows computed on demand, evicted, recomputed).
    Xtr, Xte, ytr, _ = split("breast_cancer")
    full = mlcore.SVC(backend=backend).fit(Xtr, ytr)
    tiny = mlcore.SVC(cache_size=0.01, backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(full.support_, tiny.support_)
    np.testing.assert_allclose(full.decision_function(Xte), tiny.decision_function(Xte), atol=1e-4)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_svc_deterministic(backend):
    Xtr, Xte, ytr, _ = split("iris")
    a = mlcore.SVC(backend=backend).fit(Xtr, ytr)
    b = mlcore.SVC(backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    np.testing.assert_array_equal(a.decision_function(Xte), b.decision_function(Xte))


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
@pytest.mark.filterwarnings("ignore:Attribute `prob:FutureWarning")
@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", ["iris", "breast_cancer", "wine"])
def test_svc_probability_is_platt_scaling_as_libsvm(backend, dataset):
    """probability=True: each pair's sigmoid fitted on an internal 5-fold cross-validation,
    the pairs coupled. The folds are drawn differently from libsvm's, so the sigmoids and
    probabilities agree with scikit-learn's to a few hundredths, not exactly; they are valid
    distributions, log_proba is their log, and the most probable class is the vote's almost
    everywhere."""
    Xtr, Xte, ytr, _ = split(dataset)
    ours = mlcore.SVC(probability=True, random_state=0, backend=backend).fit(Xtr, ytr)
    ref = sks.SVC(probability=True, random_state=0).fit(Xtr, ytr)
    proba, want = ours.predict_proba(Xte), ref.predict_proba(Xte)
    assert proba.shape == want.shape and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.all((proba > 0) & (proba < 1))
    assert np.abs(proba - want).mean() < (0.02 if quantized(backend) else 0.01)
    assert np.abs(proba - want).max() < 0.2
    assert np.mean(proba.argmax(axis=1) == want.argmax(axis=1)) > 0.95
    assert np.mean(ours.classes_[proba.argmax(axis=1)] == ours.predict(Xte)) > 0.9
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(Xte)), proba, rtol=1e-12)
    n_pairs = len(ours.classes_) * (len(ours.classes_) - 1) // 2
    with pytest.warns(FutureWarning, match="Attribute `probA_` was deprecated"):
        assert ours.probA_.shape == ours.probB_.shape == (n_pairs,)
    np.testing.assert_allclose(ours.probA_, ref.probA_, rtol=0.15, atol=0.3)
    np.testing.assert_allclose(ours.probB_, ref.probB_, atol=0.3)
    # The same random_state gives the same folds and model; the saved model keeps them.
    again = mlcore.SVC(probability=True, random_state=0, backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(again.predict_proba(Xte), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ours)).predict_proba(Xte), proba)


def rbf_gram(A, B):
    """An RBF kernel computed by the caller (module level, so an SVC using it pickles)."""
    return np.exp(-0.05 * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))


@pytest.mark.parametrize("backend", AVAILABLE)
def test_svc_precomputed_and_callable_kernels(backend):
    """kernel='precomputed' takes the Gram matrix (n × n at fit, queries × n at predict) and
    solves the same problem as scikit-learn's: the same support vectors, and dual
    coefficients and intercepts to float32 rounding; a callable's Gram matrix gives the same
    model. On the int8 backend the fit uses the caller's kernel values as given (no product to
    quantize), so the model is the f32 backends'; only its decision values pass through the
    array's int8 product."""
    Xtr, Xte, ytr, _ = split("wine")
    K, Kte = rbf_gram(Xtr, Xtr), rbf_gram(Xte, Xtr)
    ours = mlcore.SVC(kernel="precomputed", backend=backend).fit(K, ytr)
    ref = sks.SVC(kernel="precomputed").fit(K, ytr)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)
    tol = 2e-2 if quantized(backend) else 2e-3
    np.testing.assert_allclose(ours.decision_function(Kte), ref.decision_function(Kte), atol=tol)
    np.testing.assert_array_equal(ours.predict(Kte), ref.predict(Kte))
    assert ours.support_vectors_.shape == (0, 0)
    with pytest.raises(ValueError, match="features"):
        ours.predict(Kte[:, :10])  # a query's row must span the training samples
    mine = mlcore.SVC(kernel=rbf_gram, backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(mine.support_, ours.support_)
    np.testing.assert_allclose(mine.decision_function(Xte), ours.decision_function(Kte), atol=1e-4)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(mine)).predict(Xte), mine.predict(Xte))
    # Platt scaling's cross-validation cuts the Gram matrix along both axes.
    with pytest.warns(FutureWarning):
        prob = mlcore.SVC(kernel="precomputed", probability=True, random_state=0, backend=backend)
        prob.fit(K, ytr)
    np.testing.assert_allclose(prob.predict_proba(Kte).sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(prob.predict_proba(Kte).argmax(axis=1) == ref.predict(Kte)) > 0.9


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_svc_infinite_C_is_the_hard_margin(backend):
    """C=inf (scikit-learn accepts it): no bound on the dual variables. On separable data it
    is the hard-margin SVM, the limit of a large C: the same support vectors and predictions."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=80, centers=2, cluster_std=1.0, random_state=3)
    hard = mlcore.SVC(kernel="linear", C=np.inf, backend=backend).fit(X, y)
    large = mlcore.SVC(kernel="linear", C=1e6, backend=backend).fit(X, y)
    np.testing.assert_array_equal(hard.support_, large.support_)
    np.testing.assert_array_equal(hard.predict(X), y)
    np.testing.assert_allclose(hard.dual_coef_, large.dual_coef_, rtol=1e-4)
    ref = sks.SVC(kernel="linear", C=np.inf).fit(X, y)
    np.testing.assert_array_equal(hard.support_, ref.support_)
    with pytest.warns(FutureWarning):  # Platt's sub-fits keep the infinite bound
        prob = mlcore.SVC(C=np.inf, probability=True, random_state=0, backend=backend).fit(X, y)
    np.testing.assert_allclose(prob.predict_proba(X).sum(axis=1), 1.0, atol=1e-5)


def test_svc_probability_parameter_follows_sklearn():
    """scikit-learn 1.9's deprecation: an explicit probability warns (True or False); the
    method exists only with probability=True, and a model fitted without it says so."""
    Xtr, _, ytr, _ = split("iris")
    for value in (True, False):
        with pytest.warns(FutureWarning, match="probability.+parameter.+deprecated"):
            mlcore.SVC(probability=value).fit(Xtr, ytr)
    assert not hasattr(mlcore.SVC(), "predict_proba")
    assert hasattr(mlcore.SVC(probability=True), "predict_proba")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default, "deprecated", does not warn
        plain = mlcore.SVC().fit(Xtr, ytr)
    with pytest.warns(FutureWarning, match="probB_"):
        assert plain.probB_.shape == (0,)
    plain.probability = True
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fitted with probability=False"):
        plain.predict_proba(Xtr)
    with pytest.warns(FutureWarning):
        weighted = mlcore.SVC(probability=True, class_weight={0: 5.0}, random_state=1)
        weighted.fit(Xtr, ytr, sample_weight=np.linspace(0.5, 2.0, len(ytr)))
    np.testing.assert_allclose(weighted.predict_proba(Xtr).sum(axis=1), 1.0, atol=1e-5)


def test_svc_max_iter_warns():
    Xtr, _, ytr, _ = split("breast_cancer")
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        mlcore.SVC(max_iter=5).fit(Xtr, ytr)


# ---- LinearSVC -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("dataset", list(LOADERS))
@pytest.mark.parametrize(
    "loss,dual", [("squared_hinge", "auto"), ("squared_hinge", True), ("hinge", True)]
)
def test_linear_svc_accuracy_matches_sklearn(backend, dataset, loss, dual):
    # dual="auto" picks the primal (Newton) solver here, n_samples > n_features, as in sklearn.
    Xtr, Xte, ytr, yte = split(dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the dual on digits: > 1000 passes
        ours = mlcore.LinearSVC(loss=loss, dual=dual, random_state=0, backend=backend)
        ours.fit(Xtr, ytr)
        ref = sks.LinearSVC(loss=loss, dual=dual, random_state=0).fit(Xtr, ytr)
    acc, acc_ref = ours.score(Xte, yte), ref.score(Xte, yte)
    assert abs(acc - acc_ref) <= tolerance(backend) + 1e-12, (acc, acc_ref)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    if not quantized(backend) and dataset != "digits":
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-2)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=5e-3)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_linear_svc_options(backend):
    Xtr, Xte, ytr, yte = split("breast_cancer")
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(ytr))
    for dual in (True, False):
        for params in [
            dict(C=0.1),
            dict(fit_intercept=False),
            dict(intercept_scaling=10.0),
            dict(class_weight="balanced"),
            dict(tol=1e-6, max_iter=5000),
        ]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                ours = mlcore.LinearSVC(dual=dual, random_state=0, backend=backend, **params)
                ref = sks.LinearSVC(dual=dual, random_state=0, **params)
                ours.fit(Xtr, ytr, sample_weight=w)
                ref.fit(Xtr, ytr, sample_weight=w)
            np.testing.assert_allclose(
                ours.decision_function(Xte),
                ref.decision_function(Xte),
                rtol=1e-2,
                atol=3e-2,
                err_msg=f"dual={dual} {params}",
            )
    # Shrinking changes the path, not the optimum; the primal solver finds the same optimum.
    a = mlcore.LinearSVC(dual=True, tol=1e-6, max_iter=10000, backend=backend).fit(Xtr, ytr)
    b = mlcore.LinearSVC(dual=True, tol=1e-6, max_iter=10000, shrinking=False, backend=backend).fit(
        Xtr, ytr
    )
    c = mlcore.LinearSVC(dual=False, tol=1e-8, backend=backend).fit(Xtr, ytr)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-3)
    np.testing.assert_allclose(a.coef_, c.coef_, atol=1e-2)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_linear_svc_deterministic(backend):
    Xtr, Xte, ytr, _ = split("wine")
    a = mlcore.LinearSVC(random_state=3, backend=backend).fit(Xtr, ytr)
    b = mlcore.LinearSVC(random_state=3, backend=backend).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.decision_function(Xte), b.decision_function(Xte))


# ---- both ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [mlcore.SVC, mlcore.LinearSVC])
def test_sklearn_tools_and_pickle(cls):
    Xtr, Xte, ytr, yte = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[ytr]
    pipe = make_pipeline(StandardScaler(), cls())
    assert cross_val_score(pipe, Xtr, ytr, cv=3).mean() > 0.85
    grid = GridSearchCV(cls(), {"C": [0.1, 1.0]}, cv=3).fit(Xtr, ytr)
    assert grid.best_params_["C"] in (0.1, 1.0)
    est = clone(cls(C=2.0)).fit(Xtr, names)
    assert set(est.predict(Xte)) <= set(names)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict(Xte), est.predict(Xte))
    np.testing.assert_array_equal(back.decision_function(Xte), est.decision_function(Xte))
    assert "gemm" in est.profile_.by_op() or "sqdist" in est.profile_.by_op()


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20) % 2
    for cls in (mlcore.SVC, mlcore.LinearSVC):
        with pytest.raises(ValueError, match="class"):
            cls().fit(X, np.zeros(20))  # a single class
        with pytest.raises(ValueError):
            cls().fit(X, y[:10])
        with pytest.raises(ValueError):
            cls().fit(np.empty((0, 3)), [])
        Xn = X.copy()
        Xn[3, 2] = np.nan
        with pytest.raises(ValueError):
            cls().fit(Xn, y)
        with pytest.raises(ValueError, match="C"):
            cls(C=0.0).fit(X, y)
        with pytest.raises(Exception, match="not fitted"):
            cls().predict(X)
        est = cls().fit(X, y)
        with pytest.raises(ValueError, match="features"):
            est.predict(X[:, :2])
    with pytest.raises(ValueError, match="kernel"):
        mlcore.SVC(kernel="laplacian").fit(X, y)
    with pytest.raises(ValueError, match="square matrix"):
        mlcore.SVC(kernel="precomputed").fit(X, y)
    with pytest.raises(TypeError, match="Sparse precomputed"):
        from scipy.sparse import csr_matrix

        mlcore.SVC(kernel="precomputed").fit(csr_matrix(np.eye(len(y))), y)
    with pytest.raises(ValueError, match="gamma"):
        mlcore.SVC(gamma="large").fit(X, y)
    with pytest.raises(ValueError, match="gamma"):
        mlcore.SVC(gamma=-1.0).fit(X, y)
    with pytest.raises(AttributeError, match="predict_proba"):
        mlcore.SVC().fit(X, y).predict_proba(X)
    with pytest.raises(AttributeError, match="linear"):
        mlcore.SVC().fit(X, y).coef_
    with pytest.raises(ValueError, match="break_ties"):  # at predict, as scikit-learn
        mlcore.SVC(break_ties=True, decision_function_shape="ovo").fit(X, y).predict(X)
    with pytest.raises(ValueError, match="loss"):
        mlcore.LinearSVC(loss="log").fit(X, y)
    with pytest.raises(ValueError, match="penalty"):
        mlcore.LinearSVC(penalty="l1").fit(X, y)
    with pytest.raises(ValueError, match="hinge"):
        mlcore.LinearSVC(loss="hinge", dual=False).fit(X, y)
    with pytest.raises(ValueError, match="multi_class"):
        mlcore.LinearSVC(multi_class="crammer_singer").fit(X, y)
