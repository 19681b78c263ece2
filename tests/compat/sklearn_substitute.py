"""pytest plugin for run_sklearn_tests.py: puts mlcore's classes in scikit-learn's place and
records, per test, whether the test used one.

Loaded with ``-p sklearn_substitute`` (the runner puts this folder on PYTHONPATH and names the
family in MLCORE_COMPAT_FAMILY). At ``pytest_configure`` — before any test module is imported —
each substituted name is replaced in its public scikit-learn package (``sklearn.cluster.KMeans =
mlcore.KMeans``), so a test module's ``from sklearn.cluster import KMeans`` gets mlcore's class.
scikit-learn's own modules keep their references (its internals stay scikit-learn's).

Which tests count: a test counts when, during its setup or call, an instance of a substituted
mlcore class is constructed (every ``__init__`` of those classes is wrapped to note it; fitting
needs an instance, and ``clone`` constructs one, so "constructs or fits" is "constructs"), or
when it is parameterised with a substituted class or an instance of one (built at collection).
Tests that never touch the substituted class (of other scikit-learn estimators in the same
file, of helper functions) do not count. The outcome of each test is written as one JSON line to the file
named by MLCORE_COMPAT_OUT: node id, whether it counted, outcome, and the failure's last line.
"""

import functools
import importlib
import json
import os

import mlcore

FAMILIES = {
    "KMeans": {"sklearn.cluster": {"KMeans": mlcore.KMeans}},
    "PCA": {"sklearn.decomposition": {"PCA": mlcore.PCA}},
    "LogisticRegression": {
        "sklearn.linear_model": {"LogisticRegression": mlcore.LogisticRegression}
    },
    "LinearRegression+Ridge": {
        "sklearn.linear_model": {"LinearRegression": mlcore.LinearRegression, "Ridge": mlcore.Ridge}
    },
    "naive Bayes": {
        "sklearn.naive_bayes": {
            "GaussianNB": mlcore.GaussianNB,
            "MultinomialNB": mlcore.MultinomialNB,
        }
    },
    "kNN": {
        "sklearn.neighbors": {
            "KNeighborsClassifier": mlcore.KNeighborsClassifier,
            "KNeighborsRegressor": mlcore.KNeighborsRegressor,
        }
    },
    "SVC/LinearSVC": {"sklearn.svm": {"SVC": mlcore.SVC, "LinearSVC": mlcore.LinearSVC}},
    "DecisionTree": {
        "sklearn.tree": {
            "DecisionTreeClassifier": mlcore.DecisionTreeClassifier,
            "DecisionTreeRegressor": mlcore.DecisionTreeRegressor,
        }
    },
    "RandomForest": {
        "sklearn.ensemble": {
            "RandomForestClassifier": mlcore.RandomForestClassifier,
            "RandomForestRegressor": mlcore.RandomForestRegressor,
        }
    },
    "GradientBoosting": {
        "sklearn.ensemble": {
            "HistGradientBoostingClassifier": mlcore.GradientBoostingClassifier,
            "HistGradientBoostingRegressor": mlcore.GradientBoostingRegressor,
        }
    },
}

_used = [False]


def _note_construction(cls):
    init = cls.__init__
    if getattr(init, "_compat_wrapped", False):
        return

    @functools.wraps(init)  # keeps the signature: get_params reads it through __wrapped__
    def wrapper(self, *args, **kwargs):
        _used[0] = True
        init(self, *args, **kwargs)

    wrapper._compat_wrapped = True
    cls.__init__ = wrapper


def pytest_configure(config):
    global _substituted
    family = os.environ["MLCORE_COMPAT_FAMILY"]
    _substituted = tuple(cls for names in FAMILIES[family].values() for cls in names.values())
    for module_name, names in FAMILIES[family].items():
        module = importlib.import_module(module_name)
        for name, cls in names.items():
            _note_construction(cls)
            setattr(module, name, cls)


_substituted = ()


def pytest_runtest_setup(item):
    # A test also counts when it is parameterised with a substituted class or an instance of
    # one (built when the module was collected, so its __init__ ran before the test).
    params = getattr(getattr(item, "callspec", None), "params", {})
    _used[0] = any(
        (isinstance(v, type) and issubclass(v, _substituted)) or isinstance(v, _substituted)
        for v in params.values()
    )


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and not report.passed):
        message = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)[-300:]
        with open(os.environ["MLCORE_COMPAT_OUT"], "a") as out:
            out.write(
                json.dumps(
                    {
                        "test": report.nodeid,
                        "counted": _used[0],
                        "outcome": report.outcome,
                        "when": report.when,
                        "message": message.splitlines()[0][:300] if message else "",
                    }
                )
                + "\n"
            )
