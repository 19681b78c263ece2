"""Column moments reduced across partitions: the weight, the mean and the centred scatter
matrix Σ w (z − z̄)(z − z̄)ᵀ of Z = [X | Y].

Each worker centres its partition on its *own* mean before the product (so the f32 GEMM sums
terms of the size of the spread, not of the offset, as the single-machine fits do), and the
client combines the partitions exactly in float64 with the parallel formula of Chan, Golub and
LeVeque ("Updating formulae and a pairwise algorithm for computing sample variances", 1979):

    W = Σ Wᵢ,   z̄ = Σ Wᵢ z̄ᵢ / W,   M = Σ Mᵢ + Σ Wᵢ (z̄ᵢ − z̄)(z̄ᵢ − z̄)ᵀ.

What travels per partition: 1 + p + p² numbers (p = columns of Z), whatever its row count.
"""

from __future__ import annotations

import numpy as np


def partition_moments(rec, Z, w=None):
    """(W, mean, M) of one partition. Z: (n, p) float32; w: None or (n,) float32 weights.

    The O(n·p²) work is mlcore primitives on the worker's backend: the mean (reduce_cols, or
    wᵀZ/W as a GEMM), the centring (add_row_vector), √w row scaling (map, scale_rows) and
    ZcᵀZc (gemm)."""
    n = Z.shape[0]
    if w is None:
        total = float(n)
        mean = rec.reduce_cols(Z, "mean")
        Zc = rec.add_row_vector(Z, mean, alpha=-1.0)
    else:
        total = float(np.sum(w, dtype=np.float64))
        if total <= 0.0:  # a partition whose samples all weigh 0 adds nothing
            p = Z.shape[1]
            return 0.0, np.zeros(p), np.zeros((p, p))
        mean = rec.gemm(w.reshape(-1, 1), Z, trans_a=True, alpha=1.0 / total).reshape(-1)
        Zc = rec.add_row_vector(Z, mean, alpha=-1.0)
        Zc = rec.scale_rows(Zc, rec.map("sqrt", w.reshape(-1, 1)).reshape(-1))
    M = rec.gemm(Zc, Zc, trans_a=True)
    return total, mean.astype(np.float64), M.astype(np.float64)


def combine_moments(partials):
    """The (W, mean, M) of the union of partitions (Chan et al.), in float64. M may be the
    full scatter matrix or only its diagonal (per-column Σ w (z − z̄)²)."""
    W = sum(p[0] for p in partials)
    if W <= 0.0:
        raise ValueError("sample_weight sums to 0: at least one sample needs a positive weight")
    mean = sum(p[0] * p[1] for p in partials) / W
    M = np.zeros_like(partials[0][2])
    for Wi, mi, Mi in partials:
        delta = mi - mean
        M += Mi + Wi * (np.outer(delta, delta) if M.ndim == 2 else delta * delta)
    return W, mean, M
