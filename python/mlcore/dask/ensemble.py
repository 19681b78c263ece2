"""Distributed ensembles of histogram trees: GradientBoosting* and RandomForest* on Dask.

**Gradient boosting** (src/algorithms/trees/gradient_boosting.cpp) per iteration:

1. one round: each worker adds the previous iteration's leaf values to its rows' raw scores
   (it knows each row's leaf: the rows stay on their worker), then computes the gradients and
   hessians of its rows in double and returns their per-class maxima (2·K numbers), from which
   the client sets the quantization scales (PackedCodec) exactly as one machine does;
2. the K trees of the iteration grow together (``_grower.py``): root and node histograms of the
   quantized [count, Σ g, Σ h] on the workers, summed exactly, split by the single-machine split
   finder best-first up to max_leaf_nodes, a few rounds per tree;
3. one round returns every leaf's Σ g and Σ h per partition: leaf value = −lr · G / (H + λ).

Early stopping: the single machine's validation split (``validation_split``), the validation
rows following each tree to their leaves on their workers, and the training / validation loss
sums returned by step 1's round; the client applies the single machine's stopping rule.

**Random forests** (random_forest.cpp): each tree's bootstrap counts are drawn on the client by
the single-machine generator (``forest_bootstrap``: the same seed and draws) and each worker
receives its rows' counts; the trees then grow as decision trees, a batch of trees at a time in
the same rounds. With oob_score, each tree's out-of-bag rows follow it on their workers, which
add up the trees' values per row (``oob_votes_task``).

Equality with one machine: given the same bins, a forest is the single-machine forest (every
tree byte for byte up to the regression leaf means, summed per partition first); boosting
grows the same trees as long as no quantized gradient lands on a rounding boundary — the leaf
values are summed per partition, then across partitions, so raw scores differ from one
machine's by ~1e-16 relative, which moves a gradient across a quantization step with a
probability of about that size per sample — and its predictions agree to float32 rounding.
"""

from __future__ import annotations

import time

import numpy as np

from .. import _core
from .. import ensemble as _local
from ..ensemble import _categorical_mask
from .._validation import check_bool, check_int, check_max_samples, check_real, seed_of
from . import _grower, _local as write
from .tree import (
    TreeFitMixin,
    class_values,
    leaf_sums_task,
    regression_values,
    tree_values_classifier,
    tree_values_regressor,
    tree_weights,
)
from ._base import as_rows, init_with_client

__all__ = [
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
]


# ---- gradient boosting: worker tasks ---------------------------------------------------------


def gradients_task(rec, state, loss, K, baseline, update, score):
    """Raw scores += the last iteration's leaf values (``update``: {k: (leaf_of, values)}):
    a training row's from its leaf, a validation row's as float32 (the single machine walks
    them on the backend, whose leaf values are float32); then, with ``score``, the loss sums
    of the training and validation rows (``loss_sums``); then g, h (m × K, double) at the raw
    scores, weighted as scikit-learn does. Returns the per-class max |g| and max h over the
    training rows (gradient_boosting.cpp: gradients, weight_gradients) and the loss sums."""
    t, w, train, held = state["t"], state["w"], state["train"], state["held_out"]
    m = len(t)
    raw = state["raw"].copy() if "raw" in state else np.tile(np.asarray(baseline), (m, 1))
    for k, (leaf_of, values) in update.items():
        rows, leaves = _grower.leaf_rows(state, k, leaf_of)
        raw[rows, k] += values[leaves]
        if held is not None:
            rows, leaves = _grower.leaf_rows(state, k, leaf_of, "extra")
            raw[rows, k] += values.astype(np.float32)[leaves]
    state = _grower.without_trees(state, set(update))
    scores = None
    if score:
        scores = tuple(
            None
            if rows is None
            else loss_sums(loss, raw[rows], t[rows], None if w is None else w[rows])
            for rows in (train, held)
        )
    if loss == "squared_error":
        g = raw - t.astype(np.float64).reshape(-1, 1)
        h = None
    elif loss == "binary":
        p = 1.0 / (1.0 + np.exp(-raw))
        g = p - t.reshape(-1, 1)
        h = p * (1.0 - p)
    else:
        mx = raw.max(axis=1, keepdims=True)
        e = np.exp(raw - mx)
        p = e / e.sum(axis=1, keepdims=True)
        g = p - (t.reshape(-1, 1) == np.arange(K))
        h = p * (1.0 - p)
    if w is not None:
        g = g * w.reshape(-1, 1)
        h = np.tile(w.reshape(-1, 1), (1, K)) if h is None else h * w.reshape(-1, 1)
    state = dict(state, raw=raw, g=g, h=h)
    g_max = np.abs(g[train]).max(axis=0) if len(train) else np.zeros(K)
    h_max = (h[train].max(axis=0) if len(train) else np.zeros(K)) if h is not None else np.ones(K)
    return state, (g_max, h_max, scores)


def loss_sums(loss, raw, t, w):
    """(Σ w·loss, Σ w) over rows: half squared error, binary or multiclass log-loss at raw
    scores (m × K); rows of weight 0 add nothing (gradient_boosting.cpp: mean_loss)."""
    w = np.ones(len(t)) if w is None else w
    if loss == "squared_error":
        each = 0.5 * (t.astype(np.float64) - raw[:, 0]) ** 2
    elif loss == "binary":
        r = raw[:, 0]
        with np.errstate(over="ignore"):  # log(1 + e^r) − y·r; np.where evaluates both sides
            each = np.where(r > 0, r + np.log1p(np.exp(-r)), np.log1p(np.exp(r))) - t * r
    else:
        mx = raw.max(axis=1)
        each = mx + np.log(np.exp(raw - mx[:, None]).sum(axis=1)) - raw[np.arange(len(t)), t]
    return float(np.sum(np.where(w == 0, 0.0, w * each))), float(np.sum(w))


def boost_values(state, k, g_codec, h_codec):
    """Tree k's statistics: [q_g · 2^24 + 1] or [q_g · 2^24 + 1, q_h] int64 (every row's; the
    training rows grow the tree, the validation rows follow it to their leaves)."""
    g = _grower.quantize(state["g"][:, k], *g_codec)
    col0 = (g << _grower.COUNT_BITS) + 1
    if h_codec is None:
        V = col0.reshape(-1, 1)
    else:
        V = np.column_stack([col0, _grower.quantize(state["h"][:, k], *h_codec)])
    held = state["held_out"]
    if held is None:
        return np.ascontiguousarray(V), state["train"]
    return np.ascontiguousarray(V), state["train"], held


def boost_leaf_sums_task(rec, state, specs):
    """Per tree {k: (leaf_of, n_nodes)}: Σ g and Σ h (1 per row for a constant hessian) over
    each fitted leaf's rows of this partition."""
    out = {}
    for k, (leaf_of, n_nodes) in specs.items():
        rows, leaves = _grower.leaf_rows(state, k, leaf_of)
        G = np.bincount(leaves, weights=state["g"][rows, k], minlength=n_nodes)
        H = np.bincount(
            leaves, weights=None if state["h"] is None else state["h"][rows, k], minlength=n_nodes
        ).astype(np.float64)
        out[k] = (G, H)
    return out


class _DaskBoosting(TreeFitMixin):
    _classifier = False

    def fit(
        self,
        X,
        y,
        sample_weight=None,
        bin_thresholds=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Boost up to max_iter iterations on a dask X (NaN = missing) and y, with early
        stopping as on one machine (on when early_stopping=True, or "auto" and more than
        10 000 samples): the validation split is the single machine's (``validation_split``),
        the losses are summed across the workers every iteration, and the fit stops at the
        iteration the single machine stops at. bin_thresholds: as for
        mlcore.dask.DecisionTreeClassifier (with a validation split, the single machine bins
        its training rows only)."""
        if self.early_stopping not in ("auto", True, False):
            raise ValueError(
                f"early_stopping must be 'auto', True or False, got {self.early_stopping!r}"
            )
        if self.scoring != "loss":
            raise ValueError(
                "mlcore.dask's boosting stops early on the loss, which it sums across the "
                f"workers: scoring must be 'loss', got {self.scoring!r}"
            )
        # Options the distributed grower does not have (the single machine's boosting has
        # interaction constraints; neither has categorical splits or monotonic constraints).
        if X_val is not None or y_val is not None or sample_weight_val is not None:
            raise ValueError(
                "X_val / y_val / sample_weight_val are not supported by mlcore.dask's boosting "
                "(its validation rows are a validation_fraction split of X); pass "
                "validation_fraction instead"
            )
        if self.interaction_cst is not None:
            raise ValueError(
                "interaction_cst is not supported by mlcore.dask's boosting (its grower "
                "examines every feature at every node); fit mlcore.GradientBoosting* on one "
                f"machine, or pass interaction_cst=None, got {self.interaction_cst!r}"
            )
        if self.monotonic_cst is not None:
            raise ValueError(
                "monotonic_cst is not supported by mlcore's boosting; pass monotonic_cst=None, "
                f"got {self.monotonic_cst!r}"
            )
        if not self._classifier and self.loss != "squared_error":
            raise ValueError(
                "mlcore.dask's GradientBoostingRegressor computes the squared error's "
                f"gradients only: loss must be 'squared_error', got {self.loss!r}"
            )
        if getattr(self, "class_weight", None) is not None:
            raise ValueError(
                "class_weight is not supported by mlcore.dask's boosting; pass the weights as "
                f"sample_weight, got class_weight={self.class_weight!r}"
            )
        self.is_categorical_ = _categorical_mask(X, self.categorical_features)
        if self.is_categorical_ is not None:
            raise ValueError(
                "categorical_features: categorical splits are not supported by mlcore.dask's "
                "boosting; encode the features as numbers and pass categorical_features=None"
            )
        lr = check_real("learning_rate", self.learning_rate, 0.0, low_open=True, allow_inf=True)
        verbose = check_int("verbose", self.verbose, 0)
        start = time.perf_counter()
        max_iter = check_int("max_iter", self.max_iter, 1)
        max_leaf = check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True)
        max_depth = check_int("max_depth", self.max_depth, 1, allow_none=True)
        min_leaf = check_int("min_samples_leaf", self.min_samples_leaf, 1)
        l2 = check_real("l2_regularization", self.l2_regularization, 0.0, allow_inf=True)
        max_bins = check_int("max_bins", self.max_bins, 2)
        vf = self.validation_fraction
        if vf is not None:
            vf = check_real("validation_fraction", vf, 0.0, 1.0, low_open=True, high_open=True)
        n_iter_no_change = check_int("n_iter_no_change", self.n_iter_no_change, 1)
        tol = check_real("tol", self.tol, 0.0, allow_inf=True)
        seed = seed_of(self.random_state)
        n = as_rows(X, "X", type(self).__name__).shape[0]
        early = self.early_stopping is True or (self.early_stopping == "auto" and n > 10000)
        split = early and vf is not None
        fit, state, classes, _, _, _ = self._binned_fit(
            X,
            y,
            sample_weight,
            bin_thresholds,
            classifier=self._classifier,
            whole_weights=False,
            max_bins=max_bins,
            seed=seed,
            hold_out=(lambda counts: validation_split(counts, vf, seed)) if split else None,
        )
        if self._classifier:
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes in y, got {len(classes)} class"
                )
            K = 1 if len(classes) == 2 else len(classes)
            loss = "binary" if K == 1 else "multiclass"
        else:
            K, loss = 1, "squared_error"
        weighted = sample_weight is not None
        baseline, n_train = self._baseline(fit, state, loss, K, classes)
        constant = loss == "squared_error" and not weighted
        trees, importances, update = [], np.zeros(self.n_features_in_), {}
        train_score, validation_score = [], []
        n_iter = max_iter
        # Round `it` moves the scores by iteration it − 1's trees and measures the losses there;
        # with early stopping, one more round after the last iteration measures its losses.
        for it in range(max_iter + (1 if early else 0)):
            maxima, state = fit.round(
                f"iteration {it}: raw scores, gradients" + (", losses" if early else ""),
                gradients_task,
                loss,
                K,
                baseline,
                update,
                early,
                parts=state,
                keep=True,
            )
            if early:
                for scores, side in ((train_score, 0), (validation_score, 1)):
                    parts = [m[2][side] for m in maxima]
                    if parts[0] is None:
                        continue
                    wsum = sum(p[1] for p in parts)
                    scores.append(-sum(p[0] for p in parts) / wsum if wsum > 0 else -0.0)
                watched = validation_score if split else train_score
                if _core.boosting_should_stop(watched, n_iter_no_change, tol) or it == max_iter:
                    n_iter = it
                    break
            g_max = np.max([m[0] for m in maxima], axis=0)
            h_max = np.max([m[1] for m in maxima], axis=0)
            growing, specs = [], {}
            for k in range(K):
                gc = _core.packed_codec(float(g_max[k]), float(n_train), True)
                hc = (
                    None if constant else _core.packed_codec(float(h_max[k]), float(n_train), False)
                )
                sp, params = self._splitter(
                    "gradient",
                    2 if constant else 3,
                    max_depth=max_depth,
                    min_samples_split=2,
                    min_samples_leaf=min_leaf,
                    max_features=None,
                    min_impurity_decrease=0.0,
                    seed=seed + it * K + k,
                    require_positive_gain=True,
                    max_leaf_nodes=-1 if max_leaf is None else max_leaf,
                    l2_regularization=l2,
                    constant_hessian=constant,
                )
                sp.set_scales(gc[0], 1.0 if hc is None else hc[0])
                growing.append(_grower.GrowingTree(k, sp, self.bin_thresholds_, params))
                specs[k] = (boost_values, (k, gc, hc))
            state = _grower.grow_trees(
                fit,
                state,
                growing,
                (_grower.tree_init_task, [(specs,)] * len(state)),
                name=f"iteration {it}",
            )
            node_arrays = [t.finish() for t in growing]
            sums = fit.round(
                f"iteration {it}: leaf sums",
                boost_leaf_sums_task,
                {t.key: (t.leaf_of, len(t.nodes)) for t in growing},
                parts=state,
            )
            update = {}
            for t, nodes in zip(growing, node_arrays):
                G = sum(s[t.key][0] for s in sums)
                H = sum(s[t.key][1] for s in sums)
                values = np.zeros(len(t.nodes))
                for h, node in t.nodes:
                    if h not in t.split_nodes:
                        values[node.id] = -lr * G[node.id] / (H[node.id] + l2 + 1e-15)
                trees.append((nodes, values))
                importances += t.importances
                update[t.key] = (t.leaf_of, values)
        for f in state:
            f.release()
        w = write.ModelWriter(type(self).__name__, 1)
        w.write_string(self.loss)  # write_options
        w.write_f64(lr)
        w.write_i64(max_iter)
        w.write_i64(-1 if max_leaf is None else max_leaf)
        w.write_i64(-1 if max_depth is None else max_depth)
        w.write_i64(min_leaf)
        w.write_f64(l2)
        w.write_i64(max_bins)
        w.write_string({"auto": "auto", True: "true", False: "false"}[self.early_stopping])
        w.write_string("loss")
        w.write_f64(0.0 if vf is None else vf)
        w.write_i64(n_iter_no_change)
        w.write_f64(tol)
        w.write_i64(seed)
        if self._classifier:
            w.write_f64s([float(c) for c in range(len(classes))])
        w.write_f64s([float(b) for b in baseline])  # write_model
        w.write_i64(K)
        w.write_i64(n_iter)
        w.write_i64(self.n_features_in_)
        w.write_f64s(train_score)
        w.write_f64s(validation_score)
        w.write_f64s(importances.tolist())
        for nodes, values in trees:
            write.write_tree(w, nodes, values, 1)
        self._finish_fit(fit, w.finish())
        self.n_iter_ = n_iter
        self.do_early_stopping_ = early
        self.n_trees_per_iteration_ = K
        self.train_score_ = np.asarray(train_score, np.float64)
        self.validation_score_ = np.asarray(validation_score, np.float64)
        self.feature_importances_ = np.asarray(self._model.feature_importances_, np.float64)
        if verbose:
            self._report_fit(time.perf_counter() - start)
        return self

    @staticmethod
    def _baseline(fit, state, loss, K, classes):
        """The best constant raw score (fit_boosting's baseline), from sums over the training
        rows reduced across the workers, and the number of training rows; checks that they
        carry weight and every class (baseline_scores)."""
        sums = fit.round(
            "baseline: target sums",
            _target_sums_task,
            loss,
            0 if classes is None else len(classes),
            parts=state,
        )
        s = sum(p[0] for p in sums)
        n_train = sum(p[1] for p in sums)
        total = sum(p[2] for p in sums)
        if total <= 0:
            raise ValueError("sample_weight is 0 for every training sample")
        if loss == "squared_error":
            return np.array([s[0] / total]), n_train
        plain = sum(p[3] for p in sums)
        if np.any(plain == 0):
            raise ValueError(
                f"class {int(np.flatnonzero(plain == 0)[0])} has no sample left for training "
                "after the validation split; lower validation_fraction"
            )
        prior = s / total
        eps = 1e-15
        if loss == "binary":
            p = min(max(prior[1], eps), 1 - eps)
            return np.array([np.log(p / (1 - p))]), n_train
        logs = np.log(np.maximum(prior, eps))
        return logs - np.sum(logs / K), n_train


def _target_sums_task(rec, state, loss, n_classes):
    """Over the training rows: Σ w·y (regressor) or the weighted class counts, the row count,
    Σ w, and the plain class counts (classifier)."""
    train = state["train"]
    t = state["t"][train]
    w = np.ones(len(t)) if state["w"] is None else state["w"][train]
    if loss == "squared_error":
        return np.array([np.sum(w * t.astype(np.float64))]), len(t), float(np.sum(w)), None
    return (
        np.bincount(t, weights=w, minlength=n_classes),
        len(t),
        float(np.sum(w)),
        np.bincount(t, minlength=n_classes),
    )


def validation_split(group_counts, fraction, seed):
    """The single machine's validation split (gradient_boosting.cpp: split_for_validation) for
    rows spread over partitions: group_counts (partitions × groups) the rows of each class (or
    all rows, one group) per partition, in row order. The flags of each group's ranks are
    drawn by the single-machine generator from the reduced counts alone
    (``_core.validation_ranks``), and each partition gets the slice of its own rows: n bytes
    travel, one per row. Returns per partition {group: flags}."""
    sizes = group_counts.sum(axis=0)
    flags = _core.validation_ranks([int(v) for v in sizes], float(fraction), int(seed))
    n, n_val = int(sizes.sum()), int(sum(int(f.sum()) for f in flags))
    if n_val == 0 or n_val == n:
        raise ValueError(
            f"validation_fraction = {fraction} leaves an empty "
            f"{'validation' if n_val == 0 else 'training'} set for {n} samples"
        )
    starts = np.vstack([np.zeros((1, group_counts.shape[1]), np.int64), np.cumsum(group_counts, 0)])
    return [
        {
            g: flags[g][starts[p, g] : starts[p + 1, g]]
            for g in range(group_counts.shape[1])
            if group_counts[p, g] > 0
        }
        for p in range(group_counts.shape[0])
    ]


class GradientBoostingClassifier(_DaskBoosting, _local.GradientBoostingClassifier):
    """mlcore.GradientBoostingClassifier boosted on a dask cluster (same parameters, plus
    ``client``; early stopping as on one machine: the same validation split and stopping
    iteration). Given the same bins, the same trees as one machine, and predict_proba to
    float32 rounding (tests/python/test_dask_tree.py)."""

    _local_class = _local.GradientBoostingClassifier
    _classifier = True
    __init__ = init_with_client(_local.GradientBoostingClassifier)

    def decision_function(self, X):
        n_cols = None if len(self.classes_) == 2 else len(self.classes_)
        return self._map_rows("decision_function", X, n_cols)

    def predict_proba(self, X):
        return self._map_rows("predict_proba", X, len(self.classes_))

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)


class GradientBoostingRegressor(_DaskBoosting, _local.GradientBoostingRegressor):
    """mlcore.GradientBoostingRegressor boosted on a dask cluster (see
    :class:`GradientBoostingClassifier`)."""

    _local_class = _local.GradientBoostingRegressor
    __init__ = init_with_client(_local.GradientBoostingRegressor)

    def predict(self, X):
        return self._map_rows("predict", X, None)


# ---- random forests ------------------------------------------------------------------------

TREES_AT_ONCE = 8  # a forest's trees grown in the same rounds (each holds its row lists)


def bootstrap_task(rec, state, counts, center):
    """Keeps each tree's bootstrap counts for this partition's rows ({key: counts or None});
    returns per tree (Σ weights, max |y − center| over its rows of positive weight)."""
    state = dict(state)
    state["boot"] = dict(state.get("boot", {}))
    out = {}
    for key, c in counts.items():
        state["boot"][key] = None if c is None else c.astype(np.float64)
        w = tree_weights(state, key)
        max_abs = 0.0
        if center is not None and np.any(w > 0):
            max_abs = float(np.max(np.abs(state["t"][w > 0].astype(np.float64) - center)))
        out[key] = (float(np.sum(w)), max_abs)
    return state, out


def oob_votes_task(rec, state, values):
    """Adds the fitted trees' values ({key: n_nodes × k}, in tree order) at each tree's
    out-of-bag rows (state["oob_leaves"]) to the rows' sums and counts: per row the same doubles
    added in the same order as oob_sums (random_forest.cpp) adds them."""
    m = len(state["t"])
    k = next(iter(values.values())).shape[1]
    sums = state["oob_sum"].copy() if "oob_sum" in state else np.zeros((m, k))
    counts = state["oob_count"].copy() if "oob_count" in state else np.zeros(m, np.int64)
    leaves_of = dict(state["oob_leaves"])
    for key in sorted(values):
        rows, leaves = leaves_of.pop(key)
        sums[rows] += values[key][leaves]
        counts[rows] += 1
    return dict(state, oob_sum=sums, oob_count=counts, oob_leaves=leaves_of), None


def oob_result_task(rec, state, classifier):
    """This partition's rows of oob_decision_function_ / oob_prediction_ (float32, NaN for a
    row no tree left out) and its share of the score: (correct, scored) for a classifier (the
    first largest sum's class, as std::max_element picks it), (Σ y, scored) for a regressor."""
    sums, counts = state["oob_sum"], state["oob_count"]
    scored = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    out = np.where(scored[:, None], mean, np.nan).astype(np.float32)
    t = state["t"]
    if classifier:
        correct = int(np.sum(np.argmax(sums[scored], axis=1) == t[scored]))
        return out, (correct, int(scored.sum()))
    return out, (float(np.sum(t[scored].astype(np.float64))), int(scored.sum()))


def oob_squares_task(rec, state, mean):
    """A regressor's Σ (y − prediction)² and Σ (y − mean)² over the scored rows (the
    prediction in double, as random_forest.cpp scores it)."""
    counts = state["oob_count"]
    scored = counts > 0
    y = state["t"][scored].astype(np.float64)
    pred = state["oob_sum"][scored, 0] / counts[scored]
    return float(np.sum((y - pred) ** 2)), float(np.sum((y - mean) ** 2))


class _DaskForest(TreeFitMixin):
    _classifier = False
    _weighted_center = False  # random_forest.cpp centres y on its plain mean

    def fit(self, X, y, sample_weight=None, bin_thresholds=None):
        """Grow n_estimators trees on bootstrap samples of a dask X (NaN = missing) and y;
        bin_thresholds as for mlcore.dask.DecisionTreeClassifier. With oob_score, each tree's
        out-of-bag rows follow it to their leaves on their workers, which add up the trees'
        values per row (``oob_votes_task``); only the scores' sums and the per-row
        oob_decision_function_ / oob_prediction_ come back."""
        Xr = as_rows(X, "X", type(self).__name__)
        n = Xr.shape[0]
        n_estimators = check_int("n_estimators", self.n_estimators, 1)
        max_bins = check_int("max_bins", self.max_bins, 2)
        seed = seed_of(self.random_state)
        bootstrap = bool(self.bootstrap)
        oob = bool(self.oob_score)
        if oob and not bootstrap:
            raise ValueError(_local.OOB_NEEDS_BOOTSTRAP)
        if check_bool("warm_start", self.warm_start):
            raise ValueError(
                f"{type(self).__name__}: warm_start=True is not supported by mlcore.dask's "
                "forests (each fit grows n_estimators trees)"
            )
        draws = _core.forest_bootstrap_draws(
            type(self).__name__, check_max_samples(self.max_samples), bootstrap, n
        )
        opts = self._grower_options(n)
        criterion = self.criterion
        fit, state, classes, center, _, _ = self._binned_fit(
            X,
            y,
            sample_weight,
            bin_thresholds,
            classifier=self._classifier,
            whole_weights=True,
            max_bins=max_bins,
            seed=seed,
        )
        bounds = np.concatenate([[0], np.cumsum(Xr.chunks[0])]).astype(np.int64)
        fitted = []
        for first in range(0, n_estimators, TREES_AT_ONCE):
            keys = list(range(first, min(first + TREES_AT_ONCE, n_estimators)))
            splitters, counts = {}, {}
            for t in keys:
                if self._classifier:
                    sp, params = self._splitter(
                        "entropy" if criterion == "log_loss" else criterion,
                        len(classes),
                        seed=seed,
                        **opts,
                    )
                else:
                    sp, params = self._splitter(
                        "squared_error", 2, seed=seed, require_positive_gain=True, **opts
                    )
                if bootstrap:
                    c = sp.forest_bootstrap(seed, t, n, draws)
                    counts[t] = c.astype(np.uint8) if c.max() < 256 else c
                else:
                    sp.forest_seed(seed, t)
                    counts[t] = None
                splitters[t] = (sp, params)
            per_part = [
                (
                    {
                        t: None if c is None else c[bounds[p] : bounds[p + 1]]
                        for t, c in counts.items()
                    },
                    center,
                )
                for p in range(len(state))
            ]
            sums, state = fit.round(
                f"trees {keys[0]}..{keys[-1]}: bootstrap counts",
                bootstrap_task,
                parts=state,
                per_part=per_part,
                keep=True,
            )
            growing, specs, scales = [], {}, {}
            for t in keys:
                sp, params = splitters[t]
                if self._classifier:
                    specs[t] = (class_values, (t, len(classes), oob))
                else:
                    total = sum(s[t][0] for s in sums)
                    max_abs = max(s[t][1] for s in sums)
                    scale, q_max = _core.packed_codec(max_abs, total, True)
                    sp.set_scales(scale, 1.0)
                    scales[t] = scale
                    specs[t] = (regression_values, (t, center, scale, q_max, oob))
                growing.append(_grower.GrowingTree(t, sp, self.bin_thresholds_, params))
            state = _grower.grow_trees(
                fit,
                state,
                growing,
                (_grower.tree_init_task, [(specs,)] * len(state)),
                name=f"trees {keys[0]}..{keys[-1]}",
            )
            arrays = [g.finish() for g in growing]
            leaf, state = fit.round(
                f"trees {keys[0]}..{keys[-1]}: leaf sums",
                leaf_sums_task,
                {g.key: (g.leaf_of, len(g.nodes)) for g in growing},
                parts=state,
                keep=True,
            )
            for g, nodes in zip(growing, arrays):
                if self._classifier:
                    values = tree_values_classifier(g, len(classes))
                    impurity = write.class_impurity(values, criterion in ("entropy", "log_loss"))
                else:
                    wy = sum(s[g.key][0] for s in leaf)
                    w = sum(s[g.key][1] for s in leaf)
                    values = tree_values_regressor(g, (wy, w), center, scales[g.key])
                    impurity = write.regression_impurity(
                        nodes, w, wy, sum(s[g.key][2] for s in leaf)
                    )
                fitted.append((g, nodes, values, impurity))
            if oob:
                k = len(classes) if self._classifier else 1
                _, state = fit.round(
                    f"trees {keys[0]}..{keys[-1]}: out-of-bag votes",
                    oob_votes_task,
                    {
                        g.key: np.asarray(v, np.float64).reshape(-1, k)
                        for g, _, v, _ in fitted[-len(keys) :]
                    },
                    parts=state,
                    keep=True,
                )
        if oob:
            oob_rows, oob_score = self._out_of_bag(fit, state)
        for f in state:
            f.release()
        # forest_importances (random_forest.cpp): the mean of the trees' normalized importances
        importances = np.zeros(self.n_features_in_)
        for g, _, _, _ in fitted:
            total = 0.0
            for v in g.importances:
                total += v
            if len(g.nodes) > 1 and total > 0:
                importances += g.importances / total
        w = write.ModelWriter(type(self).__name__, 4)  # random_forest.cpp's kModelVersion
        w.write_i64(n_estimators)  # visit_forest_options
        w.write_string(criterion)
        w.write_i64(-1 if opts["max_depth"] is None else opts["max_depth"])
        w.write_i64(opts["min_samples_split"])
        w.write_i64(opts["min_samples_leaf"])
        kind, value = _core.max_features_spec(opts["max_features"])
        w.write_u8(kind)
        w.write_f64(value)
        w.write_f64(opts["min_impurity_decrease"])
        w.write_u8(1 if bootstrap else 0)
        w.write_u8(1 if oob else 0)  # oob_score
        n_jobs = self.n_jobs
        w.write_i64(-1 if n_jobs in (None, 0) else int(n_jobs))
        w.write_i64(seed)
        w.write_i64(max_bins)
        w.write_i64(opts["max_leaf_nodes"])
        kind, value = _core.max_samples_spec(self.max_samples)
        w.write_u8(kind)
        w.write_f64(value)
        w.write_u8(0)  # warm_start (refused above)
        w.write_u8(1)  # fitted
        if self._classifier:
            w.write_f64s([float(c) for c in range(len(classes))])
        w.write_i64(self.n_features_in_)
        w.write_f64s(importances.tolist())
        w.write_f64(oob_score if oob else 0.0)  # oob_score_
        w.write_u8(1 if oob else 0)
        if oob:
            w.write_tensor(oob_rows)  # oob_decision_ / oob_prediction_
        w.write_i64(len(fitted))  # write_trees
        for g, nodes, values, impurity in fitted:
            write.write_tree(w, nodes, values, len(classes) if self._classifier else 1)
            w.write_f64s(impurity)  # Tree::visit_impurity (model version 4)
        w.write_i64s(_core.forest_tree_seeds(seed, len(fitted)))  # visit_seeds
        self._finish_fit(fit, w.finish())
        self.n_outputs_ = 1
        # estimators_ (the single machine's property) builds its trees with these options
        self._tree_options = dict(
            opts,
            criterion=criterion,
            max_bins=max_bins,
            max_leaf_nodes=None if opts["max_leaf_nodes"] == -1 else opts["max_leaf_nodes"],
        )
        if oob:
            _local.set_oob_attributes(self)
        return self

    def _out_of_bag(self, fit, state):
        """(every row's out-of-bag mean, n × k float32, NaN where no tree left the row out;
        the score): accuracy, or R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)² over the scored rows (ȳ their
        mean), as random_forest.cpp scores them; the sums are per partition first."""
        parts = fit.round("out-of-bag results", oob_result_task, self._classifier, parts=state)
        rows = np.ascontiguousarray(np.concatenate([p[0] for p in parts]), np.float32)
        first = sum(p[1][0] for p in parts)
        scored = sum(p[1][1] for p in parts)
        if self._classifier:
            return rows, first / scored if scored > 0 else 0.0
        mean = first / max(scored, 1)
        squares = fit.round("out-of-bag squares", oob_squares_task, mean, parts=state)
        ss_res, ss_tot = sum(q[0] for q in squares), sum(q[1] for q in squares)
        return rows, 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


class RandomForestClassifier(_DaskForest, _local.RandomForestClassifier):
    """mlcore.RandomForestClassifier grown on a dask cluster (same parameters, plus
    ``client``). Given the same bins, every tree is the single-machine forest's tree: the
    bootstrap is drawn on the client by the same generator and each worker gets its rows'
    counts (one byte per row and tree); oob_score_ and oob_decision_function_ are then the
    single machine's (the out-of-bag sums are added per row in the same order)."""

    _local_class = _local.RandomForestClassifier
    _classifier = True
    __init__ = init_with_client(_local.RandomForestClassifier)

    def predict_proba(self, X):
        return self._map_rows("predict_proba", X, len(self.classes_))

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)


class RandomForestRegressor(_DaskForest, _local.RandomForestRegressor):
    """mlcore.RandomForestRegressor grown on a dask cluster (see
    :class:`RandomForestClassifier`); leaf means summed per partition first, so
    oob_prediction_ agrees with one machine's to float32 rounding and oob_score_ (its sums
    per partition first) to ~1e-12 relative."""

    _local_class = _local.RandomForestRegressor
    __init__ = init_with_client(_local.RandomForestRegressor)

    def predict(self, X):
        return self._map_rows("predict", X, None)
