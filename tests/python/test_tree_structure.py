"""scikit-learn's view of a fitted tree: tree_, decision_path, cost-complexity pruning,
min_weight_fraction_leaf, sparse X, and a forest's estimators_ — against scikit-learn's own
trees on data whose splits are exact (few distinct values per feature), on every backend."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree

import mlcore
from conftest import AVAILABLE, quantized

TREE_ARRAYS = (
    "children_left",
    "children_right",
    "feature",
    "n_node_samples",
    "weighted_n_node_samples",
)  # missing_go_to_left without missing values in training: mlcore's rule (the larger child)


def _data(seed, n, d, classification):
    """Continuous features of at most 255 distinct values (every split exact, as
    scikit-learn's). The trees compared are a few levels deep: their nodes are large enough
    that one split is best (in small nodes several features often tie, and scikit-learn breaks
    ties by its random feature order)."""
    rng = np.random.default_rng(seed)
    X = rng.choice(np.linspace(-3, 3, 241), size=(n, d))
    z = X[:, 0] * 1.7 + (X[:, 1] - 0.5) ** 2 + 0.6 * X[:, d - 1] + rng.normal(size=n)
    if classification:
        return X, np.digitize(z, np.quantile(z, [0.3, 0.7]))
    return X, z


def _classes(classification):
    if classification:
        return mlcore.DecisionTreeClassifier, sk_tree.DecisionTreeClassifier
    return mlcore.DecisionTreeRegressor, sk_tree.DecisionTreeRegressor


def _assert_same_tree(mine, theirs):
    assert mine.node_count == theirs.node_count
    assert mine.max_depth == theirs.max_depth and mine.n_leaves == theirs.n_leaves
    for name in TREE_ARRAYS:
        np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name), err_msg=name)
    # Thresholds: mlcore's bin edge is the midpoint of two adjacent values of the feature in
    # the whole training set, scikit-learn's of the two around the split in the node; they
    # differ only where the node lacks values between (the same samples go left). The root
    # sees every value; leaves are -2 in both.
    assert mine.threshold[0] == theirs.threshold[0]
    leaf = theirs.children_left < 0
    np.testing.assert_array_equal(mine.threshold[leaf], theirs.threshold[leaf])
    np.testing.assert_allclose(mine.impurity, theirs.impurity, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(mine.value, theirs.value, rtol=1e-6, atol=1e-9)


def _check_against_data(est, X, y, w, classification):
    """tree_ against a float64 numpy reference from the training data: every node's samples
    (found by walking tree_'s own arrays, NaN-free X), their count and weight, value (class
    fractions or mean) and impurity (Gini / entropy in bits / weighted variance); depth-first
    trees numbered in pre-order; leaves -1 / -2."""
    t = est.tree_
    if not classification:
        y = y.astype(np.float32).astype(np.float64)  # mlcore fits float32 targets
    inner = t.children_left >= 0
    assert np.all(t.children_right[~inner] == -1) and np.all(t.feature[~inner] == -2)
    assert np.all(t.threshold[~inner] == -2)
    if est.max_leaf_nodes is None:  # pre-order: an inner node's left child comes next
        assert np.all(t.children_left[inner] == np.flatnonzero(inner) + 1)
    members = [np.zeros(0, dtype=int)] * t.node_count
    members[0] = np.arange(len(y))
    for k in range(t.node_count):  # parents have smaller ids than their children
        if inner[k]:
            rows = members[k]
            left = X[rows, t.feature[k]] <= t.threshold[k]
            members[t.children_left[k]] = rows[left]
            members[t.children_right[k]] = rows[~left]
    np.testing.assert_array_equal(
        est.apply(X),
        np.argmax(
            np.stack([np.isin(np.arange(len(y)), m) for m in members], axis=1) * ~inner, axis=1
        ),
    )
    for k, rows in enumerate(members):
        wk = w[rows]
        assert t.n_node_samples[k] == len(rows)
        np.testing.assert_allclose(t.weighted_n_node_samples[k], wk.sum())
        if classification:
            p = np.array([wk[y[rows] == c].sum() for c in est.classes_]) / wk.sum()
            np.testing.assert_allclose(t.value[k, 0], p, atol=1e-12)
            if est.criterion == "gini":
                impurity = 1 - np.sum(p**2)
            else:
                impurity = -np.sum(p[p > 0] * np.log2(p[p > 0]))
        else:
            mean = np.average(y[rows], weights=wk)
            if not inner[k]:  # inner means come from quantized sums
                np.testing.assert_allclose(t.value[k, 0, 0], mean, rtol=1e-9)
            impurity = np.average((y[rows] - mean) ** 2, weights=wk)
        np.testing.assert_allclose(t.impurity[k], impurity, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize(
    "classification,criterion",
    [(True, "gini"), (True, "entropy"), (False, "squared_error")],
)
@pytest.mark.parametrize(
    "n,d,params", [(203, 3, {}), (37, 2, {}), (1000, 4, {"max_leaf_nodes": 40})]
)
def test_tree_arrays_follow_the_data(backend, classification, criterion, n, d, params):
    """tree_ of a full tree, with integer sample weights, against the numpy reference."""
    X, y = _data(n * d, n, d, classification)
    w = np.random.default_rng(n).integers(1, 4, size=n).astype(np.float64)
    Mine, _ = _classes(classification)
    est = Mine(criterion=criterion, random_state=0, backend=backend, **params)
    est.fit(X, y, sample_weight=w)
    _check_against_data(est, X, y, w, classification)
    assert (est.decision_path(X).sum(axis=0).A1 == est.tree_.n_node_samples).all()
    assert est.n_outputs_ == 1 and est.max_features_ == d
    assert est.tree_.max_depth == est.get_depth() and est.tree_.n_leaves == est.get_n_leaves()


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("classification", [True, False], ids=["classifier", "regressor"])
@pytest.mark.parametrize("n,d,depth", [(203, 3, 2), (1000, 4, 3)])
def test_tree_is_scikit_learns_tree(backend, classification, n, d, depth):
    """Node for node scikit-learn's (pre-order ids, impurities, values), and apply /
    decision_path / feature importances in those ids (shallow trees: large nodes, no ties)."""
    if quantized(backend):
        pytest.skip("int8 scatter_add: gains may round apart from scikit-learn's")
    X, y = _data(n * d, n, d, classification)
    Mine, Theirs = _classes(classification)
    mine = Mine(max_depth=depth, backend=backend).fit(X, y)
    theirs = Theirs(max_depth=depth, random_state=0).fit(X, y)
    _assert_same_tree(mine.tree_, theirs.tree_)
    np.testing.assert_array_equal(mine.apply(X), theirs.apply(X))
    np.testing.assert_array_equal(mine.tree_.apply(X.astype(np.float32)), theirs.apply(X))
    assert (mine.decision_path(X) != theirs.decision_path(X)).nnz == 0
    np.testing.assert_allclose(
        mine.tree_.compute_feature_importances(), theirs.feature_importances_, atol=1e-9
    )


@pytest.mark.parametrize("classification", [True, False], ids=["classifier", "regressor"])
def test_best_first_tree_keeps_scikit_learns_creation_order(classification):
    X, y = _data(7, 301, 3, classification)
    Mine, Theirs = _classes(classification)
    mine = Mine(max_leaf_nodes=5).fit(X, y)
    theirs = Theirs(max_leaf_nodes=5, random_state=0).fit(X, y)
    _assert_same_tree(mine.tree_, theirs.tree_)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("classification", [True, False], ids=["classifier", "regressor"])
def test_cost_complexity_pruning_is_scikit_learns(backend, classification):
    """The pruning path (alphas and impurities), and the tree pruned at alphas between and on
    its steps, are scikit-learn's."""
    if quantized(backend):
        pytest.skip("int8 scatter_add: gains may round apart from scikit-learn's")
    X, y = _data(11, 157, 3, classification)
    Mine, Theirs = _classes(classification)
    mine = Mine(max_depth=3, backend=backend).cost_complexity_pruning_path(X, y)
    theirs = Theirs(max_depth=3, random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(mine.ccp_alphas, theirs.ccp_alphas, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(mine.impurities, theirs.impurities, rtol=1e-6, atol=1e-12)
    assert len(mine.ccp_alphas) > 3
    alphas = theirs.ccp_alphas
    for alpha in (alphas[1] / 2, (alphas[2] + alphas[3]) / 2, alphas[-2] * 1.01, alphas[-1] * 2):
        m = Mine(max_depth=3, ccp_alpha=alpha, backend=backend).fit(X, y)
        t = Theirs(max_depth=3, random_state=0, ccp_alpha=alpha).fit(X, y)
        _assert_same_tree(m.tree_, t.tree_)
        np.testing.assert_allclose(m.predict(X), t.predict(X), rtol=1e-6)
        np.testing.assert_allclose(m.feature_importances_, t.feature_importances_, atol=1e-9)


@pytest.mark.parametrize("classification", [True, False], ids=["classifier", "regressor"])
def test_min_weight_fraction_leaf(classification):
    X, y = _data(5, 211, 3, classification)
    Mine, Theirs = _classes(classification)
    w = np.random.default_rng(0).integers(1, 4, size=len(y)).astype(np.float64)
    for frac in (0.0, 0.05, 0.2, 0.5):
        mine = Mine(min_weight_fraction_leaf=frac).fit(X, y, sample_weight=w)
        leaf = mine.tree_.children_left < 0
        assert mine.tree_.weighted_n_node_samples[leaf].min() >= frac * w.sum()
        if frac > 0:
            assert mine.get_n_leaves() < Mine().fit(X, y, sample_weight=w).get_n_leaves()
        # unweighted, the same limit as scikit-learn's
        mine = Mine(min_weight_fraction_leaf=frac, max_depth=3).fit(X, y)
        theirs = Theirs(min_weight_fraction_leaf=frac, max_depth=3, random_state=0).fit(X, y)
        _assert_same_tree(mine.tree_, theirs.tree_)
    with pytest.raises(ValueError, match="min_weight_fraction_leaf"):
        Mine(min_weight_fraction_leaf=0.6).fit(X, y)


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix])
@pytest.mark.parametrize("Estimator", [mlcore.DecisionTreeClassifier, mlcore.RandomForestRegressor])
def test_sparse_X_fits_as_its_dense_copy(container, Estimator):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 5, size=(120, 6)) * (rng.random((120, 6)) < 0.3)
    y = (X[:, 0] + X[:, 2] > 2).astype(int)
    Xs = container(X.astype(np.float64))
    before = Xs.copy()
    dense = Estimator(
        random_state=0, **({"n_estimators": 3} if "Forest" in Estimator.__name__ else {})
    )
    sparse = type(dense)(**dense.get_params())
    dense.fit(X, y)
    sparse.fit(Xs, y)
    np.testing.assert_array_equal(sparse.predict(Xs), dense.predict(X))
    np.testing.assert_array_equal(sparse.apply(Xs), dense.apply(X))
    assert (Xs != before).nnz == 0  # the user's matrix is left alone
    Xn = sp.csr_matrix(np.where(X > 0, X, 0.0))
    Xn.data[0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        type(dense)(**dense.get_params()).fit(Xn, y)


@pytest.mark.parametrize("classification", [True, False], ids=["classifier", "regressor"])
def test_forest_estimators_are_its_trees(classification):
    """estimators_[t] predicts what tree t contributes (their mean is the forest's), apply and
    decision_path agree with each tree's, and the trees' tree_ have impurities."""
    X, y = _data(13, 240, 4, classification)
    Forest = mlcore.RandomForestClassifier if classification else mlcore.RandomForestRegressor
    forest = Forest(n_estimators=4, max_depth=5, random_state=1).fit(X, y)
    trees = forest.estimators_
    assert len(trees) == len(forest) == 4 and list(forest) == trees and forest[1] is trees[1]
    if classification:
        mean = np.mean([t.predict_proba(X) for t in trees], axis=0)
        np.testing.assert_allclose(mean, forest.predict_proba(X), rtol=1e-5, atol=1e-6)
    else:
        mean = np.mean([t.predict(X) for t in trees], axis=0)
        np.testing.assert_allclose(mean, forest.predict(X), rtol=1e-5)
    leaves = forest.apply(X)
    indicator, ptr = forest.decision_path(X)
    assert indicator.shape == (len(X), ptr[-1])
    for t, tree in enumerate(trees):
        assert tree.get_depth() <= 5 and tree.tree_.max_depth == tree.get_depth()
        np.testing.assert_array_equal(leaves[:, t], tree.apply(X))
        block = indicator[:, ptr[t] : ptr[t + 1]]
        assert (block != tree.decision_path(X)).nnz == 0
        assert np.isfinite(tree.tree_.impurity).all()
    importances = np.mean([t.feature_importances_ for t in trees], axis=0)
    np.testing.assert_allclose(importances / importances.sum(), forest.feature_importances_)
    again = pickle.loads(pickle.dumps(forest))
    np.testing.assert_array_equal(again.estimators_[2].tree_.value, trees[2].tree_.value)


def test_forest_tree_structure_is_scikit_learns_without_bootstrap():
    X, y = _data(17, 190, 3, False)
    mine = mlcore.RandomForestRegressor(n_estimators=2, bootstrap=False, max_depth=3)
    theirs = sk_ensemble.RandomForestRegressor(
        n_estimators=2, bootstrap=False, max_depth=3, random_state=0
    )
    mine.fit(X, y)
    theirs.fit(X, y)
    _assert_same_tree(mine.estimators_[0].tree_, theirs.estimators_[0].tree_)


def test_refused_options_say_so():
    X, y = _data(1, 60, 2, True)
    with pytest.raises(ValueError, match="splitter='random' is not supported"):
        mlcore.DecisionTreeClassifier(splitter="random").fit(X, y)
    with pytest.raises(ValueError, match="splitter must be"):
        mlcore.DecisionTreeClassifier(splitter="worst").fit(X, y)
    with pytest.raises(ValueError, match="monotonic_cst"):
        mlcore.DecisionTreeRegressor(monotonic_cst=[1, 0]).fit(X, y)
    with pytest.raises(ValueError, match="ccp_alpha > 0 is not supported by mlcore's forests"):
        mlcore.RandomForestClassifier(ccp_alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="ccp_alpha"):
        mlcore.DecisionTreeClassifier(ccp_alpha=-1.0).fit(X, y)


def test_tree_view_is_read_only_and_survives_pickling():
    X, y = _data(2, 90, 3, True)
    est = mlcore.DecisionTreeClassifier(random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        est.tree_.threshold[0] = 5.0
    again = pickle.loads(pickle.dumps(est))
    _assert_same_tree(again.tree_, est.tree_)
    np.testing.assert_array_equal(again.apply(X), est.apply(X))


@pytest.mark.parametrize(
    "Estimator",
    [
        mlcore.DecisionTreeClassifier,
        mlcore.DecisionTreeRegressor,
        mlcore.RandomForestClassifier,
        mlcore.RandomForestRegressor,
    ],
)
def test_unfitted_structure_raises_not_fitted(Estimator):
    from sklearn.exceptions import NotFittedError

    est = Estimator()
    for name in (
        "feature_importances_",
        "tree_" if "Tree" in Estimator.__name__ else "estimators_",
    ):
        with pytest.raises(NotFittedError):
            getattr(est, name)


@pytest.mark.parametrize("Forest", [mlcore.RandomForestClassifier, mlcore.RandomForestRegressor])
def test_out_of_bag_wording_and_warning_are_scikit_learns(Forest):
    X, y = _data(4, 80, 3, Forest is mlcore.RandomForestClassifier)
    with pytest.raises(ValueError, match="Out of bag estimation only available if bootstrap"):
        Forest(oob_score=True, bootstrap=False).fit(X, y)
    with pytest.warns(UserWarning, match="Some inputs do not have OOB scores"):
        one = Forest(n_estimators=1, oob_score=True, random_state=0).fit(X, y)
    rows = (
        one.oob_decision_function_
        if hasattr(one, "oob_decision_function_")
        else one.oob_prediction_
    )
    assert np.isnan(rows).any()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # every row out of bag somewhere: no warning
        Forest(n_estimators=40, oob_score=True, random_state=0).fit(X, y)
