"""GradientBoostingRegressor's log-link losses, poisson and gamma (scikit-learn's half Poisson
and half gamma deviance): fit quality against scikit-learn's HistGradientBoostingRegressor on
random log-linear data on every f32 backend, the baseline (log of the weighted mean), staged
predictions, the target checks in scikit-learn's words, save / load."""

import pickle

import numpy as np
import pytest
from sklearn import ensemble as sk_ens
from sklearn.datasets import make_low_rank_matrix
from sklearn.dummy import DummyRegressor
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance
from sklearn.model_selection import train_test_split

import mlcore
from conftest import F32_BACKENDS


def _log_linear(loss, seed, n=611, d=12):
    rng = np.random.RandomState(seed)
    X = make_low_rank_matrix(n_samples=n, n_features=d, random_state=rng)
    coef = rng.uniform(-2, 2, d) / np.max(X, axis=0)
    mean = np.exp(X @ coef)
    y = rng.poisson(mean).astype(float) if loss == "poisson" else rng.gamma(2.0, 0.5 * mean)
    return train_test_split(X, y, test_size=0.2, random_state=seed)


DEVIANCE = {"poisson": mean_poisson_deviance, "gamma": mean_gamma_deviance}


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("loss", ["poisson", "gamma"])
@pytest.mark.parametrize("seed", [0, 1])
def test_log_link_losses_fit_as_well_as_sklearn(backend, loss, seed):
    Xtr, Xte, ytr, yte = _log_linear(loss, seed)
    params = dict(loss=loss, max_iter=60, random_state=0)
    ours = mlcore.GradientBoostingRegressor(backend=backend, **params).fit(Xtr, ytr)
    ref = sk_ens.HistGradientBoostingRegressor(**params).fit(Xtr, ytr)
    ls = mlcore.GradientBoostingRegressor(max_iter=60, random_state=0, backend=backend)
    ls.fit(Xtr, ytr)
    dummy = DummyRegressor().fit(Xtr, ytr)
    deviance = DEVIANCE[loss]
    for X, y in [(Xtr, ytr), (Xte, yte)]:
        pred = ours.predict(X)
        assert pred.dtype == np.float64 and np.all(pred > 0)  # e^raw
        ours_dev, ref_dev = deviance(y, pred), deviance(y, ref.predict(X))
        # Within 15 % of scikit-learn's deviance (the trees differ by the quantized
        # histograms' near-ties, and scikit-learn's by its float32 gradients) ...
        assert ours_dev <= 1.15 * ref_dev, (ours_dev, ref_dev)
        # ... and better than the squared error's (clipped positive) and the mean's, as
        # scikit-learn's own test asks of its model.
        floor = 1e-15 if loss == "poisson" else np.min(ytr)  # Poisson's y may be 0
        assert ours_dev < deviance(y, np.clip(ls.predict(X), floor, None))
        assert ours_dev < deviance(y, dummy.predict(X))
    staged = list(ours.staged_predict(Xte))
    assert len(staged) == ours.n_iter_
    np.testing.assert_allclose(staged[-1], ours.predict(Xte), rtol=1e-5)


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_baseline_is_the_log_of_the_weighted_mean(loss):
    """One iteration at a learning rate of ~0: the prediction is the baseline's e^raw, the
    weighted mean of y (scikit-learn's intercept-only fit), for every sample."""
    rng = np.random.default_rng(4)
    X = rng.random((97, 3))
    y = rng.gamma(2.0, 1.5, 97) if loss == "gamma" else rng.poisson(2.0, 97).astype(float)
    w = rng.random(97) * 3
    m = mlcore.GradientBoostingRegressor(loss=loss, max_iter=1, learning_rate=1e-12)
    m.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(m.predict(X), np.average(y, weights=w), rtol=1e-6)
    # early stopping's training loss at the baseline: scikit-learn's half deviance without
    # y's constant (Poisson e^r − y·r, gamma r + y·e^−r), weighted, negated
    e = mlcore.GradientBoostingRegressor(
        loss=loss, max_iter=3, early_stopping=True, validation_fraction=None
    ).fit(X, y, sample_weight=w)
    # (y and the weights as the fit holds them, in float32)
    y32, w32 = y.astype(np.float32).astype(float), w.astype(np.float32).astype(float)
    r = np.log(np.average(y32, weights=w32))
    per_row = np.exp(r) - y32 * r if loss == "poisson" else r + y32 * np.exp(-r)
    np.testing.assert_allclose(e.train_score_[0], -np.average(per_row, weights=w32), rtol=1e-12)


@pytest.mark.parametrize(
    "loss, y",
    [
        ("gamma", [1.0, -2.0, 0.0]),
        ("gamma", [0.0, 1.0, 2.0]),
        ("poisson", [1.0, -2.0, 0.0]),
        ("poisson", [0.0, 0.0, 0.0]),
    ],
)
def test_targets_a_log_link_cannot_fit_are_refused_as_sklearn(loss, y):
    X = np.zeros((3, 1))
    with pytest.raises(ValueError) as ref:
        sk_ens.HistGradientBoostingRegressor(loss=loss).fit(X, y)
    with pytest.raises(ValueError) as ours:
        mlcore.GradientBoostingRegressor(loss=loss).fit(X, y)
    assert str(ref.value) in str(ours.value)


def test_loss_survives_save_and_load_and_others_are_refused():
    Xtr, Xte, ytr, _ = _log_linear("poisson", 3)
    m = mlcore.GradientBoostingRegressor(loss="poisson", max_iter=10).fit(Xtr, ytr)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(Xte), m.predict(Xte))
    for loss in ["absolute_error", "quantile", "huber"]:
        with pytest.raises(ValueError, match="loss must be 'squared_error', 'poisson' or 'gamma'"):
            mlcore.GradientBoostingRegressor(loss=loss).fit(Xtr, ytr)


def test_raw_predict_is_the_score_before_the_link():
    """scikit-learn's private _raw_predict: (n, K) raw scores; e^raw is predict for the
    log-link losses, raw itself for squared error and decision_function for a classifier."""
    Xtr, Xte, ytr, _ = _log_linear("poisson", 5)
    pois = mlcore.GradientBoostingRegressor(loss="poisson", max_iter=15).fit(Xtr, ytr)
    raw = pois._raw_predict(Xte)
    assert raw.shape == (len(Xte), 1) and raw.dtype == np.float64
    np.testing.assert_allclose(np.exp(raw[:, 0]), pois.predict(Xte), rtol=1e-5)
    ls = mlcore.GradientBoostingRegressor(max_iter=15).fit(Xtr, ytr)
    np.testing.assert_array_equal(ls._raw_predict(Xte)[:, 0], ls.predict(Xte))
    labels = (ytr > np.median(ytr)).astype(int) + (ytr > 3)
    clf = mlcore.GradientBoostingClassifier(max_iter=5).fit(Xtr, labels)
    np.testing.assert_array_equal(clf._raw_predict(Xte), clf.decision_function(Xte))
