"""mlcore.dask trees, forests and boosting against the single-machine fits.

Tolerances, per family, given the same bins (``bin_thresholds=single_machine_thresholds(X)``):
* DecisionTree*, RandomForestClassifier: the fitted model is the single-machine model byte for
  byte (its save_bytes): the histograms are exact integer sums and the splits are chosen by the
  same C++ split finder in the same order.
* RandomForestRegressor / DecisionTreeRegressor: the same, as the leaf means (summed per
  partition, then across partitions) happen to round alike on these data; the tests require
  equal predictions to 1e-12 relative.
* GradientBoosting*: the same trees; leaf values are summed per partition first, so raw scores
  may differ by ~1e-16 relative: decision_function / predict after every iteration to float32
  rounding (rtol 1e-6).
The sketched bins are compared with the single-machine bins where they must be equal (few
distinct values; all values of ≤ 200 000 rows) and by rank error where they are quantiles.
"""

import logging
import os
import signal

import numpy as np
import pytest

import dask.array as da

import mlcore
import mlcore.dask as md
from mlcore.dask import _sketch
from mlcore.dask._base import DistributedFit


def _data(rng, n=2003, d=5, nan=0.05):
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 3] = np.round(X[:, 3] * 2)  # a feature with few distinct values
    X[rng.random(X.shape) < nan] = np.nan
    Z = np.nan_to_num(X)
    y_class = (Z[:, 0] + Z[:, 1] ** 2 > 0.5).astype(int) + (Z[:, 2] > 1)
    y_reg = 2 * Z[:, 0] + np.sin(Z[:, 1]) + 0.1 * rng.normal(size=n)
    return X, y_class, y_reg


def _chunks(a, rows=700):
    return da.from_array(a, chunks=(rows,) + a.shape[1:])


def _same_model(dist, one):
    assert type(dist.to_local()) is type(one)
    assert dist._model.save_bytes() == one._model.save_bytes()


@pytest.mark.parametrize(
    "params",
    [
        dict(max_depth=5),
        dict(criterion="entropy", min_samples_leaf=4),
        dict(max_features="sqrt", max_depth=6),
    ],
)
def test_decision_tree_classifier_equals_one_machine_given_its_bins(dask_client, rng, params):
    X, y, _ = _data(rng)
    bins = md.single_machine_thresholds(X, 255, 0)
    dist = md.DecisionTreeClassifier(random_state=0, **params).fit(
        _chunks(X), _chunks(y), bin_thresholds=bins
    )
    one = mlcore.DecisionTreeClassifier(random_state=0, **params).fit(X, y)
    _same_model(dist, one)
    np.testing.assert_array_equal(dist.predict(_chunks(X)).compute(), one.predict(X))
    np.testing.assert_array_equal(dist.feature_importances_, one.feature_importances_)
    if "max_features" not in params:  # one round per level when no feature is drawn
        assert dist.n_rounds_ <= 3 + one.get_depth() + 1


def test_decision_tree_regressor_with_weights_equals_one_machine(dask_client, rng):
    X, _, y = _data(rng)
    w = rng.integers(0, 3, size=len(X)).astype(np.float64)
    bins = md.single_machine_thresholds(X, 64, 0, sample_weight=w)
    dist = md.DecisionTreeRegressor(max_bins=64, min_samples_leaf=3, random_state=0).fit(
        _chunks(X), _chunks(y), sample_weight=_chunks(w, 500), bin_thresholds=bins
    )
    one = mlcore.DecisionTreeRegressor(max_bins=64, min_samples_leaf=3, random_state=0).fit(
        X, y, sample_weight=w
    )
    assert dist.get_n_leaves() == one.get_n_leaves()
    np.testing.assert_allclose(dist.to_local().predict(X), one.predict(X), rtol=1e-12)
    np.testing.assert_array_equal(dist.apply(X), one.apply(X))


def test_sketched_bins_are_the_single_machine_bins_when_they_must_be(dask_client, rng):
    X, y, _ = _data(rng)
    dist = md.DecisionTreeClassifier(max_depth=4, random_state=0).fit(_chunks(X), _chunks(y))
    bins = md.single_machine_thresholds(X, 255, 0)
    for got, want in zip(dist.bin_thresholds_, bins):  # n ≤ 200 000, partitions exact
        np.testing.assert_array_equal(got, want)
    _same_model(dist, mlcore.DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y))


def test_sketch_of_many_distinct_values_is_a_quantile_summary(rng):
    """Partitions with more than SKETCH_POINTS distinct values send order statistics: the
    merged thresholds are within ~1/SKETCH_POINTS of the true quantile ranks, and a feature
    with few distinct values keeps exactly its midpoints."""
    x = rng.standard_exponential(size=(30000, 1)).astype(np.float32)
    few = rng.integers(0, 7, size=(30000, 1)).astype(np.float32)
    X = np.hstack([x, few])
    parts = [_sketch.partition_sketch(X[i : i + 10000]) for i in range(0, 30000, 10000)]
    merged = _sketch.merge_sketches(parts)
    got = _sketch.thresholds_from_sketch(merged, 32, 0)
    want = md.single_machine_thresholds(X, 32, 0)
    np.testing.assert_array_equal(got[1], want[1])
    ranks_got = np.searchsorted(np.sort(x[:, 0]), got[0]) / len(x)
    ranks_want = np.searchsorted(np.sort(x[:, 0]), want[0]) / len(x)
    assert len(got[0]) == len(want[0])
    assert np.max(np.abs(ranks_got - ranks_want)) < 2.0 / _sketch.SKETCH_POINTS


@pytest.mark.parametrize(
    "params",
    [
        dict(n_estimators=5, max_depth=5),
        dict(n_estimators=9, max_depth=3, bootstrap=False, max_features=2),
    ],
)
def test_random_forests_equal_one_machine_given_its_bins(dask_client, rng, params):
    """Nine trees cross the batch of TREES_AT_ONCE trees grown in the same rounds."""
    X, y, y_reg = _data(rng)
    w = rng.integers(0, 3, size=len(X)).astype(np.float64)
    bins = md.single_machine_thresholds(X, 255, 0, sample_weight=w)
    dist = md.RandomForestClassifier(random_state=0, **params).fit(
        _chunks(X), _chunks(y), sample_weight=_chunks(w), bin_thresholds=bins
    )
    _same_model(
        dist, mlcore.RandomForestClassifier(random_state=0, **params).fit(X, y, sample_weight=w)
    )
    bins = md.single_machine_thresholds(X, 255, 0)
    dist = md.RandomForestRegressor(random_state=0, **params).fit(
        _chunks(X), _chunks(y_reg), bin_thresholds=bins
    )
    one = mlcore.RandomForestRegressor(random_state=0, **params).fit(X, y_reg)
    np.testing.assert_allclose(dist.to_local().predict(X), one.predict(X), rtol=1e-12)
    np.testing.assert_array_equal(dist.feature_importances_, one.feature_importances_)


def test_random_forests_out_of_bag_equal_one_machine(dask_client, rng):
    """oob_score on the cluster: each tree's out-of-bag rows follow it on their workers, which
    add the trees' values per row in tree order. The classifier's model (oob_score_ and
    oob_decision_function_ included) is the single machine's byte for byte; the regressor's
    leaf means and score sums are per partition first (1e-12 relative; predictions to float32
    rounding). 11 trees: a row is out of bag for none of them now and then (NaN rows)."""
    X, y, y_reg = _data(rng, n=1201)
    w = rng.integers(0, 3, size=len(X)).astype(np.float64)
    params = dict(n_estimators=11, max_depth=6, oob_score=True, random_state=4)
    bins = md.single_machine_thresholds(X, 255, 4, sample_weight=w)
    dist = md.RandomForestClassifier(**params).fit(
        _chunks(X, 500), _chunks(y, 500), sample_weight=_chunks(w, 500), bin_thresholds=bins
    )
    one = mlcore.RandomForestClassifier(**params).fit(X, y, sample_weight=w)
    _same_model(dist, one)
    assert dist.oob_score_ == one.oob_score_ and 0.5 < one.oob_score_ < 1
    np.testing.assert_array_equal(dist.oob_decision_function_, one.oob_decision_function_)
    assert np.isnan(one.oob_decision_function_).any()  # rows left out by no tree
    bins = md.single_machine_thresholds(X, 255, 4)
    dist = md.RandomForestRegressor(**params).fit(
        _chunks(X, 500), _chunks(y_reg, 500), bin_thresholds=bins
    )
    one = mlcore.RandomForestRegressor(**params).fit(X, y_reg)
    np.testing.assert_allclose(dist.oob_score_, one.oob_score_, rtol=1e-12)
    assert 0.3 < one.oob_score_ < 1
    np.testing.assert_allclose(dist.oob_prediction_, one.oob_prediction_, rtol=1e-6)
    np.testing.assert_allclose(dist.to_local().oob_prediction_, one.oob_prediction_, rtol=1e-6)
    with pytest.raises(ValueError, match="Out of bag estimation only available if bootstrap=True"):
        md.RandomForestRegressor(oob_score=True, bootstrap=False).fit(_chunks(X), _chunks(y_reg))


@pytest.mark.parametrize("classes", [2, 3])
def test_gradient_boosting_classifier_equals_one_machine(dask_client, rng, classes):
    X, y, _ = _data(rng, n=1501)
    y = y if classes == 3 else (y > 0).astype(int)
    bins = md.single_machine_thresholds(X, 255, 0)
    params = dict(max_iter=4, max_leaf_nodes=8, early_stopping=False, random_state=0)
    dist = md.GradientBoostingClassifier(**params).fit(_chunks(X), _chunks(y), bin_thresholds=bins)
    one = mlcore.GradientBoostingClassifier(**params).fit(X, y)
    local = dist.to_local()
    assert type(local) is mlcore.GradientBoostingClassifier
    for a, b in zip(local.staged_decision_function(X), one.staged_decision_function(X)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(dist.predict(_chunks(X)).compute(), one.predict(X))
    np.testing.assert_allclose(dist.feature_importances_, one.feature_importances_, rtol=1e-9)


def test_gradient_boosting_regressor_with_weights_equals_one_machine(dask_client, rng):
    X, _, y = _data(rng, n=1501)
    w = rng.random(len(X)) * 2
    bins = md.single_machine_thresholds(X, 255, 0)
    params = dict(
        max_iter=5, max_leaf_nodes=None, max_depth=3, early_stopping=False, random_state=0
    )
    dist = md.GradientBoostingRegressor(**params).fit(
        _chunks(X), _chunks(y), sample_weight=_chunks(w, 400), bin_thresholds=bins
    )
    one = mlcore.GradientBoostingRegressor(**params).fit(X, y, sample_weight=w)
    for a, b in zip(dist.to_local().staged_predict(X), one.staged_predict(X)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_gradient_boosting_sends_nan_as_one_machine_does(dask_client):
    """Where NaN goes from a node that held none depends on whether the feature had NaNs in
    training (HistGradientBoosting's rule): the distributed fit reads it from the root."""
    # x1 splits the root; x0 then splits the x1 = 0 side, which holds none of x0's NaNs, into
    # 3 rows left and 1 right: NaN goes right (to y = 1) because x0 had NaNs elsewhere.
    x0 = [0, 0, 0, 1, np.nan, 0, np.nan, 1]
    X = np.tile(np.column_stack([x0, [0, 0, 0, 0, 1, 1, 1, 1]]).astype(np.float32), (3, 1))
    y = np.tile([0.0, 0, 0, 1, 8, 8, 8, 8], 3)
    params = dict(
        max_iter=1, max_depth=2, learning_rate=1.0, min_samples_leaf=1, early_stopping=False
    )
    bins = md.single_machine_thresholds(X, 255, 0)
    dist = md.GradientBoostingRegressor(**params).fit(
        _chunks(X, 10), _chunks(y, 10), bin_thresholds=bins
    )
    one = mlcore.GradientBoostingRegressor(**params).fit(X, y)
    Q = np.array([[np.nan, 0], [0, 0], [1, 0], [np.nan, 1]], dtype=np.float32)
    np.testing.assert_allclose(dist.to_local().predict(Q), one.predict(Q), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(one.predict(Q), [1, 0, 1, 8], atol=1e-6)


def _grid_data(rng, n):
    """Features on a grid of few values (and NaNs): every value lies in the training rows of
    any validation split, so the bins of the training rows are those of all rows."""
    X = np.round(rng.normal(size=(n, 4)) * 3).clip(-8, 8).astype(np.float32) / 3
    X[rng.random(X.shape) < 0.03] = np.nan
    Z = np.nan_to_num(X)
    y_class = (Z[:, 0] + Z[:, 1] ** 2 > 0.5).astype(int) + (Z[:, 2] > 1)
    y_reg = 2 * Z[:, 0] + np.sin(Z[:, 1]) + 0.3 * rng.normal(size=n)
    return X, y_class, y_reg


@pytest.mark.parametrize(
    "kind, params",
    [
        ("multiclass", dict(validation_fraction=0.2, n_iter_no_change=2, tol=1e-3)),
        ("binary", dict(validation_fraction=0.1, n_iter_no_change=3, tol=1e-2)),
        ("regression", dict(validation_fraction=None, n_iter_no_change=2, tol=1e-2)),
        ("weighted", dict(validation_fraction=0.25, n_iter_no_change=1, tol=1e-3)),
    ],
)
def test_gradient_boosting_early_stopping_equals_one_machine(dask_client, rng, kind, params):
    """Early stopping on the cluster: the single machine's validation split (drawn from the
    reduced class counts, each partition given its rows' flags), the losses summed across the
    workers every iteration, and the stop at the single machine's iteration. The scores are
    sums per partition first: equal to 1e-12 relative."""
    X, y_class, y_reg = _grid_data(rng, 3001)
    y = {"multiclass": y_class, "binary": (y_class > 0).astype(int)}.get(kind, y_reg)
    w = rng.random(len(X)) * 2 if kind == "weighted" else None
    Est = (
        md.GradientBoostingClassifier
        if kind in ("multiclass", "binary")
        else (md.GradientBoostingRegressor)
    )
    params = dict(params, max_iter=60, max_leaf_nodes=8, early_stopping=True, random_state=3)
    dist = Est(**params).fit(
        _chunks(X, 701), _chunks(y, 701), sample_weight=None if w is None else _chunks(w, 701)
    )
    one = getattr(mlcore, Est.__name__)(**params).fit(X, y, sample_weight=w)
    assert 2 <= one.n_iter_ < 60  # it did stop early
    assert dist.n_iter_ == one.n_iter_ and dist.do_early_stopping_
    np.testing.assert_allclose(dist.train_score_, one.train_score_, rtol=1e-12)
    np.testing.assert_allclose(dist.validation_score_, one.validation_score_, rtol=1e-12)
    assert len(dist.validation_score_) == (
        0 if params["validation_fraction"] is None else one.n_iter_ + 1
    )
    local = dist.to_local()
    assert local.n_iter_ == one.n_iter_
    staged = (
        "staged_decision_function" if Est is md.GradientBoostingClassifier else "staged_predict"
    )
    for a, b in zip(getattr(local, staged)(X), getattr(one, staged)(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_gradient_boosting_auto_early_stopping_and_bad_fractions(dask_client, rng):
    """ "auto" stops early above 10 000 samples, as on one machine; a fraction that leaves a
    side empty is refused with the single machine's message."""
    X, _, y = _grid_data(rng, 10007)
    params = dict(max_iter=30, max_leaf_nodes=4, n_iter_no_change=2, tol=1e-1, random_state=1)
    dist = md.GradientBoostingRegressor(**params).fit(_chunks(X, 2500), _chunks(y, 2500))
    one = mlcore.GradientBoostingRegressor(**params).fit(X, y)
    assert dist.do_early_stopping_ and dist.n_iter_ == one.n_iter_ < 30
    np.testing.assert_allclose(dist.validation_score_, one.validation_score_, rtol=1e-12)
    X, y = X[:5], y[:5]
    with pytest.raises(ValueError, match="validation_fraction = 0.01 leaves an empty validation"):
        md.GradientBoostingRegressor(early_stopping=True, validation_fraction=0.01).fit(
            _chunks(X, 2), _chunks(y, 2)
        )


def test_trees_refuse_infinity_fractional_weights_and_bad_bins(dask_client, rng):
    X, y, _ = _data(rng, n=300)
    bad = X.copy()
    bad[5, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        md.DecisionTreeClassifier().fit(_chunks(bad), _chunks(y))
    with pytest.raises(ValueError, match="whole numbers"):
        md.DecisionTreeClassifier().fit(
            _chunks(X), _chunks(y), sample_weight=_chunks(np.full(len(X), 0.5))
        )
    bins = md.single_machine_thresholds(X)
    with pytest.raises(ValueError, match="bin_thresholds has 4 features' thresholds"):
        md.DecisionTreeClassifier().fit(_chunks(X), _chunks(y), bin_thresholds=bins[:4])
    bins[2] = bins[2][::-1]
    with pytest.raises(ValueError, match="strictly ascending"):
        md.DecisionTreeClassifier().fit(_chunks(X), _chunks(y), bin_thresholds=bins)


def test_gradient_boosting_survives_a_killed_worker(dask_client, rng, monkeypatch):
    """A worker process is killed (SIGKILL) in the middle of the boosting iterations: its
    partitions' state (binned rows, raw scores, the current tree's row lists) is lost, Dask
    recomputes it from the graph (the chain of rounds) on the other worker, and the fit ends
    with the model of an undisturbed fit."""
    X, _, y = _data(rng, n=1201)
    params = dict(max_iter=4, max_leaf_nodes=6, early_stopping=False, random_state=0)
    bins = md.single_machine_thresholds(X, 255, 0)
    undisturbed = md.GradientBoostingRegressor(**params).fit(
        _chunks(X, 400), _chunks(y, 400), bin_thresholds=bins
    )
    client = dask_client
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)
    original = DistributedFit.round
    killed = []

    def round_that_kills(self, name, *args, **kwargs):
        if name.startswith("iteration 2") and not killed:
            victim = sorted(pids)[0]
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(victim)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(DistributedFit, "round", round_that_kills)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    dist = md.GradientBoostingRegressor(**params).fit(
        _chunks(X, 400), _chunks(y, 400), bin_thresholds=bins
    )
    assert killed
    assert dist._model.save_bytes() == undisturbed._model.save_bytes()
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next tests


def test_tree_profile_pickle_and_clone(dask_client, rng):
    """The workers' histogram calls are in the profile with the rounds; the fitted estimator
    pickles (without its client) and clones with the single-machine parameters plus client."""
    import pickle

    from sklearn.base import clone

    X, y, _ = _data(rng, n=800)
    est = md.RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(
        _chunks(X, 400), _chunks(y, 400)
    )
    hist = [r for r in est.profile_ if r["op"] == "histogram"]
    assert hist and all(r["worker"].startswith("tcp://") for r in hist)
    assert {r["partition"] for r in hist} == {0, 1}
    assert {"broadcast", "reduce"} <= {r["op"] for r in est.profile_}
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    params = clone(est).get_params()
    assert params["n_estimators"] == 3 and params["client"] is None


def test_max_leaf_nodes_and_max_samples_equal_one_machine(dask_client, rng):
    """Best-first trees (max_leaf_nodes) and forests of max_samples draws on the cluster are the
    single machine's, byte for byte given its bins; friedman_mse is squared_error there too;
    warm_start is refused (each distributed fit grows its forest whole)."""
    X, y, y_reg = _data(rng, n=1201)
    bins = md.single_machine_thresholds(X, 255, 0)
    tree = dict(max_leaf_nodes=11, random_state=0)
    dist = md.DecisionTreeClassifier(**tree).fit(_chunks(X), _chunks(y), bin_thresholds=bins)
    one = mlcore.DecisionTreeClassifier(**tree).fit(X, y)
    _same_model(dist, one)
    assert one.get_n_leaves() == 11
    with pytest.warns(FutureWarning, match="friedman_mse"):
        dist = md.DecisionTreeRegressor(criterion="friedman_mse", **tree).fit(
            _chunks(X), _chunks(y_reg), bin_thresholds=bins
        )
    one = mlcore.DecisionTreeRegressor(**tree).fit(X, y_reg)
    np.testing.assert_array_equal(dist.apply(X), one.apply(X))
    forest = dict(n_estimators=5, max_leaf_nodes=7, max_samples=0.6, oob_score=True)
    dist = md.RandomForestClassifier(random_state=3, **forest).fit(
        _chunks(X), _chunks(y), bin_thresholds=md.single_machine_thresholds(X, 255, 3)
    )
    _same_model(dist, mlcore.RandomForestClassifier(random_state=3, **forest).fit(X, y))
    with pytest.raises(ValueError, match="warm_start=True is not supported by mlcore.dask"):
        md.RandomForestRegressor(warm_start=True).fit(_chunks(X), _chunks(y_reg))
    with pytest.raises(ValueError, match="`max_sample` cannot be set if `bootstrap=False`"):
        md.RandomForestRegressor(bootstrap=False, max_samples=10).fit(_chunks(X), _chunks(y_reg))


def test_gradient_boosting_refuses_options_it_lacks(dask_client, rng):
    """interaction_cst (the single machine's grower has it, the distributed one not),
    class_weight, the log-link losses (poisson, gamma: the workers compute squared-error
    gradients only), monotonic_cst and categorical features: each refused by name, before any
    work; categorical_features naming no feature is accepted, as on one machine."""
    X, y_class, y_reg = _grid_data(rng, 400)
    Xd, yd = _chunks(X, 150), _chunks(y_class, 150)
    cases = [
        (md.GradientBoostingClassifier(interaction_cst="pairwise"), "interaction_cst is not"),
        (md.GradientBoostingClassifier(class_weight="balanced"), "class_weight is not"),
        (md.GradientBoostingClassifier(monotonic_cst=[1, 0]), "monotonic_cst is not"),
        (md.GradientBoostingClassifier(categorical_features=[0]), "categorical splits"),
        (md.GradientBoostingRegressor(loss="poisson"), "loss must be 'squared_error'"),
    ]
    for est, message in cases:
        with pytest.raises(ValueError, match=message):
            est.fit(Xd, yd)
    with pytest.raises(ValueError, match="X_val / y_val / sample_weight_val are not supported"):
        md.GradientBoostingClassifier(early_stopping=True).fit(Xd, yd, X_val=Xd, y_val=yd)
    params = dict(max_iter=3, categorical_features=[False] * X.shape[1])
    dist = md.GradientBoostingRegressor(**params).fit(Xd, _chunks(y_reg, 150))
    one = mlcore.GradientBoostingRegressor(**params).fit(X, y_reg)
    got = dist.predict(_chunks(X, 150)).compute()
    np.testing.assert_allclose(got, one.predict(X), rtol=1e-5, atol=1e-5)
    assert dist.is_categorical_ is None


def test_tree_structure_pruning_and_estimators_equal_one_machine(dask_client, rng):
    """tree_ (impurities included), the pruning path and a forest's estimators_ are the single
    machine's; the options the distributed grower lacks are refused."""
    X, y, y_reg = _data(rng, n=1201)
    bins = md.single_machine_thresholds(X, 255, 0)
    for Dist, One, target in (
        (md.DecisionTreeClassifier, mlcore.DecisionTreeClassifier, y),
        (md.DecisionTreeRegressor, mlcore.DecisionTreeRegressor, y_reg),
    ):
        dist = Dist(max_depth=6, random_state=0).fit(
            _chunks(X), _chunks(target), bin_thresholds=bins
        )
        one = One(max_depth=6, random_state=0).fit(X, target)
        for name in ("children_left", "feature", "threshold", "n_node_samples", "value"):
            np.testing.assert_array_equal(getattr(dist.tree_, name), getattr(one.tree_, name))
        np.testing.assert_allclose(dist.tree_.impurity, one.tree_.impurity, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            dist._model.pruning_path()[0], one._model.pruning_path()[0], rtol=1e-6, atol=1e-12
        )
        assert dist.n_outputs_ == 1 and dist.max_features_ == X.shape[1]
    dist = md.RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(
        _chunks(X), _chunks(y), bin_thresholds=bins
    )
    one = mlcore.RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    _same_model(dist, one)
    for a, b in zip(dist.estimators_, one.estimators_):
        np.testing.assert_array_equal(a.tree_.impurity, b.tree_.impurity)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
    for Dist, option in (
        (md.DecisionTreeClassifier, dict(min_weight_fraction_leaf=0.1)),
        (md.DecisionTreeRegressor, dict(ccp_alpha=0.01)),
        (md.DecisionTreeClassifier, dict(splitter="random")),
        (md.RandomForestRegressor, dict(monotonic_cst=[1, 0, 0, 0, 0])),
        (md.RandomForestClassifier, dict(min_weight_fraction_leaf=0.2)),
    ):
        with pytest.raises(ValueError, match=next(iter(option))):
            Dist(**option).fit(_chunks(X), _chunks(y_reg if "Regressor" in Dist.__name__ else y))
