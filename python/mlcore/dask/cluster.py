"""Distributed KMeans: k-means++ seeding and Lloyd iterations over partitions on the workers.

The single-machine fit (src/algorithms/cluster/kmeans.cpp), with every pass over the samples split by
rows:

* column means and variances: one reduction (the centring offset, and ``tol`` relative to the
  mean feature variance);
* X̃ = [X − mean | 1] (and [w·(X − mean) | w] with sample weights) built once per partition and
  kept on its worker;
* k-means++ (scikit-learn's greedy variant): per centre, a client-side draw of 2 + ⌊log k⌋
  candidates ∝ D² (the partitions' potentials say which partition each falls in, and one
  round brings those rows), one round scoring every candidate on every partition (``sqdist``),
  and one round in which each partition updates its nearest-centre distances to the best;
* each Lloyd iteration: broadcast the k × (d+1) centres; each partition runs ``sqdist`` +
  ``argmin_rows`` + ``scatter_add`` and returns its k × (d+1) sums and counts, its inertia and a
  hash of its labels (for the single-machine stopping rule "labels unchanged"); the client
  sums them and divides. An empty cluster takes the farthest sample, as on one machine: one more
  round returns each partition's farthest samples, the client takes the global ones.

Given the same initial centres, the iterations, centres and labels are those of one machine
(the per-cluster sums are added in another order, so centres agree to f32 rounding).
"""

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.utils import check_random_state

from .. import cluster as _local
from .._validation import check_choice, check_int, check_real
from . import _local as write
from ._base import DaskEstimatorMixin, align_rows, as_rows, check_fit_inputs, init_with_client
from ._moments import combine_moments

__all__ = ["KMeans"]


def _rows_and_weights(xb, wb=None):
    w = None if wb is None else np.ascontiguousarray(wb, dtype=np.float32).reshape(-1)
    return np.ascontiguousarray(xb, dtype=np.float32), w


def _column_moments_task(rec, part):
    X, w = part
    if w is not None and np.any(w < 0):
        raise ValueError("sample_weight must be non-negative")
    mean = rec.reduce_cols(X, "mean").astype(np.float64)
    m2 = rec.reduce_cols(X, "var").astype(np.float64) * X.shape[0]
    return float(X.shape[0]), mean, m2


def _augment_task(rec, part, mean):
    """Kept on the worker: Xa = [X − mean | 1], Xs = [w·(X − mean) | w] (Xa if unweighted), w,
    and the distance of every sample to its nearest centre so far (for k-means++)."""
    X, w = part
    n = X.shape[0]
    Xa = np.empty((n, X.shape[1] + 1), np.float32)
    Xa[:, :-1] = rec.add_row_vector(X, mean, alpha=-1.0)
    Xa[:, -1] = 1.0
    Xs = Xa if w is None else rec.scale_rows(Xa, w)
    return (Xa, Xs, w, None), float(n if w is None else np.sum(w, dtype=np.float64))


def _augment_centres(C):
    return np.hstack([C, np.ones((C.shape[0], 1))]).astype(np.float32)


def _weighted(rec, w, values):
    """w ⊙ values as an (n, 1) column (values itself when unweighted)."""
    values = values.reshape(-1, 1)
    return values if w is None else rec.multiply(w.reshape(-1, 1), values)


def _potential_task(rec, state, first_row):
    """k-means++, first centre: distances to it; returns the partition's potential Σ w·D²."""
    Xa, Xs, w, _ = state
    closest = rec.sqdist(Xa, first_row.reshape(1, -1)).reshape(-1)
    return (Xa, Xs, w, closest), float(np.sum(_weighted(rec, w, closest), dtype=np.float64))


def _draw_rows_task(rec, state, targets):
    """For each target t in [0, potential), the row Xa[i] with prefix(w·D²)[i] ≥ t (numpy's
    searchsorted on the cumulative sum, as the single-machine draw)."""
    Xa, _, w, closest = state
    prefix = np.cumsum(_weighted(rec, w, closest).reshape(-1).astype(np.float64))
    return Xa[np.minimum(np.searchsorted(prefix, targets), len(prefix) - 1)]


def _candidate_potentials_task(rec, state, candidates):
    """Σ w·min(closest, D²(x, c)) for every candidate c (one sqdist on the backend)."""
    Xa, Xs, w, closest = state
    D = rec.sqdist(candidates, Xa)  # trials × n
    D = np.minimum(D, closest[None, :])
    return (Xa, Xs, w, closest), np.array(
        [np.sum(_weighted(rec, w, row), dtype=np.float64) for row in D]
    )


def _update_closest_task(rec, state, centre):
    """A new centre: nearest-centre distances updated in place; returns the new potential."""
    Xa, Xs, w, closest = state
    closest = np.minimum(closest, rec.sqdist(Xa, centre.reshape(1, -1)).reshape(-1))
    return (Xa, Xs, w, closest), float(np.sum(_weighted(rec, w, closest), dtype=np.float64))


def _lloyd_task(rec, state, Ca):
    """One E-step and the partition's M-step sums: labels = argmin ‖x̃ − c̃‖², S = scatter_add
    of [w·x | w] by label (k × (d+1)), inertia Σ w·min D², and a hash of the labels."""
    Xa, Xs, w, _ = state
    labels, mind = rec.argmin_rows(rec.sqdist(Xa, Ca))
    S = rec.scatter_add(labels, Xs, Ca.shape[0]).astype(np.float64)
    inertia = float(np.sum(_weighted(rec, w, mind.reshape(-1, 1)), dtype=np.float64))
    digest = hashlib.blake2b(labels.tobytes(), digest_size=16).digest()
    return S, inertia, digest


def _farthest_task(rec, state, Ca, e):
    """This partition's e samples farthest from their centres: (distances, rows of Xs,
    their current labels) — the candidates for re-seeding empty clusters."""
    Xa, Xs, w, _ = state
    labels, mind = rec.argmin_rows(rec.sqdist(Xa, Ca))
    e = min(e, len(mind))
    index, value = rec.topk_rows(-mind.reshape(1, -1), e)
    index = index.reshape(-1)
    return -value.reshape(-1).astype(np.float64), Xs[index].astype(np.float64), labels[index]


class KMeans(DaskEstimatorMixin, _local.KMeans):
    """mlcore.KMeans fitted on a dask cluster (Lloyd's algorithm with per-partition sums).

    Same parameters as :class:`mlcore.KMeans`, plus ``client``. ``init`` may be 'k-means++'
    (scikit-learn's greedy variant, one round per candidate batch), 'random' or an array.
    ``labels_`` is a lazy dask array over the training rows (computed on the workers when
    asked); ``to_local()`` computes it for the single-machine estimator.
    """

    _local_class = _local.KMeans
    __init__ = init_with_client(_local.KMeans)

    def fit(self, X, y=None, sample_weight=None):
        """Cluster a dask X (n_samples, n_features); ``sample_weight``: optional dask vector."""
        X_in = X
        X, _ = check_fit_inputs(self, X)
        n, d = X.shape
        k = check_int("n_clusters", self.n_clusters, 1)
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        max_iter = check_int("max_iter", self.max_iter, 1)
        tol = check_real("tol", self.tol, 0.0)
        check_choice("algorithm", self.algorithm, ("lloyd", "elkan"))
        rng = check_random_state(self.random_state)
        init, centres, n_init = self._init_and_runs(X, k)
        arrays = [X]
        if sample_weight is not None:
            sw = as_rows(sample_weight, "sample_weight", "KMeans", ndim=(1,))
            arrays.append(align_rows(X, sw, "sample_weight"))
        fit = self._fit_context(arrays, _rows_and_weights)

        n_w, mean, m2 = combine_moments(fit.round("column moments", _column_moments_task))
        mean32 = mean.astype(np.float32)
        tol_abs = tol * float(np.mean((m2 / n_w).astype(np.float32)))
        weights, state = fit.round("build [X − mean | 1]", _augment_task, mean32, keep=True)
        if sum(weights) <= 0:
            raise ValueError("KMeans: sample_weight sums to 0")

        best = None
        for _ in range(n_init):
            if centres is not None:
                start = centres.astype(np.float64) - mean32
            elif init == "random":
                start = self._random_start(fit, state, weights, k, rng)
            else:
                start, state = self._kmeans_plusplus(fit, state, weights, k, rng)
            run = self._lloyd(fit, state, start, max_iter, tol_abs)
            if best is None or run[2] < best[2]:
                best = run
        C, n_iter, inertia = best
        centres_out = (C.astype(np.float32) + mean32).astype(np.float32)
        w = write.ModelWriter("KMeans", 1)
        w.write_i64(k)
        w.write_string(init)
        w.write_tensor(write.f32(centres if centres is not None else np.zeros((0, 0))))
        w.write_i64(n_init)
        w.write_i64(max_iter)
        w.write_f64(tol)
        w.write_i64(0)  # random_state: the seeds were drawn here, not by the C++ fit
        w.write_tensor(write.f32_row(mean32))
        w.write_tensor(centres_out)
        w.write_tensor(np.zeros((0, 1), np.int32))  # labels_ are on the workers (see below)
        w.write_f64(inertia)
        w.write_i64(n_iter)
        self._finish_fit(fit, w.finish())
        self.cluster_centers_ = np.asarray(self._model.cluster_centers, dtype=np.float64)
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self._n_features_out = k
        self.labels_ = self.predict(X_in)
        return self

    # ---- seeding --------------------------------------------------------------------------------

    @staticmethod
    def _locate(cumulative, targets):
        """(partition, offset within its total) for each target of a global cumulative sum."""
        part = np.minimum(np.searchsorted(cumulative, targets, side="left"), len(cumulative) - 1)
        before = np.concatenate([[0.0], cumulative[:-1]])
        return part, targets - before[part]

    def _sample_rows(self, fit, state, totals, count, rng, what):
        """``count`` rows of Xa drawn ∝ the partitions' per-row weights (w, or w·D²)."""
        cumulative = np.cumsum(totals)
        targets = rng.uniform(size=count) * cumulative[-1]
        part, local = self._locate(cumulative, targets)
        chosen = sorted(set(part.tolist()))
        parts = [state[p] for p in chosen]
        fetched = fit.round(
            f"{what}: draw rows",
            _draw_rows_task,
            parts=parts,
            per_part=[(local[part == p],) for p in chosen],
        )
        rows = np.empty((count, fetched[0].shape[1]), np.float32)
        for p, r in zip(chosen, fetched):
            rows[part == p] = r
        return rows

    def _random_start(self, fit, state, weights, k, rng):
        """'random': k samples drawn ∝ their weights (a repeated sample gives an empty
        cluster, which the first iteration re-seeds with the farthest sample)."""
        with_unit = [fit.client.submit(_with_unit_closest, s, pure=False) for s in state]
        rows = self._sample_rows(fit, with_unit, np.asarray(weights), k, rng, "random init")
        return rows[:, :-1].astype(np.float64)

    def _kmeans_plusplus(self, fit, state, weights, k, rng):
        trials = 2 + int(np.log(k))
        with_unit = [fit.client.submit(_with_unit_closest, s, pure=False) for s in state]
        first = self._sample_rows(fit, with_unit, np.asarray(weights), 1, rng, "k-means++")
        potentials, state = fit.round(
            "k-means++: distances to centre 0", _potential_task, first[0], parts=state, keep=True
        )
        centres = [first[0]]
        for c in range(1, k):
            cands = self._sample_rows(fit, state, np.asarray(potentials), trials, rng, "k-means++")
            scores = np.sum(
                fit.round(
                    f"k-means++: score candidates for centre {c}",
                    _candidate_potentials_task,
                    cands,
                    parts=state,
                    keep=True,
                )[0],
                axis=0,
            )
            best = int(np.argmin(scores))
            centres.append(cands[best])
            potentials, state = fit.round(
                f"k-means++: distances to centre {c}",
                _update_closest_task,
                cands[best],
                parts=state,
                keep=True,
            )
        return np.asarray(centres)[:, :-1].astype(np.float64), state

    # ---- Lloyd ----------------------------------------------------------------------------------

    def _lloyd(self, fit, state, start, max_iter, tol_abs):
        C = start.astype(np.float32)
        k, d = C.shape
        last = None
        strict = False
        it = 0
        inertia = 0.0
        while it < max_iter:
            Ca = _augment_centres(C)
            partials = fit.round("Lloyd: centre sums and counts", _lloyd_task, Ca, parts=state)
            sums = sum(p[0] for p in partials)  # k × (d+1), float64
            digests = [p[2] for p in partials]
            empty = np.flatnonzero(sums[:, d] == 0)
            if len(empty):
                sums = self._reseed_empty(fit, state, Ca, sums, empty)
            weight = sums[:, d]
            C_new = np.where(
                weight[:, None] > 0, (sums[:, :d] / np.where(weight > 0, weight, 1.0)[:, None]), C
            ).astype(np.float32)
            shift = float(np.sum((C_new.astype(np.float64) - C) ** 2))
            C = C_new
            it += 1
            if digests == last:  # same labels as last time: the centres are their means
                strict = True
                inertia = sum(p[1] for p in partials)
                break
            if shift <= tol_abs:
                break
            last = digests
        if not strict:  # one more E-step so that the inertia is that of the final centres
            partials = fit.round(
                "Lloyd: final assignment", _lloyd_task, _augment_centres(C), parts=state
            )
            inertia = sum(p[1] for p in partials)
        return C, it, inertia

    @staticmethod
    def _reseed_empty(fit, state, Ca, sums, empty):
        """Each empty cluster takes one of the samples farthest from their centres (largest
        first), moved out of its old cluster's sums: scikit-learn's rule, as on one machine."""
        e = len(empty)
        found = fit.round("Lloyd: farthest samples", _farthest_task, Ca, e, parts=state)
        dist = np.concatenate([f[0] for f in found])
        rows = np.concatenate([f[1] for f in found])
        labels = np.concatenate([f[2] for f in found])
        order = np.argsort(-dist, kind="stable")[:e]
        sums = sums.copy()
        for to, i in zip(empty, order):
            sums[labels[i]] -= rows[i]
            sums[to] = rows[i]
        return sums

    # ---- methods on dask arrays -------------------------------------------------------------

    def predict(self, X):
        """Nearest centre of each row (int32); lazy on a dask X."""
        return self._map_rows("predict", X, None, np.int32)

    def transform(self, X):
        """Distances to the centres (n_samples, n_clusters); lazy on a dask X."""
        return self._map_rows("transform", X, self.n_clusters)

    def fit_predict(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def to_local(self):
        """The fitted mlcore.KMeans; its ``labels_`` are computed (n int32 values travel)."""
        local = super().to_local()
        local.labels_ = np.asarray(self.labels_.compute(), dtype=np.int32)
        return local


def _with_unit_closest(state):
    """A partition whose 'closest' distances are all 1: draws ∝ the sample weights only."""
    Xa, Xs, w, _ = state
    return Xa, Xs, w, np.ones(Xa.shape[0], np.float32)
