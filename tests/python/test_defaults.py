"""Each default is written once, in the C++ options struct (STYLE.md 19).

The bindings publish them as ``_core.<Name>.defaults`` (python/src/bindings.hpp, set_defaults),
the binding's constructor takes its argument defaults from the same struct, and every Python
estimator's ``__init__`` reads its signature defaults from that dict. These tests hold the
three together: a default changed in C++ shows in Python, and a Python default typed in by hand
beside a C++ one fails here.
"""

import inspect

import pytest

import mlcore
from mlcore import _backends

ESTIMATORS = [
    mlcore.LinearRegression,
    mlcore.Ridge,
    mlcore.LogisticRegression,
    mlcore.LinearSVC,
    mlcore.SVC,
    mlcore.GaussianNB,
    mlcore.MultinomialNB,
    mlcore.KNeighborsClassifier,
    mlcore.KNeighborsRegressor,
    mlcore.KMeans,
    mlcore.PCA,
    mlcore.DecisionTreeClassifier,
    mlcore.DecisionTreeRegressor,
    mlcore.RandomForestClassifier,
    mlcore.RandomForestRegressor,
    mlcore.GradientBoostingClassifier,
    mlcore.GradientBoostingRegressor,
]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_python_signature_defaults_are_the_cpp_options_defaults(cls):
    cpp = cls._core_class.defaults
    assert isinstance(cpp, dict) and cpp, f"{cls.__name__}: the binding publishes no defaults"
    params = inspect.signature(cls).parameters
    for name, value in cpp.items():
        assert name in params, f"{cls.__name__}: C++ default {name!r} is not a parameter"
        got = params[name].default
        assert type(got) is type(value) and got == value, (
            f"{cls.__name__}.{name}: Python default {got!r}, C++ default {value!r}"
        )
        assert cls().get_params()[name] == value


# The bound constructors that take defaults take them from the same struct: an unfitted model
# built with no options saves the same bytes as one built with the published defaults.
@pytest.mark.parametrize(
    "cls",
    [
        c
        for c in ESTIMATORS
        if c.__name__ in ("KMeans", "LinearSVC", "SVC", "Ridge", "GaussianNB", "PCA")
    ],
    ids=lambda c: c.__name__,
)
def test_bound_constructor_defaults_are_the_published_ones(cls):
    backend = _backends.resolve("scalar")
    core = cls._core_class
    plain = core(backend=backend)
    explicit = core(**core.defaults, backend=backend)
    assert plain.save_bytes() == explicit.save_bytes()
    assert not plain.fitted


# A C++ sentinel (max_depth -1: no limit, KMeans n_init 0: "auto", PCA n_components -1: all) is
# published under its Python word, so the Python signature shows None or "auto", not the number.
@pytest.mark.parametrize(
    "cls, name, word",
    [
        (mlcore.DecisionTreeClassifier, "max_depth", None),
        (mlcore.DecisionTreeRegressor, "max_features", None),
        (mlcore.RandomForestClassifier, "max_features", "sqrt"),
        (mlcore.RandomForestRegressor, "max_features", 1.0),
        (mlcore.RandomForestRegressor, "max_depth", None),
        (mlcore.GradientBoostingClassifier, "max_depth", None),
        (mlcore.GradientBoostingClassifier, "loss", "log_loss"),
        (mlcore.GradientBoostingRegressor, "loss", "squared_error"),
        (mlcore.KMeans, "n_init", "auto"),
        (mlcore.PCA, "n_components", None),
    ],
)
def test_sentinels_are_published_in_their_python_spelling(cls, name, word):
    assert cls._core_class.defaults[name] == word
    assert type(cls._core_class.defaults[name]) is type(word)


# The number of k-means runs is decided once, in C++ (KMeansOptions::runs); Python asks it.
@pytest.mark.parametrize(
    "init, n_init, runs",
    [("k-means++", "auto", 1), ("random", "auto", 10), ("array", "auto", 1), ("random", 3, 3)]
    + [("array", 4, 1), ("k-means++", 2, 2)],
)
def test_kmeans_runs_follow_scikit_learns_rule(init, n_init, runs):
    assert mlcore.KMeans._core_class.runs(init, n_init) == runs
