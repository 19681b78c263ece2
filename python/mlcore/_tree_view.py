"""``tree_``: a fitted mlcore tree seen as scikit-learn's ``sklearn.tree._tree.Tree``.

The one place that turns the C++ tree's arrays (``model.tree_arrays()``, O(nodes)) into
scikit-learn's conventions, read by scikit-learn's tests and by user code written for it:

* node ids in scikit-learn's order: a depth-first tree (``max_leaf_nodes=None``) numbers its
  nodes in pre-order (node, left subtree, right subtree); a best-first tree in the order its
  nodes were made, which is mlcore's own. ``apply`` and ``decision_path`` of the estimator use
  the same ids;
* leaves: ``children_left == children_right == -1``, ``feature == threshold == -2``;
* ``value``: (node_count, 1, n_classes) class fractions (weighted), or (node_count, 1, 1) the
  mean target; ``impurity``: Gini, entropy in bits, or the weighted variance of y (NaN for a
  model loaded from a file written before mlcore kept it);
* ``threshold``: ``x <= threshold`` goes left, mlcore's bin edge (the midpoint between two
  training values, as scikit-learn's, when the feature has at most ``max_bins`` values);
  ``missing_go_to_left``: where NaN goes.

The arrays are read-only copies: editing them does not change the fitted model.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["TreeView", "TREE_LEAF", "TREE_UNDEFINED"]

TREE_LEAF = -1
TREE_UNDEFINED = -2


def _preorder(left, right):
    """Node ids in pre-order (node, left subtree, right subtree) from the root 0."""
    order = []
    stack = [0]
    while stack:
        k = stack.pop()
        order.append(k)
        if left[k] >= 0:
            stack.append(int(right[k]))
            stack.append(int(left[k]))
    return np.asarray(order, dtype=np.intp)


class TreeView:
    """A fitted tree's structure as scikit-learn's ``Tree`` exposes it (see the module)."""

    def __init__(self, arrays, model, n_features, n_classes, depth_first):
        left, right = arrays["left"], arrays["right"]
        n = len(left)
        # old → new ids: pre-order for a depth-first tree, mlcore's order otherwise
        order = _preorder(left, right) if depth_first else np.arange(n, dtype=np.intp)
        new_id = np.empty(n, dtype=np.intp)
        new_id[order] = np.arange(n, dtype=np.intp)
        self._new_id = new_id
        self._model = model
        leaf = left[order] < 0
        self.node_count = int(n)
        self.capacity = int(n)
        self.n_features = int(n_features)
        self.n_outputs = 1
        self.n_classes = np.asarray([n_classes if n_classes else 1], dtype=np.intp)
        self.max_n_classes = int(self.n_classes.max())
        self.children_left = np.where(leaf, TREE_LEAF, new_id[np.maximum(left[order], 0)])
        self.children_right = np.where(leaf, TREE_LEAF, new_id[np.maximum(right[order], 0)])
        self.feature = np.where(leaf, TREE_UNDEFINED, arrays["feature"][order]).astype(np.intp)
        self.threshold = np.where(leaf, float(TREE_UNDEFINED), arrays["threshold"][order])
        self.missing_go_to_left = np.where(leaf, 0, arrays["missing_left"][order]).astype(np.uint8)
        self.n_node_samples = arrays["n_samples"][order].astype(np.intp)
        self.weighted_n_node_samples = arrays["weighted_n_samples"][order].astype(np.float64)
        self.impurity = arrays["impurity"][order].astype(np.float64)
        values = arrays["values"][order]
        self.value = values.reshape(n, 1, values.shape[1]).astype(np.float64)
        self.max_depth = int(arrays["depth"].max())
        self.n_leaves = int(leaf.sum())
        self.children_left = self.children_left.astype(np.intp)
        self.children_right = self.children_right.astype(np.intp)
        for name in (
            "children_left",
            "children_right",
            "feature",
            "threshold",
            "missing_go_to_left",
            "n_node_samples",
            "weighted_n_node_samples",
            "impurity",
            "value",
            "n_classes",
        ):
            getattr(self, name).setflags(write=False)

    @staticmethod
    def _dense(X):
        if sp.issparse(X):
            X = X.toarray()
        return np.ascontiguousarray(X, dtype=np.float32)

    def apply(self, X):
        """The leaf (in this tree's ids) each row of X (float32) ends in."""
        leaves = np.asarray(self._model.apply(self._dense(X))).reshape(-1)
        return self._new_id[leaves].astype(np.intp)

    def predict(self, X):
        """The value of each row's leaf: (n_samples, 1, n_classes or 1)."""
        return self.value[self.apply(X)]

    def _paths(self):
        """Per node, the ids from the root to it (O(nodes × depth), built once)."""
        paths = getattr(self, "_path_cache", None)
        if paths is None:
            paths = [None] * self.node_count
            paths[0] = np.zeros(1, dtype=np.intp)
            for k in range(self.node_count):  # a parent's id is smaller than its children's
                for child in (self.children_left[k], self.children_right[k]):
                    if child >= 0:
                        paths[child] = np.append(paths[k], child)
            self._path_cache = paths
        return paths

    def decision_path_from_leaves(self, leaves):
        """CSR (n_samples, node_count): 1 where the row's path from the root passes."""
        paths = self._paths()
        lengths = np.fromiter((len(paths[k]) for k in leaves), dtype=np.intp, count=len(leaves))
        indptr = np.zeros(len(leaves) + 1, dtype=np.intp)
        np.cumsum(lengths, out=indptr[1:])
        indices = (
            np.concatenate([paths[k] for k in leaves])
            if len(leaves)
            else np.zeros(0, dtype=np.intp)
        )
        data = np.ones(len(indices), dtype=np.intp)
        return sp.csr_matrix((data, indices, indptr), shape=(len(leaves), self.node_count))

    def decision_path(self, X):
        """CSR indicator (n_samples, node_count) of the nodes each row of X passes through."""
        return self.decision_path_from_leaves(self.apply(X))

    def compute_feature_importances(self, normalize=True):
        """Per feature, Σ over its splits of the weighted impurity decrease
        (w·impurity − w_l·impurity_l − w_r·impurity_r) / w_root; normalized to sum 1."""
        out = np.zeros(self.n_features)
        inner = np.flatnonzero(self.children_left >= 0)
        w, imp = self.weighted_n_node_samples, self.impurity
        lc, rc = self.children_left[inner], self.children_right[inner]
        dec = w[inner] * imp[inner] - w[lc] * imp[lc] - w[rc] * imp[rc]
        np.add.at(out, self.feature[inner], dec)
        out /= w[0]
        if normalize and out.sum() > 0:
            out /= out.sum()
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_path_cache", None)
        state.pop("_model", None)  # the C++ model stays with its estimator; apply needs it
        return state
