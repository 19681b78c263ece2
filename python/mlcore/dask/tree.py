"""Distributed decision trees: DecisionTreeClassifier and DecisionTreeRegressor on Dask.

The single-machine tree (src/algorithms/trees/decision_tree.cpp) with its two passes over the
samples split by rows:

* **bins**: a quantile sketch per partition merged on the client (``_sketch.py``), the
  thresholds chosen by the single-machine ``BinMapper`` rule; or given (``bin_thresholds=``,
  e.g. ``single_machine_thresholds(X)``: then the tree is the single-machine tree);
* **growth**: per-node histograms on the workers (``histogram`` primitive), summed exactly on
  the client, split by the single-machine split finder, rows moved to the children on the
  workers (``_grower.py``): one round per tree level.

What travels: the sketches (≤ 2049 value/count pairs per feature and partition), then per
level the splits (a few numbers per node) out and, per partition, one total_bins × c histogram
per built node back (c = classes, or 1 int64 for regression). Never a row of X.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .. import tree as _local
from .._validation import (
    check_int,
    check_max_features,
    check_real,
    min_samples,
    seed_of,
)
from . import _grower, _local as write, _sketch
from ._base import (
    DaskEstimatorMixin,
    check_fit_inputs,
    class_weight_vector,
    init_with_client,
    as_rows,
    align_rows,
)

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]

MAX_TOTAL_WEIGHT = 16777215.0  # kMaxTotalWeight (tree_histogram.hpp): counts below 2^24


# ---- worker tasks -------------------------------------------------------------------------------


def rows_xyw(xb, yb, wb=None):
    """A partition as the workers keep it first: X float32, y, w float64 (or None)."""
    X = np.ascontiguousarray(xb, dtype=np.float32)
    y = np.asarray(yb).reshape(-1)
    # float32 weights, as the single-machine fits take them
    w = None if wb is None else np.asarray(wb, dtype=np.float32).astype(np.float64).reshape(-1)
    return X, y, w


def survey_task(rec, part, classifier):
    """Round 1: checks, and the labels with their weighted and plain counts (classifier) or
    Σ w·y, Σ w, Σ y and the row count (regressor)."""
    X, y, w = part
    if np.isinf(X).any():
        raise ValueError("X contains infinity (NaN is allowed: a missing value)")
    if w is not None and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise ValueError("sample_weight must be finite and >= 0")
    if classifier:
        labels, inverse = np.unique(y, return_inverse=True)
        return (
            labels,
            np.bincount(inverse, weights=w, minlength=len(labels)),
            np.bincount(inverse, minlength=len(labels)),
        )
    yf = y.astype(np.float32).astype(np.float64)  # the C++ fit reads y as float32
    if not np.all(np.isfinite(yf)):
        raise ValueError("y contains NaN or infinity")
    w1 = np.ones(len(yf)) if w is None else w
    return float(np.sum(w1 * yf)), float(np.sum(w1)), float(np.sum(yf)), len(yf)


def prepare_task(rec, part, classes, cw, center, whole, sketch, held_out=None):
    """Round 2, kept: X, the targets (class codes, or y as float32 as the C++ fit reads it),
    the effective weights (sample × class weight; None when all 1) and which rows are held out
    of training (boosting's validation rows: ``held_out`` {group: a flag per row of the group,
    in row order}, group = class code, or 0 for a regressor; None: none). Returns, over the
    training rows, the sketch of the rows of positive weight, the total weight, and
    max |y − center| for a regressor."""
    X, y, w = part
    if classes is not None:
        t = np.searchsorted(classes, y).astype(np.int32)
        if cw is not None:
            w = cw[t] * (1.0 if w is None else w)
    else:
        t = y.astype(np.float32)
    out = None
    if held_out is not None:
        out = np.zeros(len(t), bool)
        group = np.zeros(len(t), np.int32) if classes is None else t
        for g, flags in held_out.items():
            out[group == g] = flags.astype(bool)
        X_all, t_all, w_all = X, t, w
        X, t, w = X[~out], t[~out], None if w is None else w[~out]
    if whole and w is not None and np.any((w != np.floor(w)) | (w >= 2.0**24)):
        bad = int(np.flatnonzero((w != np.floor(w)) | (w >= 2.0**24))[0])
        raise ValueError(
            "sample_weight must be whole numbers >= 0 (the trees keep exact integer "
            f"counts in their histograms), got {w[bad]!r} in a partition's row {bad}"
        )
    total = float(len(X) if w is None else np.sum(w))
    max_abs = 0.0
    if classes is None:
        dev = np.abs(t.astype(np.float64) - center)
        keep = dev if w is None else dev[w > 0]
        max_abs = float(keep.max()) if len(keep) else 0.0
    # Trees bin the rows of positive weight only; boosting bins every row (as on one machine).
    s = _sketch.partition_sketch(X, w if whole else None) if sketch else None
    if out is not None:
        X, t, w = X_all, t_all, w_all
    return (X, t, w, out), (s, total, max_abs)


def bin_task(rec, part, thresholds):
    """Round 3, kept: the partition binned under the fit's thresholds (X is dropped); "train"
    and "held_out": the ids of the rows that train and of those held out (None: none)."""
    X, t, w, out = part
    state = _grower.binned_partition(X, thresholds)
    train = np.arange(len(t), dtype=np.int32) if out is None else np.flatnonzero(~out)
    held = None if out is None else np.flatnonzero(out).astype(np.int32)
    state.update(t=t, w=w, trees={}, train=train.astype(np.int32), held_out=held)
    return state, None


def tree_weights(state, key):
    """The integer weights tree ``key`` grows on: sample (× class) weights, times the tree's
    bootstrap counts in a forest (state["boot"][key])."""
    w = state["w"]
    weight = np.ones(len(state["t"])) if w is None else w
    counts = state.get("boot", {}).get(key)
    return weight if counts is None else weight * counts


def _with_out_of_bag(state, key, V, rows, oob):
    """(V, rows), and with ``oob`` the rows forest tree ``key`` did not draw (its out-of-bag
    rows, whatever their weight, as random_forest.cpp lists them), which follow the tree."""
    if not oob:
        return V, rows
    return V, rows, np.flatnonzero(state["boot"][key] == 0).astype(np.int32)


def class_values(state, key, K, oob=False):
    """A classification tree's statistics: V[i, code_i] = w_i (float32 integers); rows of
    weight > 0 (and its out-of-bag rows with ``oob``)."""
    t = state["t"]
    weight = tree_weights(state, key)
    V = np.zeros((len(t), K), np.float32)
    V[np.arange(len(t)), t] = weight
    return _with_out_of_bag(state, key, V, np.flatnonzero(weight > 0).astype(np.int32), oob)


def regression_values(state, key, center, scale, q_max, oob=False):
    """A regression tree's statistics (regression_values in tree_common.cpp): one int64
    w·(q·2^24 + 1) per row, q = quantized (y − center); rows as in ``class_values``."""
    t = state["t"]
    weight = tree_weights(state, key).astype(np.int64)
    q = _grower.quantize(t.astype(np.float64) - center, scale, q_max)
    V = (weight * ((q << _grower.COUNT_BITS) + 1)).reshape(-1, 1)
    return _with_out_of_bag(state, key, V, np.flatnonzero(weight > 0).astype(np.int32), oob)


def leaf_sums_task(rec, state, specs):
    """Per tree {key: (leaf_of, number of nodes)}: Σ w·y and Σ w over each fitted leaf's rows
    (the exact leaf means of a regression tree), and the tree dropped from the state; a tree's
    out-of-bag rows and their leaves kept in state["oob_leaves"] (``oob_votes_task``)."""
    out = {}
    state = dict(state)
    state["oob_leaves"] = dict(state.get("oob_leaves", {}))
    for key, (leaf_of, n_nodes) in specs.items():
        if "extra" in state["trees"][key]:
            state["oob_leaves"][key] = _grower.leaf_rows(state, key, leaf_of, "extra")
        rows, leaves = _grower.leaf_rows(state, key, leaf_of)
        w = tree_weights(state, key)
        y = state["t"][rows].astype(np.float64)
        wy = w[rows] * y
        out[key] = (
            np.bincount(leaves, weights=wy, minlength=n_nodes),
            np.bincount(leaves, weights=w[rows], minlength=n_nodes),
            np.bincount(leaves, weights=wy * y, minlength=n_nodes),  # for the impurities
        )
    return _grower.without_trees(state, set(specs)), out


# ---- the shared fit ----------------------------------------------------------------------------


class TreeFitMixin(DaskEstimatorMixin):
    """What the distributed trees and forests share: inputs, bins, the binned partitions."""

    _weighted_center = True

    def _grower_options(self, n):
        """The tree-growing parameters shared by trees and forests, checked, for n samples; and
        the criterion checked against the ones mlcore implements. The options the distributed
        grower lacks are refused unless at their defaults."""
        name = type(self).__name__
        if getattr(self, "splitter", "best") != "best":
            raise ValueError(f"{name}: splitter must be 'best', got {self.splitter!r}")
        if getattr(self, "monotonic_cst", None) is not None:
            raise ValueError(f"{name}: monotonic_cst is not supported by mlcore.dask (None only)")
        for option in ("min_weight_fraction_leaf", "ccp_alpha"):
            if getattr(self, option, 0.0) != 0.0:
                raise ValueError(
                    f"{name}: {option} is not supported by mlcore.dask's trees and forests "
                    f"(0.0 only), got {getattr(self, option)!r}; the single-machine "
                    "mlcore estimators take it"
                )
        criterion = self.criterion
        if self._classifier and criterion not in ("gini", "entropy", "log_loss"):
            raise ValueError(
                f"criterion must be 'gini', 'entropy' or 'log_loss', got {criterion!r}"
            )
        if not self._classifier and criterion not in ("squared_error", "friedman_mse"):
            raise ValueError(
                f"criterion must be 'squared_error' or 'friedman_mse' (others, such as "
                f"'absolute_error' and 'poisson', are not supported by mlcore), got {criterion!r}"
            )
        return dict(
            max_depth=check_int("max_depth", self.max_depth, 1, allow_none=True),
            min_samples_split=min_samples("min_samples_split", self.min_samples_split, n, 2),
            min_samples_leaf=min_samples("min_samples_leaf", self.min_samples_leaf, n, 1),
            max_features=check_max_features(self.max_features),
            min_impurity_decrease=check_real(
                "min_impurity_decrease", self.min_impurity_decrease, 0.0, allow_inf=True
            ),
            # best-first growth (_grower.py), as the single machine's; -1: depth-first
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2, allow_none=True)
            or -1,
        )

    def _binned_fit(
        self,
        X,
        y,
        sample_weight,
        bin_thresholds,
        *,
        classifier,
        whole_weights,
        max_bins,
        seed,
        hold_out=None,
    ):
        """Rounds 1–3. Returns (fit, state futures, classes or None, center or None,
        total weight, max |y − center|) — the last two over the training rows. hold_out:
        None, or hold_out(group_counts) → each partition's ``held_out`` argument of
        prepare_task (or None), from the rows per partition and group (partitions × groups)."""
        X, y = check_fit_inputs(self, X, y)
        arrays = [X, y]
        if sample_weight is not None:
            sw = as_rows(sample_weight, "sample_weight", type(self).__name__, ndim=(1,))
            arrays.append(align_rows(X, sw, "sample_weight"))
        n, d = X.shape
        if n > MAX_TOTAL_WEIGHT:
            raise ValueError(
                f"{type(self).__name__}: at most 2^24 − 1 samples are supported, got {n}"
            )
        if bin_thresholds is not None:
            bin_thresholds = [np.asarray(t, np.float64).reshape(-1) for t in bin_thresholds]
            if len(bin_thresholds) != d:
                raise ValueError(
                    f"bin_thresholds has {len(bin_thresholds)} features' "
                    f"thresholds, X has {d} features"
                )
            _core.bin_codes(bin_thresholds, np.zeros((0, d), np.float32))  # checks them here
        fit = self._fit_context(arrays, rows_xyw)
        survey = fit.round("labels / target sums, checks", survey_task, classifier)
        classes = cw = center = None
        if classifier:
            classes = np.unique(np.concatenate([s[0] for s in survey]))
            counts = np.zeros(len(classes))
            group_counts = np.zeros((len(survey), len(classes)), np.int64)
            for p, (labels, c, plain) in enumerate(survey):
                counts[np.searchsorted(classes, labels)] += c
                group_counts[p, np.searchsorted(classes, labels)] = plain
            self.classes_, self.n_classes_ = classes, len(classes)
            if getattr(self, "class_weight", None) is not None:
                cw = class_weight_vector(self.class_weight, classes, counts)
        else:
            wy, wsum = sum(s[0] for s in survey), sum(s[1] for s in survey)
            if wsum <= 0:
                raise ValueError(f"{type(self).__name__}: sample_weight is 0 for every sample")
            # A tree centres y on its weighted mean, a forest on the plain mean (as in C++).
            center = (
                wy / wsum
                if self._weighted_center
                else sum(s[2] for s in survey) / sum(s[3] for s in survey)
            )
            group_counts = np.array([[s[3]] for s in survey], np.int64)
        held = None if hold_out is None else hold_out(group_counts)
        args = (classes, cw, center, whole_weights, bin_thresholds is None)
        out, state = fit.round(
            "targets, weights, quantile sketch",
            prepare_task,
            per_part=[args + (h,) for h in held] if held is not None else [args] * fit.n_partitions,
            keep=True,
        )
        total = sum(o[1] for o in out)
        if total <= 0:
            raise ValueError(f"{type(self).__name__}: sample_weight is 0 for every sample")
        if whole_weights and total > MAX_TOTAL_WEIGHT:
            raise ValueError(
                f"{type(self).__name__}: sample_weight sums to {total}; the exact "
                f"histogram counts hold at most {MAX_TOTAL_WEIGHT:.0f}"
            )
        if bin_thresholds is None:
            merged = _sketch.merge_sketches([o[0] for o in out])
            bin_thresholds = _sketch.thresholds_from_sketch(merged, max_bins, seed)
        self.bin_thresholds_ = [np.asarray(t, np.float64) for t in bin_thresholds]
        _, state = fit.round(
            "bin the partitions", bin_task, self.bin_thresholds_, parts=state, keep=True
        )
        return fit, state, classes, center, total, max(o[2] for o in out)

    def _splitter(
        self,
        criterion,
        n_stats,
        *,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        max_features,
        min_impurity_decrease,
        seed,
        require_positive_gain=False,
        max_leaf_nodes=-1,
        l2_regularization=0.0,
        constant_hessian=False,
    ):
        sp = _core.TreeSplitter(
            self.bin_thresholds_,
            criterion,
            n_stats,
            -1 if max_depth is None else max_depth,
            min_samples_split,
            min_samples_leaf,
            max_leaf_nodes,
            max_features,
            min_impurity_decrease,
            require_positive_gain,
            l2_regularization,
            constant_hessian,
            seed,
        )
        params = {
            "max_depth": -1 if max_depth is None else max_depth,
            "min_samples_split": min_samples_split,
            "min_samples_leaf": min_samples_leaf,
            "max_leaf_nodes": max_leaf_nodes,
        }
        return sp, params


def tree_values_classifier(tree, n_classes):
    """Class fractions from the exact class counts (decision_tree.cpp)."""
    return np.array(
        [node.stats / tree.splitter.node_weight(node.stats) for _, node in tree.nodes]
    ).reshape(len(tree.nodes), n_classes)


def tree_values_regressor(tree, sums, center, scale):
    """Leaves: the exact weighted mean (Σ w·y / Σ w, summed per partition then across);
    inner nodes: center + Σ q / (count · S) from the quantized sums (decision_tree.cpp)."""
    wy, w = sums
    values = np.empty(len(tree.nodes))
    for h, node in tree.nodes:
        if h in tree.split_nodes:
            values[node.id] = center + node.stats[1] / (node.stats[0] * scale)
        else:
            values[node.id] = wy[node.id] / w[node.id]
    return values


class _DaskTree(TreeFitMixin):
    _classifier = False

    def fit(self, X, y, sample_weight=None, bin_thresholds=None):
        """Grow the tree on a dask X (n_samples, n_features; NaN = missing) and y.

        bin_thresholds: None (a quantile sketch of the partitions), or each feature's bin
        thresholds — ``mlcore.dask.single_machine_thresholds(X_numpy, max_bins, random_state)``
        gives the single-machine fit's, and then the tree is the single-machine tree."""
        n = as_rows(X, "X", type(self).__name__).shape[0]
        max_bins = check_int("max_bins", self.max_bins, 2)
        seed = seed_of(self.random_state)
        opts = self._grower_options(n)
        criterion = self.criterion
        fit, state, classes, center, total, max_abs = self._binned_fit(
            X,
            y,
            sample_weight,
            bin_thresholds,
            classifier=self._classifier,
            whole_weights=True,
            max_bins=max_bins,
            seed=seed,
        )
        if self._classifier:
            K = len(classes)
            sp, params = self._splitter(
                "entropy" if criterion == "log_loss" else criterion, K, seed=seed, **opts
            )
            spec = (class_values, (0, K))
        else:
            scale, q_max = _core.packed_codec(max_abs, total, True)
            sp, params = self._splitter(
                "squared_error", 2, seed=seed, require_positive_gain=True, **opts
            )
            sp.set_scales(scale, 1.0)
            spec = (regression_values, (0, center, scale, q_max))
        tree = _grower.GrowingTree(0, sp, self.bin_thresholds_, params)
        state = _grower.grow_trees(
            fit, state, [tree], (_grower.tree_init_task, [({0: spec},)] * len(state))
        )
        nodes = tree.finish()
        if self._classifier:
            values, n_outputs = tree_values_classifier(tree, K), K
            impurity = write.class_impurity(values, criterion in ("entropy", "log_loss"))
        else:
            sums, state = fit.round(
                "leaf sums",
                leaf_sums_task,
                {0: (tree.leaf_of, len(tree.nodes))},
                parts=state,
                keep=True,
            )
            values = tree_values_regressor(
                tree, (sum(s[0][0] for s in sums), sum(s[0][1] for s in sums)), center, scale
            )
            impurity = write.regression_impurity(
                nodes, *(sum(s[0][j] for s in sums) for j in (1, 0, 2))
            )
            n_outputs = 1
        w = write.ModelWriter(type(self).__name__, 4)  # decision_tree.cpp's kModelVersion
        write.write_tree_options(
            w, criterion=criterion, max_bins=max_bins, random_state=seed, **opts
        )
        if self._classifier:
            w.write_f64s([float(c) for c in range(K)])
        w.write_i64(self.n_features_in_)
        w.write_f64s(tree.importances.tolist())
        write.write_tree(w, nodes, values, n_outputs)
        w.write_f64s(impurity)  # Tree::visit_impurity
        for f in state:
            f.release()
        self._finish_fit(fit, w.finish())
        self._set_fitted_attributes(self.n_features_in_)
        return self

    def apply(self, X):
        return self._map_rows("apply", X, None, np.intp)


class DecisionTreeClassifier(_DaskTree, _local.DecisionTreeClassifier):
    """mlcore.DecisionTreeClassifier grown on a dask cluster (same parameters, plus
    ``client``). Given the same bins (``fit(..., bin_thresholds=...)``) it is the single-machine
    tree exactly: same splits, thresholds, counts and leaf class fractions. With the sketched
    bins it equals the single-machine tree whenever the bins do (see ``_sketch.py``).
    ``bin_thresholds_``: the thresholds the fit used, per feature."""

    _local_class = _local.DecisionTreeClassifier
    _classifier = True
    __init__ = init_with_client(_local.DecisionTreeClassifier)

    def predict_proba(self, X):
        return self._map_rows("predict_proba", X, len(self.classes_))

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)


class DecisionTreeRegressor(_DaskTree, _local.DecisionTreeRegressor):
    """mlcore.DecisionTreeRegressor grown on a dask cluster (same parameters, plus
    ``client``). Given the same bins, the same tree (structure, thresholds, counts exactly);
    the leaf means are summed per partition first, so they agree to ~1e-15 relative."""

    _local_class = _local.DecisionTreeRegressor
    __init__ = init_with_client(_local.DecisionTreeRegressor)

    def predict(self, X):
        return self._map_rows("predict", X, None)
