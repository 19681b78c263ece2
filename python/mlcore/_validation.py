"""Input checks with messages that name the problem (ValueError / TypeError, never a crash)."""

from __future__ import annotations

import numpy as np

_FLOAT_KINDS = "fiub"  # float, signed int, unsigned int, bool: convertible to float32


def as_float32_matrix(x, name: str, *, allow_nan: bool = False, allow_1d: bool = False,
                      allow_empty: bool = False) -> np.ndarray:
    """``x`` as a C-contiguous float32 2-D array, copying only when needed.

    A C-contiguous float32 array comes back as the same object (no copy), so the C++ core
    borrows the caller's memory. Other real dtypes and orders are converted. Complex, object,
    string arrays, wrong dimensions and (unless ``allow_nan``) NaN or infinity raise.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"{name} could not be converted to an array: {e}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} has complex dtype {arr.dtype}; mlcore works on real numbers")
    if arr.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(f"{name} has dtype {arr.dtype}; expected a real numeric array")
    if arr.ndim == 1 and allow_1d:
        pass
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {arr.ndim} dimension(s) "
                         f"with shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not allow_nan:
        check_finite(arr, name)
    return arr


def float_dtype_of(x) -> np.dtype:
    """The float dtype scikit-learn gives results computed from ``x``: float32 when ``x`` holds
    float32 (an array, a sparse matrix, or a DataFrame whose columns all are), float64 for
    anything else. mlcore computes in float32 either way; returning float32 for float32 input
    (as scikit-learn's PCA, linear models and KMeans do) saves a float64 copy of every output,
    which for a cheap transform costs about as much as the product itself."""
    dtype = getattr(x, "dtype", None)
    if dtype is None and hasattr(x, "dtypes"):
        dtypes = set(np.atleast_1d(np.asarray(x.dtypes, dtype=object)))
        dtype = dtypes.pop() if len(dtypes) == 1 else None
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def result_dtype(x, fitted) -> np.dtype:
    """The dtype of a result computed from query data ``x`` and a fitted float array: float32
    only when both are float32 (numpy's promotion, as in scikit-learn's ``X @ coef_.T``)."""
    return np.result_type(float_dtype_of(x), fitted.dtype)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError naming the first NaN or infinity in ``arr``."""
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} contains NaN or infinity (first at index {where}: "
                         f"{arr[where]})")


def as_int_matrix(x, name: str, dtype=np.int32, *, allow_1d: bool = True) -> np.ndarray:
    """``x`` as a C-contiguous integer array of ``dtype`` (values must fit exactly)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.ndim != 2 and not (allow_1d and arr.ndim == 1):
        raise ValueError(f"{name} must be a 1-D or 2-D array, got shape {arr.shape}")
    info = np.iinfo(dtype)
    if arr.size and (arr.min() < info.min or arr.max() > info.max):
        raise ValueError(f"{name} has values outside the range of {np.dtype(dtype).name}")
    return np.ascontiguousarray(arr, dtype=dtype)


def check_scalar(value, name: str) -> float:
    """A finite real number, as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value
