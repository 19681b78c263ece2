"""Bin thresholds for the distributed trees from a quantile sketch of each partition.

A histogram tree bins every feature once (``BinMapper``, include/mlcore/algorithms/binning.hpp):
each feature gets up to max_bins − 1 thresholds, the midpoints between consecutive distinct
values when it has at most max_bins of them, else midpoints near its j/max_bins quantiles. On
one machine they are learned from the sorted column (of a 200 000-row subsample when there are
more rows). Here no machine sees the whole column:

1. each worker summarises each feature of its partition (``partition_sketch``): its distinct
   values with their counts when it has at most ``SKETCH_POINTS`` of them — exact — else
   ``SKETCH_POINTS`` + 1 equally spaced order statistics, each standing for the rows of its rank
   interval (a rank error below 1/SKETCH_POINTS of the partition);
2. the client merges the summaries (``merge_sketches``): one sorted list of (value, weight);
3. the merged list is expanded back into a column of at most 200 000 values, each value repeated
   in proportion to its weight (at least once, so no distinct value is lost), and the
   single-machine ``BinMapper::fit`` learns the thresholds from it (``thresholds_from_sketch``).
   The thresholds are therefore chosen by the single-machine rule itself.

How the result relates to one machine's bins (tests/python/test_dask_tree.py checks each):
* a feature with at most max_bins distinct values gets exactly the single-machine thresholds
  (every distinct value survives steps 1–3, and the thresholds are their midpoints);
* with at most 200 000 rows, when no partition has more than SKETCH_POINTS distinct values of a
  feature, the expanded column is the feature's sorted column itself: the same thresholds;
* otherwise the thresholds are quantiles within a rank error of about 1/SKETCH_POINTS of the
  rows (an eighth of a bin at max_bins = 255), as the single machine's own are quantiles of a
  random subsample. Trees are then close to, not equal to, one machine's; "given the same bins,
  the same trees": pass the single-machine bins (``single_machine_thresholds``) as
  ``bin_thresholds=`` and the distributed tree is the single-machine tree.

What travels: per partition and feature at most SKETCH_POINTS + 1 (value, count) pairs.
"""

from __future__ import annotations

import numpy as np

from .. import _core

SKETCH_POINTS = 2048  # summary points per feature and partition (rank error ≤ 1/2048)
EXPANDED_ROWS = 200000  # BinMapper::fit's own subsample size: the column it learns from


def partition_sketch(X, w=None):
    """Per feature of X (m, d) float32: (values ascending float32, counts float64), the
    non-missing values of the rows with w > 0 (all rows when w is None)."""
    if w is not None:
        X = X[w > 0]
    out = []
    for f in range(X.shape[1]):
        v = X[:, f]
        v = np.sort(v[~np.isnan(v)])
        values, first = np.unique(v, return_index=True)
        if len(values) <= SKETCH_POINTS:
            counts = np.diff(np.append(first, len(v))).astype(np.float64)
            out.append((values, counts))
            continue
        # Order statistics at ranks ⌊i·m/S⌋; each stands for the rows up to the next one.
        ranks = (np.arange(SKETCH_POINTS + 1) * len(v)) // SKETCH_POINTS
        ranks[-1] = len(v) - 1  # the maximum, standing for itself
        counts = np.diff(np.append(ranks, len(v))).astype(np.float64)
        out.append((v[ranks], counts))
    return out


def merge_sketches(sketches):
    """The partitions' summaries of each feature as one: (values ascending, weights)."""
    merged = []
    for f in range(len(sketches[0])):
        values = np.concatenate([s[f][0] for s in sketches]).astype(np.float32)
        counts = np.concatenate([s[f][1] for s in sketches])
        uniq, inverse = np.unique(values, return_inverse=True)
        merged.append((uniq, np.bincount(inverse, weights=counts, minlength=len(uniq))))
    return merged


def thresholds_from_sketch(merged, max_bins, seed):
    """Thresholds per feature from the merged summaries, learned by BinMapper::fit on the
    expanded column (see the module docstring)."""
    columns = []
    for values, weights in merged:
        total = float(weights.sum())
        scale = min(1.0, EXPANDED_ROWS / total) if total > 0 else 1.0
        copies = np.maximum(1, np.rint(weights * scale)).astype(np.int64)
        columns.append(np.repeat(values, copies))
    rows = max(1, max(len(c) for c in columns))
    X = np.full((rows, len(columns)), np.nan, dtype=np.float32)  # NaN: "missing", ignored
    for f, c in enumerate(columns):
        X[: len(c), f] = c
    return _core.bin_thresholds(X, int(max_bins), int(seed), rows)


def single_machine_thresholds(X, max_bins=255, random_state=0, sample_weight=None):
    """The thresholds the single-machine tree fit learns from X (n, d) (numpy): what
    ``bin_thresholds=`` takes to make a distributed fit grow the single-machine trees. As the
    C++ fit (tree_common.cpp bin_training_set), rows of weight 0 place no threshold."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if sample_weight is not None:
        X = np.ascontiguousarray(X[np.asarray(sample_weight) > 0])
    return _core.bin_thresholds(X, int(max_bins), int(random_state), 200000)
