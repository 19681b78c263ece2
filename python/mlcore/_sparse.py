"""scipy.sparse input: the one place a sparse X becomes what the C++ core reads.

Estimators whose work is a product with X (``X·W``, ``Xᵀ·G``) accept scipy.sparse matrices in
CSR, CSC or COO format, as scikit-learn's do. scikit-learn's ``validate_data(...,
accept_sparse="csr")`` converts the matrix once to CSR with float32 values (a copy when the
format or the dtype differs; the user's matrix is never modified), and :func:`as_core_X` hands
it to the core as an ``mlcore._core.Csr`` that borrows its three arrays: ``indptr`` (made int64:
rows + 1 values, a negligible copy when scipy stored int32), ``indices`` (int32 or int64, no
copy), ``data`` (float32, no copy). Rows whose indices are unsorted or repeated are put in
canonical order on a copy first. In the core, Backend::spmm multiplies only the stored entries
(docs/SPARSE.md).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _core
from ._validation import check_finite

# The formats the sparse-capable estimators accept (scikit-learn's accept_sparse), CSR first:
# validate_data converts the others to it.
ACCEPT_SPARSE = ["csr", "csc", "coo"]


def as_core_X(X, name: str = "X"):
    """``X`` as the core's input: a dense array unchanged, a scipy.sparse matrix (already CSR
    float32, from validate_data) as an ``mlcore._core.Csr`` (ValueError for NaN or infinity)."""
    if not sp.issparse(X):
        return X
    X = X.tocsr()  # the same object when it is CSR already
    if not X.has_canonical_format:  # unsorted or repeated indices: fix a copy, not the user's
        X = X.copy()
        X.sum_duplicates()
    data = np.ascontiguousarray(X.data, dtype=np.float32)
    check_finite(data, name)
    indices = X.indices
    if indices.dtype not in (np.int32, np.int64):
        indices = indices.astype(np.int64)
    return _core.Csr(
        X.shape[0],
        X.shape[1],
        np.ascontiguousarray(X.indptr, dtype=np.int64),
        np.ascontiguousarray(indices),
        data,
    )


def any_negative(X) -> bool:
    """True when a dense or sparse X holds a negative value (the stored ones, for sparse)."""
    return bool((X.data < 0).any()) if sp.issparse(X) else bool((X < 0).any())
