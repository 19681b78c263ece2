"""Random forests and histogram gradient boosting against scikit-learn on its bundled data sets,
on every backend; determinism; staged predictions; early stopping; tooling; bad input."""

import pickle

import numpy as np
import pytest
from sklearn import ensemble as sk_ens
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlcore
from conftest import AVAILABLE, F32_BACKENDS, quantized

CLASSIFICATION = [load_iris, load_wine, load_breast_cancer, load_digits]
EXACT = F32_BACKENDS


def tolerance(backend):
    # The 2 points (R² 0.02); the int8 systolic array quantizes scatter_add: 3 points.
    return 0.03 if quantized(backend) else 0.02


def split(load):
    X, y = load(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def mean_score(make, Xtr, ytr, Xte, yte, seeds=3):
    """Test score averaged over random_state (a forest's score is one draw of its randomness)."""
    return np.mean([make(s).fit(Xtr, ytr).score(Xte, yte) for s in range(seeds)])


# ---- random forests ----


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("load", CLASSIFICATION, ids=lambda f: f.__name__)
def test_forest_classifier_matches_sklearn(backend, load):
    Xtr, Xte, ytr, yte = split(load)
    ours = mean_score(
        lambda s: mlcore.RandomForestClassifier(50, random_state=s, backend=backend),
        Xtr,
        ytr,
        Xte,
        yte,
    )
    ref = mean_score(
        lambda s: sk_ens.RandomForestClassifier(50, random_state=s), Xtr, ytr, Xte, yte
    )
    assert ours >= ref - tolerance(backend)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_forest_regressor_matches_sklearn(backend):
    Xtr, Xte, ytr, yte = split(load_diabetes)
    ours = mean_score(
        lambda s: mlcore.RandomForestRegressor(50, random_state=s, backend=backend),
        Xtr,
        ytr,
        Xte,
        yte,
    )
    ref = mean_score(lambda s: sk_ens.RandomForestRegressor(50, random_state=s), Xtr, ytr, Xte, yte)
    assert ours >= ref - tolerance(backend)


def test_forest_oob_and_importances():
    Xtr, Xte, ytr, yte = split(load_breast_cancer)
    m = mlcore.RandomForestClassifier(60, oob_score=True, random_state=0).fit(Xtr, ytr)
    assert abs(m.oob_score_ - m.score(Xte, yte)) < 0.06
    assert m.oob_decision_function_.shape == (len(Xtr), 2)
    np.testing.assert_allclose(m.feature_importances_.sum(), 1.0, rtol=1e-6)
    r = mlcore.RandomForestRegressor(30, oob_score=True, random_state=0).fit(
        *split(load_diabetes)[::2]
    )
    assert 0.2 < r.oob_score_ < 0.7
    assert r.oob_prediction_.shape == (331,)


def test_forest_same_on_every_exact_backend_and_thread_count():
    Xtr, Xte, ytr, _ = split(load_wine)
    preds = [
        mlcore.RandomForestClassifier(20, random_state=5, n_jobs=j, backend=b)
        .fit(Xtr, ytr)
        .predict_proba(Xte)
        for b in EXACT
        for j in (1, 2)
    ]
    for p in preds[1:]:
        np.testing.assert_array_equal(p, preds[0])


# ---- gradient boosting ----


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("load", CLASSIFICATION, ids=lambda f: f.__name__)
def test_boosting_classifier_matches_sklearn(backend, load):
    Xtr, Xte, ytr, yte = split(load)
    ours = mlcore.GradientBoostingClassifier(random_state=0, backend=backend).fit(Xtr, ytr)
    ref = sk_ens.HistGradientBoostingClassifier(random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= ref.score(Xte, yte) - tolerance(backend)
    assert ours.n_iter_ == 100 and ours.n_trees_per_iteration_ == ref.n_trees_per_iteration_


@pytest.mark.parametrize("backend", AVAILABLE)
def test_boosting_regressor_matches_sklearn(backend):
    Xtr, Xte, ytr, yte = split(load_diabetes)
    ours = mlcore.GradientBoostingRegressor(random_state=0, backend=backend).fit(Xtr, ytr)
    ref = sk_ens.HistGradientBoostingRegressor(random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= ref.score(Xte, yte) - tolerance(backend)


def test_boosting_same_on_every_exact_backend():
    Xtr, Xte, ytr, _ = split(load_digits)
    runs = [
        mlcore.GradientBoostingClassifier(max_iter=10, random_state=0, backend=b)
        .fit(Xtr, ytr)
        .decision_function(Xte)
        for b in EXACT
        for _ in range(2)
    ]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_staged_predict_and_proba():
    Xtr, Xte, ytr, yte = split(load_iris)
    m = mlcore.GradientBoostingClassifier(max_iter=20).fit(Xtr, ytr)
    stages = list(m.staged_predict_proba(Xte))
    assert len(stages) == 20
    np.testing.assert_allclose(stages[-1], m.predict_proba(Xte), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(list(m.staged_predict(Xte))[-1], m.predict(Xte))
    r = mlcore.GradientBoostingRegressor(max_iter=15).fit(*split(load_diabetes)[::2])
    Xd = split(load_diabetes)[1]
    np.testing.assert_allclose(list(r.staged_predict(Xd))[-1], r.predict(Xd), rtol=1e-5)


def test_early_stopping_and_scores():
    X, y = load_breast_cancer(return_X_y=True)
    m = mlcore.GradientBoostingClassifier(
        max_iter=500, learning_rate=0.5, early_stopping=True, n_iter_no_change=5, random_state=0
    ).fit(X, y)
    assert m.n_iter_ < 500
    assert len(m.validation_score_) == m.n_iter_ + 1
    assert m.do_early_stopping_
    off = mlcore.GradientBoostingClassifier(max_iter=5).fit(X, y)
    assert not off.do_early_stopping_ and len(off.train_score_) == 0


def test_missing_values_in_boosting():
    rng = np.random.default_rng(0)
    X = rng.random((600, 3))
    y = rng.integers(0, 2, 600)
    X[y == 1, 2] = np.nan
    m = mlcore.GradientBoostingClassifier(max_iter=10).fit(X, y)
    assert m.score(X, y) == 1.0


def test_tooling_and_pickle():
    X, y = load_wine(return_X_y=True)
    for est in (
        mlcore.RandomForestClassifier(20, random_state=0),
        mlcore.GradientBoostingClassifier(max_iter=20, random_state=0),
    ):
        pipe = make_pipeline(StandardScaler(), est)
        assert cross_val_score(pipe, X, y, cv=3).mean() > 0.85
        fitted = clone(est).fit(X, y)
        assert fitted.profile_.by_op()["histogram"]["calls"] >= 1  # the fit's histograms
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(fitted.predict_proba(X), again.predict_proba(X))


def test_bad_input():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError):
        mlcore.GradientBoostingClassifier().fit(X, np.zeros(len(y)))  # one class
    with pytest.raises(ValueError):
        mlcore.GradientBoostingClassifier(learning_rate=0).fit(X, y)
    with pytest.raises(ValueError):
        mlcore.GradientBoostingClassifier(early_stopping="yes").fit(X, y)
    with pytest.raises(ValueError):
        mlcore.GradientBoostingRegressor(scoring="f1").fit(X, y)
    with pytest.raises(ValueError):
        mlcore.RandomForestClassifier(n_estimators=0).fit(X, y)
    with pytest.raises(ValueError):
        mlcore.RandomForestClassifier(bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(Exception, match="not fitted"):
        mlcore.RandomForestRegressor().predict(X)
    with pytest.raises(ValueError):
        mlcore.GradientBoostingRegressor().fit(X, y[:-3])
    bad = X.copy()
    bad[1, 1] = -np.inf
    with pytest.raises(ValueError):
        mlcore.RandomForestClassifier().fit(bad, y)
    m = mlcore.GradientBoostingClassifier(max_iter=3).fit(X, y)
    with pytest.raises(ValueError):
        m.predict(X[:, :2])


@pytest.mark.parametrize(
    "Model", [mlcore.GradientBoostingClassifier, mlcore.GradientBoostingRegressor]
)
def test_boosting_verbose_prints_each_iteration_and_the_total(Model, capsys):
    """verbose=1 (scikit-learn's HistGradientBoosting parameter): one line per iteration with the
    losses early stopping saw, then the total; verbose=0 prints nothing."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int) if Model is mlcore.GradientBoostingClassifier else X[:, 0]
    Model(max_iter=7, early_stopping=True, n_iter_no_change=50).fit(X, y)
    assert capsys.readouterr().out == ""
    m = Model(max_iter=7, early_stopping=True, n_iter_no_change=50, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0] == "Fitting gradient boosted rounds:"
    assert len(lines) == 1 + m.n_iter_ + 1
    first_val = -m.validation_score_[1]
    assert lines[1].startswith("[1/7] train loss: ") and f"val loss: {first_val:.5f}" in lines[1]
    assert lines[-1].startswith(f"Fit {m.n_iter_} iterations of trees in ")
    with pytest.raises(ValueError, match="verbose"):
        Model(verbose=-1).fit(X, y)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "Model", [mlcore.GradientBoostingClassifier, mlcore.GradientBoostingRegressor]
)
def test_boosting_scoring_none_or_a_name_stops_on_that_score(Model, weighted):
    """scoring=None: early stopping watches scikit-learn's default score. Without a validation
    split the scores are the training data's: train_score_[i] is the accuracy (R²) of the model
    after i iterations, weighted as the fit, as staged_predict and scikit-learn's metrics say."""
    from sklearn.metrics import accuracy_score, r2_score

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    classifier = Model is mlcore.GradientBoostingClassifier
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1) if classifier else X[:, 0] ** 2
    w = 0.5 + rng.random(400) if weighted else None
    m = Model(
        max_iter=12,
        early_stopping=True,
        scoring=None,
        validation_fraction=None,
        n_iter_no_change=50,
    ).fit(X, y, sample_weight=w)
    metric = accuracy_score if classifier else r2_score
    staged = list(m.staged_predict(X))
    assert len(m.train_score_) == m.n_iter_ + 1 == len(staged) + 1
    for i, pred in enumerate(staged):
        # (the fit holds the weights in float32, as mlcore takes every array; predict returns
        # float32 too)
        want = metric(y, pred, sample_weight=None if w is None else w.astype(np.float32))
        assert m.train_score_[i + 1] == pytest.approx(want, rel=1e-6)  # float32 predictions
    assert m.validation_score_.size == 0
    # It stops on that score: a tolerance no iteration can beat stops after n_iter_no_change.
    short = Model(max_iter=50, early_stopping=True, scoring=None, n_iter_no_change=3, tol=1e9)
    assert short.fit(X, y).n_iter_ == 3
    # By scikit-learn's scorer names: its default score's name gives the same scores, and the
    # regressor's error scorers are minus the weighted mean squared / absolute error.
    params = dict(max_iter=8, early_stopping=True, validation_fraction=None, n_iter_no_change=50)
    same = Model(scoring="accuracy" if classifier else "r2", **params).fit(X, y, sample_weight=w)
    by_none = Model(scoring=None, **params).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(same.train_score_, by_none.train_score_)
    if not classifier:
        from sklearn.metrics import mean_absolute_error, mean_squared_error

        for name, error in [
            ("neg_mean_squared_error", mean_squared_error),
            ("neg_mean_absolute_error", mean_absolute_error),
        ]:
            e = Model(scoring=name, **params).fit(X, y, sample_weight=w)
            for i, pred in enumerate(e.staged_predict(X)):
                want = -error(y, pred, sample_weight=None if w is None else w.astype(np.float32))
                assert e.train_score_[i + 1] == pytest.approx(want, rel=1e-6)
    # A scorer of the other kind of estimator, or one mlcore lacks, is refused by name.
    for wrong in ["r2" if classifier else "accuracy", "f1", "neg_log_loss"]:
        with pytest.raises(ValueError, match=f"scoring must be .* got '{wrong}'"):
            Model(scoring=wrong).fit(X, y)


FORESTS = [mlcore.RandomForestClassifier, mlcore.RandomForestRegressor]


def _forest_data(Model, n=301, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 7, size=(n, d)).astype(np.float64)
    z = X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n)
    return X, ((z > 1).astype(int) + (z > 3) if Model is mlcore.RandomForestClassifier else z)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("Model", FORESTS)
def test_warm_start_grows_the_forest_fitted_at_once(backend, Model):
    """scikit-learn's test_warm_start / test_warm_start_oob: 5 trees, then 5 more (here with
    max_samples and max_leaf_nodes too), are the 10 trees fitted at once — leaves, predictions,
    importances and the out-of-bag score."""
    X, y = _forest_data(Model)
    params = dict(random_state=42, max_samples=0.8, max_leaf_nodes=9, backend=backend)
    once = Model(n_estimators=10, oob_score=True, **params).fit(X, y)
    warm = Model(n_estimators=5, warm_start=True, **params).fit(X, y)
    assert len(warm) == 5
    warm.set_params(n_estimators=10, oob_score=True)
    warm.fit(X, y)
    assert len(warm) == 10 and warm._model.n_estimators_ == 10
    np.testing.assert_array_equal(warm.apply(X), once.apply(X))
    np.testing.assert_array_equal(warm.predict(X), once.predict(X))
    np.testing.assert_array_equal(warm.feature_importances_, once.feature_importances_)
    assert warm.oob_score_ == once.oob_score_
    assert once.apply(X).shape == (len(X), 10) and once.apply(X).max() < 2 * 9 - 1


@pytest.mark.parametrize("Model", FORESTS)
def test_warm_start_fewer_equal_and_cleared(Model):
    X, y = _forest_data(Model, n=150)
    est = Model(n_estimators=5, max_depth=3, warm_start=True, random_state=1).fit(X, y)
    leaves = est.apply(X)
    est.set_params(random_state=2)  # would grow other trees if it grew any
    with pytest.warns(UserWarning, match="without increasing n_estimators"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.apply(X), leaves)
    est.set_params(n_estimators=4)
    with pytest.raises(ValueError, match="n_estimators=4 must be larger or equal"):
        est.fit(X, y)
    assert len(est) == 5  # the refused fit left the forest as it was
    est.set_params(n_estimators=5, warm_start=False, random_state=1)
    np.testing.assert_array_equal(est.fit(X, y).apply(X), leaves)
    again = pickle.loads(pickle.dumps(est.set_params(warm_start=True, n_estimators=7)))
    again.fit(X, y)  # a pickled forest warm-starts too
    np.testing.assert_array_equal(
        again.apply(X), Model(n_estimators=7, max_depth=3, random_state=1).fit(X, y).apply(X)
    )


@pytest.mark.parametrize("Model", FORESTS)
def test_max_samples(Model):
    """scikit-learn's max_samples: an int, or a fraction of n (int(f·n), at least 1; more than
    n allowed); 1.0 is None's forest; bootstrap=False refuses it with scikit-learn's words."""
    X, y = _forest_data(Model, n=200)

    def fit(max_samples, **kw):
        return Model(n_estimators=6, random_state=0, max_samples=max_samples, **kw).fit(X, y)

    np.testing.assert_array_equal(fit(1.0).apply(X), fit(None).apply(X))
    np.testing.assert_array_equal(fit(0.25).apply(X), fit(50).apply(X))
    np.testing.assert_array_equal(fit(1.5).apply(X), fit(300).apply(X))
    few = fit(3, max_depth=None)
    assert few.apply(X).max() <= 4  # 3 draws: at most 3 leaves, 5 nodes
    with pytest.raises(ValueError, match="`max_sample` cannot be set if `bootstrap=False`"):
        fit(0.5, bootstrap=False)
    for bad in (0, 0.0, -0.5, float("inf"), 10**9, 1e300):  # 2^24 draws and more: refused
        with pytest.raises(ValueError, match="max_samples"):
            fit(bad)
    with pytest.raises(TypeError, match="max_samples"):
        fit("all")
    with pytest.raises(ValueError, match="max_leaf_nodes"):
        Model(max_leaf_nodes=1).fit(X, y)


def test_forest_regressor_friedman_mse_is_squared_error():
    X, y = _forest_data(mlcore.RandomForestRegressor)
    plain = mlcore.RandomForestRegressor(n_estimators=4, random_state=0).fit(X, y)
    with pytest.warns(FutureWarning, match="friedman_mse"):
        friedman = mlcore.RandomForestRegressor(
            n_estimators=4, random_state=0, criterion="friedman_mse"
        ).fit(X, y)
    np.testing.assert_array_equal(friedman.predict(X), plain.predict(X))
