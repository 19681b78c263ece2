"""Distributed naive Bayes: GaussianNB and MultinomialNB, one round each.

Naive Bayes is fitted by its sufficient statistics, which add up across partitions. Each worker
finds the classes present in its partition and returns, per class, its (weighted) count and
the scatter_add sums the single-machine fit computes — the feature sums (MultinomialNB) or the
class mean and the centred sum of squares (GaussianNB) — plus the column moments. The client
merges them by class label (Chan et al.'s formula for the variances, exact in float64) and
writes the model the single-machine fit would have produced from the same statistics. Per
partition K·d (MultinomialNB) or 2·K·d (GaussianNB) numbers travel, plus 2·d + K.
"""

from __future__ import annotations

import numpy as np

from .. import naive_bayes as _local
from . import _local as write
from ._base import DaskEstimatorMixin, check_fit_inputs, check_weights, init_with_client, labels_xy
from ._moments import combine_moments

__all__ = ["GaussianNB", "MultinomialNB"]


def _class_stats_task(rec, part, gaussian):
    """Per class present here: weighted count, Σ w·x, and (Gaussian) Σ w·(x − θ_local)²;
    with the partition's column moments. All by scatter_add / gather_rows on the backend."""
    X, y, w = part
    if not gaussian and np.any(X < 0):
        raise ValueError("Negative values in data passed to MultinomialNB (input X)")
    labels, codes = np.unique(y, return_inverse=True)
    K = len(labels)
    code = codes.astype(np.int32)
    weight = np.ones((X.shape[0], 1), np.float32) if w is None else w.reshape(-1, 1)
    count = rec.scatter_add(code, weight, K).reshape(-1).astype(np.float64)
    Xw = X if w is None else rec.scale_rows(X, w)
    sums = rec.scatter_add(code, Xw, K).astype(np.float64)
    sq = None
    if gaussian:
        theta = np.divide(sums, count[:, None], out=np.zeros_like(sums), where=count[:, None] > 0)
        M = rec.axpby(1.0, X, -1.0, rec.gather_rows(theta.astype(np.float32), code))
        M = rec.map("square", M)
        if w is not None:
            M = rec.scale_rows(M, w)
        sq = rec.scatter_add(code, M, K).astype(np.float64)
    mean = rec.reduce_cols(X, "mean").astype(np.float64)
    m2 = rec.reduce_cols(X, "var").astype(np.float64) * X.shape[0]
    return labels, count, sums, sq, (float(X.shape[0]), mean, m2)


def _merge(partials, d, gaussian):
    """classes, count (K,), sums (K, d), centred sums of squares (K, d) or None, and the
    column (n, mean, Σ(x − x̄)²) — merged over partitions by class label."""
    classes = np.unique(np.concatenate([p[0] for p in partials]))
    K = len(classes)
    per_class = [[] for _ in range(K)]
    sums = np.zeros((K, d))
    for labels, count, s, sq, _ in partials:
        for local, k in enumerate(np.searchsorted(classes, labels)):
            sums[k] += s[local]
            if gaussian and count[local] > 0:
                per_class[k].append((count[local], s[local] / count[local], sq[local]))
    count = np.zeros(K)
    for labels, c, *_ in partials:
        count[np.searchsorted(classes, labels)] += c
    sq = None
    if gaussian:
        sq = np.zeros((K, d))
        for k in range(K):
            if per_class[k]:
                sq[k] = combine_moments(per_class[k])[2]
    return classes, count, sums, sq, combine_moments([p[4] for p in partials])


class _DaskNaiveBayes(DaskEstimatorMixin):
    _gaussian = None

    def fit(self, X, y, sample_weight=None):
        """Fit on a dask X (n_samples, n_features) and labels y (n_samples,)."""
        X, y = check_fit_inputs(self, X, y)
        sw = check_weights(self, X, sample_weight)
        d = X.shape[1]
        fit = self._fit_context([X, y] + ([sw] if sw is not None else []), labels_xy)
        partials = fit.round("class statistics", _class_stats_task, self._gaussian)
        classes, count, sums, sq, (n, mean, m2) = _merge(partials, d, self._gaussian)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but y "
                f"contains only one class: {classes[0]!r}"
            )
        self._make_model(len(classes))  # the parameter checks of the single-machine fit
        model = self._model_bytes(count, sums, sq, mean, m2 / n)
        self.classes_ = classes
        self._finish_fit(fit, model)
        self.class_count_ = self._model.class_count.astype(np.float64).reshape(-1)
        self._set_attributes()
        return self

    def predict(self, X):
        return self._map_rows("predict", X, None, self.classes_.dtype)

    def predict_proba(self, X):
        return self._map_rows("predict_proba", X, len(self.classes_))

    def predict_log_proba(self, X):
        return self._map_rows("predict_log_proba", X, len(self.classes_))

    def predict_joint_log_proba(self, X):
        return self._map_rows("predict_joint_log_proba", X, len(self.classes_))


class GaussianNB(_DaskNaiveBayes, _local.GaussianNB):
    """mlcore.GaussianNB fitted on a dask cluster: per-class counts, means and centred sums
    of squares reduced in one round. Equal to the single-machine fit to f32 rounding
    (variances to ~1e-5 relative: the sums of squares are combined in float64 here, in f32
    there)."""

    _local_class = _local.GaussianNB
    _gaussian = True
    __init__ = init_with_client(_local.GaussianNB)

    def _model_bytes(self, count, sums, sq, mean, col_var):
        # What GaussianNB::fit (src/algorithms/naive_bayes/naive_bayes.cpp) does after its reductions.
        count = count.astype(np.float32).astype(np.float64)  # the model keeps f32 counts
        # A class whose samples all weigh 0 keeps mean 0, variance epsilon and prior 0.
        seen = count > 0
        per_class = np.where(seen, count, 1.0)[:, None]
        theta = np.where(seen[:, None], sums / per_class, 0.0)
        col_var32 = write.f32_row(col_var).reshape(-1).astype(np.float64)
        epsilon = float(self.var_smoothing) * float(col_var32.max())
        var = np.where(seen[:, None], sq / per_class, 0.0) + epsilon
        priors = [] if self.priors is None else list(np.asarray(self.priors, np.float64))
        prior = np.asarray(priors) if priors else count / count.sum()
        sd = np.sqrt(col_var32)
        scale = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
        tightest = np.argmin(np.where(seen[:, None], var, np.inf), axis=0)
        shift = theta[tightest, np.arange(theta.shape[1])]
        w = write.ModelWriter("GaussianNB", 2)  # kGaussianVersion
        w.write_f64(float(self.var_smoothing))
        w.write_f64s([float(p) for p in priors])
        w.write_u8(1)
        w.write_f64s([float(k) for k in range(len(count))])  # the C++ model holds class codes
        w.write_tensor(write.f32_row(count))
        w.write_tensor(write.f32(theta))
        w.write_tensor(write.f32(var))
        w.write_tensor(write.f32_row(prior))
        w.write_tensor(write.f32_row(shift))
        w.write_tensor(write.f32_row(scale))
        w.write_f64(epsilon)
        return w.finish()

    def _set_attributes(self):
        self.theta_ = self._model.theta.astype(np.float64)
        self.var_ = self._model.var.astype(np.float64)
        self.class_prior_ = self._model.class_prior.astype(np.float64).reshape(-1)
        self.epsilon_ = float(self._model.epsilon)


class MultinomialNB(_DaskNaiveBayes, _local.MultinomialNB):
    """mlcore.MultinomialNB fitted on a dask cluster: per-class feature counts reduced in one
    round. Equal to the single-machine fit to f32 rounding."""

    _local_class = _local.MultinomialNB
    _gaussian = False
    __init__ = init_with_client(_local.MultinomialNB)

    def _model_bytes(self, count, sums, sq, mean, col_var):
        # What MultinomialNB::fit (src/algorithms/naive_bayes/naive_bayes.cpp) does after its reductions.
        count = count.astype(np.float32).astype(np.float64)
        K = len(count)
        alpha = float(self.alpha)
        if not self.force_alpha and alpha < 1e-10:
            alpha = 1e-10
        smoothed = sums.astype(np.float32).astype(np.float64) + alpha
        flp = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        class_prior = (
            [] if self.class_prior is None else list(np.asarray(self.class_prior, np.float64))
        )
        if class_prior:
            log_prior = np.log(class_prior)
        elif self.fit_prior:
            log_prior = np.log(count) - np.log(count.sum())
        else:
            log_prior = np.full(K, -np.log(K))
        w = write.ModelWriter("MultinomialNB", 1)
        w.write_f64(float(self.alpha))
        w.write_u8(1 if self.force_alpha else 0)
        w.write_u8(1 if self.fit_prior else 0)
        w.write_f64s([float(p) for p in class_prior])
        w.write_u8(1)
        w.write_f64s([float(k) for k in range(K)])
        w.write_tensor(write.f32_row(count))
        w.write_tensor(write.f32(sums))
        w.write_tensor(write.f32(flp))
        w.write_tensor(write.f32_row(log_prior))
        write.write_input_transform(w, write.input_transform(mean, col_var, centred=False))
        return w.finish()

    def _set_attributes(self):
        self.feature_count_ = self._model.feature_count.astype(np.float64)
        self.feature_log_prob_ = self._model.feature_log_prob.astype(np.float64)
        self.class_log_prior_ = self._model.class_log_prior.astype(np.float64).reshape(-1)
