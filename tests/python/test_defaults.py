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
    [c for c in ESTIMATORS if c.__name__ in ("KMeans", "LinearSVC", "SVC", "Ridge", "GaussianNB")],
    ids=lambda c: c.__name__,
)
def test_bound_constructor_defaults_are_the_published_ones(cls):
    backend = _backends.resolve("scalar")
    core = cls._core_class
    plain = core(backend=backend)
    explicit = core(**core.defaults, backend=backend)
    assert plain.save_bytes() == explicit.save_bytes()
    assert not plain.fitted
