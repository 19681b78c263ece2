"""GradientBoosting* options read as scikit-learn's HistGradientBoosting* reads them:
interaction_cst (a real constraint on the trees, every f32 backend), categorical_features and
monotonic_cst (read and checked with scikit-learn's messages, then refused: no categorical
splits or monotonic constraints), class_weight, and the private _should_stop /
_check_interaction_cst that scikit-learn's tests call."""

import pickle

import numpy as np
import pytest
from sklearn import ensemble as sk_ens

import mlcore
from conftest import F32_BACKENDS


def _interaction_data(n=2000, seed=42):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, 3))
    # y = x0 + x1 + 5·x0·x1 + x2: a strong x0–x1 interaction.
    y = X[:, 0] + X[:, 1] + 5 * X[:, 0] * X[:, 1] + X[:, 2]
    return X, y


def _contrast(model, X, a, b, delta=0.25):
    """f(x + d·e_a + d·e_b) + f(x) − f(x + d·e_a) − f(x + d·e_b): 0 for a model additive in
    features a and b."""
    keep = (X[:, a] < 1 - delta) & (X[:, b] < 1 - delta)
    Xt = X[keep]
    da, db = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    da[a], db[b] = delta, delta
    return (
        model.predict(Xt + da + db)
        + model.predict(Xt)
        - model.predict(Xt + da)
        - model.predict(Xt + db)
    )


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_interaction_cst_makes_the_model_additive_across_groups(backend):
    X, y = _interaction_data()
    free = mlcore.GradientBoostingRegressor(random_state=0, backend=backend).fit(X, y)
    cst = [{0}, {1}]  # feature 2 forms the third group
    ours = mlcore.GradientBoostingRegressor(
        interaction_cst=cst, random_state=0, backend=backend
    ).fit(X, y)
    # Without constraints the trees learn the interaction (its true contrast is 5·d² = 0.31)
    assert np.mean(_contrast(free, X, 0, 1)) > 0.2
    # ... with them no tree combines two groups: additive in every pair of features, up to
    # the float32 rounding of the summed raw score (|raw| <= ~8: 4 ulps ~ 4e-6).
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        np.testing.assert_allclose(_contrast(ours, X, a, b), 0, atol=4e-6)
    # The same fit quality as scikit-learn's constrained model (its MSE within 3 %).
    ref = sk_ens.HistGradientBoostingRegressor(interaction_cst=cst, random_state=0).fit(X, y)
    mse = np.mean((ours.predict(X) - y) ** 2)
    mse_ref = np.mean((ref.predict(X) - y) ** 2)
    assert abs(mse - mse_ref) <= 0.03 * mse_ref


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_interaction_cst_groups_may_share_features(backend):
    """Groups {0, 1} and {1, 2}: 0 may combine with 1 but never with 2, which scikit-learn's
    rule (a branch keeps the groups that hold every feature split on) guarantees."""
    X, y = _interaction_data(1500, seed=1)
    y = y + 4 * X[:, 0] * X[:, 2]
    m = mlcore.GradientBoostingRegressor(
        interaction_cst=[[0, 1], [1, 2]], max_iter=60, random_state=0, backend=backend
    ).fit(X, y)
    np.testing.assert_allclose(_contrast(m, X, 0, 2), 0, atol=4e-6)
    assert np.mean(_contrast(m, X, 0, 1)) > 0.05  # the allowed interaction is learned


def test_interaction_cst_spellings_and_classifier():
    X, y = _interaction_data(800)
    for spelled, explicit in [("no_interactions", [[0], [1], [2]]), ("pairwise", None)]:
        a = mlcore.GradientBoostingRegressor(interaction_cst=spelled, max_iter=20).fit(X, y)
        b = mlcore.GradientBoostingRegressor(
            interaction_cst=explicit or [[0, 1], [0, 2], [1, 2]], max_iter=20
        ).fit(X, y)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
    labels = (y > np.median(y)).astype(int)
    c = mlcore.GradientBoostingClassifier(interaction_cst="no_interactions", max_iter=20)
    c.fit(X, labels)
    np.testing.assert_allclose(_contrast(_Raw(c), X, 0, 1), 0, atol=4e-6)
    # Saved and loaded with the model (model version 3): the same predictions and option.
    c2 = pickle.loads(pickle.dumps(c))
    np.testing.assert_array_equal(c2.decision_function(X), c.decision_function(X))
    assert c2.get_params()["interaction_cst"] == "no_interactions"


class _Raw:
    def __init__(self, clf):
        self.clf = clf

    def predict(self, X):
        return self.clf.decision_function(X)


@pytest.mark.parametrize(
    "cst, n_features",
    [
        (None, 5),
        ([{0, 1}], 2),
        ("pairwise", 4),
        ("no_interactions", 3),
        ([(1, 0), [5, 1]], 6),
        ([0, 1], 3),
        ([{0, 9999}], 3),
        ([{-1, 0}], 3),
        ([{0.5}], 3),
    ],
)
def test_check_interaction_cst_as_sklearn(cst, n_features):
    ours = mlcore.GradientBoostingRegressor(interaction_cst=cst)
    ref = sk_ens.HistGradientBoostingRegressor(interaction_cst=cst)
    try:
        expected = ref._check_interaction_cst(n_features)
    except ValueError as e:
        with pytest.raises(ValueError) as got:
            ours._check_interaction_cst(n_features)
        assert str(got.value) == str(e)
        # ... and fit raises it too
        X = np.random.default_rng(0).random((40, n_features))
        with pytest.raises(ValueError, match="Interaction constraints must"):
            ours.fit(X, X[:, 0])
        return
    assert ours._check_interaction_cst(n_features) == expected


def test_should_stop_as_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_iter_no_change = int(rng.integers(1, 6))
        tol = float(rng.choice([0.0, 1e-3, 0.5, 2.0]))
        scores = list(np.round(rng.random(int(rng.integers(0, 9))) * 3, 1))
        ours = mlcore.GradientBoostingClassifier(n_iter_no_change=n_iter_no_change, tol=tol)
        ref = sk_ens.HistGradientBoostingClassifier(n_iter_no_change=n_iter_no_change, tol=tol)
        assert ours._should_stop(scores) == ref._should_stop(scores), (scores, tol)


def _sk_error(Est, X, y, **params):
    with pytest.raises(ValueError) as e:
        Est(**params).fit(X, y)
    return str(e.value)


@pytest.mark.parametrize(
    "spec, monotonic",
    [
        ([b"hello", b"world"], None),
        (np.array([b"hello", 1.3], dtype=object), None),
        ([0, -1], None),
        ([0, 4], None),
        ([True, True, False, False, True], None),
        ([True, True, False, False], [0, -1, 0, 1]),
        (["f0"], None),
    ],
)
def test_categorical_spec_errors_as_sklearn(spec, monotonic):
    X = np.random.default_rng(0).integers(0, 5, (60, 4)).astype(float)
    y = np.arange(60) % 2
    for ours, ref in [
        (mlcore.GradientBoostingClassifier, sk_ens.HistGradientBoostingClassifier),
        (mlcore.GradientBoostingRegressor, sk_ens.HistGradientBoostingRegressor),
    ]:
        params = dict(categorical_features=spec, monotonic_cst=monotonic)
        assert _sk_error(ours, X, y, **params) == _sk_error(ref, X, y, **params)


def test_categorical_features_read_then_refused():
    pd = pytest.importorskip("pandas")
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20) % 2
    for spec in [None, [], [False, False], np.array([], dtype=int), "from_dtype"]:
        m = mlcore.GradientBoostingClassifier(categorical_features=spec, max_iter=3).fit(X, y)
        assert m.is_categorical_ is None
    frame = pd.DataFrame({"a": X[:, 0], "b": pd.Categorical(X[:, 1] % 3)})
    for spec, X_fit in [([1], X), ([False, True], X), (["b"], frame), ("from_dtype", frame)]:
        with pytest.raises(ValueError, match="categorical splits are not supported by mlcore"):
            mlcore.GradientBoostingClassifier(categorical_features=spec).fit(X_fit, y)
    # Too many categories: scikit-learn's message first, with the column's name or index.
    for X_fit, name in [(X, "at index 0"), (frame.assign(a=X[:, 0]), "'a'")]:
        ref = sk_ens.HistGradientBoostingRegressor(categorical_features=[0], max_bins=4)
        ours = mlcore.GradientBoostingRegressor(categorical_features=[0], max_bins=4)
        with pytest.raises(ValueError, match=f"Categorical feature {name} is expected") as e:
            ref.fit(X_fit, y)
        with pytest.raises(ValueError) as got:
            ours.fit(X_fit, y)
        assert str(got.value) == str(e.value)
    with pytest.raises(ValueError, match="monotonic_cst is not supported by mlcore"):
        mlcore.GradientBoostingRegressor(monotonic_cst=[1, 0]).fit(X, y)


@pytest.mark.parametrize("backend", F32_BACKENDS)
def test_class_weight_is_sample_weight_times_class_weight(backend):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(257, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=257) > 0.4).astype(int) + (X[:, 1] > 1)
    sw = rng.random(257) + 0.5
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    params = dict(max_depth=2, min_samples_leaf=2, max_iter=30, random_state=0, backend=backend)
    weighted = mlcore.GradientBoostingClassifier(class_weight=cw, **params).fit(
        X, y, sample_weight=sw
    )
    plain = mlcore.GradientBoostingClassifier(**params).fit(
        X, y, sample_weight=sw * np.array([cw[c] for c in y])
    )
    # (equal up to the float32 rounding of the product of the weights)
    np.testing.assert_allclose(
        weighted.decision_function(X), plain.decision_function(X), rtol=1e-6, atol=1e-6
    )
    balanced = mlcore.GradientBoostingClassifier(class_weight="balanced", **params).fit(X, y)
    counts = np.bincount(y)
    by_hand = mlcore.GradientBoostingClassifier(**params).fit(
        X, y, sample_weight=(len(y) / (3 * counts))[y]
    )
    np.testing.assert_allclose(
        balanced.decision_function(X), by_hand.decision_function(X), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("backend", F32_BACKENDS)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_X_val_is_what_early_stopping_scores(backend, kind):
    """fit(X, y, X_val=, y_val=, sample_weight_val=): every row of X trains, and the scores
    early stopping watches are the losses on the given rows: validation_score_[i] is minus
    scikit-learn's log loss (half squared error) of the model after i iterations on X_val,
    weighted by sample_weight_val; train_score_ the same on all of X."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(7)
    X, X_val = rng.normal(size=(300, 4)), rng.normal(size=(97, 4))
    if kind == "regression":
        y, y_val = X[:, 0] ** 2 + X[:, 1], X_val[:, 0] ** 2 + X_val[:, 1]
        Model = mlcore.GradientBoostingRegressor
    else:
        k = 2 if kind == "binary" else 3
        y, y_val = [np.digitize(Z[:, 0] + 0.5 * Z[:, 1], [-0.5, 0.5][: k - 1]) for Z in (X, X_val)]
        y, y_val = np.array(["abc"[c] for c in y]), np.array(["abc"[c] for c in y_val])
        Model = mlcore.GradientBoostingClassifier
    w_val = rng.random(97) + 0.5
    m = Model(
        max_iter=15, early_stopping=True, n_iter_no_change=100, random_state=0, backend=backend
    ).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w_val)
    assert len(m.validation_score_) == m.n_iter_ + 1 == 16
    w32 = w_val.astype(np.float32)
    if kind == "regression":
        staged = [np.full(97, np.mean(y.astype(np.float32), dtype=np.float64))]
        staged += list(m.staged_predict(X_val))
        want = [-0.5 * np.average((y_val - p) ** 2, weights=w32) for p in staged]
        train_rows = [-0.5 * np.mean((y - p) ** 2) for p in m.staged_predict(X)]
    else:
        staged = list(m.staged_predict_proba(X_val))
        want = [-log_loss(y_val, p, sample_weight=w32, labels=m.classes_) for p in staged]
        train_rows = [-log_loss(y, p, labels=m.classes_) for p in m.staged_predict_proba(X)]
        want = [None] + want  # the baseline's score: checked through the last ones below
    np.testing.assert_allclose(m.validation_score_[1:], want[1:], rtol=2e-6)
    np.testing.assert_allclose(m.train_score_[1:], train_rows, rtol=2e-6)


def test_X_val_errors_as_sklearn():
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    for Model, Ref in [
        (mlcore.GradientBoostingClassifier, sk_ens.HistGradientBoostingClassifier),
        (mlcore.GradientBoostingRegressor, sk_ens.HistGradientBoostingRegressor),
    ]:
        for params, kwargs in [
            ({}, dict(X_val=X[:5])),
            ({}, dict(y_val=y[:5])),
            (dict(early_stopping=False), dict(X_val=X[:5], y_val=y[:5])),
        ]:
            with pytest.raises(ValueError) as ref:
                Ref(**params).fit(X, y, **kwargs)
            with pytest.raises(ValueError) as ours:
                Model(**params).fit(X, y, **kwargs)
            # (the first sentence: scikit-learn's second lacks a space after "fit,")
            assert str(ref.value).split(".")[0] in str(ours.value)
    with pytest.raises(ValueError, match=r"y_val contains labels not in y: \[7\]"):
        mlcore.GradientBoostingClassifier(early_stopping=True).fit(
            X, y, X_val=X[:3], y_val=[0, 7, 1]
        )
    with pytest.raises(ValueError, match="X has 2 features"):
        mlcore.GradientBoostingClassifier(early_stopping=True).fit(
            X, y, X_val=X[:3, :2], y_val=[0, 1, 1]
        )
