"""Fitted single-machine models written from parameters a distributed fit computed.

Each function writes the fitted fields of one C++ model in the order its ``save`` writes them
(the C++ function is named beside each one), through the C++ ``ModelWriter``; the model's
``load_bytes`` then reads them back with every check a saved file gets (model version, shapes,
checksum), so a layout that drifted from the C++ one fails loudly, never silently. The tests
compare every distributed fit with the single-machine fit, which covers each layout.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core


ModelWriter = _core.ModelWriter  # the family modules write their models through this module


def f32_row(values):
    """A (1, n) float32 C-contiguous array."""
    return np.ascontiguousarray(
        np.asarray(values, dtype=np.float64).reshape(1, -1), dtype=np.float32
    )


def f32(values):
    return np.ascontiguousarray(values, dtype=np.float32)


def input_transform(mean, var, centred):
    """(raw, shift, scale) by the C++ fit's own rule (src/algorithms/common/columns.hpp)."""
    return _core.choose_input_transform(f32_row(mean), f32_row(var), bool(centred))


def write_input_transform(w, transform):
    # src/algorithms/common/columns.cpp write_input_transform
    raw, shift, scale = transform
    w.write_u8(1 if raw else 0)
    if not raw:
        w.write_tensor(shift)
        w.write_tensor(scale)


def least_squares_bytes(kind, *, alpha, fit_intercept, coef, intercept, transform, rank, singular):
    """LinearRegression::save / Ridge::save (src/algorithms/linear/linear_regression.cpp)."""
    w = ModelWriter(kind, 1)
    if kind == "Ridge":
        w.write_f64(float(alpha))
    w.write_u8(1 if fit_intercept else 0)
    w.write_u8(1)  # fitted
    w.write_tensor(f32(np.atleast_2d(coef)))  # t × d
    w.write_tensor(f32_row(intercept))  # 1 × t
    write_input_transform(w, transform)
    w.write_i64(int(rank))
    w.write_tensor(f32_row(singular))  # 1 × d
    return w.finish()


def logistic_regression_bytes(
    *,
    C,
    tol,
    max_iter,
    fit_intercept,
    class_weight,
    lbfgs_memory,
    classes,
    coef,
    intercept,
    transform,
    n_iter,
    converged,
    message,
):
    """LogisticRegression::save (src/algorithms/linear/logistic_regression.cpp). class_weight: the
    {code: weight} map the C++ options hold (balanced weights already resolved)."""
    w = ModelWriter("LogisticRegression", 2)
    w.write_f64(float(C))
    w.write_f64(float(tol))
    w.write_i64(int(max_iter))
    w.write_u8(1 if fit_intercept else 0)
    w.write_u8(0)  # class_weight_balanced: resolved into the map
    flat = []
    for code, weight in sorted(class_weight.items()):
        flat += [float(code), float(weight)]
    w.write_f64s(flat)
    w.write_i64(int(lbfgs_memory))
    w.write_f64(0.0)  # l1_ratio: the distributed fit is L2 only
    w.write_u8(0)  # penalize_intercept (liblinear's formulation): no
    w.write_f64(1.0)  # intercept_scaling
    w.write_u8(1)  # fitted
    w.write_f64s([float(c) for c in classes])
    w.write_tensor(f32(coef))  # Kp × d
    w.write_tensor(f32_row(intercept))  # 1 × Kp
    write_input_transform(w, transform)
    w.write_i64(int(n_iter))
    w.write_u8(1 if converged else 0)
    w.write_string(str(message))
    return w.finish()


def write_tree(w, nodes, values, n_outputs):
    """Tree::save (src/algorithms/trees/tree_model.cpp). nodes: the arrays of
    GrowingTree.finish(); values: n_nodes × n_outputs."""
    w.write_i64(int(n_outputs))
    for key in ("left", "right", "feature", "depth", "n_samples", "missing_left"):
        w.write_i64s([int(v) for v in nodes[key]])
    for key in ("threshold", "weighted", "gain"):
        w.write_f64s([float(v) for v in nodes[key]])
    w.write_f64s([float(v) for v in np.asarray(values, np.float64).reshape(-1)])


def class_impurity(values, entropy):
    """Tree::impurity of a classification tree from its class fractions (n_nodes × K), as
    tree_impurity.cpp computes it: the same operations in the same order, so the same bits."""
    out = []
    for p in np.asarray(values, np.float64):
        acc = 0.0 if entropy else 1.0
        for v in p.tolist():
            if entropy:
                if v > 0:
                    acc -= v * math.log2(v)
            else:
                acc -= v * v
        out.append(max(acc, 0.0))
    return out


def regression_impurity(nodes, sw, s1, s2):
    """Tree::impurity of a regression tree: the weighted variance of y per node from each
    leaf's Σ w, Σ w·y, Σ w·y² (added per partition), inner nodes summing their children's. (The
    single machine sums about the root's mean in sample order: equal to rounding.)"""
    left, right = np.asarray(nodes["left"]), np.asarray(nodes["right"])
    sw, s1, s2 = (np.array(a, np.float64) for a in (sw, s1, s2))
    for k in range(len(left) - 1, -1, -1):  # children come after their parent
        if left[k] >= 0:
            for a in (sw, s1, s2):
                a[k] = a[left[k]] + a[right[k]]
    mean = s1 / sw
    return np.maximum(s2 / sw - mean * mean, 0.0).tolist()


def write_tree_options(
    w,
    *,
    criterion,
    max_depth,
    min_samples_split,
    min_samples_leaf,
    max_features,
    min_impurity_decrease,
    random_state,
    max_bins,
    max_leaf_nodes,
):
    """The options of DecisionTree*::save (src/algorithms/trees/decision_tree.cpp), model
    version 4 (kModelVersion there), and the fitted flag (1)."""
    w.write_string(criterion)
    w.write_i64(-1 if max_depth is None else int(max_depth))
    w.write_i64(int(min_samples_split))
    w.write_i64(int(min_samples_leaf))
    kind, value = _core.max_features_spec(max_features)  # write_max_features
    w.write_u8(int(kind))
    w.write_f64(float(value))
    w.write_f64(float(min_impurity_decrease))
    w.write_i64(int(random_state))
    w.write_i64(int(max_bins))
    w.write_i64(int(max_leaf_nodes))  # -1: None
    w.write_f64(0.0)  # ccp_alpha (version 4; mlcore.dask refuses others)
    w.write_u8(1)  # fitted
