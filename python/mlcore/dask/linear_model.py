"""Distributed linear models: LinearRegression, Ridge, LogisticRegression.

* **LinearRegression / Ridge** — one round. Each worker returns its partition's weight, the
  column means of [X | y] and their centred scatter matrix (a (d+t)² GEMM on its backend); the
  client combines them exactly (``_moments.py``) and solves the d × d normal equations with the
  single-machine solver (Jacobi-scaled Cholesky, minimum-norm eigen fallback). Per partition
  (d+t)² + (d+t) + 1 numbers travel, whatever its row count.
* **LogisticRegression (data parallel)** — the single-machine L-BFGS (mlcore's own, with the same
  options and convergence test) runs on the client; each objective evaluation broadcasts the
  weights and sums every partition's loss and gradient (``X·Wᵀ``, the softmax or sigmoid, and
  ``Rᵀ·X`` as GEMMs on the worker's backend): one round per evaluation, K·(d+1) numbers each way
  per partition.
* **LogisticRegression(parallel="model")** — the weight matrix is split by classes across
  shards, one per worker, each holding every sample (the activations) and only its classes'
  weights. Per evaluation: each shard's row maxima of its logits are reduced to the global max,
  then the sums of exp(z − max), then each shard's gradient comes back for its own weights —
  three rounds moving n numbers per shard each way instead of K·d: tensor parallelism's
  pattern, cheaper when the model is larger than the data.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import _core
from .. import linear_model as _local
from .._validation import check_bool, check_int, check_real
from . import _local as write
from ._base import (
    DaskEstimatorMixin,
    check_fit_inputs,
    check_weights,
    class_weight_vector,
    init_with_client,
    labels_xy,
)
from ._moments import combine_moments, partition_moments

__all__ = ["LinearRegression", "LogisticRegression", "Ridge"]


# ---- least squares ------------------------------------------------------------------------------


def _stack_xy(xb, yb, wb=None):
    """A partition as the worker keeps it: Z = [X | Y] (float32) and the weights."""
    yb = np.asarray(yb).reshape(len(yb), -1)
    Z = np.ascontiguousarray(np.hstack([np.asarray(xb, np.float32), yb.astype(np.float32)]))
    w = None if wb is None else np.ascontiguousarray(wb, dtype=np.float32).reshape(-1)
    return Z, w


def _moments_task(rec, part):
    Z, w = part
    return partition_moments(rec, Z, w)


class _DaskLeastSquares(DaskEstimatorMixin):
    def fit(self, X, y, sample_weight=None):
        """Fit on a dask X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets)
        with the same row chunks (y is re-chunked to X's); sample_weight: an optional dask
        vector of non-negative weights."""
        if check_bool("positive", self.positive):
            raise ValueError(
                f"{type(self).__name__}(positive=True) is not supported by mlcore "
                "(the normal equations have no sign constraints)"
            )
        self._make_model()  # checks the parameters as the single-machine fit does
        alpha = getattr(self, "alpha", 0.0)
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        X, y = check_fit_inputs(self, X, y, y_ndim=(1, 2))
        sw = check_weights(self, X, sample_weight)
        d = X.shape[1]
        fit = self._fit_context([X, y] + ([sw] if sw is not None else []), _stack_xy)
        W, mean, M = combine_moments(fit.round("moments of [X | y]", _moments_task))
        if not np.all(np.isfinite(M)):
            raise ValueError("X or y contains NaN or infinity")
        xm, ym = mean[:d], mean[d:]
        G, B = M[:d, :d], M[:d, d:]
        if not fit_intercept:  # the uncentred moments: Σ w z zᵀ = M + W·z̄ z̄ᵀ
            G = G + W * np.outer(xm, xm)
            B = B + W * np.outer(xm, ym)
        sol, rank = _core.solve_normal_equations(G, B, float(alpha))
        coef = sol.T  # t × d
        intercept = ym - xm @ sol if fit_intercept else np.zeros(B.shape[1])
        transform = write.input_transform(xm, np.diag(M)[:d] / W, fit_intercept)
        model = write.least_squares_bytes(
            type(self).__name__,
            alpha=alpha,
            fit_intercept=fit_intercept,
            coef=coef,
            intercept=intercept,
            transform=transform,
            rank=rank,
            singular=_core.singular_values_from_gram(G),
        )
        self._finish_fit(fit, model)
        coef = self._model.coef.astype(np.float64)
        intercept = self._model.intercept.astype(np.float64).reshape(-1)
        if y.ndim == 1:
            self.coef_, self.intercept_ = coef.reshape(-1), float(intercept[0])
        else:
            self.coef_, self.intercept_ = coef, intercept
        self._after_fit()
        return self

    def predict(self, X):
        """X·coef_ᵀ + intercept_; a dask X gives a lazy dask array (one task per row chunk)."""
        n_cols = None if np.ndim(self.coef_) == 1 else self.coef_.shape[0]
        return self._map_rows("predict", X, n_cols)


class LinearRegression(_DaskLeastSquares, _local.LinearRegression):
    """mlcore.LinearRegression fitted on a dask cluster: one reduction of the centred
    XᵀX, Xᵀy and the means. Same parameters, plus ``client``. Equal to the single-machine fit
    to f32 rounding (the Gram matrix is summed in a different order)."""

    _local_class = _local.LinearRegression
    __init__ = init_with_client(_local.LinearRegression)

    def _after_fit(self):
        self.rank_ = int(self._model.rank)
        self.singular_ = self._model.singular.astype(np.float64).reshape(-1)


class Ridge(_DaskLeastSquares, _local.Ridge):
    """mlcore.Ridge fitted on a dask cluster (as :class:`LinearRegression`, with α on the
    diagonal of the reduced Gram matrix)."""

    _local_class = _local.Ridge
    __init__ = init_with_client(_local.Ridge)

    def _make_model(self):
        model = super()._make_model()  # the single-machine checks first
        if self.solver not in ("auto", "cholesky"):
            raise ValueError(
                "mlcore.dask's Ridge solves the reduced normal equations by Cholesky: solver "
                f"must be 'auto' or 'cholesky', got {self.solver!r}"
            )
        return model

    def _after_fit(self):
        self.n_iter_ = None
        self.solver_ = "cholesky"


# ---- logistic regression -------------------------------------------------------------------------


def _label_stats_task(rec, part):
    """Round 1: the partition's labels with their (weighted) counts, and its column moments
    (n, mean, n·var per column) for the single-machine column rule."""
    X, y, w = part
    labels, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(
        inverse, weights=None if w is None else w.astype(np.float64), minlength=len(labels)
    )
    mean = rec.reduce_cols(X, "mean").astype(np.float64)
    m2 = rec.reduce_cols(X, "var").astype(np.float64) * X.shape[0]
    return labels, counts, (float(X.shape[0]), mean, m2)


def _prepare_task(rec, part, classes, class_weight, transform, columns):
    """Setup round: the partition as the objective reads it, kept on the worker.

    Xc: X passed through the column transform (as the single-machine fit's
    apply_input_transform); targets for the classes in ``columns`` (all of them, or one
    shard's): binary → y ∈ {0, 1} and ỹ = 1 − 2y; multinomial → Ys, the weighted one-hot
    columns; s: sample weight × class weight per row (None when all are 1)."""
    X, y, w = part
    raw, shift, scale = transform
    Xc = (
        X
        if raw
        else rec.multiply(
            np.broadcast_to(scale, X.shape), rec.add_row_vector(X, shift.reshape(-1), alpha=-1.0)
        )
    )
    codes = np.searchsorted(classes, y)
    s = None
    if w is not None or np.any(class_weight != 1.0):
        s = class_weight[codes] * (1.0 if w is None else w)
        s = np.ascontiguousarray(s, dtype=np.float32).reshape(-1, 1)
    if len(classes) == 2:
        y01 = codes.astype(np.float32).reshape(-1, 1)
        targets = (y01, (1.0 - 2.0 * y01).astype(np.float32))
    else:
        onehot = (codes[:, None] == np.asarray(columns)[None, :]).astype(np.float32)
        targets = (onehot * (1.0 if s is None else s),)
    return (Xc, targets, s), None


def _scores(rec, Xc, W, b):
    """Z = Xc·Wᵀ + b (n × k)."""
    Z = rec.gemm(Xc, W, trans_b=True)
    return Z if b is None else rec.add_row_vector(Z, b)


def _loss_grad_task(rec, part, W, b):
    """Data parallel: this partition's Σ loss, ∇W = Rᵀ·Xc and ∇b = Σ R (not yet divided by S),
    the same primitives in the same order as the single-machine objective."""
    Xc, targets, s = part
    Z = _scores(rec, Xc, W, b)
    if len(targets) == 2:  # binary: loss = Σ s·log(1 + exp(ỹ·z)); R = s ⊙ (σ(z) − y)
        y01, ysign = targets
        U = rec.map("log1pexp", rec.multiply(ysign, Z))
        loss = float(
            rec.gemv(U, s.reshape(-1), trans_a=True)[0]
            if s is not None
            else rec.reduce_cols(U, "sum")[0]
        )
        R = rec.axpby(-1.0, y01, 1.0, rec.map("sigmoid", Z))
        if s is not None:
            R = rec.scale_rows(R, s.reshape(-1))
    else:  # multinomial: L = log_softmax(Z); loss = −Σ Ys ⊙ L; R = s ⊙ exp(L) − Ys
        (Ys,) = targets
        L = rec.softmax_rows(Z, log=True)
        P = rec.map("exp", L)
        loss = -float(np.sum(rec.reduce_cols(rec.multiply(Ys, L), "sum"), dtype=np.float64))
        if s is not None:
            P = rec.scale_rows(P, s.reshape(-1))
        R = rec.axpby(-1.0, Ys, 1.0, P)
    GW = rec.gemm(R, Xc, trans_a=True)
    gb = rec.reduce_cols(R, "sum")
    return loss, GW.astype(np.float64), gb.astype(np.float64)


# Model parallel: one shard per worker holds every sample and the weights of its classes.


def _gather_shard(*parts):
    """A shard's copy of every partition's prepared rows (Xc, targets, s), concatenated."""
    Xc = np.concatenate([p[0] for p in parts])
    targets = tuple(np.concatenate([p[1][i] for p in parts]) for i in range(len(parts[0][1])))
    s = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
    return Xc, targets, s


def _shard_max_task(rec, part, W, b):
    """Round 1 of an evaluation: this shard's logits Z_j (kept) and their row maxima."""
    Xc, targets, s = part
    Z = _scores(rec, Xc, W, b)
    return (part, Z), Z.max(axis=1).astype(np.float32)


def _shard_sum_task(rec, kept, row_max):
    """Round 2: the row sums of exp(Z_j − max). (Z_j is kept transposed, classes × samples,
    so that a per-sample shift is add_row_vector's per-column one.)"""
    part, Z = kept
    Zt = np.ascontiguousarray(Z.T)
    E = rec.map("exp", rec.add_row_vector(Zt, row_max, alpha=-1.0))
    return (part, Zt), rec.reduce_cols(E, "sum")  # column sums of E = Σ over classes


def _shard_grad_task(rec, kept, lse):
    """Round 3, with lse = max + log Σ exp(z − max) per sample: this shard's log-softmax
    L_j = Z_j − lse and P_j = exp(L_j); the loss of the samples whose class is here,
    −Σ Ys ⊙ L_j (each sample's class lives on one shard, so the shards' losses add up to the
    single-machine loss); and the gradient of this shard's weights, Rᵀ·Xc, R = s ⊙ P_j − Ys."""
    (Xc, (Ys,), s), Zt = kept
    L = np.ascontiguousarray(rec.add_row_vector(Zt, lse, alpha=-1.0).T)
    P = rec.map("exp", L)
    loss = -float(np.sum(rec.reduce_cols(rec.multiply(Ys, L), "sum"), dtype=np.float64))
    if s is not None:
        P = rec.scale_rows(P, s.reshape(-1))
    R = rec.axpby(-1.0, Ys, 1.0, P)
    return (
        loss,
        rec.gemm(R, Xc, trans_a=True).astype(np.float64),
        rec.reduce_cols(R, "sum").astype(np.float64),
    )


class LogisticRegression(DaskEstimatorMixin, _local.LogisticRegression):
    """mlcore.LogisticRegression fitted on a dask cluster, with mlcore's own L-BFGS.

    Parameters: those of :class:`mlcore.LogisticRegression`, plus

    parallel : {"data", "model"}, default="data"
        "data": rows split across workers, one loss + gradient reduction per L-BFGS
        evaluation. "model": the classes split across workers (multinomial, ≥ 3 classes),
        every worker holding all rows; the softmax's max and sum are reduced each evaluation.
    client : distributed.Client, default None (the current client)

    The objective, the column scaling, the optimiser and its stopping rule are the
    single-machine fit's; only the order of the f32 sums differs (they are summed per partition,
    then across partitions in float64), so the iterations and coefficients agree to f32
    rounding (the tests allow ±2 iterations and 1e-3 relative on the coefficients).
    """

    _local_class = _local.LogisticRegression
    __init__ = init_with_client(_local.LogisticRegression, parallel="data")

    def _effective_C(self):
        """C, after the single-machine estimator's checks of penalty / l1_ratio / solver; the
        options this fit does not have (an L1 part, liblinear's penalised intercept, warm_start)
        are refused by name."""
        C, l1_ratio = self._problem()
        if l1_ratio > 0 and np.isfinite(C):
            raise ValueError(
                "mlcore.dask's LogisticRegression solves the L2 (or unpenalised) problem with "
                f"L-BFGS only; l1_ratio={self.l1_ratio} (an L1 part, solved by OWL-QN) is not "
                "supported by it: use mlcore.LogisticRegression on data that fits in memory"
            )
        if self.solver == "liblinear":
            raise ValueError(
                "solver='liblinear' (a penalised intercept) is not supported by mlcore.dask's "
                "LogisticRegression: use another solver name or mlcore.LogisticRegression"
            )
        if check_bool("warm_start", self.warm_start):
            raise ValueError("warm_start=True is not supported by mlcore.dask's LogisticRegression")
        return C

    def fit(self, X, y, sample_weight=None):
        """Fit on a dask X (n_samples, n_features) and labels y (n_samples,)."""
        if self.parallel not in ("data", "model"):
            raise ValueError(f"parallel must be 'data' or 'model', got {self.parallel!r}")
        C = self._effective_C()
        tol = check_real("tol", self.tol, 0.0)
        max_iter = check_int("max_iter", self.max_iter, 0)
        fit_b = check_bool("fit_intercept", self.fit_intercept)
        X, y = check_fit_inputs(self, X, y)
        sw = check_weights(self, X, sample_weight)
        d = X.shape[1]
        fit = self._fit_context([X, y] + ([sw] if sw is not None else []), labels_xy)

        # Round 1: labels, counts and column statistics.
        partials = fit.round("labels, counts, column moments", _label_stats_task)
        classes = np.unique(np.concatenate([p[0] for p in partials]))
        counts = np.zeros(len(classes))
        for labels, c, _ in partials:
            counts[np.searchsorted(classes, labels)] += c
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}"
            )
        K = len(classes)
        Kp = 1 if K == 2 else K
        if self.parallel == "model" and K < 3:
            raise ValueError(
                "parallel='model' splits the weight matrix by classes: it needs a "
                f"multinomial problem (>= 3 classes), got {K} classes (a binary "
                "problem has a single weight column)"
            )
        cw = class_weight_vector(self.class_weight, classes, counts)
        n, xm, m2 = combine_moments([p[2] for p in partials])
        transform = write.input_transform(xm, m2 / n, fit_b)
        s_col = np.ones(d) if transform[0] else transform[2].reshape(-1).astype(np.float64)
        S = float(np.sum(counts * cw))
        if S <= 0.0:
            raise ValueError("the sample weights times the class weights sum to 0")
        inv_CS = 0.0 if np.isinf(C) else 1.0 / (C * S)

        # The shards: row partitions (data parallel) or class blocks holding every row (model).
        if self.parallel == "data":
            _, shards = fit.round(
                "prepare rows", _prepare_task, classes, cw, transform, np.arange(Kp), keep=True
            )
            blocks = [np.arange(Kp)]
        else:
            n_shards = min(K, max(1, len(fit.client.scheduler_info()["workers"])))
            blocks = np.array_split(np.arange(K), n_shards)
            shards = []
            for cols in blocks:
                _, prepared = fit.round(
                    f"prepare rows for classes {cols[0]}..{cols[-1]}",
                    _prepare_task,
                    classes,
                    cw,
                    transform,
                    cols,
                    keep=True,
                )
                shards.append(fit.client.submit(_gather_shard, *prepared, pure=False))
        n_w = Kp * d

        def objective(theta):
            W = theta[:n_w].reshape(Kp, d).astype(np.float32)
            b = theta[n_w:].astype(np.float32) if fit_b else None
            if self.parallel == "data":
                loss, GW, gb = _sum(
                    fit.round("loss and gradient", _loss_grad_task, W, b, parts=shards)
                )
            else:
                loss, GW, gb = self._model_parallel_loss_grad(fit, shards, blocks, W, b)
            penalty = float(np.sum((np.tile(s_col, Kp) * theta[:n_w]) ** 2))
            grad = np.empty_like(theta)
            grad[:n_w] = GW.reshape(-1) / S + np.tile(s_col**2, Kp) * theta[:n_w] * inv_CS
            if fit_b:
                grad[n_w:] = gb.reshape(-1) / S
            return loss / S + 0.5 * penalty * inv_CS, grad

        theta0 = np.zeros(n_w + (Kp if fit_b else 0))
        gtol_scale = np.ones_like(theta0)
        gtol_scale[:n_w] = np.tile(1.0 / s_col, Kp)
        theta, info = _core.minimize_lbfgs(objective, theta0, max_iter, tol, 10, gtol_scale)

        # The model in the caller's units: w = s ⊙ w″, b = b″ − shift·w.
        coef = theta[:n_w].reshape(Kp, d) * s_col
        intercept = theta[n_w:].copy() if fit_b else np.zeros(Kp)
        if not transform[0]:
            intercept = intercept - coef @ transform[1].reshape(-1).astype(np.float64)
        weights = {float(k): float(w) for k, w in enumerate(cw) if w != 1.0}
        model = write.logistic_regression_bytes(
            C=C,
            tol=tol,
            max_iter=max_iter,
            fit_intercept=fit_b,
            class_weight=weights,
            lbfgs_memory=10,
            classes=range(K),
            coef=coef,
            intercept=intercept,
            transform=transform,
            n_iter=info["n_iter"],
            converged=info["converged"],
            message=info["message"],
        )
        self._finish_fit(fit, model)
        self.classes_ = classes
        self.coef_ = self._model.coef.astype(np.float64)
        self.intercept_ = self._model.intercept.astype(np.float64).reshape(-1)
        self.n_iter_ = np.array([info["n_iter"]], dtype=np.int32)
        if not info["converged"]:
            warnings.warn(
                f"lbfgs failed to converge after {info['n_iter']} iteration(s): "
                f"{info['message']}. Increase max_iter or scale the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @staticmethod
    def _model_parallel_loss_grad(fit, shards, blocks, W, b):
        """Three rounds across the class shards: max, sum of exp, then loss and gradients."""
        Ws = [W[cols] for cols in blocks]
        bs = [None if b is None else b[cols] for cols in blocks]
        maxima, kept = fit.round(
            "softmax: row max", _shard_max_task, parts=shards, keep=True, per_part=list(zip(Ws, bs))
        )
        row_max = np.max(np.stack(maxima), axis=0).astype(np.float32)
        sums, kept = fit.round("softmax: row sum", _shard_sum_task, row_max, parts=kept, keep=True)
        row_sum = np.sum(np.stack(sums).astype(np.float64), axis=0)
        lse = (row_max + np.log(row_sum)).astype(np.float32)
        out = fit.round("loss and gradient (own classes)", _shard_grad_task, lse, parts=kept)
        loss = sum(o[0] for o in out)
        GW = np.concatenate([o[1] for o in out])
        gb = np.concatenate([o[2] for o in out])
        return loss, GW, gb

    def decision_function(self, X):
        n_cols = None if self.coef_.shape[0] == 1 else self.coef_.shape[0]
        return self._map_rows("decision_function", X, n_cols)

    def predict_proba(self, X):
        return self._map_rows("predict_proba", X, len(self.classes_))

    def predict_log_proba(self, X):
        return self._map_rows("predict_log_proba", X, len(self.classes_))

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)


def _sum(partials):
    loss = sum(p[0] for p in partials)
    return loss, sum(p[1] for p in partials), sum(p[2] for p in partials)
