"""mlcore: ten classic ML algorithms on shared multiply-accumulate primitives, on four kinds of
hardware: a plain scalar CPU core, AVX2 SIMD on every core, a CUDA GPU, and an int8 systolic
array simulated in the style of a TPU.

>>> import mlcore, numpy as np
>>> mlcore.available_backends()                     # doctest: +SKIP
['scalar', 'avx2', 'systolic']
>>> c = mlcore.gemm(np.ones((4, 3)), np.ones((3, 2)), backend="scalar")
>>> mlcore.last_profile()[0]["macs"]
24
"""

from . import _core
from ._backends import (
    Backend,
    amx,
    available_backends,
    avx2,
    avx512,
    backend,
    backend_info,
    cpu_info,
    cuda_available,
    default_backend,
    num_threads,
    set_num_threads,
)
from .primitives import (
    add_row_vector,
    argmin_rows,
    axpby,
    gather_rows,
    gemm,
    gemv,
    map,
    minkowski_dist,
    multiply,
    reduce_cols,
    scale_rows,
    scatter_add,
    softmax_rows,
    spmm,
    sqdist,
    topk_rows,
)
from .profile import Profile, last_profile
from .systolic import SystolicBackend, systolic
from .neighbors import KNeighborsClassifier, KNeighborsRegressor
from .cluster import KMeans
from .svm import SVC, LinearSVC
from .tree import DecisionTreeClassifier, DecisionTreeRegressor
from .ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from .linear_model import LinearRegression, LogisticRegression, Ridge
from .naive_bayes import GaussianNB, MultinomialNB
from .decomposition import PCA

__version__ = _core.__version__


def __getattr__(name):
    # `mlcore.compare` is imported on first use rather than here, so that
    # `python -m mlcore.compare` runs the module fresh. The module is callable:
    # mlcore.compare(estimator, X, y) runs mlcore.compare.compare(...).
    if name == "compare":
        import importlib

        return importlib.import_module(".compare", __name__)
    raise AttributeError(f"module 'mlcore' has no attribute {name!r}")


__all__ = [
    "Backend",
    "Profile",
    "amx",
    "add_row_vector",
    "compare",
    "argmin_rows",
    "available_backends",
    "avx2",
    "avx512",
    "axpby",
    "backend",
    "backend_info",
    "cpu_info",
    "cuda_available",
    "default_backend",
    "gather_rows",
    "gemm",
    "gemv",
    "last_profile",
    "map",
    "minkowski_dist",
    "multiply",
    "num_threads",
    "reduce_cols",
    "scale_rows",
    "scatter_add",
    "set_num_threads",
    "softmax_rows",
    "spmm",
    "sqdist",
    "systolic",
    "SystolicBackend",
    "topk_rows",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "KMeans",
    "LinearSVC",
    "SVC",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "LinearRegression",
    "LogisticRegression",
    "Ridge",
    "GaussianNB",
    "MultinomialNB",
    "PCA",
]
