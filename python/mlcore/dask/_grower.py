"""Histogram trees grown over row partitions: the workers build node histograms, the client
chooses the splits with the single-machine split finder.

What each side does (one tree; a forest grows several at once in the same rounds):

* every worker keeps its partition binned once (``bin_codes``: n × d one-byte codes under the
  fit's thresholds), the tree's per-sample statistics V (class weights, or [count, y] /
  [count, gradient, hessian] quantized into exact int64, PackedCodec), and for every current
  leaf of the tree the ids of its rows there (``rows[handle]``);
* a *round* sends the splits chosen since the last one — (node, feature, bin, missing side) —
  and the nodes whose histograms are wanted; each worker moves the rows of every split node to
  its two children (node assignment, on the worker: the rows never travel) and returns the
  children's row counts and the wanted histograms, one ``histogram`` primitive call per node on
  its own backend (total_bins × c numbers each);
* the client sums the histograms — exact integer sums, so the sum is the single-machine
  histogram bit for bit whatever the partitioning — derives the larger child of each split as
  parent − smaller child (the histogram-subtraction trick: only the smaller child is built), and
  chooses splits with ``TreeSplitter.best_split``: mlcore's C++ ``find_best_split`` with the
  grower's own rules (``node_may_split``, ``accept_split``), on the same histograms.

The order of the splits is the single-machine grower's (src/algorithms/trees/tree_grower.cpp,
``grow_tree``): ``_replay`` walks the tree as ``grow_tree`` does — depth-first (left subtree
first), or best-first (largest gain first) with max_leaf_nodes — numbering the nodes as it
creates them and calling the split finder in the same order, so that the generator that draws
each split's features (max_features) draws the same features. The rounds are batched ahead of
that walk:

* when the split finder draws nothing at random (max_features covers every feature) and the
  tree grows depth-first, a split depends on its node's histogram only, so every node's split
  is found as soon as its histogram arrives: one round per tree *level*;
* otherwise a round applies every split the walk has chosen but not yet sent (all current
  frontier nodes): depth-first with random features this is about one round per split node,
  best-first a few per tree.

Given the same bins, the trees are the single-machine trees: same nodes, features, thresholds,
missing-value sides, sample counts and split gains (the histograms being equal, every split
finder call sees the same numbers). Leaf values that the single machine sums in double over a
leaf's samples in id order (a regression leaf's mean, boosting's −G/(H + λ)) are summed per
partition and then across partitions here: equal to ~1e-15 relative, not bit for bit.
"""

from __future__ import annotations

import numpy as np

from .. import _core

COUNT_BITS = 24  # PackedCodec::kCountBits: the count rides in the low 24 bits
COUNT_MASK = (1 << COUNT_BITS) - 1
SPECULATION = 4  # best-first trees: nodes applied ahead of the walk, × max_leaf_nodes


# ---- worker side --------------------------------------------------------------------------------


def quantize(v, scale, q_max):
    """PackedCodec::quantize in numpy: clamp(round(clamp(v·S, ±2 q_max)), ±q_max) as int64
    (np.rint rounds half to even, as nearbyint does in the default rounding mode)."""
    q = np.rint(np.clip(np.asarray(v, np.float64) * scale, -2.0 * q_max, 2.0 * q_max))
    return np.clip(q, -q_max, q_max).astype(np.int64)


def binned_partition(X, thresholds):
    """A worker's partition binned under the fit's thresholds (kept for the whole fit)."""
    codes, offsets, missing = _core.bin_codes(thresholds, np.ascontiguousarray(X, np.float32))
    # Backend::histogram checks every code of a listed row against out's rows unless out has
    # room for any code after the last offset (as HistogramBuilder allocates it): 256 rows more.
    return {
        "codes": codes,
        "offsets": offsets,
        "missing": missing,
        "n_out": int(offsets[-1]) + 256,
        "total_bins": int(offsets[-1] + missing[-1] + 1),
    }


def with_tree(state, key, V, rows, extra=None):
    """A new state whose tree ``key`` has statistics V and its root holding ``rows``; ``extra``
    (optional): rows that follow the tree's splits to their leaves without entering its
    histograms (boosting's validation rows, a forest tree's out-of-bag rows)."""
    state = dict(state)
    state["trees"] = dict(state.get("trees", {}))
    tree = {"V": V, "rows": {0: np.asarray(rows, np.int32)}}
    if extra is not None:
        tree["extra"] = {0: np.asarray(extra, np.int32)}
    state["trees"][key] = tree
    return state


def without_trees(state, keys):
    state = dict(state)
    state["trees"] = {k: v for k, v in state.get("trees", {}).items() if k not in keys}
    state["boot"] = {k: v for k, v in state.get("boot", {}).items() if k not in keys}
    return state


def grow_task(rec, state, work):
    """One round on one partition. work: {tree key: (applies, builds)}, applies a list of
    (node, feature, bin, missing_left, left, right), builds a list of nodes. Returns the new
    state (the input is never modified: Dask may run a task twice after a worker is lost) and
    {key: (row counts of the new children, histograms of the built nodes)}."""
    codes, offsets, missing = state["codes"], state["offsets"], state["missing"]
    state = dict(state)
    state["trees"] = dict(state["trees"])
    out = {}
    for key, (applies, builds) in work.items():
        tree = dict(state["trees"][key])
        rows = dict(tree["rows"])
        extra = dict(tree["extra"]) if "extra" in tree else None
        counts = {}
        for node, f, b, missing_left, left, right in applies:
            for lists in (rows,) if extra is None else (rows, extra):
                ids = lists.pop(node)
                c = codes[ids, f]
                goes_left = np.where(c == missing[f], missing_left, c <= b)
                lists[left], lists[right] = ids[goes_left], ids[~goes_left]
            counts[left], counts[right] = len(rows[left]), len(rows[right])
        hists = [
            rec.histogram(codes, offsets, rows[node], tree["V"], state["n_out"])[
                : state["total_bins"]
            ]
            for node in builds
        ]
        tree["rows"] = rows
        if extra is not None:
            tree["extra"] = extra
        state["trees"][key] = tree
        out[key] = (counts, hists)
    return state, out


def leaf_rows(state, key, leaf_of, which="rows"):
    """(row ids, their final leaf ids) of tree ``key`` on this partition; leaf_of maps each
    current leaf handle on the workers to the id of the fitted tree's leaf it lies in.
    which: "rows" (the rows it grew on) or "extra" (the rows that only followed it)."""
    rows = state["trees"][key][which]
    ids = [rows[h] for h in leaf_of]
    leaves = [np.full(len(r), leaf, np.int32) for r, leaf in zip(ids, leaf_of.values())]
    if not ids:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(ids), np.concatenate(leaves)


# ---- client side --------------------------------------------------------------------------------


def sum_histograms(parts):
    """The partitions' histograms of one node summed exactly, as float64 statistics: class
    weights (float32 integers) as they are; int64 packed columns with column 0 split into
    [count, Σ q] (PackedCodec::unpack)."""
    if parts[0].dtype == np.int64:
        total = np.sum(np.stack(parts), axis=0, dtype=np.int64)
        count = total[:, :1] & COUNT_MASK
        value = (total[:, :1] - count) >> COUNT_BITS  # exact: a multiple of 2^24
        return np.hstack([count, value, total[:, 1:]]).astype(np.float64)
    return np.sum(np.stack(parts).astype(np.float64), axis=0)


class _Node:
    __slots__ = ("depth", "stats", "n", "hist", "split", "found", "children", "queued", "id")

    def __init__(self, depth, stats):
        self.depth, self.stats = depth, np.asarray(stats, np.float64)
        self.n = None  # distinct samples (known once its parent's split was applied)
        self.hist = None  # summed histogram, total_bins × n_stats float64
        self.split = None  # (feature, bin, missing_left, gain, left stats) or None
        self.found = False  # split looked for
        self.children = None  # (left, right) handles once the split is applied on the workers
        self.queued = False  # split waiting for the next round
        self.id = None  # the node's id in the fitted tree


class GrowingTree:
    """The client's view of one tree while it grows (see the module docstring).

    splitter: a TreeSplitter. After ``grow_trees``: ``nodes`` in the fitted tree's order as
    (handle, node) pairs, ``split_nodes`` (the handles the walk split; the others are the
    fitted tree's leaves), ``importances`` (per feature, criterion units) and, after
    ``finish``, ``leaf_of`` (current worker leaf handle → fitted leaf id)."""

    def __init__(self, key, splitter, thresholds, params):
        """params: max_depth (-1: none), min_samples_split, min_samples_leaf, max_leaf_nodes
        (-1: none) as the splitter has them."""
        random_features = splitter.random_features
        self.key, self.splitter, self.d = key, splitter, len(thresholds)
        self.feature0_rows = len(thresholds[0]) + 2  # BinMapper rows of feature 0
        self._params = params
        self.best_first = params["max_leaf_nodes"] > 0
        self.random_features = random_features
        self.eager = not self.best_first and not random_features
        self.split_nodes = set()
        self.table = {}
        self.next_handle = 1
        self.queue = []
        self.nodes = []
        self.importances = np.zeros(self.d)
        self.leaf_of = {}

    # what the replay and the rounds share

    def split_of(self, h):
        node = self.table[h]
        if not node.found:
            node.split = self.splitter.best_split(node.hist, node.stats)
            node.found = True
        return node.split

    def queue_split(self, h):
        node = self.table[h]
        if node.split is not None and node.children is None and not node.queued:
            node.queued = True
            self.queue.append(h)

    def might_split(self, node):
        """A bound on may_split before the node's row count is known (its weight is at least
        its count: rows of weight 0 are in no node)."""
        w = self.splitter.node_weight(node.stats)
        p = self._params
        return (
            (p["max_depth"] < 0 or node.depth < p["max_depth"])
            and w >= p["min_samples_split"]
            and w >= 2 * p["min_samples_leaf"]
            and not self.splitter.node_pure(node.stats)
        )

    def may_split(self, node):
        return self.splitter.may_split(node.depth, node.n, node.stats)

    def work(self):
        """The splits to apply in the next round and the histograms to build: the smaller
        child of each split, when either child might still split (the larger is derived)."""
        applies, builds, derive = [], [], []
        for h in self.queue:
            node = self.table[h]
            f, b, missing_left, _, left_stats = node.split
            left, right = self.next_handle, self.next_handle + 1
            self.next_handle += 2
            self.table[left] = _Node(node.depth + 1, left_stats)
            self.table[right] = _Node(node.depth + 1, node.stats - left_stats)
            node.children = (left, right)
            node.queued = False
            applies.append((h, int(f), int(b), bool(missing_left), left, right))
            L, R = self.table[left], self.table[right]
            if self.might_split(L) or self.might_split(R):
                wl, wr = self.splitter.node_weight(L.stats), self.splitter.node_weight(R.stats)
                small, large = (left, right) if wl <= wr else (right, left)
                builds.append(small)
                derive.append((h, small, large))
            else:
                node.hist = None
        self.queue = []
        return applies, builds, derive

    def take(self, counts, builds, hists, derive):
        for h, n in counts.items():
            self.table[h].n = n
        for h, hist in zip(builds, hists):
            self.table[h].hist = hist
        for parent, small, large in derive:
            P = self.table[parent]
            self.table[large].hist = P.hist - self.table[small].hist
            P.hist = None
        # Splits that depend on histograms only are found as soon as the histograms arrive
        # and applied in the next round: depth-first, one round a level; best-first, the same
        # speculation, bounded (at most SPECULATION × max_leaf_nodes nodes per tree) since the
        # walk may never take the speculative branches. Its rounds fall from ~2 to ~1 per level.
        speculate = self.eager or (
            self.best_first
            and not self.random_features
            and len(self.table) < SPECULATION * self._params["max_leaf_nodes"]
        )
        if speculate:
            for _, small, large in derive:
                for h in (small, large):
                    node = self.table[h]
                    if self.may_split(node):
                        self.split_of(h)
                        self.queue_split(h)
                    else:
                        node.hist = None

    def replay(self):
        """grow_tree's walk (tree_grower.cpp): yields whenever it needs a round."""
        sp = self.splitter
        root = self.table[0]
        root.stats = root.hist[: self.feature0_rows].sum(axis=0)
        sp.set_root_weight(sp.node_weight(root.stats))
        sp.set_missing_from_root(root.hist)
        unit = sp.gain_unit()
        root.id = 0
        self.nodes = [(0, root)]
        frontier = []
        if self.may_split(root) and self.split_of(0) is not None:
            frontier.append(0)
            self.queue_split(0)
        n_leaves = 1
        while frontier:
            if self.best_first and n_leaves >= self._params["max_leaf_nodes"]:
                break
            pick = len(frontier) - 1
            if self.best_first:  # the largest gain; the lower node id on a tie
                for j, h in enumerate(frontier):
                    g, best = self.table[h].split[3], self.table[frontier[pick]].split[3]
                    if g > best or (g == best and self.table[h].id < self.table[frontier[pick]].id):
                        pick = j
            h = frontier.pop(pick)
            self.split_nodes.add(h)
            node = self.table[h]
            f, _, _, gain, _ = node.split
            self.importances[f] += gain * unit
            n_leaves += 1
            self.queue_split(h)
            while node.children is None or self.table[node.children[0]].n is None:
                yield
            for child in node.children:
                self.table[child].id = len(self.nodes)
                self.nodes.append((child, self.table[child]))
            for child in reversed(node.children):  # right first, as grow_tree
                c = self.table[child]
                if self.may_split(c) and self.split_of(child) is not None:
                    frontier.append(child)
                    self.queue_split(child)  # applied speculatively in the next round
                else:
                    c.hist = None

    def finish(self):
        """The fitted tree's node arrays (values left to the caller) and leaf_of."""
        sp = self.splitter
        unit = sp.gain_unit()
        out = {
            k: []
            for k in (
                "left",
                "right",
                "feature",
                "depth",
                "n_samples",
                "missing_left",
                "threshold",
                "weighted",
                "gain",
            )
        }
        for h, node in self.nodes:
            split = h in self.split_nodes
            if split:
                f, b, missing_left, gain, _ = node.split
                left, right = (self.table[c].id for c in node.children)
                out["threshold"].append(sp.threshold(int(f), int(b)))
            else:
                f, missing_left, gain, left, right = -1, False, 0.0, -1, -1
                out["threshold"].append(0.0)
            out["left"].append(left)
            out["right"].append(right)
            out["feature"].append(int(f))
            out["depth"].append(node.depth)
            out["n_samples"].append(int(node.n))
            out["missing_left"].append(int(bool(missing_left)))
            out["weighted"].append(sp.node_weight(node.stats))
            out["gain"].append(gain * unit)
            if not split:  # a leaf: the worker handles of its rows
                stack = [h]
                while stack:
                    k = stack.pop()
                    kids = self.table[k].children
                    if kids is None:
                        self.leaf_of[k] = node.id
                    else:
                        stack.extend(kids)
        return out


def grow_trees(fit, state, trees, init, name="tree"):
    """Grows ``trees`` (GrowingTree) together on the partitions ``state`` (futures of worker
    states). ``init``: (task, per_part args) — a round that gives each partition's state its
    trees' statistics and root rows and returns {key: (root count, root histogram)}. Returns
    the new state futures; each tree's ``nodes`` are then in the fitted order."""
    task, per_part = init
    partials, state = fit.round(
        f"{name}: statistics and root histogram", task, parts=state, per_part=per_part, keep=True
    )
    for t in trees:
        root = _Node(0, np.zeros(0))
        root.n = int(sum(p[t.key][0] for p in partials))
        root.hist = sum_histograms([p[t.key][1] for p in partials])
        t.table[0] = root
    waiting = {t.key: t.replay() for t in trees}
    level = 0
    while waiting:
        for key in list(waiting):
            try:
                next(waiting[key])
            except StopIteration:
                del waiting[key]
        work, derive = {}, {}
        for t in trees:
            if t.key not in waiting:  # grown: splits it queued but never took stay unsent
                continue
            applies, builds, d = t.work()
            if applies or builds:
                work[t.key], derive[t.key] = (applies, builds), d
        if not work:
            if waiting:
                raise AssertionError(
                    "distributed tree: the walk waits for a round with nothing to send"
                )
            break
        level += 1
        partials, state = fit.round(
            f"{name}: split, node histograms ({level})", grow_task, work, parts=state, keep=True
        )
        for t in trees:
            if t.key not in work:
                continue
            applies, builds = work[t.key]
            counts = {}
            for p in partials:
                for h, n in p[t.key][0].items():
                    counts[h] = counts.get(h, 0) + n
            hists = [sum_histograms([p[t.key][1][i] for p in partials]) for i in range(len(builds))]
            t.take(counts, builds, hists, derive[t.key])
    return state


def tree_init_task(rec, state, specs):
    """The init round of ``grow_trees``: specs {key: (fn, args)}, fn(state, *args) → (V, rows)
    or (V, rows, extra): the tree's statistics, the rows it grows on (weight > 0) and the rows
    that only follow it (``with_tree``); builds each root histogram."""
    out = {}
    for key, (fn, args) in specs.items():
        state = with_tree(state, key, *fn(state, *args))
        V, rows = state["trees"][key]["V"], state["trees"][key]["rows"][0]
        hist = rec.histogram(state["codes"], state["offsets"], rows, V, state["n_out"])[
            : state["total_bins"]
        ]
        out[key] = (len(rows), hist)
    return state, out
