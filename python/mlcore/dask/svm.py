"""Distributed support vector machines: LinearSVC (data parallel) and SVC (the cascade SVM).

* **LinearSVC** — the single-machine primal Newton method (squared hinge,
  src/algorithms/svm/linear_svc_newton.hpp: the same iterations, step-length search and stopping
  rules, run on the client) driven by sums over the row partitions: each iteration is one round
  in which every worker returns its partition's loss Σ C_i r_i², gradient term X̃ᵀc and Hessian
  term X̃ᵀ diag(h) X̃ ((d+1)² numbers: GEMV and GEMM on its backend), and one round for the step
  length, in which every worker returns its loss at all 30 trial steps t = 2^−k at once (the
  client then takes the first that passes Armijo's test, as the sequential search would). The
  dual coordinate descent (loss="hinge", or dual=True) updates one sample at a time from the
  weights the previous update wrote: sequential by nature, not offered here.
* **SVC** — a kernel SVM's dual couples every pair of samples; it is not data-parallel. The
  cascade SVM (Graf, Cosatto, Bottou, Dourdanovic & Vapnik, "Parallel support vector machines:
  the cascade SVM", NIPS 2004): every partition fits an SVC on its own rows (on its worker, with
  the estimator's backend) and keeps only its support vectors; pairs of support-vector sets are
  merged and fitted again, up a binary tree, until one set is left; the final SVC is fitted on it.
  With ``cascade_passes=2`` the final support vectors are fed back to every partition for a
  second pass (the paper's feedback loop). Only support vectors travel. The result is an
  approximation: a sample that is not a support vector of its partition's sub-problem can be one
  of the whole problem. Measured on the test data of tests/python/test_dask_svm.py (and in
  notebook 07): see the class docstring.
"""

from __future__ import annotations

import math
import warnings

import dask.array as da
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import _core
from .. import svm as _local
from .._validation import check_int, check_real, seed_of
from . import _local as write
from ._base import (
    DaskEstimatorMixin,
    align_rows,
    as_rows,
    check_fit_inputs,
    class_weight_vector,
    init_with_client,
)

__all__ = ["LinearSVC", "SVC"]

N_STEPS = 30  # the trial steps t = 1, 1/2, …, 2^−29 of minimize_squared_hinge


def _rows(xb, yb, wb=None):
    X = np.ascontiguousarray(xb, dtype=np.float32)
    w = None if wb is None else np.asarray(wb, dtype=np.float32).astype(np.float64).reshape(-1)
    return X, np.asarray(yb).reshape(-1), w


def _survey_task(rec, part):
    """Labels with their weighted counts and their counts of rows of positive weight."""
    X, y, w = part
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity")
    if w is not None and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise ValueError("sample_weight must be non-negative")
    labels, inverse = np.unique(y, return_inverse=True)
    weighted = np.bincount(inverse, weights=w, minlength=len(labels))
    active = np.bincount(
        inverse, weights=None if w is None else (w > 0).astype(float), minlength=len(labels)
    )
    return labels, weighted, active


def _augment_task(rec, part, classes, scaling):
    """Kept: X̃ = [X | intercept_scaling] (float32), the class codes and the weights."""
    X, y, w = part
    Xa = X if scaling is None else np.hstack([X, np.full((len(X), 1), scaling, np.float32)])
    return (np.ascontiguousarray(Xa), np.searchsorted(classes, y), w), None


def _signs_and_costs(codes, w, problem):
    """y_i = ±1 and C_i of one one-vs-rest problem (linear_svc.cpp fit)."""
    positive, C, cw, binary = problem
    pos = codes == positive
    y = np.where(pos, 1.0, -1.0)
    weight = cw[codes] if binary else np.where(pos, cw[positive], 1.0)
    Ci = C * (1.0 if w is None else w) * weight
    return y, Ci


def _evaluate_task(rec, part, w, problem):
    """This partition's Σ_{i∈I} C_i r_i², X̃ᵀc and X̃ᵀ diag(h) X̃ at w (linear_svc_newton.hpp)."""
    Xa, codes, sw = part
    y, Ci = _signs_and_costs(codes, sw, problem)
    z = rec.gemv(Xa, w.astype(np.float32)).astype(np.float64)
    r = 1.0 - y * z
    inside = (Ci > 0.0) & (r > 0.0)
    loss = float(np.sum(Ci[inside] * r[inside] ** 2))
    c = np.where(inside, -2.0 * Ci * r * y, 0.0).astype(np.float32)
    h = np.where(inside, 2.0 * Ci, 0.0).astype(np.float32)
    G = rec.gemv(Xa, c, trans_a=True).astype(np.float64)
    S = rec.gemm(Xa, rec.scale_rows(Xa, h), trans_a=True).astype(np.float64)
    return loss, G, S


def _line_task(rec, part, w, s, problem):
    """This partition's loss at w + t·s for every trial step t = 2^−k, k < N_STEPS."""
    Xa, codes, sw = part
    y, Ci = _signs_and_costs(codes, sw, problem)
    z = rec.gemv(Xa, w.astype(np.float32)).astype(np.float64)
    xs = rec.gemv(Xa, s.astype(np.float32)).astype(np.float64)
    keep = Ci > 0.0
    y, Ci, z, xs = y[keep], Ci[keep], z[keep], xs[keep]
    out = np.empty(N_STEPS)
    for k in range(N_STEPS):
        r = np.maximum(1.0 - y * (z + 0.5**k * xs), 0.0)
        out[k] = np.sum(Ci * r * r)
    return out


class LinearSVC(DaskEstimatorMixin, _local.LinearSVC):
    """mlcore.LinearSVC fitted on a dask cluster by the single-machine primal Newton method
    (squared hinge): two rounds per Newton iteration. Same parameters, plus ``client``;
    loss="hinge" and dual=True are refused (coordinate descent is sequential). The loss, gradient
    and Hessian are summed per partition first, so the iterations and coefficients agree with
    ``mlcore.LinearSVC(dual=False)`` to float32 rounding (tests: 1e-4 relative, iterations ±1)."""

    _local_class = _local.LinearSVC
    __init__ = init_with_client(_local.LinearSVC)

    def fit(self, X, y, sample_weight=None):
        """Fit on a dask X (n_samples, n_features) and labels y."""
        if self.penalty != "l2":
            raise ValueError(
                f"mlcore's LinearSVC supports penalty='l2' only, got penalty={self.penalty!r}"
            )
        if self.loss != "squared_hinge" or self.dual is True:
            raise ValueError(
                "mlcore.dask.LinearSVC solves the primal (loss='squared_hinge', "
                "dual=False or 'auto'): the dual coordinate descent updates one "
                "sample at a time and does not split across workers"
            )
        if self.multi_class != "ovr":
            raise ValueError(
                f"mlcore's LinearSVC supports multi_class='ovr' only, got {self.multi_class!r}"
            )
        C = check_real("C", self.C, 0.0, low_open=True)
        tol = check_real("tol", self.tol, 0.0, low_open=True)
        max_iter = check_int("max_iter", self.max_iter, 1)
        scaling = check_real("intercept_scaling", self.intercept_scaling, 0.0, low_open=True)
        fit_b = bool(self.fit_intercept)
        X, y = check_fit_inputs(self, X, y)
        arrays = [X, y]
        if sample_weight is not None:
            sw = as_rows(sample_weight, "sample_weight", "LinearSVC", ndim=(1,))
            arrays.append(align_rows(X, sw, "sample_weight"))
        d = X.shape[1]
        fit = self._fit_context(arrays, _rows)
        survey = fit.round("labels and counts", _survey_task)
        classes = np.unique(np.concatenate([s[0] for s in survey]))
        K = len(classes)
        if K < 2:
            raise ValueError(f"The number of classes has to be greater than one; got {K} class")
        weighted, active = np.zeros(K), np.zeros(K)
        for labels, wc, ac in survey:
            weighted[np.searchsorted(classes, labels)] += wc
            active[np.searchsorted(classes, labels)] += ac
        cw = self.class_weight
        if isinstance(cw, str) and cw != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}")
        self.classes_ = classes
        self.class_weight_ = class_weight_vector(cw, classes, weighted)
        _, state = fit.round(
            "build [X | intercept_scaling]",
            _augment_task,
            classes,
            scaling if fit_b else None,
            keep=True,
        )
        da = d + 1 if fit_b else d
        n_problems = 1 if K == 2 else K
        coef, intercept, n_iter = np.zeros((n_problems, d)), np.zeros(n_problems), 0
        for k in range(n_problems):
            positive = 1 if K == 2 else k
            problem = (positive, C, self.class_weight_, K == 2)
            cw_ = self.class_weight_
            pos = active[positive] if cw_[positive] > 0 else 0
            if K == 2:
                neg = active[0] if cw_[0] > 0 else 0
            else:
                neg = active.sum() - active[positive]
            eps = _core.primal_eps(tol, int(pos), int(neg))

            def evaluate(w, f0, problem=problem, k=k):
                out = fit.round(
                    f"problem {k}: loss, gradient, Hessian", _evaluate_task, w, problem, parts=state
                )
                S = sum(o[2] for o in out)
                G = sum(o[1] for o in out)
                if not (np.all(np.isfinite(G)) and np.all(np.isfinite(S))):
                    return None
                return f0 + sum(o[0] for o in out), G, S

            def line(w, s, problem=problem, k=k):
                losses = sum(
                    fit.round(f"problem {k}: step length", _line_task, w, s, problem, parts=state)
                )

                def objective(t, f0):
                    return f0 + losses[int(round(-math.log2(t)))]

                return objective

            result = _core.minimize_squared_hinge(evaluate, line, da, eps, max_iter)
            if result is None:
                raise ValueError(
                    "LinearSVC: the Newton step's products X̃ᵀc and X̃ᵀ·diag(h)·X̃ "
                    "overflowed float32: X's values are too large; scale X"
                )
            w, it = result
            coef[k] = w[:d]
            intercept[k] = scaling * w[d] if fit_b else 0.0
            n_iter = max(n_iter, int(it))
        for f in state:
            f.release()
        wr = write.ModelWriter("LinearSVC", 1)  # LinearSVC::save (linear_svc.cpp)
        wr.write_string("squared_hinge")
        wr.write_string("primal_newton")
        wr.write_f64(C)
        wr.write_f64(tol)
        wr.write_i64(max_iter)
        wr.write_u8(1 if fit_b else 0)
        wr.write_f64(scaling)
        wr.write_u8(1 if self.shrinking else 0)
        wr.write_f64s([float(v) for v in self.class_weight_])
        wr.write_i64(seed_of(self.random_state))
        wr.write_f64s([float(c) for c in range(K)])
        wr.write_tensor(write.f32(coef))
        wr.write_tensor(write.f32_row(intercept))
        wr.write_i64(n_iter)
        self._finish_fit(fit, wr.finish())
        self.coef_ = np.asarray(self._model.coef, dtype=np.float64)
        self.intercept_ = np.asarray(self._model.intercept, dtype=np.float64).ravel()
        self.n_iter_ = n_iter
        if n_iter >= max_iter:
            warnings.warn(
                "LinearSVC failed to converge, increase the number of iterations.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def decision_function(self, X):
        n_cols = None if len(self.classes_) == 2 else len(self.classes_)
        return self._map_rows("decision_function", X, n_cols)

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)


# ---- SVC: the cascade SVM ----------------------------------------------------------------------


def _rows_with_ids(xb, yb, ib, wb=None):
    X = np.ascontiguousarray(xb, dtype=np.float32)
    w = None if wb is None else np.asarray(wb, dtype=np.float32).reshape(-1)
    return np.asarray(ib, np.int64).reshape(-1), X, np.asarray(yb).reshape(-1), w


def _svc_survey_task(rec, part):
    """Labels and row counts, and the column moments that gamma="scale" reads (n, Σx, Σx²)."""
    ids, X, y, w = part
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity")
    labels, counts = np.unique(y, return_counts=True)
    X64 = X.astype(np.float64)
    return labels, counts, (X.size, float(X64.sum()), float((X64**2).sum()))


def _support_vectors_task(rec, part, params):
    """A cascade node: an SVC fitted on this set of rows (on the worker, with the estimator's
    backend); keeps its support vectors. A set of one class has nothing to separate: it passes
    up whole."""
    ids, X, y, w = part
    if len(np.unique(y)) < 2:
        return part, (len(ids), len(ids))
    est = _local.SVC(**params, backend=rec.backend).fit(X, y, sample_weight=w)
    rec.records.extend(est.profile_)
    s = np.sort(est.support_)
    return (ids[s], X[s], y[s], None if w is None else w[s]), (len(ids), len(s))


def _union(*sets):
    """Rows of several sets, each row once (by its id in the whole data set)."""
    ids = np.concatenate([s[0] for s in sets])
    ids, first = np.unique(ids, return_index=True)
    X = np.concatenate([s[1] for s in sets])[first]
    y = np.concatenate([s[2] for s in sets])[first]
    w = None if sets[0][3] is None else np.concatenate([s[3] for s in sets])[first]
    return ids, X, y, w


class SVC(DaskEstimatorMixin, _local.SVC):
    """mlcore.SVC fitted on a dask cluster by the cascade SVM (Graf et al., NIPS 2004).

    Same parameters as :class:`mlcore.SVC`, plus ``cascade_passes`` (1: one pass up the binary
    tree; 2: the final support vectors fed back to every partition for a second pass, the
    paper's feedback loop) and ``client``. gamma="scale" is computed from the whole data set
    (one reduction), and class_weight="balanced" from the global class counts, so that every
    sub-problem uses the same kernel and weights. ``support_`` holds row numbers of the whole
    data set. ``cascade_`` records, per pass and level, the rows fitted and the support vectors
    kept.

    Accuracy: an approximation of the single-machine SVC — a row that is no support vector of
    its partition's sub-problem is dropped although it may be one of the whole problem. On the
    test data of tests/python/test_dask_svm.py (make_classification with 5 % flipped labels,
    4000 training rows in 4 partitions, RBF, C=1; accuracy on 2000 held-out rows) the
    single-machine SVC scores 0.9230 with 1151 support vectors; one cascade pass scores 0.9280
    (+0.5 points) with 1117, the feedback pass 0.9230 (the same) with 1141. Notebook 07
    measures it again.
    """

    _local_class = _local.SVC
    __init__ = init_with_client(_local.SVC, cascade_passes=1)

    def fit(self, X, y, sample_weight=None):
        """Fit on a dask X (n_samples, n_features) and labels y."""
        passes = check_int("cascade_passes", self.cascade_passes, 1)
        if passes > 2:
            raise ValueError(f"cascade_passes must be 1 or 2, got {passes}")
        if callable(self.kernel) or self.kernel == "precomputed":
            raise ValueError(
                "mlcore.dask.SVC computes its kernels on the workers: kernel='precomputed' or a "
                "callable would need the whole Gram matrix in one place. Use mlcore.SVC."
            )
        if self._wants_probability():
            raise ValueError(
                "mlcore.dask.SVC does not fit probability=True: Platt scaling needs a "
                "cross-validation of the whole fit, which the cascade does not have. Fit "
                "mlcore.SVC(probability=True) on one machine, or calibrate to_local()'s "
                "decision_function with sklearn.calibration.CalibratedClassifierCV."
            )
        params = self.get_params()
        for key in ("cascade_passes", "client", "backend", "probability"):
            params.pop(key)
        X, y = check_fit_inputs(self, X, y)
        arrays = [X, y, da.arange(X.shape[0], chunks=X.chunks[0])]
        if sample_weight is not None:
            sw = as_rows(sample_weight, "sample_weight", "SVC", ndim=(1,))
            arrays.append(align_rows(X, sw, "sample_weight"))
        fit = self._fit_context(arrays, _rows_with_ids)
        survey = fit.round("labels, counts, moments", _svc_survey_task)
        classes = np.unique(np.concatenate([s[0] for s in survey]))
        if len(classes) < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {len(classes)} class"
            )
        counts = np.zeros(len(classes))
        for labels, c, _ in survey:
            counts[np.searchsorted(classes, labels)] += c
        if isinstance(params["gamma"], str):
            cells = sum(s[2][0] for s in survey)
            mean = sum(s[2][1] for s in survey) / cells
            var = sum(s[2][2] for s in survey) / cells - mean**2
            d = X.shape[1]
            params["gamma"] = (
                (1.0 / (d * var) if var > 0 else 1.0) if params["gamma"] == "scale" else 1.0 / d
            )
        if self.class_weight is not None:
            cw = class_weight_vector(self.class_weight, classes, counts)
            params["class_weight"] = {c: float(v) for c, v in zip(classes.tolist(), cw)}
        self.cascade_ = []
        sets, final = fit.parts, None
        for p in range(passes):
            if final is not None:  # feedback: each partition with the last support vectors
                sv = fit.client.scatter(final, broadcast=True)
                sets = [fit.client.submit(_union, part, sv, pure=False) for part in fit.parts]
            level = 0
            while len(sets) > 1:  # the levels below the top, on the workers
                sizes, sets = fit.round(
                    f"pass {p}: cascade level {level}",
                    _support_vectors_task,
                    params,
                    parts=sets,
                    keep=True,
                )
                self.cascade_.append(
                    {
                        "pass": p,
                        "level": level,
                        "rows": [s[0] for s in sizes],
                        "support_vectors": [s[1] for s in sizes],
                    }
                )
                sets = [
                    fit.client.submit(_union, *sets[i : i + 2], pure=False)
                    for i in range(0, len(sets), 2)
                ]
                level += 1
            # The top of the cascade: the last support vectors come to the client and the SVC
            # fitted on them is the model (and, with feedback, the next pass's input).
            ids, Xs, ys, ws = fit.client.gather(sets[0])
            local = _local.SVC(**params, backend=self.backend).fit(Xs, ys, sample_weight=ws)
            fit.records.extend(dict(r, worker="client", partition=None) for r in local.profile_)
            s = np.sort(local.support_)
            self.cascade_.append(
                {"pass": p, "level": level, "rows": [len(ids)], "support_vectors": [len(s)]}
            )
            final = (ids[s], Xs[s], ys[s], None if ws is None else ws[s])
        self._finish_fit(fit, local._model.save_bytes())
        for key, value in local.__dict__.items():
            if key.endswith("_") and not key.startswith("__") or key == "_gamma":
                setattr(self, key, value)
        self.support_ = ids[local.support_].astype(np.int64)
        self.shape_fit_ = tuple(X.shape)
        self.n_features_in_ = int(X.shape[1])
        return self

    def decision_function(self, X):
        n_cols = (
            None
            if len(self.classes_) == 2
            else (
                len(self.classes_)
                if self.decision_function_shape == "ovr"
                else len(self.classes_) * (len(self.classes_) - 1) // 2
            )
        )
        return self._map_rows("decision_function", X, n_cols)

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)
