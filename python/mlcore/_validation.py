"""Input and parameter checks with messages that name the problem (ValueError / TypeError,
never a crash): the one place every estimator module takes them from."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core

_FLOAT_KINDS = "fiub"  # float, signed int, unsigned int, bool: convertible to float32


def as_float32_matrix(
    x, name: str, *, allow_nan: bool = False, allow_1d: bool = False, allow_empty: bool = False
) -> np.ndarray:
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
        raise ValueError(
            f"{name} must be a 2-D array, got {arr.ndim} dimension(s) with shape {arr.shape}"
        )
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
    if arr.dtype == np.float32 and arr.flags.c_contiguous:
        flat = _core.first_non_finite(arr)  # one vectorised pass, no temporary array
        if flat < 0:
            return
        where = tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    else:
        finite = np.isfinite(arr)
        if finite.all():
            return
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
    raise ValueError(f"{name} contains NaN or infinity (first at index {where}: {arr[where]})")


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


# ---- hyper-parameter checks (every estimator's, in one place) ---------------------------------


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(name, value, low, *, allow_none=False):
    """``value`` as an int >= ``low`` (not a bool); None passes when ``allow_none``."""
    if value is None and allow_none:
        return None
    if not _is_int(value):
        raise TypeError(f"{name} must be an int{' or None' if allow_none else ''}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_real(
    name, value, low=None, high=None, *, low_open=False, high_open=False, allow_inf=False
):
    """``value`` as a float (a real number, not a bool): finite unless ``allow_inf``, and
    within the bounds given (``low`` / ``high``, open or closed)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if np.isnan(value) or (not allow_inf and not np.isfinite(value)):
        raise ValueError(f"{name} must be finite, got {value}")
    bad_low = low is not None and (value < low or (low_open and value == low))
    bad_high = high is not None and (value > high or (high_open and value == high))
    if bad_low or bad_high:
        if high is None:
            raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value}")
    return value


def check_bool(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}"
        )
    return value


def seed_of(random_state) -> int:
    """A non-negative int seed for C++ from scikit-learn's random_state (None, int, RandomState).

    An int is used as the seed itself; None draws one from numpy's global generator (so
    ``np.random.seed`` makes runs repeatable, as in scikit-learn)."""
    if _is_int(random_state):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    raise TypeError(
        f"random_state must be None, an int or a numpy RandomState, got {random_state!r}"
    )


def min_samples(name, value, n_samples, low) -> int:
    """scikit-learn's min_samples_split / min_samples_leaf: an int, or a fraction of n."""
    if _is_int(value):
        return check_int(name, value, low)
    if _is_real(value):
        frac = check_real(name, value, 0.0, 1.0, low_open=True)
        return max(low, int(math.ceil(frac * n_samples)))
    raise TypeError(f"{name} must be an int or a float, got {value!r}")


def warn_criterion_alias(criterion):
    """A regression tree's or forest's criterion as its ``__init__`` stores it: the deprecated
    alias "friedman_mse" (the same criterion) becomes "squared_error" with scikit-learn 1.9's
    FutureWarning, as scikit-learn's ``__init__`` does. (The C++ options check the name, and
    accept the alias where set_params passes it on.)"""
    if isinstance(criterion, str) and criterion == "friedman_mse":
        warnings.warn(
            'Value `"friedman_mse"` for `criterion` is deprecated and will be removed in 1.11. '
            'It maps to `"squared_error"` as both were always equivalent. Use '
            '`criterion="squared_error"` to remove this warning.',
            FutureWarning,
            stacklevel=3,
        )
        return "squared_error"
    return criterion


def check_max_samples(value):
    """scikit-learn's max_samples of a forest: None (n draws), an int >= 1 (that many) or a
    float > 0 (that fraction of n). Whether bootstrap allows it is the C++ options' check."""
    if value is None:
        return None
    if _is_int(value):
        return check_int("max_samples", value, 1)
    if _is_real(value):
        return check_real("max_samples", value, 0.0, low_open=True)
    raise TypeError(f"max_samples must be None, an int or a float, got {value!r}")


def check_max_features(value):
    """scikit-learn's max_features: None, "sqrt", "log2", an int >= 1 or a fraction in (0, 1]."""
    if value is None or value in ("sqrt", "log2"):
        return value
    if isinstance(value, str):
        raise ValueError(
            f"max_features must be None, 'sqrt', 'log2', an int or a float, got {value!r}"
        )
    if _is_int(value):
        return check_int("max_features", value, 1)
    if _is_real(value):
        return check_real("max_features", value, 0.0, 1.0, low_open=True)
    raise TypeError(f"max_features must be None, 'sqrt', 'log2', an int or a float, got {value!r}")


# ---- labels and weights -------------------------------------------------------------------------


def float32_sample_weight(sample_weight, X):
    """None, or the weights as a C-contiguous float32 vector (checked: length, finite, ≥ 0)."""
    if sample_weight is None:
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinity")
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to 0: at least one sample needs a positive weight")
    return np.ascontiguousarray(sw, dtype=np.float32)


def encode_classes(y):
    """classes_ (np.unique order) and the codes 0..K-1 of y as float32 (what C++ takes)."""
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    return classes, np.ascontiguousarray(codes.reshape(-1), dtype=np.float32)


def class_weights(class_weight, classes, y, codes, sw):
    """Per-class weights (n_classes,). "balanced" counts each class by its total sample weight:
    Σw / (n_classes · Σ_{y=k} w), as scikit-learn's LogisticRegression and LinearSVC do since 1.7
    (through ``compute_class_weight(..., sample_weight=...)``, a parameter scikit-learn 1.6
    lacks, so the formula is written out here). So weight k equals k repeated rows here too.
    A class whose samples all weigh 0 gets weight 0 (it contributes nothing either way)."""
    if isinstance(class_weight, str) and class_weight == "balanced" and sw is not None:
        counts = np.bincount(
            codes.astype(np.intp), weights=np.asarray(sw, dtype=np.float64), minlength=len(classes)
        )
        return np.divide(
            counts.sum(), len(classes) * counts, out=np.zeros(len(classes)), where=counts > 0
        )
    return compute_class_weight(class_weight, classes=classes, y=y)


# ---- the tree family's data (NaN is a missing value there) --------------------------------------


def _tree_X(X, accept_sparse):
    """A scipy.sparse X of a tree or forest densified (see tree_fit_data); others unchanged."""
    if not (accept_sparse and sp.issparse(X)):
        return X
    X = X.tocsr()
    if X.dtype.kind == "f" and np.isnan(X.data).any():
        raise ValueError(
            "Input X contains NaN: sparse X must not hold missing values (scikit-learn's rule "
            "for trees); pass a dense array to have NaN as missing values"
        )
    return X.toarray()


def tree_fit_data(est, X, y, classifier, sample_weight=None, accept_sparse=False):
    """X as C-contiguous float32 (NaN allowed, inf refused), y (class codes for a classifier,
    whose classes_ are set), and the sample weights as float32 or None: ``sample_weight``
    times the estimator's ``class_weight`` where it has one (scikit-learn's rule:
    compute_sample_weight(class_weight, y) · sample_weight). The C++ fit checks what its
    statistics need (a tree's weights must be whole numbers).

    ``accept_sparse`` (trees and forests): a scipy.sparse X (CSR, CSC or COO) is made dense,
    n × d float32 (4·n·d bytes, freed after the fit), since the trees bin every feature into
    dense n × d one-byte codes anyway; it is fitted exactly as its dense copy (implicit zeros
    are the value 0)."""
    X = _tree_X(X, accept_sparse)
    X, y = validate_data(
        est,
        X,
        y,
        dtype=np.float32,
        ensure_all_finite="allow-nan",
        order="C",
        y_numeric=not classifier,
    )
    X = np.ascontiguousarray(X, dtype=np.float32)
    sw = float32_sample_weight(sample_weight, X)
    class_weight = getattr(est, "class_weight", None)
    if classifier:
        check_classification_targets(y)
        est.classes_, codes = np.unique(y, return_inverse=True)
        est.n_classes_ = len(est.classes_)
        if class_weight is not None:
            if isinstance(class_weight, str) and class_weight == "balanced_subsample":
                raise ValueError(
                    "class_weight='balanced_subsample' is not supported by mlcore "
                    "(the bootstrap is drawn in C++); use 'balanced' or a dict"
                )
            cw = compute_sample_weight(class_weight, y)
            sw = np.ascontiguousarray(cw if sw is None else cw * sw, dtype=np.float32)
        return X, np.ascontiguousarray(codes, dtype=np.float32), sw
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity")
    return X, np.ascontiguousarray(y, dtype=np.float32), sw


def tree_query_X(est, X, accept_sparse=False):
    """X for a tree model's predict / apply: fitted, float32, C order, NaN allowed; a sparse X
    (accept_sparse) made dense as tree_fit_data does."""
    check_is_fitted(est, "_model")
    X = _tree_X(X, accept_sparse)
    X = validate_data(
        est, X, dtype=np.float32, ensure_all_finite="allow-nan", order="C", reset=False
    )
    return np.ascontiguousarray(X, dtype=np.float32)
