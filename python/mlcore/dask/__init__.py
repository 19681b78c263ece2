"""mlcore on a Dask cluster: the same estimators, fitted on data spread over many machines.

Each estimator has the name and the parameters of the single-machine one, plus ``client=``
(default: the current ``distributed`` client), and fits on a ``dask.array`` split into row
chunks (or a dask DataFrame). The chunks stay on the workers; each worker runs mlcore's own
backend (any backend name, "systolic" included) on its chunk, and only small partial results
travel: sums, Gram matrices, gradients, top-k lists. After ``fit`` the object *is* a fitted
single-machine estimator as well (predict, score and pickle work on numpy arrays as before;
on a dask array they run chunk by chunk on the workers), and ``to_local()`` returns the plain
``mlcore`` estimator. ``profile_`` holds the workers' primitive records, tagged with the worker,
and one record per broadcast and reduction; :mod:`mlcore.dask.cost_model` estimates those
rounds on other interconnects.

>>> from distributed import Client, LocalCluster            # doctest: +SKIP
>>> import dask.array as da, mlcore.dask                   # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))   # doctest: +SKIP
>>> X = da.random.random((1_000_000, 20), chunks=(250_000, 20))        # doctest: +SKIP
>>> km = mlcore.dask.KMeans(n_clusters=8, backend="avx2").fit(X)       # doctest: +SKIP
>>> km.to_local().predict(X[:10].compute())                            # doctest: +SKIP

How each family is split, what travels and what does not scale: docs/DISTRIBUTED.md.
"""

from . import cost_model
from ._base import get_client
from .cluster import KMeans
from .decomposition import PCA
from .linear_model import LinearRegression, LogisticRegression, Ridge
from .naive_bayes import GaussianNB, MultinomialNB
from .neighbors import KNeighborsClassifier, KNeighborsRegressor
from ._sketch import single_machine_thresholds
from .svm import SVC, LinearSVC
from .tree import DecisionTreeClassifier, DecisionTreeRegressor
from .ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

__all__ = [
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "GaussianNB",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "KMeans",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "LinearRegression",
    "LinearSVC",
    "LogisticRegression",
    "MultinomialNB",
    "PCA",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "Ridge",
    "SVC",
    "cost_model",
    "get_client",
    "single_machine_thresholds",
]
